//! Headless commands run from the command line (no window): `onemap inspect`,
//! `onemap convert`, `onemap isochrones`, `onemap coverage`, `onemap site`,
//! `onemap incident`, `onemap zone-report`.

// `onemap convert IN OUT`: any readable format to any writable one.
pub mod convert;
// `onemap coverage`: what share of area, demand and features one band covers.
pub mod coverage;
// Graph options shared by the drive-time commands.
pub mod graph_args;
// `onemap incident`: stations by ETA, features, shelters and people around an incident.
pub mod incident;
// `onemap inspect PATH...`.
pub mod inspect;
// `onemap isochrones`: drive-time response areas as GeoJSON.
pub mod isochrones;
// `onemap site`: choose new station sites (MCLP) with the GB 51080 checks.
pub mod site;
// `onemap zone-report`: people and features inside a zone, shelter allocation, needs.
pub mod zone_report;

pub use inspect::run_inspect;
