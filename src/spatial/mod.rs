//! Spatial index of one layer and its queries: features in a box, at a point, in a polygon,
//! within a distance, and the k nearest, with distances in metres.
//!
//! # Units and accuracy
//! Coordinates are lon/lat degrees (WGS 84). Distances are great-circle metres on geo's
//! `Haversine` sphere (radius 6,371,008.8 m, the GRS80 mean radius); they differ from
//! ellipsoidal (`Geodesic`) distances by at most about 0.5%, and agree with
//! `Haversine.distance` to about 1e-12 relative. The distance to a line or polygon edge is
//! the great-circle distance to its nearest point, edges being straight in lon/lat as
//! RFC 7946 draws them; that point is found in an equirectangular frame centred on the query
//! point and then measured exactly, so the result is never short of the true distance and
//! over it by less than 0.01% for edges up to 100 km away (far less at district scale). A
//! point inside a polygon (planar in lon/lat, holes excluded) is at distance 0.
//!
//! # Structure
//! A layer of only points gets a static k-d tree (`points`, about 28 bytes a point); any other
//! layer an rstar R-tree over feature bounding boxes (`general`). Neither borrows the
//! layer: queries that need geometry take the same slice the index was built from.
//! Metre radii are searched through degree boxes that are exact for the spherical cap
//! (longitude degrees shrink with latitude), split at the antimeridian and widened to every
//! longitude when the circle covers a pole. Non-finite inputs give empty results.

mod general;
mod points;
mod sphere;
#[cfg(test)]
mod tests;

use geo::{BoundingRect, Geometry, Intersects, Point, Polygon, Rect};

pub use sphere::EARTH_RADIUS_M;

use general::BoxTree;
use points::PointTree;
use sphere::{Origin, hav_to_m, m_to_hav};

/// Spatial index over one layer's geometries.
#[derive(Debug, Clone)]
pub struct LayerIndex {
    tree: Tree,
    /// Number of geometries the index was built from.
    feature_count: usize,
}

#[derive(Debug, Clone)]
enum Tree {
    Points(PointTree),
    General(BoxTree),
}

impl LayerIndex {
    /// Indexes `geometries`; feature `i` of every query result is `geometries[i]`. Empty
    /// geometries, non-finite coordinates and points off the globe are left out.
    pub fn build(geometries: &[Geometry<f64>]) -> LayerIndex {
        let all_points = geometries.iter().all(|g| matches!(g, Geometry::Point(_)));
        let tree = if all_points && u32::try_from(geometries.len()).is_ok() {
            // Sized up front: a 1M-point layer would otherwise hold up to twice the memory.
            let mut points = Vec::with_capacity(geometries.len());
            for (i, g) in geometries.iter().enumerate() {
                let Geometry::Point(p) = g else { continue };
                let (lon, lat) = (p.x(), p.y());
                if !lon.is_finite() || !lat.is_finite() || lat.abs() > 90.0 {
                    continue;
                }
                let lon = if (-180.0..=180.0).contains(&lon) {
                    lon
                } else {
                    (lon + 180.0).rem_euclid(360.0) - 180.0
                };
                points.push((i as u32, lon, lat));
            }
            Tree::Points(PointTree::build(points))
        } else {
            Tree::General(BoxTree::build(geometries))
        };
        LayerIndex {
            tree,
            feature_count: geometries.len(),
        }
    }

    /// Number of geometries the index was built from (indexed or not).
    pub fn len(&self) -> usize {
        self.feature_count
    }

    /// True when built from no geometries.
    pub fn is_empty(&self) -> bool {
        self.feature_count == 0
    }

    /// Number of features actually in the tree (those with finite coordinates).
    pub fn indexed_len(&self) -> usize {
        match &self.tree {
            Tree::Points(t) => t.len(),
            Tree::General(t) => t.len(),
        }
    }

    /// Approximate bytes held by a point layer's tree (None for the R-tree path).
    pub fn point_tree_bytes(&self) -> Option<usize> {
        match &self.tree {
            Tree::Points(t) => Some(t.heap_bytes()),
            Tree::General(_) => None,
        }
    }

    /// Feature indices whose bounding box intersects `bbox` (lon/lat degrees, edges
    /// included), in no particular order: cheap, for viewport culling.
    pub fn candidates_in_bbox(&self, bbox: Rect<f64>) -> Vec<usize> {
        let query = rect_to_box(&bbox);
        let mut out = Vec::new();
        match &self.tree {
            Tree::Points(t) => t.visit_in_box(query, &mut |id, _, _| out.push(id as usize)),
            Tree::General(t) => t.visit_in_box(query, &mut |id| out.push(id as usize)),
        }
        out
    }

    /// Features whose geometry actually intersects the box, ascending.
    pub fn in_bbox(&self, geoms: &[Geometry<f64>], bbox: Rect<f64>) -> Vec<usize> {
        let mut out = match &self.tree {
            // A point whose box meets the query box is in it.
            Tree::Points(_) => self.candidates_in_bbox(bbox),
            Tree::General(_) => self
                .candidates_in_bbox(bbox)
                .into_iter()
                .filter(|&i| geoms.get(i).is_some_and(|g| g.intersects(&bbox)))
                .collect(),
        };
        out.sort_unstable();
        out
    }

    /// Features within `tolerance_m` metres of `point`, nearest first: a polygon that
    /// contains the point or whose boundary is within tolerance, lines and points by
    /// distance. Empty for a NaN point or tolerance, or a negative tolerance.
    pub fn at_point(
        &self,
        geoms: &[Geometry<f64>],
        point: Point<f64>,
        tolerance_m: f64,
    ) -> Vec<usize> {
        self.within_distance(geoms, point, tolerance_m)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    /// Features intersecting `polygon` (boundary included, planar in lon/lat), ascending.
    pub fn in_polygon(&self, geoms: &[Geometry<f64>], polygon: &Polygon<f64>) -> Vec<usize> {
        let Some(bbox) = polygon.bounding_rect() else {
            return Vec::new();
        };
        if !sphere::rect_is_finite(&bbox) {
            return Vec::new();
        }
        let mut out = Vec::new();
        match &self.tree {
            Tree::Points(t) => t.visit_in_box(rect_to_box(&bbox), &mut |id, lon, lat| {
                if polygon.intersects(&geo::Coord { x: lon, y: lat }) {
                    out.push(id as usize);
                }
            }),
            Tree::General(t) => t.visit_in_box(rect_to_box(&bbox), &mut |id| {
                if geoms
                    .get(id as usize)
                    .is_some_and(|g| g.intersects(polygon))
                {
                    out.push(id as usize);
                }
            }),
        }
        out.sort_unstable();
        out
    }

    /// Features within `distance_m` metres of `point`, with their distance in metres,
    /// nearest first (equal distances by index). Empty for a NaN point or distance, or a
    /// negative distance.
    pub fn within_distance(
        &self,
        geoms: &[Geometry<f64>],
        point: Point<f64>,
        distance_m: f64,
    ) -> Vec<(usize, f64)> {
        let Some(origin) = Origin::new(point.x(), point.y()) else {
            return Vec::new();
        };
        if distance_m.is_nan() || distance_m < 0.0 {
            return Vec::new();
        }
        let max_hav = m_to_hav(distance_m);
        let found = match &self.tree {
            Tree::Points(t) => t.within(&origin, distance_m, max_hav),
            Tree::General(t) => t.within(geoms, &origin, distance_m, max_hav),
        };
        // One integer key per result (haversine bits, then index) sorts nearest first with
        // ties by index; non-negative floats' bits order like the numbers.
        let mut keys: Vec<u128> = found
            .into_iter()
            .map(|(id, a)| (u128::from(a.to_bits()) << 32) | u128::from(id))
            .collect();
        keys.sort_unstable();
        keys.into_iter()
            .map(|key| {
                let id = (key & u128::from(u32::MAX)) as usize;
                (id, hav_to_m(f64::from_bits((key >> 32) as u64)))
            })
            .collect()
    }

    /// The `k` features nearest `point` with their distances in metres, nearest first
    /// (fewer when the layer has fewer; empty for a NaN point).
    pub fn nearest(
        &self,
        geoms: &[Geometry<f64>],
        point: Point<f64>,
        k: usize,
    ) -> Vec<(usize, f64)> {
        let Some(origin) = Origin::new(point.x(), point.y()) else {
            return Vec::new();
        };
        let found = match &self.tree {
            Tree::Points(t) => t.nearest(&origin, k),
            Tree::General(t) => t.nearest(geoms, &origin, k),
        };
        found
            .into_iter()
            .map(|(id, a)| (id as usize, hav_to_m(a)))
            .collect()
    }
}

fn rect_to_box(r: &Rect<f64>) -> [f64; 4] {
    [r.min().x, r.min().y, r.max().x, r.max().y]
}
