//! Headless commands run from the command line (no window): `onemap inspect`.

/// `onemap inspect PATH...`.
pub mod inspect;
/// `onemap isochrones`: drive-time response areas as GeoJSON.
pub mod isochrones;

pub use inspect::run_inspect;
