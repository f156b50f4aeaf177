//! Headless commands run from the command line (no window): `onemap inspect`,
//! `onemap isochrones`, `onemap coverage`, `onemap site`.

// `onemap coverage`: what share of area, demand and features one band covers.
pub mod coverage;
// Graph options shared by the drive-time commands.
pub mod graph_args;
// `onemap inspect PATH...`.
pub mod inspect;
// `onemap isochrones`: drive-time response areas as GeoJSON.
pub mod isochrones;
// `onemap site`: choose new station sites (MCLP) with the GB 51080 checks.
pub mod site;

pub use inspect::run_inspect;
