//! A walkers [`Tiles`] source over a local z/x/y tile folder
//! (`{root}/{z}/{x}/{y}.png|jpg|jpeg|webp`), for offline basemaps the user already has.
//!
//! Files are read and decoded on one worker thread; the UI thread only takes finished
//! textures out of a channel, so a slow disk never stalls a frame. Newest requests are served
//! first, because while the user pans the tiles asked for last are the ones on screen.
//! A tile with no file is remembered as absent (folders are often sparse), not as a failure;
//! a file that cannot be read or decoded counts as a failure, with its message kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use egui::{ColorImage, Context, Rect, TextureHandle, TextureOptions, pos2};
use walkers::sources::Attribution;
use walkers::{Stats, Tile, TileId, TilePiece, Tiles};

/// File extensions tried for each tile, in this order.
pub const TILE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

/// Tiles kept (as textures) at most; a 256 px RGBA texture is 256 KiB, so this is 64 MiB.
const CACHE_CAPACITY: usize = 256;

/// Deepest zoom directory looked for when the folder is opened (walkers stops at 26).
const DEEPEST_ZOOM: u8 = 26;

/// Why a folder cannot be used as a tile source.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TileFolderError {
    /// The path does not exist or is not a directory.
    #[error("{0}: not a folder")]
    NotAFolder(PathBuf),
    /// The folder has no `0`..`26` zoom subfolders.
    #[error("{0}: no zoom-level subfolders (0, 1, 2, ...) found")]
    NoZoomLevels(PathBuf),
}

enum SlotState {
    Pending,
    Ready(TextureHandle),
    /// No file for this tile: the folder does not cover it.
    Absent,
    /// The file exists but could not be read or decoded.
    Failed,
}

struct Slot {
    state: SlotState,
    last_used: u64,
}

enum Loaded {
    Texture(TextureHandle),
    Absent,
    Failed(String),
}

/// A [`Tiles`] source reading `{root}/{z}/{x}/{y}.{png,jpg,jpeg,webp}` (XYZ numbering,
/// y down from the north, as OSM and most tile tools write them). Tiles are taken as 256 px.
pub struct TileFolder {
    root: PathBuf,
    min_zoom: u8,
    max_zoom: u8,
    slots: HashMap<TileId, Slot>,
    /// `None` only while dropping: closing it ends the worker.
    request_tx: Option<mpsc::Sender<TileId>>,
    result_rx: mpsc::Receiver<(TileId, Loaded)>,
    pending: usize,
    failed: usize,
    last_error: Option<String>,
    use_counter: u64,
}

impl TileFolder {
    /// Opens `root`, finds which zoom levels it holds, and starts the loading thread.
    pub fn open(root: impl AsRef<Path>, ctx: &Context) -> Result<Self, TileFolderError> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(TileFolderError::NotAFolder(root));
        }
        let zooms: Vec<u8> = (0..=DEEPEST_ZOOM)
            .filter(|z| root.join(z.to_string()).is_dir())
            .collect();
        let (Some(&min_zoom), Some(&max_zoom)) = (zooms.first(), zooms.last()) else {
            return Err(TileFolderError::NoZoomLevels(root));
        };

        let (request_tx, request_rx) = mpsc::channel::<TileId>();
        let (result_tx, result_rx) = mpsc::channel();
        let worker_root = root.clone();
        let worker_ctx = ctx.clone();
        // Detached on purpose: it ends by itself when `request_tx` is dropped, and joining it
        // could make dropping the source wait for a decode.
        let _ = std::thread::Builder::new()
            .name("tile-folder".into())
            .spawn(move || load_tiles(&worker_root, &worker_ctx, &request_rx, &result_tx));

        Ok(Self {
            root,
            min_zoom,
            max_zoom,
            slots: HashMap::new(),
            request_tx: Some(request_tx),
            result_rx,
            pending: 0,
            failed: 0,
            last_error: None,
            use_counter: 0,
        })
    }

    /// The folder the tiles come from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Shallowest and deepest zoom level present in the folder.
    pub fn zoom_range(&self) -> (u8, u8) {
        (self.min_zoom, self.max_zoom)
    }

    /// Tiles whose file exists but could not be read or decoded, since the folder was opened.
    pub fn failed_count(&self) -> usize {
        self.failed
    }

    /// The message of the latest read or decode failure.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    fn receive_loaded(&mut self) {
        while let Ok((tile_id, loaded)) = self.result_rx.try_recv() {
            self.pending = self.pending.saturating_sub(1);
            let state = match loaded {
                Loaded::Texture(texture) => SlotState::Ready(texture),
                Loaded::Absent => SlotState::Absent,
                Loaded::Failed(message) => {
                    self.failed += 1;
                    self.last_error = Some(message);
                    SlotState::Failed
                }
            };
            if let Some(slot) = self.slots.get_mut(&tile_id) {
                slot.state = state;
            }
        }
    }

    fn request(&mut self, tile_id: TileId) {
        let now = self.use_counter;
        if let Some(slot) = self.slots.get_mut(&tile_id) {
            slot.last_used = now;
            return;
        }
        let sent = self
            .request_tx
            .as_ref()
            .is_some_and(|tx| tx.send(tile_id).is_ok());
        let state = if sent {
            self.pending += 1;
            SlotState::Pending
        } else {
            // The worker is gone (it could not be spawned): nothing will ever arrive.
            SlotState::Failed
        };
        self.slots.insert(
            tile_id,
            Slot {
                state,
                last_used: now,
            },
        );
        self.evict_if_full();
    }

    /// Drops the least recently used finished tiles once the cache is over capacity.
    fn evict_if_full(&mut self) {
        if self.slots.len() <= CACHE_CAPACITY {
            return;
        }
        let mut finished: Vec<(u64, TileId)> = self
            .slots
            .iter()
            .filter(|(_, slot)| !matches!(slot.state, SlotState::Pending))
            .map(|(id, slot)| (slot.last_used, *id))
            .collect();
        finished.sort_unstable_by_key(|(last_used, _)| *last_used);
        let excess = self.slots.len() - CACHE_CAPACITY * 3 / 4;
        for (_, tile_id) in finished.into_iter().take(excess) {
            self.slots.remove(&tile_id);
        }
    }

    /// The tile itself if loaded, otherwise the loaded ancestor nearest in zoom, cropped.
    fn best_available(&mut self, tile_id: TileId) -> Option<TilePiece> {
        let deepest = tile_id.zoom.min(self.max_zoom);
        for zoom in (self.min_zoom..=deepest).rev() {
            let (ancestor, uv) = ancestor_piece(tile_id, zoom);
            if let Some(slot) = self.slots.get_mut(&ancestor)
                && let SlotState::Ready(texture) = &slot.state
            {
                slot.last_used = self.use_counter;
                return Some(TilePiece::new(Tile::Raster(texture.clone()), uv));
            }
        }
        None
    }
}

impl Drop for TileFolder {
    fn drop(&mut self) {
        self.request_tx = None;
    }
}

impl Tiles for TileFolder {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        self.use_counter += 1;
        self.receive_loaded();
        if !is_valid(tile_id) || tile_id.zoom < self.min_zoom {
            return None;
        }
        let to_load = if tile_id.zoom > self.max_zoom {
            ancestor_piece(tile_id, self.max_zoom).0
        } else {
            tile_id
        };
        self.request(to_load);
        self.best_available(tile_id)
    }

    fn attribution(&self) -> Attribution {
        super::basemap::drawn_by_onemap()
    }

    fn tile_size(&self) -> u32 {
        256
    }

    fn stats(&self) -> Stats {
        Stats {
            in_progress: self.pending,
        }
    }
}

/// Whether the tile exists in the Web Mercator grid at its zoom.
fn is_valid(tile_id: TileId) -> bool {
    tile_id.zoom <= DEEPEST_ZOOM && {
        let count = 1u32 << tile_id.zoom;
        tile_id.x < count && tile_id.y < count
    }
}

/// The tile at `zoom` (<= the tile's) covering `tile_id`, and the part of it that does.
pub fn ancestor_piece(tile_id: TileId, zoom: u8) -> (TileId, Rect) {
    let levels_up = tile_id.zoom.saturating_sub(zoom);
    let divisions = 1u32 << levels_up;
    let ancestor = TileId {
        x: tile_id.x / divisions,
        y: tile_id.y / divisions,
        zoom: tile_id.zoom - levels_up,
    };
    let step = 1.0 / divisions as f32;
    let u = (tile_id.x % divisions) as f32 * step;
    let v = (tile_id.y % divisions) as f32 * step;
    (
        ancestor,
        Rect::from_min_max(pos2(u, v), pos2(u + step, v + step)),
    )
}

/// The file holding a tile, if any of the known extensions exists.
pub fn tile_path(root: &Path, tile_id: TileId) -> Option<PathBuf> {
    let dir = root
        .join(tile_id.zoom.to_string())
        .join(tile_id.x.to_string());
    TILE_EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{}.{ext}", tile_id.y)))
        .find(|path| path.is_file())
}

/// Worker loop: serve the newest request first; stop when the source is dropped.
fn load_tiles(
    root: &Path,
    ctx: &Context,
    request_rx: &mpsc::Receiver<TileId>,
    result_tx: &mpsc::Sender<(TileId, Loaded)>,
) {
    let mut queue: Vec<TileId> = Vec::new();
    loop {
        if queue.is_empty() {
            match request_rx.recv() {
                Ok(tile_id) => queue.push(tile_id),
                Err(_) => return,
            }
        }
        queue.extend(request_rx.try_iter());
        let Some(tile_id) = queue.pop() else {
            continue;
        };
        let loaded = load_one(root, ctx, tile_id);
        if result_tx.send((tile_id, loaded)).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}

fn load_one(root: &Path, ctx: &Context, tile_id: TileId) -> Loaded {
    let Some(path) = tile_path(root, tile_id) else {
        return Loaded::Absent;
    };
    match decode(&path) {
        Ok(image) => {
            let name = format!("tile-folder {}/{}/{}", tile_id.zoom, tile_id.x, tile_id.y);
            Loaded::Texture(ctx.load_texture(name, image, TextureOptions::LINEAR))
        }
        Err(message) => Loaded::Failed(format!("{}: {message}", path.display())),
    }
}

fn decode(path: &Path) -> Result<ColorImage, String> {
    let image = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?
        .to_rgba8();
    let size = [image.width() as usize, image.height() as usize];
    Ok(ColorImage::from_rgba_unmultiplied(size, image.as_raw()))
}
