//! Drawing the map: basemaps, layer symbology, and the per-frame rendering of layers.

pub mod basemap;
pub mod export;
pub mod render;
pub mod symbology;
pub mod tile_folder;
pub mod view;
