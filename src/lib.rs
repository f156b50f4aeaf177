//! OneMap (应急一张图): a desktop GIS for district emergency command.
//!
//! The core (`model`, `io`, `spatial`, `analysis`) knows nothing of egui, eframe, walkers
//! or rfd; `app`, `ui` and `map` sit on top of it. `ARCHITECTURE.md` has the code map.
#![deny(clippy::unwrap_used)]

/// File formats: readers and writers, with per-feature warnings.
pub mod io;
/// Plain domain data: layers, features, attributes.
pub mod model;
/// Spatial index per layer: features in a box, at a point, in a polygon, within metres, k nearest.
pub mod spatial;
