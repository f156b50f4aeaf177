//! Loading layers on background threads, so the window never freezes: read, index and
//! prepare for drawing off the UI thread, with progress and cancel.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::io::{LoadWarning, Progress, load_path};
use crate::map::render::RenderCache;
use crate::map::symbology::LayerStyle;
use crate::model::Layer;
use crate::spatial::LayerIndex;

use super::SavedLayer;

/// A layer read, indexed and prepared for drawing, ready to join the map.
pub struct PreparedLayer {
    pub layer: Layer,
    pub index: LayerIndex,
    pub render: RenderCache,
    pub warnings: Vec<LoadWarning>,
    /// The remembered style, when the layer was restored from settings.
    pub style: Option<LayerStyle>,
    pub visible: bool,
    /// Position in the saved layer list, when restored from settings.
    pub saved_index: Option<usize>,
    /// Reference data for the built-in vector basemap rather than a layer of the map.
    pub for_basemap: bool,
}

impl PreparedLayer {
    /// Reads, indexes and prepares one file on the calling thread.
    pub fn load(
        path: &std::path::Path,
        saved: Option<(usize, SavedLayer)>,
        progress: &Progress,
    ) -> Result<PreparedLayer, String> {
        let loaded = load_path(path, progress).map_err(|e| e.to_string())?;
        let mut layer = loaded.layer;
        if layer.is_empty() && !loaded.warnings.is_empty() {
            let first = loaded
                .warnings
                .first()
                .map(|w| w.to_string())
                .unwrap_or_default();
            return Err(format!(
                "{}: no feature could be read ({} problems; first: {first})",
                path.display(),
                loaded.warnings.len()
            ));
        }
        let (saved_index, style, visible) = match saved {
            Some((i, s)) => {
                layer.kind = s.kind;
                (Some(i), Some(s.style), s.visible)
            }
            None => (None, None, true),
        };
        let index = LayerIndex::build(&layer.geometries);
        let render = RenderCache::build(&layer);
        Ok(PreparedLayer {
            layer,
            index,
            render,
            warnings: loaded.warnings,
            style,
            visible,
            saved_index,
            for_basemap: false,
        })
    }
}

/// One file loading in the background.
pub struct LoadJob {
    pub path: PathBuf,
    /// The file feeds the built-in basemap, not the layer list.
    pub for_basemap: bool,
    pub progress: Arc<Progress>,
    receiver: Receiver<Result<PreparedLayer, String>>,
    done: Option<Result<PreparedLayer, String>>,
}

impl LoadJob {
    /// Starts reading `path` on a new thread; `repaint` is woken when it is done.
    pub fn start(
        path: PathBuf,
        saved: Option<(usize, SavedLayer)>,
        repaint: Option<egui::Context>,
    ) -> LoadJob {
        let progress = Arc::new(Progress::default());
        let (sender, receiver) = channel();
        let thread_progress = Arc::clone(&progress);
        let thread_path = path.clone();
        let spawned = std::thread::Builder::new()
            .name("onemap-load".into())
            .spawn(move || {
                let result = PreparedLayer::load(&thread_path, saved, &thread_progress);
                // The receiver is gone only when the app closed: nothing to tell then.
                let _ = sender.send(result);
                if let Some(ctx) = repaint {
                    ctx.request_repaint();
                }
            });
        let done = match spawned {
            Ok(_) => None,
            Err(e) => Some(Err(format!(
                "{}: cannot start loading: {e}",
                path.display()
            ))),
        };
        LoadJob {
            path,
            for_basemap: false,
            progress,
            receiver,
            done,
        }
    }

    /// The result, once the load has finished.
    pub fn poll(&mut self) -> Option<Result<PreparedLayer, String>> {
        if let Some(done) = self.done.take() {
            return Some(done);
        }
        match self.receiver.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(format!(
                "{}: loading stopped unexpectedly",
                self.path.display()
            ))),
        }
    }

    /// Blocks until the load finishes; the result is then returned by `poll`.
    pub fn wait(&mut self) {
        if self.done.is_none() {
            self.done = Some(self.receiver.recv().unwrap_or_else(|_| {
                Err(format!(
                    "{}: loading stopped unexpectedly",
                    self.path.display()
                ))
            }));
        }
    }

    pub fn cancel(&self) {
        self.progress
            .cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
