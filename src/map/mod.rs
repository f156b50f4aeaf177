//! Drawing the map: basemaps, layer symbology, and the per-frame rendering of layers.

pub mod basemap;
pub mod export;
pub mod render;
pub mod scenario_layer;
pub mod symbology;
pub mod tile_folder;
pub mod tools;
pub mod view;
