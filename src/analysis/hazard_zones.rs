//! Hazard zones offered from an incident: the isolation and protective rings of a hazchem
//! leak (radii editable, optional per-substance presets), a corridor along a pipeline, and
//! a plain circle of any radius. Each zone is a WGS 84 `MultiPolygon` with properties, ready
//! to draw, export or hand to the zone report.
//!
//! Circles are geodesic: their vertices lie at the exact ellipsoidal distance from the
//! centre, spaced so that the straight edges sag inside the true circle by at most
//! [`MAX_SAG_M`] (or 0.05 % of the radius, whichever is larger). Corridors are buffered in a
//! local equirectangular projection about the line, accurate to well under 0.1 % over a
//! district.

use geo::algorithm::buffer::{BufferStyle, LineCap, LineJoin};
use geo::{
    Buffer, Coord, Destination, Geodesic, LineString, MultiLineString, MultiPolygon, Point, Polygon,
};
use serde_json::{Map, Value as Json, json};

use super::road_graph::LocalProjection;

/// Largest gap, metres, between a circle's straight edges and the true circle (for radii
/// below 2 km; larger circles allow 0.05 % of the radius).
pub const MAX_SAG_M: f64 = 1.0;

/// What a zone is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZoneKind {
    /// The hazchem initial isolation zone: everyone out, responders in protective gear.
    Isolation,
    /// The ring between the isolation and protective radii: shelter in place or evacuate.
    Protective,
    /// A band of given half-width along a pipeline.
    Corridor,
    /// A circle of any radius.
    Circle,
}

impl ZoneKind {
    /// The key used in files and properties.
    pub fn key(self) -> &'static str {
        match self {
            ZoneKind::Isolation => "isolation",
            ZoneKind::Protective => "protective",
            ZoneKind::Corridor => "corridor",
            ZoneKind::Circle => "circle",
        }
    }
}

/// One drawn zone.
#[derive(Debug, Clone, PartialEq)]
pub struct HazardZone {
    pub kind: ZoneKind,
    /// Lon/lat (WGS 84).
    pub geometry: MultiPolygon<f64>,
    /// `kind`, the distances used (`inner_m`/`outer_m`, `half_width_m` or `radius_m`) and,
    /// for presets, `substance` and `source`.
    pub properties: Map<String, Json>,
}

impl HazardZone {
    /// The zone as a GeoJSON feature.
    pub fn to_feature(&self) -> geojson::Feature {
        geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::new(geojson::GeometryValue::from(
                &self.geometry,
            ))),
            id: None,
            properties: Some(self.properties.clone()),
            foreign_members: None,
        }
    }
}

/// Why the zone cannot be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ZoneError {
    #[error("the centre is not a valid lon/lat position")]
    BadCentre,
    #[error("{0}: expected a distance > 0 metres, got {1}")]
    BadDistance(&'static str, f64),
    #[error(
        "the protective radius ({protective_m} m) must exceed the isolation radius ({isolation_m} m)"
    )]
    RingsOutOfOrder { isolation_m: f64, protective_m: f64 },
    #[error("the line has no usable segment")]
    EmptyLine,
}

/// The two radii of a hazchem leak.
#[derive(Debug, Clone, PartialEq)]
pub struct HazchemRings {
    /// Initial isolation radius, metres (in all directions).
    pub isolation_m: f64,
    /// Protective action distance, metres, drawn as a full circle because the wind may
    /// turn: ERG's protective action zone is a downwind square of this side.
    pub protective_m: f64,
    /// The substance preset these radii came from, if any.
    pub substance: Option<&'static str>,
    /// Where the figures come from.
    pub source: String,
}

impl HazchemRings {
    /// Rings of the given radii, entered by hand.
    pub fn custom(isolation_m: f64, protective_m: f64) -> HazchemRings {
        HazchemRings {
            isolation_m,
            protective_m,
            substance: None,
            source: "user".into(),
        }
    }

    /// The default for an unidentified substance: ERG guide 111 (mixed or unidentified
    /// cargo) isolates 100 m in all directions; the protective radius is the caller's (the
    /// incident's search radius).
    pub fn unidentified(protective_m: f64) -> HazchemRings {
        HazchemRings {
            isolation_m: 100.0,
            protective_m,
            substance: None,
            source: "ERG 2024 guide 111 (unidentified cargo): isolate at least 100 m".into(),
        }
    }

    /// The rings of a substance preset.
    pub fn from_preset(preset: &SubstancePreset) -> HazchemRings {
        HazchemRings {
            isolation_m: preset.isolation_m,
            protective_m: preset.protective_m,
            substance: Some(preset.key),
            source: preset.source.to_string(),
        }
    }
}

/// Starting radii for one substance. Editable in the product: these are first-response
/// figures for the first minutes, not a dispersion model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubstancePreset {
    /// Key used on the command line (`chlorine`).
    pub key: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// UN number.
    pub un: &'static str,
    pub isolation_m: f64,
    pub protective_m: f64,
    /// Where the figures come from, and how sure they are.
    pub source: &'static str,
}

/// The shipped presets. LPG and gasoline are not toxic by inhalation, so ERG gives them no
/// Table 1 entry: their figures are the guide-page distances. The chlorine and ammonia
/// figures are illustrative, of the order of ERG Table 1's small-spill, night-time entries,
/// and must be checked against the ERG edition in use (large spills are far larger: ERG
/// Table 3).
pub const SUBSTANCE_PRESETS: [SubstancePreset; 4] = [
    SubstancePreset {
        key: "chlorine",
        name_zh: "氯气",
        name_en: "Chlorine",
        un: "UN1017",
        isolation_m: 60.0,
        protective_m: 1100.0,
        source: "illustrative, after ERG Table 1 (UN1017, small spill, night); check the ERG edition in use",
    },
    SubstancePreset {
        key: "ammonia",
        name_zh: "液氨",
        name_en: "Ammonia, anhydrous",
        un: "UN1005",
        isolation_m: 30.0,
        protective_m: 200.0,
        source: "illustrative, after ERG Table 1 (UN1005, small spill, night); check the ERG edition in use",
    },
    SubstancePreset {
        key: "lpg",
        name_zh: "液化石油气",
        name_en: "Liquefied petroleum gas",
        un: "UN1075",
        isolation_m: 100.0,
        protective_m: 800.0,
        source: "ERG 2024 guide 115: isolate 100 m; large spill, consider downwind evacuation 800 m",
    },
    SubstancePreset {
        key: "gasoline",
        name_zh: "汽油",
        name_en: "Gasoline",
        un: "UN1203",
        isolation_m: 50.0,
        protective_m: 300.0,
        source: "ERG 2024 guide 128: isolate 50 m; large spill, consider downwind evacuation 300 m",
    },
];

/// The preset with this key (case-insensitive), or None.
pub fn substance_preset(key: &str) -> Option<&'static SubstancePreset> {
    let key = key.trim().to_ascii_lowercase();
    SUBSTANCE_PRESETS.iter().find(|p| p.key == key)
}

fn check_centre(centre: Coord<f64>) -> Result<(), ZoneError> {
    if centre.x.is_finite()
        && centre.y.is_finite()
        && (-180.0..=180.0).contains(&centre.x)
        && (-90.0..=90.0).contains(&centre.y)
    {
        Ok(())
    } else {
        Err(ZoneError::BadCentre)
    }
}

fn check_distance(name: &'static str, metres: f64) -> Result<(), ZoneError> {
    if metres.is_finite() && metres > 0.0 {
        Ok(())
    } else {
        Err(ZoneError::BadDistance(name, metres))
    }
}

/// Number of vertices that keeps a circle's sag within tolerance (at least 32).
pub fn circle_vertex_count(radius_m: f64) -> usize {
    let tolerance = MAX_SAG_M.max(radius_m * 5e-4);
    if radius_m <= tolerance {
        return 32;
    }
    // An inscribed n-gon sags r (1 - cos(pi / n)) at the middle of each edge.
    let n = std::f64::consts::PI / (1.0 - tolerance / radius_m).acos();
    (n.ceil() as usize).clamp(32, 1024)
}

/// The closed ring of a geodesic circle, counter-clockwise.
fn circle_ring(centre: Coord<f64>, radius_m: f64) -> LineString<f64> {
    let n = circle_vertex_count(radius_m);
    let origin = Point(centre);
    let mut coords: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            // Bearings run clockwise from north; walking them backwards is counter-clockwise.
            let bearing = 360.0 - 360.0 * i as f64 / n as f64;
            Geodesic.destination(origin, bearing, radius_m).0
        })
        .collect();
    if let Some(&first) = coords.first() {
        coords.push(first);
    }
    LineString::new(coords)
}

/// A geodesic circle (disc) of `radius_m` about `centre` (lon/lat).
pub fn circle(centre: Coord<f64>, radius_m: f64) -> Result<HazardZone, ZoneError> {
    check_centre(centre)?;
    check_distance("radius", radius_m)?;
    let ring = circle_ring(centre, radius_m);
    let mut properties = Map::new();
    properties.insert("kind".into(), json!(ZoneKind::Circle.key()));
    properties.insert("radius_m".into(), json!(radius_m));
    Ok(HazardZone {
        kind: ZoneKind::Circle,
        geometry: MultiPolygon::new(vec![Polygon::new(ring, vec![])]),
        properties,
    })
}

/// The isolation disc and the protective ring (an annulus from the isolation radius out to
/// the protective radius), in that order.
pub fn hazchem_rings(
    centre: Coord<f64>,
    rings: &HazchemRings,
) -> Result<[HazardZone; 2], ZoneError> {
    check_centre(centre)?;
    check_distance("isolation radius", rings.isolation_m)?;
    check_distance("protective radius", rings.protective_m)?;
    if rings.protective_m <= rings.isolation_m {
        return Err(ZoneError::RingsOutOfOrder {
            isolation_m: rings.isolation_m,
            protective_m: rings.protective_m,
        });
    }
    let inner = circle_ring(centre, rings.isolation_m);
    let outer = circle_ring(centre, rings.protective_m);
    let mut hole = inner.clone();
    hole.0.reverse();
    let common = |kind: ZoneKind, inner_m: f64, outer_m: f64| {
        let mut p = Map::new();
        p.insert("kind".into(), json!(kind.key()));
        p.insert("inner_m".into(), json!(inner_m));
        p.insert("outer_m".into(), json!(outer_m));
        if let Some(s) = rings.substance {
            p.insert("substance".into(), json!(s));
        }
        p.insert("source".into(), json!(rings.source));
        p
    };
    Ok([
        HazardZone {
            kind: ZoneKind::Isolation,
            geometry: MultiPolygon::new(vec![Polygon::new(inner, vec![])]),
            properties: common(ZoneKind::Isolation, 0.0, rings.isolation_m),
        },
        HazardZone {
            kind: ZoneKind::Protective,
            geometry: MultiPolygon::new(vec![Polygon::new(outer, vec![hole])]),
            properties: common(ZoneKind::Protective, rings.isolation_m, rings.protective_m),
        },
    ])
}

/// Everything within `half_width_m` of the line (round ends and joins), buffered in a local
/// projection centred on the line. Non-finite vertices are dropped; a line with no segment
/// left is an error.
pub fn corridor(line: &MultiLineString<f64>, half_width_m: f64) -> Result<HazardZone, ZoneError> {
    check_distance("half-width", half_width_m)?;
    let parts: Vec<Vec<Coord<f64>>> = line
        .0
        .iter()
        .map(|ls| {
            ls.0.iter()
                .copied()
                .filter(|c| c.x.is_finite() && c.y.is_finite() && c.y.abs() < 90.0)
                .collect::<Vec<_>>()
        })
        .filter(|cs| cs.len() >= 2)
        .collect();
    let count = parts.iter().map(Vec::len).sum::<usize>();
    if count == 0 {
        return Err(ZoneError::EmptyLine);
    }
    let (sx, sy) = parts
        .iter()
        .flatten()
        .fold((0.0, 0.0), |(x, y), c| (x + c.x, y + c.y));
    let projection = LocalProjection::new(sx / count as f64, sy / count as f64);
    let projected = MultiLineString::new(
        parts
            .iter()
            .map(|cs| {
                LineString::new(
                    cs.iter()
                        .map(|&c| {
                            let [x, y] = projection.forward(c);
                            Coord { x, y }
                        })
                        .collect(),
                )
            })
            .collect(),
    );
    // Round caps and joins at the step that keeps the sag of a circle of this radius
    // within tolerance.
    let step = 2.0 * std::f64::consts::PI / circle_vertex_count(half_width_m) as f64;
    let style = BufferStyle::new(half_width_m)
        .line_cap(LineCap::Round(step))
        .line_join(LineJoin::Round(step));
    let buffered = projected.buffer_with_style(style);
    let unproject = |ls: &LineString<f64>| {
        LineString::new(
            ls.0.iter()
                .map(|c| projection.inverse([c.x, c.y]))
                .collect(),
        )
    };
    let geometry = MultiPolygon::new(
        buffered
            .0
            .iter()
            .map(|p| {
                Polygon::new(
                    unproject(p.exterior()),
                    p.interiors().iter().map(unproject).collect(),
                )
            })
            .collect(),
    );
    let mut properties = Map::new();
    properties.insert("kind".into(), json!(ZoneKind::Corridor.key()));
    properties.insert("half_width_m".into(), json!(half_width_m));
    Ok(HazardZone {
        kind: ZoneKind::Corridor,
        geometry,
        properties,
    })
}

/// Everything within `distance_m` of any geometry (a point, line or polygon; round joins),
/// buffered in a local projection centred on it: the "buffer around a selected feature"
/// evacuation zone. Non-finite coordinates are an error.
pub fn buffer_geometry(
    geometry: &geo::Geometry<f64>,
    distance_m: f64,
) -> Result<MultiPolygon<f64>, ZoneError> {
    use geo::{BoundingRect, MapCoords};
    check_distance("distance", distance_m)?;
    let Some(bbox) = geometry.bounding_rect() else {
        return Err(ZoneError::EmptyLine);
    };
    let centre = bbox.center();
    check_centre(centre)?;
    let projection = LocalProjection::new(centre.x, centre.y);
    let projected = geometry.map_coords(|c| {
        let [x, y] = projection.forward(c);
        Coord { x, y }
    });
    let step = 2.0 * std::f64::consts::PI / circle_vertex_count(distance_m) as f64;
    let style = BufferStyle::new(distance_m)
        .line_cap(LineCap::Round(step))
        .line_join(LineJoin::Round(step));
    let buffered = projected.buffer_with_style(style);
    Ok(buffered.map_coords(|c| projection.inverse([c.x, c.y])))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo::{Bearing, Contains, Distance, Haversine};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const CENTRE: Coord<f64> = Coord {
        x: 117.87,
        y: 36.80,
    };

    #[test]
    fn a_buffer_around_a_polygon_holds_points_within_the_distance_only() {
        let square = geo::Geometry::Polygon(Polygon::new(
            LineString::from(vec![
                (117.87, 36.80),
                (117.88, 36.80),
                (117.88, 36.81),
                (117.87, 36.81),
                (117.87, 36.80),
            ]),
            vec![],
        ));
        let zone = buffer_geometry(&square, 200.0).unwrap();
        // East edge of the square, 190 m and 210 m further east.
        let east = |m: f64| {
            Point::new(
                117.88 + m / (111_320.0 * 36.805f64.to_radians().cos()),
                36.805,
            )
        };
        assert!(zone.contains(&east(190.0)));
        assert!(!zone.contains(&east(210.0)));
        assert!(zone.contains(&Point::new(117.875, 36.805)));
        let point = buffer_geometry(&geo::Geometry::Point(Point::from(CENTRE)), 100.0).unwrap();
        assert!(point.contains(&at(45.0, 99.0)));
        assert!(!point.contains(&at(45.0, 101.0)));
        assert!(buffer_geometry(&square, f64::NAN).is_err());
    }

    fn at(bearing: f64, metres: f64) -> Point<f64> {
        Geodesic.destination(Point(CENTRE), bearing, metres)
    }

    fn inside(zone: &HazardZone, p: Point<f64>) -> bool {
        zone.geometry.contains(&p)
    }

    #[test]
    fn circle_contains_radius_minus_tolerance_and_excludes_radius_plus() {
        for radius in [30.0, 250.0, 1000.0, 5000.0] {
            let zone = circle(CENTRE, radius).unwrap();
            let eps = MAX_SAG_M.max(radius * 5e-4) + 0.5;
            for k in 0..97 {
                let bearing = k as f64 * 360.0 / 97.0;
                assert!(
                    inside(&zone, at(bearing, radius - eps)),
                    "{radius} {bearing}"
                );
                assert!(
                    !inside(&zone, at(bearing, radius + 0.5)),
                    "{radius} {bearing}"
                );
            }
            assert_eq!(zone.properties["radius_m"], json!(radius));
        }
    }

    #[test]
    fn circle_area_is_close_to_pi_r_squared() {
        let zone = circle(CENTRE, 1000.0).unwrap();
        let area = crate::analysis::measure::multipolygon_area_m2(&zone.geometry);
        let exact = std::f64::consts::PI * 1.0e6;
        // An inscribed polygon loses about 4/3 of the sag over the radius.
        assert!(
            area < exact && area > exact * (1.0 - 1.5 * MAX_SAG_M / 1000.0),
            "{area}"
        );
    }

    #[test]
    fn rings_split_at_the_isolation_radius() {
        let rings = HazchemRings::custom(100.0, 800.0);
        let [iso, prot] = hazchem_rings(CENTRE, &rings).unwrap();
        for k in 0..36 {
            let b = k as f64 * 10.0;
            assert!(inside(&iso, at(b, 98.0)));
            assert!(!inside(&iso, at(b, 100.5)));
            assert!(!inside(&prot, at(b, 98.0)));
            assert!(inside(&prot, at(b, 102.0)));
            assert!(inside(&prot, at(b, 798.0)));
            assert!(!inside(&prot, at(b, 800.5)));
        }
        assert_eq!(prot.properties["inner_m"], json!(100.0));
        assert_eq!(prot.properties["outer_m"], json!(800.0));
        assert!(hazchem_rings(CENTRE, &HazchemRings::custom(800.0, 100.0)).is_err());
        assert!(hazchem_rings(CENTRE, &HazchemRings::custom(f64::NAN, 100.0)).is_err());
    }

    #[test]
    fn presets_are_found_and_name_their_source() {
        let p = substance_preset("Chlorine").unwrap();
        assert!(p.source.contains("illustrative"));
        let rings = HazchemRings::from_preset(substance_preset("lpg").unwrap());
        let [iso, _] = hazchem_rings(CENTRE, &rings).unwrap();
        assert_eq!(iso.properties["substance"], json!("lpg"));
        assert!(
            iso.properties["source"]
                .as_str()
                .unwrap()
                .contains("guide 115")
        );
        assert!(substance_preset("water").is_none());
        for p in SUBSTANCE_PRESETS {
            assert!(p.protective_m > p.isolation_m, "{}", p.key);
        }
    }

    /// Great-circle distance from p to the nearest point of the polyline, by dense sampling.
    fn brute_distance(p: Point<f64>, line: &[Coord<f64>]) -> f64 {
        let mut best = f64::INFINITY;
        for w in line.windows(2) {
            for i in 0..=2000 {
                let f = i as f64 / 2000.0;
                let q = Point::new(
                    w[0].x + f * (w[1].x - w[0].x),
                    w[0].y + f * (w[1].y - w[0].y),
                );
                best = best.min(Haversine.distance(p, q));
            }
        }
        best
    }

    #[test]
    fn corridor_holds_exactly_the_points_within_the_half_width() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let line: Vec<Coord<f64>> = (0..5)
            .map(|i| Coord {
                x: 117.85 + 0.01 * i as f64,
                y: 36.80 + rng.random_range(-0.004..0.004),
            })
            .collect();
        let half = 200.0;
        let zone = corridor(
            &MultiLineString::new(vec![LineString::new(line.clone())]),
            half,
        )
        .unwrap();
        let mut near = 0;
        for _ in 0..400 {
            let p = Point::new(
                rng.random_range(117.84..117.90),
                rng.random_range(36.79..36.81),
            );
            let d = brute_distance(p, &line);
            // Outside a band of +-1 % (projection, sag and sampling), membership must agree.
            if d < half * 0.99 {
                assert!(inside(&zone, p), "{d}");
                near += 1;
            } else if d > half * 1.01 {
                assert!(!inside(&zone, p), "{d}");
            }
        }
        assert!(near > 20, "{near}");
        // Perpendicular to the middle of the first segment.
        let mid = Point::new((line[0].x + line[1].x) / 2.0, (line[0].y + line[1].y) / 2.0);
        let along = Haversine.bearing(Point(line[0]), Point(line[1]));
        let side = |m: f64| Geodesic.destination(mid, along + 90.0, m);
        assert!(inside(&zone, side(half - 2.0)));
        assert!(!inside(&zone, side(half + 2.0)));
        assert_eq!(zone.properties["half_width_m"], json!(half));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        assert!(
            circle(
                Coord {
                    x: f64::NAN,
                    y: 0.0
                },
                10.0
            )
            .is_err()
        );
        assert!(circle(CENTRE, 0.0).is_err());
        assert!(corridor(&MultiLineString::new(vec![]), 10.0).is_err());
        let one_point = MultiLineString::new(vec![LineString::from(vec![(117.0, 36.0)])]);
        assert!(matches!(
            corridor(&one_point, 10.0),
            Err(ZoneError::EmptyLine)
        ));
        let feature = circle(CENTRE, 100.0).unwrap().to_feature();
        assert!(feature.geometry.is_some());
    }
}
