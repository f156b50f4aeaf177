//! The map view's pieces on top of walkers: basemaps (raster tile sources) for now.

/// Raster basemaps, their attribution and failure status.
pub mod basemap;
/// A walkers tile source over a local z/x/y folder.
pub mod tile_folder;
