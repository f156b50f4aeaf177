//! OneMap (应急一张图): a desktop GIS for district emergency command.
//!
//! The core (`model`, `io`, `spatial`, `analysis`) knows nothing of egui, eframe, walkers
//! or rfd; `app`, `ui` and `map` sit on top of it. `ARCHITECTURE.md` has the code map.
#![deny(clippy::unwrap_used)]

// Drive-time engine: road graph, multi-station reach, response-area polygons.
pub mod analysis;
// Application state, commands and background loading (no drawing).
#[cfg(feature = "gui")]
pub mod app;
// Headless command-line commands (`onemap inspect`).
pub mod cli;
// Coordinate systems (WGS84, GCJ-02, BD-09, Gauss-Krüger, UTM, Web Mercator) and their detection.
pub mod crs;
// The two UI languages and the one way strings are chosen between them.
pub mod i18n;
// File formats: readers and writers, with per-feature warnings.
pub mod io;
// Map drawing: basemaps, symbology, per-frame layer rendering.
#[cfg(feature = "gui")]
pub mod map;
// Plain domain data: layers, features, attributes.
pub mod model;
// Incidents and evacuation zones with undo/redo, the project file, autosave policy.
pub mod scenario;
// Spatial index per layer: features in a box, at a point, in a polygon, within metres, k nearest.
pub mod spatial;
// The egui window and its panels.
#[cfg(feature = "gui")]
pub mod ui;
