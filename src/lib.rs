//! OneMap (应急一张图): a desktop GIS for district emergency command.
//!
//! The core (`model`, `io`, `spatial`, `analysis`) knows nothing of egui, eframe, walkers
//! or rfd; `app`, `ui` and `map` sit on top of it. `ARCHITECTURE.md` has the code map.
#![deny(clippy::unwrap_used)]

/// The two UI languages and the one way strings are chosen between them.
pub mod i18n;
/// File formats: readers and writers, with per-feature warnings.
pub mod io;
/// The map view's building blocks on walkers (basemaps, tile sources).
pub mod map;
/// Plain domain data: layers, features, attributes.
pub mod model;
/// egui panels and dialogs.
pub mod ui;
