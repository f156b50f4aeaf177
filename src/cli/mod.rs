//! Headless commands (placeholder until the inspect command lands).
pub mod inspect;
/// `onemap isochrones`: drive-time response areas as GeoJSON.
pub mod isochrones;
