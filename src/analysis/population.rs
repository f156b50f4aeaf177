//! People inside an area: point weights inside it, and area-weighted shares of population
//! polygons or grid cells cut by it (measured in a local metric projection, not degrees).

use geo::{
    Area, BooleanOps, BoundingRect, Euclidean, Geometry, Intersects, Length, MapCoords,
    MultiLineString, MultiPolygon, Point, Rect,
};

use crate::model::{Layer, ValueRef};
use crate::spatial::EARTH_RADIUS_M;

/// At most this many per-feature warnings are listed; the rest are counted in one line.
const MAX_LISTED_WARNINGS: usize = 20;

/// One feature's share of the people inside the area.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationShare {
    /// Row of the feature in the layer.
    pub row: usize,
    /// The feature's whole weight (its people count).
    pub weight: f64,
    /// Part of the feature inside the area: 1 for a point inside, the intersected share of
    /// the area for a polygon, of the length for a line, of the points for a multipoint.
    pub fraction: f64,
    /// `weight * fraction`.
    pub people: f64,
}

/// People inside an area, with the features that contribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PopulationInside {
    /// Sum of every contribution.
    pub total: f64,
    /// Contributing features (a fraction above zero), ascending by row.
    pub features: Vec<PopulationShare>,
    /// Features inside the area whose weight is missing, not a number or negative (they
    /// count as zero), and the like.
    pub warnings: Vec<String>,
}

/// People of `layer` (field `weight_field`) inside `area` (lon/lat). A point counts whole
/// when it lies inside or on the boundary; a polygon feature counts by the share of its
/// area inside, a line by the share of its length inside. Areas are measured in a
/// cylindrical equal-area projection about the area's centre (true spherical areas; an
/// equirectangular or raw-degree measure would give the same wrong ratio, as both are
/// affine in degrees). A missing or bad weight on a feature inside is a warning.
pub fn population_in_polygon(
    layer: &Layer,
    weight_field: &str,
    area: &MultiPolygon<f64>,
) -> PopulationInside {
    let mut result = PopulationInside::default();
    let Some(zone_box) = area.bounding_rect().filter(rect_is_finite) else {
        return result;
    };
    let centre = zone_box.center();
    let project = EqualArea::new(centre.x, centre.y);
    let project = |c: geo::Coord<f64>| project.forward(c);
    let zone_m: MultiPolygon<f64> = area.map_coords(project);
    let field = layer.attributes.field_index(weight_field);
    let mut bad_weights = 0usize;
    for (row, geometry) in layer.geometries.iter().enumerate() {
        let Some(feature_box) = geometry.bounding_rect() else {
            continue;
        };
        if !boxes_overlap(&zone_box, &feature_box) {
            continue;
        }
        let fraction = fraction_inside(geometry, area, &zone_m, &project);
        if fraction <= 0.0 {
            continue;
        }
        let value = field
            .map(|f| layer.attributes.value(row, f))
            .unwrap_or(ValueRef::Null);
        let weight = match value.as_f64() {
            Some(w) if w >= 0.0 => w,
            _ => {
                bad_weights += 1;
                if bad_weights <= MAX_LISTED_WARNINGS {
                    let index = layer.source_index.get(row).copied().unwrap_or(row as u32);
                    let problem = if value.is_null() {
                        "missing".to_string()
                    } else {
                        format!("not a non-negative number ({value})")
                    };
                    result.warnings.push(format!(
                        "{}: feature {index}: weight `{weight_field}` {problem}; counted as 0",
                        layer.name
                    ));
                }
                continue;
            }
        };
        let people = weight * fraction;
        result.total += people;
        result.features.push(PopulationShare {
            row,
            weight,
            fraction,
            people,
        });
    }
    if bad_weights > MAX_LISTED_WARNINGS {
        result.warnings.push(format!(
            "{}: {} more features inside with a missing or bad `{weight_field}`",
            layer.name,
            bad_weights - MAX_LISTED_WARNINGS
        ));
    }
    result
}

/// Lambert's cylindrical equal-area projection with its standard parallel at the centre:
/// metres with true areas on the sphere and little shape distortion over a district.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EqualArea {
    lon0: f64,
    cos_lat0: f64,
}

impl EqualArea {
    /// The projection about (`lon0`, `lat0`) degrees.
    pub(crate) fn new(lon0: f64, lat0: f64) -> Self {
        EqualArea {
            lon0,
            cos_lat0: lat0.to_radians().cos().max(1e-6),
        }
    }

    /// Lon/lat degrees -> metres.
    pub(crate) fn forward(&self, c: geo::Coord<f64>) -> geo::Coord<f64> {
        geo::coord! {
            x: EARTH_RADIUS_M * (c.x - self.lon0).to_radians() * self.cos_lat0,
            y: EARTH_RADIUS_M * c.y.to_radians().sin() / self.cos_lat0,
        }
    }
}

/// Share of `geometry` inside the zone (`zone` in lon/lat, `zone_m` projected).
fn fraction_inside(
    geometry: &Geometry<f64>,
    zone: &MultiPolygon<f64>,
    zone_m: &MultiPolygon<f64>,
    project: &impl Fn(geo::Coord<f64>) -> geo::Coord<f64>,
) -> f64 {
    let share = |part: f64, whole: f64| {
        if whole > 0.0 && part.is_finite() {
            (part / whole).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    match geometry {
        Geometry::Point(p) => point_inside(*p, zone),
        Geometry::MultiPoint(mp) => {
            let inside =
                mp.0.iter()
                    .filter(|p| point_inside(**p, zone) > 0.0)
                    .count();
            share(inside as f64, mp.0.len() as f64)
        }
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => {
            let polygons = as_multipolygon(geometry).map_coords(project);
            let whole = polygons.unsigned_area();
            if whole.is_nan() || whole <= 0.0 {
                // A degenerate polygon carries its people at one spot.
                return geometry
                    .bounding_rect()
                    .map(|r| point_inside(Point(r.center()), zone))
                    .unwrap_or(0.0);
            }
            if !coords_finite(&polygons) {
                return 0.0;
            }
            let part = polygons.intersection(zone_m).unsigned_area();
            share(part, whole)
        }
        Geometry::LineString(_) | Geometry::MultiLineString(_) | Geometry::Line(_) => {
            let lines = as_multilinestring(geometry).map_coords(project);
            let whole = Euclidean.length(&lines);
            if whole.is_nan()
                || whole <= 0.0
                || !lines.0.iter().flat_map(|l| l.0.iter()).all(coord_finite)
            {
                return 0.0;
            }
            let part = Euclidean.length(&zone_m.clip(&lines, false));
            share(part, whole)
        }
        Geometry::GeometryCollection(gc) => {
            // Members share the feature's people equally.
            if gc.0.is_empty() {
                return 0.0;
            }
            let sum: f64 =
                gc.0.iter()
                    .map(|g| fraction_inside(g, zone, zone_m, project))
                    .sum();
            share(sum, gc.0.len() as f64)
        }
    }
}

fn point_inside(p: Point<f64>, zone: &MultiPolygon<f64>) -> f64 {
    if coord_finite(&p.0) && zone.intersects(&p) {
        1.0
    } else {
        0.0
    }
}

fn coord_finite(c: &geo::Coord<f64>) -> bool {
    c.x.is_finite() && c.y.is_finite()
}

fn coords_finite(mp: &MultiPolygon<f64>) -> bool {
    mp.0.iter().all(|p| {
        p.exterior().0.iter().all(coord_finite)
            && p.interiors().iter().all(|r| r.0.iter().all(coord_finite))
    })
}

fn rect_is_finite(r: &Rect<f64>) -> bool {
    coord_finite(&r.min()) && coord_finite(&r.max())
}

fn boxes_overlap(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// The polygons of a polygonal geometry (empty for anything else).
pub(crate) fn as_multipolygon(geometry: &Geometry<f64>) -> MultiPolygon<f64> {
    match geometry {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        Geometry::Rect(r) => MultiPolygon(vec![r.to_polygon()]),
        Geometry::Triangle(t) => MultiPolygon(vec![t.to_polygon()]),
        _ => MultiPolygon(Vec::new()),
    }
}

/// The lines of a linear geometry (empty for anything else).
pub(crate) fn as_multilinestring(geometry: &Geometry<f64>) -> MultiLineString<f64> {
    match geometry {
        Geometry::LineString(l) => MultiLineString(vec![l.clone()]),
        Geometry::MultiLineString(m) => m.clone(),
        Geometry::Line(l) => MultiLineString(vec![geo::LineString(vec![l.start, l.end])]),
        _ => MultiLineString(Vec::new()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{AttributeTable, Value};
    use geo::{Coord, Polygon, Rect};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn layer(geometries: Vec<Geometry<f64>>, weights: &[Value]) -> Layer {
        let mut attributes = AttributeTable::new();
        for w in weights {
            attributes.push_row([("population", w.as_ref())]);
        }
        Layer {
            name: "pop".into(),
            path: None,
            kind: crate::model::LayerKind::Population,
            source_index: (0..geometries.len() as u32).collect(),
            geometries,
            attributes,
        }
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }).to_polygon()
    }

    #[test]
    fn points_inside_sum_their_weights_and_bad_weights_warn() {
        let zone = MultiPolygon(vec![rect(117.0, 36.0, 117.1, 36.1)]);
        let pts = vec![
            Geometry::Point(Point::new(117.05, 36.05)),
            Geometry::Point(Point::new(117.2, 36.05)),
            Geometry::Point(Point::new(117.1, 36.05)), // on the boundary: counts
            Geometry::Point(Point::new(117.02, 36.02)),
            Geometry::Point(Point::new(117.03, 36.03)),
        ];
        let weights = [
            Value::Number(10.0),
            Value::Number(100.0),
            Value::Text("7".into()),
            Value::Text("many".into()),
            Value::Null,
        ];
        let r = population_in_polygon(&layer(pts, &weights), "population", &zone);
        assert_eq!(r.total, 17.0);
        assert_eq!(
            r.features.iter().map(|f| f.row).collect::<Vec<_>>(),
            vec![0, 2]
        );
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("feature 3"));
    }

    #[test]
    fn grid_cells_count_by_the_share_of_their_area_inside() {
        // A cell of 0.01° straddling the zone's east edge by a quarter of its width.
        let zone = MultiPolygon(vec![rect(117.0, 36.0, 117.1, 36.1)]);
        let cells = vec![
            Geometry::Polygon(rect(117.0975, 36.05, 117.1075, 36.06)),
            Geometry::Polygon(rect(117.02, 36.02, 117.03, 36.03)),
            Geometry::Polygon(rect(117.3, 36.02, 117.31, 36.03)),
        ];
        let weights = [
            Value::Number(400.0),
            Value::Number(50.0),
            Value::Number(9.0),
        ];
        let r = population_in_polygon(&layer(cells, &weights), "population", &zone);
        assert!(
            (r.features[0].fraction - 0.25).abs() < 1e-6,
            "{:?}",
            r.features
        );
        assert!((r.total - 150.0).abs() < 1e-3);
        assert_eq!(r.features.len(), 2);
    }

    #[test]
    fn area_share_uses_metres_not_degrees() {
        // Near 60° N a one-degree band of latitude holds noticeably more area at its south
        // end: splitting a cell along a parallel gives 0.5 in degrees, ~0.506 on the sphere.
        let zone = MultiPolygon(vec![rect(10.0, 59.0, 10.5, 61.0)]);
        let cell = rect(10.0, 59.0, 11.0, 61.0);
        let r = population_in_polygon(
            &layer(
                vec![Geometry::Polygon(cell.clone())],
                &[Value::Number(1000.0)],
            ),
            "population",
            &zone,
        );
        // Half the longitude range: half the area on a sphere as on the projection.
        assert!((r.total - 500.0).abs() < 1.0, "{}", r.total);
        // Latitude split: the southern half has more area than the northern half.
        let south = MultiPolygon(vec![rect(9.0, 59.0, 12.0, 60.0)]);
        let r = population_in_polygon(
            &layer(vec![Geometry::Polygon(cell)], &[Value::Number(1000.0)]),
            "population",
            &south,
        );
        let geodesic_south = (60f64.to_radians().sin() - 59f64.to_radians().sin())
            / (61f64.to_radians().sin() - 59f64.to_radians().sin());
        assert!(
            (r.total / 1000.0 - geodesic_south).abs() < 1e-6,
            "{} vs {geodesic_south}",
            r.total
        );
    }

    #[test]
    fn random_points_match_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20 {
            let x0 = rng.random_range(117.0..117.05);
            let y0 = rng.random_range(36.0..36.05);
            let zone = MultiPolygon(vec![
                rect(x0, y0, x0 + 0.03, y0 + 0.02),
                rect(x0 + 0.05, y0, x0 + 0.06, y0 + 0.04),
            ]);
            let n = 200;
            let mut geoms = Vec::new();
            let mut weights = Vec::new();
            for _ in 0..n {
                geoms.push(Geometry::Point(Point::new(
                    rng.random_range(117.0..117.12),
                    rng.random_range(36.0..36.1),
                )));
                weights.push(Value::Number(rng.random_range(0..50) as f64));
            }
            let l = layer(geoms.clone(), &weights);
            let r = population_in_polygon(&l, "population", &zone);
            let expected: f64 = geoms
                .iter()
                .zip(&weights)
                .filter(|(g, _)| zone.intersects(*g))
                .map(|(_, w)| w.as_ref().as_f64().unwrap())
                .sum();
            assert_eq!(r.total, expected);
        }
    }

    #[test]
    fn lines_count_by_length_share_and_degenerate_input_does_not_panic() {
        let zone = MultiPolygon(vec![rect(117.0, 36.0, 117.1, 36.1)]);
        let geoms = vec![
            Geometry::LineString(geo::LineString::from(vec![
                (117.05, 36.05),
                (117.15, 36.05),
            ])),
            Geometry::Point(Point::new(f64::NAN, 36.0)),
            Geometry::Polygon(Polygon::new(geo::LineString(vec![]), vec![])),
        ];
        let weights = [Value::Number(10.0), Value::Number(5.0), Value::Number(5.0)];
        let r = population_in_polygon(&layer(geoms, &weights), "population", &zone);
        assert!((r.total - 5.0).abs() < 0.01, "{}", r.total);
        let empty =
            population_in_polygon(&layer(vec![], &[]), "population", &MultiPolygon(Vec::new()));
        assert_eq!(empty.total, 0.0);
    }

    #[test]
    fn cell_shares_match_a_sampling_oracle_on_random_zones() {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let cell = 0.005;
        for case in 0..3 {
            let (cx, cy) = (117.025, 36.025);
            let n = rng.random_range(5..10);
            let ring: Vec<(f64, f64)> = (0..n)
                .map(|i| {
                    let a = i as f64 / n as f64 * std::f64::consts::TAU;
                    let r = rng.random_range(0.008..0.025);
                    (cx + r * a.cos(), cy + r * a.sin())
                })
                .collect();
            let zone = MultiPolygon(vec![Polygon::new(geo::LineString::from(ring), vec![])]);
            let mut geoms = Vec::new();
            let mut weights = Vec::new();
            for i in 0..10 {
                for j in 0..10 {
                    let (x, y) = (117.0 + i as f64 * cell, 36.0 + j as f64 * cell);
                    geoms.push(Geometry::Polygon(rect(x, y, x + cell, y + cell)));
                    weights.push(Value::Number(rng.random_range(1..1000) as f64));
                }
            }
            let r = population_in_polygon(&layer(geoms.clone(), &weights), "population", &zone);
            let samples = 80;
            for (row, g) in geoms.iter().enumerate() {
                let b = g.bounding_rect().unwrap();
                let mut hits = 0;
                for a in 0..samples {
                    for c in 0..samples {
                        let p = Point::new(
                            b.min().x + (a as f64 + 0.5) / samples as f64 * cell,
                            b.min().y + (c as f64 + 0.5) / samples as f64 * cell,
                        );
                        if zone.intersects(&p) {
                            hits += 1;
                        }
                    }
                }
                let oracle = hits as f64 / (samples * samples) as f64;
                let got = r
                    .features
                    .iter()
                    .find(|f| f.row == row)
                    .map_or(0.0, |f| f.fraction);
                assert!(
                    (got - oracle).abs() < 0.02,
                    "case {case} cell {row}: {got} vs sampled {oracle}"
                );
            }
        }
    }
}
