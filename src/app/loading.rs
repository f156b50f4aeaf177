//! Loading layers on background threads, so the window never freezes: read, index and
//! prepare for drawing off the UI thread, with progress and cancel.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::io::{LoadWarning, Progress, ReadOptions, SourceInfo, read_path};
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
    /// Reads, indexes and prepares one file on the calling thread: every layer it holds and
    /// what the reader decided (CRS, encoding) and why.
    pub fn load(
        path: &std::path::Path,
        options: &ReadOptions,
        saved: Option<(usize, SavedLayer)>,
        progress: &Progress,
    ) -> Result<(Vec<PreparedLayer>, SourceInfo), String> {
        let result = read_path(path, options, progress).map_err(|e| e.to_string())?;
        let mut prepared = Vec::new();
        let mut problems = Vec::new();
        for loaded in result.layers {
            let mut layer = loaded.layer;
            if layer.is_empty() && !loaded.warnings.is_empty() {
                problems.extend(loaded.warnings);
                continue;
            }
            let (saved_index, style, visible) = match &saved {
                Some((i, s)) => {
                    layer.kind = s.kind;
                    (Some(*i), Some(s.style.clone()), s.visible)
                }
                None => (None, None, true),
            };
            let index = LayerIndex::build(&layer.geometries);
            let render = RenderCache::build(&layer);
            prepared.push(PreparedLayer {
                layer,
                index,
                render,
                warnings: loaded.warnings,
                style,
                visible,
                saved_index,
                for_basemap: false,
            });
        }
        if prepared.is_empty() {
            let first = problems
                .first()
                .map(|w| format!("; first: {w}"))
                .unwrap_or_default();
            return Err(format!(
                "{}: no feature could be read ({} problems{first})",
                path.display(),
                problems.len()
            ));
        }
        Ok((prepared, result.info))
    }
}

/// What a finished background load produced.
pub type LoadOutcome = Result<(Vec<PreparedLayer>, SourceInfo), String>;

/// One file loading in the background.
pub struct LoadJob {
    pub path: PathBuf,
    /// The file feeds the built-in basemap, not the layer list.
    pub for_basemap: bool,
    pub progress: Arc<Progress>,
    /// The options the file is read with (the import dialog's choices).
    pub options: ReadOptions,
    /// Show the import dialog with the result instead of adding the layers at once.
    pub review: bool,
    receiver: Receiver<LoadOutcome>,
    done: Option<LoadOutcome>,
}

impl LoadJob {
    /// Starts reading `path` on a new thread; `repaint` is woken when it is done.
    pub fn start(
        path: PathBuf,
        options: ReadOptions,
        saved: Option<(usize, SavedLayer)>,
        repaint: Option<egui::Context>,
    ) -> LoadJob {
        let progress = Arc::new(Progress::default());
        let (sender, receiver) = channel();
        let thread_progress = Arc::clone(&progress);
        let thread_path = path.clone();
        let thread_options = options.clone();
        let spawned = std::thread::Builder::new()
            .name("onemap-load".into())
            .spawn(move || {
                let result =
                    PreparedLayer::load(&thread_path, &thread_options, saved, &thread_progress);
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
            options,
            review: false,
            progress,
            receiver,
            done,
        }
    }

    /// The result, once the load has finished.
    pub fn poll(&mut self) -> Option<LoadOutcome> {
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
