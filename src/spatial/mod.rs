//! Spatial index per layer (placeholder with the agreed API; replaced by the R-tree version).

use geo::{BoundingRect, Geometry, Intersects, Point, Polygon, Rect};

/// Index over one layer's geometries.
#[derive(Debug, Clone, Default)]
pub struct LayerIndex {
    boxes: Vec<Option<Rect<f64>>>,
}

impl LayerIndex {
    pub fn build(geometries: &[Geometry<f64>]) -> LayerIndex {
        LayerIndex {
            boxes: geometries.iter().map(|g| g.bounding_rect()).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.boxes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    pub fn candidates_in_bbox(&self, bbox: Rect<f64>) -> Vec<usize> {
        (0..self.boxes.len())
            .filter(|&i| self.boxes[i].is_some_and(|b| b.intersects(&bbox)))
            .collect()
    }

    pub fn in_bbox(&self, geoms: &[Geometry<f64>], bbox: Rect<f64>) -> Vec<usize> {
        (0..geoms.len())
            .filter(|&i| geoms[i].intersects(&bbox))
            .collect()
    }

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

    pub fn in_polygon(&self, geoms: &[Geometry<f64>], polygon: &Polygon<f64>) -> Vec<usize> {
        (0..geoms.len())
            .filter(|&i| geoms[i].intersects(polygon))
            .collect()
    }

    pub fn within_distance(
        &self,
        geoms: &[Geometry<f64>],
        point: Point<f64>,
        distance_m: f64,
    ) -> Vec<(usize, f64)> {
        let mut v: Vec<(usize, f64)> = self
            .nearest(geoms, point, geoms.len())
            .into_iter()
            .filter(|(_, d)| *d <= distance_m)
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        v
    }

    pub fn nearest(
        &self,
        geoms: &[Geometry<f64>],
        point: Point<f64>,
        k: usize,
    ) -> Vec<(usize, f64)> {
        use geo::{Distance, Euclidean};
        let m_per_deg = 111_320.0;
        let cos = point.y().to_radians().cos();
        let scaled = |g: &Geometry<f64>| {
            use geo::MapCoords;
            g.map_coords(|c| geo::coord! { x: c.x * m_per_deg * cos, y: c.y * m_per_deg })
        };
        let p = Point::new(point.x() * m_per_deg * cos, point.y() * m_per_deg);
        let mut v: Vec<(usize, f64)> = geoms
            .iter()
            .enumerate()
            .map(|(i, g)| (i, Euclidean.distance(&scaled(g), &p)))
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        v.truncate(k);
        v
    }
}
