//! Helpers shared by the reader tests.

use geo::Geometry;
use onemap::io::Loaded;

/// The (x, y) of every feature of a point layer; panics on any other geometry.
pub fn points(loaded: &Loaded) -> Vec<(f64, f64)> {
    loaded
        .layer
        .geometries
        .iter()
        .map(|g| match g {
            Geometry::Point(p) => (p.x(), p.y()),
            other => panic!("not a point: {other:?}"),
        })
        .collect()
}
