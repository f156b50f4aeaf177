//! Coverage report for one response band: covered area and per-station districts, covered
//! share of a built-up area, of weighted demand, and of each chosen layer's features.
//!
//! Places are tested against the exact definition of covered (within `access_m` of a road
//! position reached within the band), through [`AccessIndex`]: a demand point (or a demand
//! cell's centroid) and a point feature count when they are covered, so the report counts
//! demand exactly as siting does (its "before" equals this report's covered demand). Lines,
//! polygons and the built-up area are tested against the band's polygons in the graph's
//! local metric projection (the cells the isochrone output draws, one cell of error): a
//! line or polygon feature counts when any part of it does.

use geo::{
    Area, BooleanOps, Centroid, Coord, Geometry, Intersects, MapCoords, MultiPolygon, Polygon,
};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

use crate::analysis::isochrone::TimeGrid;
use crate::analysis::reach::{Reach, Snap, reach, station_id};
use crate::analysis::road_graph::RoadGraph;
use crate::model::Layer;

/// GB 51080: a station's district should not exceed 7 km² (standard stations).
pub const DISTRICT_STANDARD_KM2: f64 = 7.0;
/// GB 51080: the upper limit of a district where the terrain allows larger ones, km².
pub const DISTRICT_LIMIT_KM2: f64 = 15.0;

/// Options of a coverage report.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageOptions {
    /// The band, minutes, turnout included (default 5).
    pub minutes: f64,
    /// Turnout time, seconds (default 60).
    pub turnout_s: f64,
    /// How far from a reached road a place counts as covered, metres (default 100).
    pub access_m: f64,
    /// Grid cell size, metres (default 25).
    pub cell_m: f64,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            minutes: 5.0,
            turnout_s: 60.0,
            access_m: 100.0,
            cell_m: 25.0,
        }
    }
}

/// One station's district: the covered cells it reaches first (split mode).
#[derive(Debug, Clone, PartialEq)]
pub struct StationDistrict {
    /// Station index (into the snaps given).
    pub station: u32,
    pub area_km2: f64,
    /// Larger than 7 km² (the GB 51080 standard).
    pub over_standard: bool,
    /// Larger than 15 km² (the GB 51080 upper limit).
    pub over_limit: bool,
}

/// The covered area of one band, in projected metres and in lon/lat.
#[derive(Debug, Clone)]
pub struct CoveredArea {
    pub minutes: f64,
    /// The dissolved band in the graph's local projection (metres).
    pub projected: MultiPolygon<f64>,
    /// The same polygons in lon/lat.
    pub lonlat: MultiPolygon<f64>,
    /// Covered cells times the cell area, km².
    pub area_km2: f64,
    /// One district per snapped station, in station order; districts of stations that reach
    /// no cell first have zero area. They sum to `area_km2` exactly.
    pub districts: Vec<StationDistrict>,
    /// The reach the band was drawn from, for exact tests of places.
    pub reached: Reach,
    /// The band's limit, seconds, turnout included.
    pub limit_s: f64,
    /// Metres from a reached road within which a place is covered.
    pub access_m: f64,
}

impl CoveredArea {
    /// Which of `places` (lon/lat) are covered by the exact definition: indexes, sorted.
    pub fn covered_places(&self, graph: &RoadGraph, places: &[Coord<f64>]) -> Vec<u32> {
        AccessIndex::new(graph, places, self.access_m).covered_places(
            graph,
            &self.reached,
            self.limit_s,
        )
    }
}

/// A covered share: `covered` of `total`; `share` is None when `total` is zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    pub covered: f64,
    pub total: f64,
    pub share: Option<f64>,
}

impl Share {
    /// `covered` of `total`, the share clamped to [0, 1].
    pub fn new(covered: f64, total: f64) -> Share {
        let share = (total > 0.0).then(|| (covered / total).clamp(0.0, 1.0));
        Share {
            covered,
            total,
            share,
        }
    }
}

/// Feature coverage of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerCoverage {
    pub name: String,
    pub covered: usize,
    /// Features with a geometry.
    pub total: usize,
    /// Ids of the uncovered features: `id`, else `name`, else the feature index (as
    /// `reach::station_id`).
    pub uncovered: Vec<String>,
    /// Rows (feature indexes in the layer) of the uncovered features, for highlighting.
    pub uncovered_rows: Vec<usize>,
}

/// The covered area of the band `options.minutes` for the snapped stations, and each
/// station's district (each cell assigned to its fastest station).
pub fn covered_area(
    graph: &RoadGraph,
    snaps: &[Option<Snap>],
    options: &CoverageOptions,
) -> CoveredArea {
    let limit_s = if options.minutes.is_finite() {
        options.minutes.max(0.0) * 60.0
    } else {
        0.0
    };
    let reached = reach(graph, snaps, options.turnout_s, limit_s);
    let grid = TimeGrid::from_pieces(
        graph,
        &reached.pieces(graph),
        options.access_m,
        options.cell_m,
    );
    let (projected, cells) = grid.band_polygons(limit_s, None);
    let cell_km2 = grid.cell_m * grid.cell_m / 1e6;
    let mut per_station = vec![0usize; snaps.len()];
    for (t, s) in grid.time_s.iter().zip(&grid.station) {
        if f64::from(*t) <= limit_s
            && let Some(count) = per_station.get_mut(*s as usize)
        {
            *count += 1;
        }
    }
    let districts = snaps
        .iter()
        .enumerate()
        .filter(|(_, snap)| snap.is_some())
        .map(|(s, _)| {
            let area_km2 = per_station[s] as f64 * cell_km2;
            StationDistrict {
                station: s as u32,
                area_km2,
                over_standard: area_km2 > DISTRICT_STANDARD_KM2,
                over_limit: area_km2 > DISTRICT_LIMIT_KM2,
            }
        })
        .collect();
    let lonlat = to_lonlat(graph, &projected);
    CoveredArea {
        minutes: options.minutes,
        projected,
        lonlat,
        area_km2: cells as f64 * cell_km2,
        districts,
        reached,
        limit_s,
        access_m: options.access_m,
    }
}

fn to_lonlat(graph: &RoadGraph, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.map_coords(|c| graph.projection.inverse([c.x, c.y]))
}

fn project(graph: &RoadGraph, g: &Geometry<f64>) -> Geometry<f64> {
    g.map_coords(|c| {
        let [x, y] = graph.projection.forward(c);
        Coord { x, y }
    })
}

/// Covered share of the polygons of `layer` (built-up area), in km² of the local
/// projection. Overlapping polygons are merged first so no place counts twice; other
/// geometry types are ignored.
pub fn area_share(graph: &RoadGraph, covered: &CoveredArea, layer: &Layer) -> Share {
    let mut polygons: Vec<Polygon<f64>> = Vec::new();
    for g in &layer.geometries {
        match project(graph, g) {
            Geometry::Polygon(p) => polygons.push(p),
            Geometry::MultiPolygon(mp) => polygons.extend(mp.0),
            _ => {}
        }
    }
    let merged = polygons
        .into_iter()
        .fold(MultiPolygon::<f64>(Vec::new()), |acc, p| {
            acc.union(&MultiPolygon(vec![p]))
        });
    let total = merged.unsigned_area() / 1e6;
    let inside = merged.intersection(&covered.projected).unsigned_area() / 1e6;
    Share::new(inside.min(total), total)
}

/// A demand place: where it is and what it weighs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemandPoint {
    /// Lon/lat: the feature's point, or the centroid of a line or polygon cell.
    pub position: Coord<f64>,
    pub weight: f64,
}

/// The demand places of `layer` with their `weight_field`. Features with no numeric
/// weight or no position are left out and named in the warnings (feature indexes).
pub fn demand_points(layer: &Layer, weight_field: &str) -> (Vec<DemandPoint>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut points = Vec::with_capacity(layer.len());
    for (row, g) in layer.geometries.iter().enumerate() {
        let index = layer.source_index.get(row).copied().unwrap_or(row as u32);
        let Some(weight) = layer
            .attributes
            .get(row, weight_field)
            .as_f64()
            .filter(|w| w.is_finite())
        else {
            warnings.push(format!(
                "feature {index}: no numeric `{weight_field}`; counted as 0"
            ));
            continue;
        };
        let position = match g {
            Geometry::Point(p) => Some(p.0),
            other => other.centroid().map(|p| p.0),
        };
        let Some(position) = position else {
            warnings.push(format!("feature {index}: no position; not counted"));
            continue;
        };
        points.push(DemandPoint { position, weight });
    }
    (points, warnings)
}

/// Covered share of demand: each feature's `weight_field` counts when its position (a
/// point, or the centroid of a line or polygon cell) is covered by the exact definition,
/// as in siting. Features with no numeric weight count as 0 and are returned as warnings
/// (feature indexes).
pub fn demand_share(
    graph: &RoadGraph,
    covered: &CoveredArea,
    layer: &Layer,
    weight_field: &str,
) -> (Share, Vec<String>) {
    let (points, warnings) = demand_points(layer, weight_field);
    let positions: Vec<Coord<f64>> = points.iter().map(|p| p.position).collect();
    let inside: f64 = covered
        .covered_places(graph, &positions)
        .iter()
        .map(|&p| points[p as usize].weight)
        .sum();
    let total: f64 = points.iter().map(|p| p.weight).sum();
    (Share::new(inside, total), warnings)
}

/// The road stretches within `access_m` of each of a set of places, filed by edge, so
/// that the places one reach covers are found from the reached edges alone: the exact
/// definition of covered (within `access_m` of a road position reached within the
/// budget) that the band polygons approximate to one cell.
#[derive(Debug, Clone)]
pub struct AccessIndex {
    places: usize,
    /// Stretches on edge `e` are entries `edge_start[e]..edge_start[e + 1]`.
    edge_start: Vec<u32>,
    place: Vec<u32>,
    /// Metres along the edge, `from_m <= to_m`.
    from_m: Vec<f64>,
    to_m: Vec<f64>,
}

/// The parameter range `[t0, t1]` within `[0, 1]` of segment `a`-`b` lying within `r` of
/// `q`, if any.
fn segment_within(a: [f64; 2], b: [f64; 2], q: [f64; 2], r: f64) -> Option<(f64, f64)> {
    let d = [b[0] - a[0], b[1] - a[1]];
    let f = [a[0] - q[0], a[1] - q[1]];
    let dd = d[0] * d[0] + d[1] * d[1];
    let ff = f[0] * f[0] + f[1] * f[1] - r * r;
    if dd <= 0.0 {
        return (ff <= 0.0).then_some((0.0, 1.0));
    }
    let fd = f[0] * d[0] + f[1] * d[1];
    let disc = fd * fd - dd * ff;
    if disc < 0.0 {
        return None;
    }
    let root = disc.sqrt();
    let (t0, t1) = (((-fd - root) / dd).max(0.0), ((-fd + root) / dd).min(1.0));
    (t0 <= t1).then_some((t0, t1))
}

impl AccessIndex {
    /// Files, for every place (lon/lat), each stretch of road within `access_m` of it
    /// (measured in the graph's projection, like the band grid). Closed roads are filed
    /// too: reaches never time them, so they cover nothing.
    pub fn new(graph: &RoadGraph, places: &[Coord<f64>], access_m: f64) -> AccessIndex {
        let mut segments = Vec::new();
        for e in 0..graph.edges.len() {
            for (i, w) in graph.edge_xy(e).windows(2).enumerate() {
                segments.push(GeomWithData::new(
                    Line::new(w[0], w[1]),
                    (e as u32, i as u32),
                ));
            }
        }
        let tree = RTree::bulk_load(segments);
        let r = access_m.max(0.0);
        // (edge, place, from, to), sorted by edge below.
        let mut found: Vec<(u32, u32, f64, f64)> = Vec::new();
        for (p, c) in places.iter().enumerate() {
            if !(c.x.is_finite() && c.y.is_finite()) {
                continue;
            }
            let q = graph.projection.forward(*c);
            for seg in tree.locate_within_distance(q, r * r) {
                let (e, i) = seg.data;
                let line = seg.geom();
                let Some((t0, t1)) = segment_within(line.from, line.to, q, r) else {
                    continue;
                };
                let along = graph.edge_along_m(e as usize);
                let (a0, a1) = (along[i as usize], along[i as usize + 1]);
                found.push((e, p as u32, a0 + t0 * (a1 - a0), a0 + t1 * (a1 - a0)));
            }
        }
        found.sort_unstable_by_key(|f| (f.0, f.1));
        let mut edge_start = vec![0u32; graph.edges.len() + 1];
        for f in &found {
            edge_start[f.0 as usize + 1] += 1;
        }
        for e in 0..graph.edges.len() {
            edge_start[e + 1] += edge_start[e];
        }
        AccessIndex {
            places: places.len(),
            edge_start,
            place: found.iter().map(|f| f.1).collect(),
            from_m: found.iter().map(|f| f.2).collect(),
            to_m: found.iter().map(|f| f.3).collect(),
        }
    }

    /// How many places were indexed.
    pub fn len(&self) -> usize {
        self.places
    }

    /// Whether no place was indexed.
    pub fn is_empty(&self) -> bool {
        self.places == 0
    }

    fn stretches(&self, e: u32) -> std::ops::Range<usize> {
        self.edge_start[e as usize] as usize..self.edge_start[e as usize + 1] as usize
    }

    /// The places (indexes, sorted, each once) within `access_m` of a road position that
    /// `reached` gets to within `limit_s` total time (at most its own budget).
    pub fn covered_places(&self, graph: &RoadGraph, reached: &Reach, limit_s: f64) -> Vec<u32> {
        let limit = limit_s.min(reached.budget_s);
        let mut out = Vec::new();
        // Along each open arc out of a reached node, time grows from that node; the
        // earliest moment on a stretch is at its near end.
        for &u in &reached.reached_nodes {
            let t0 = reached.node_time_s[u as usize];
            let (first, last) = (
                graph.arc_start[u as usize] as usize,
                graph.arc_start[u as usize + 1] as usize,
            );
            for arc in first..last {
                if !graph.arc_time_s[arc].is_finite() {
                    continue;
                }
                let e = graph.arc_edge[arc];
                let edge = &graph.edges[e as usize];
                let forward = graph.arc_forward[arc];
                let per_m = if edge.length_m > 0.0 {
                    edge.time_s / edge.length_m
                } else {
                    0.0
                };
                for i in self.stretches(e) {
                    let near_m = if forward {
                        self.from_m[i]
                    } else {
                        edge.length_m - self.to_m[i]
                    };
                    if t0 + near_m.max(0.0) * per_m <= limit {
                        out.push(self.place[i]);
                    }
                }
            }
        }
        // Each station's own edge, both ways from the snap point as allowed.
        for snap in reached.snaps.iter().flatten() {
            let e = snap.edge;
            if graph.is_closed(e as usize) {
                continue;
            }
            let edge = &graph.edges[e as usize];
            let per_m = if edge.length_m > 0.0 {
                edge.time_s / edge.length_m
            } else {
                0.0
            };
            let s = snap.along_m;
            for i in self.stretches(e) {
                let (a, b) = (self.from_m[i], self.to_m[i]);
                let mut best = f64::INFINITY;
                if edge.direction.forward() && b >= s {
                    best = best.min((a.max(s) - s) * per_m);
                }
                if edge.direction.backward() && a <= s {
                    best = best.min((s - b.min(s)) * per_m);
                }
                if reached.turnout_s + best <= limit {
                    out.push(self.place[i]);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Which features of `layer` the covered area reaches: a point when it lies in the area,
/// a line or polygon when any part of it does.
pub fn layer_coverage(graph: &RoadGraph, covered: &CoveredArea, layer: &Layer) -> LayerCoverage {
    let mut result = LayerCoverage {
        name: layer.name.clone(),
        covered: 0,
        total: layer.len(),
        uncovered: Vec::new(),
        uncovered_rows: Vec::new(),
    };
    // Points are tested exactly, like demand; (row, place) for each point of each feature.
    let mut point_rows: Vec<(usize, Coord<f64>)> = Vec::new();
    for (row, g) in layer.geometries.iter().enumerate() {
        match g {
            Geometry::Point(p) => point_rows.push((row, p.0)),
            Geometry::MultiPoint(mp) => point_rows.extend(mp.iter().map(|p| (row, p.0))),
            _ => {}
        }
    }
    let places: Vec<Coord<f64>> = point_rows.iter().map(|(_, c)| *c).collect();
    let mut point_covered = vec![false; layer.geometries.len()];
    for p in covered.covered_places(graph, &places) {
        point_covered[point_rows[p as usize].0] = true;
    }
    for (row, g) in layer.geometries.iter().enumerate() {
        let is_covered = match g {
            Geometry::Point(_) | Geometry::MultiPoint(_) => point_covered[row],
            other => project(graph, other).intersects(&covered.projected),
        };
        if is_covered {
            result.covered += 1;
        } else {
            result.uncovered.push(station_id(layer, row));
            result.uncovered_rows.push(row);
        }
    }
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::isochrone::{AreaMode, AreaOptions, response_areas};
    use crate::analysis::reach::{SnapIndex, Station};
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::{deg, layer};
    use crate::model::{AttributeTable, Value};
    use geo::{LineString, Point, Rect};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const LON0: f64 = 117.9;
    const LAT0: f64 = 36.8;

    /// Lon/lat of a place `east` and `north` metres from the road's south end.
    fn at(east: f64, north: f64) -> Coord<f64> {
        Coord {
            x: LON0 + deg(east) / LAT0.to_radians().cos(),
            y: LAT0 + deg(north),
        }
    }

    /// A 3 km road running north at 36 km/h (10 m/s) with stations at the given metres
    /// north of its south end.
    fn road_with_stations(norths: &[f64]) -> (RoadGraph, Vec<Option<Snap>>) {
        let roads = layer(&[(
            "residential",
            "",
            vec![
                (at(0.0, 0.0).x, at(0.0, 0.0).y),
                (at(0.0, 3000.0).x, at(0.0, 3000.0).y),
            ],
        )]);
        let speeds = SpeedTable::from_json(r#"{"default": 36}"#).unwrap();
        let (graph, _) = RoadGraph::build(&[&roads], &speeds).unwrap();
        let stations: Vec<Station> = norths
            .iter()
            .enumerate()
            .map(|(i, &n)| Station {
                id: format!("S{i}"),
                position: at(0.0, n),
            })
            .collect();
        let (snaps, _) = SnapIndex::new(&graph).snap_stations(&graph, &stations, 500.0);
        (graph, snaps)
    }

    /// Two minutes with 60 s turnout: 600 m of road from a station, plus 100 m access.
    fn two_minutes() -> CoverageOptions {
        CoverageOptions {
            minutes: 2.0,
            ..CoverageOptions::default()
        }
    }

    fn feature_layer(geometries: Vec<Geometry<f64>>, weights: &[f64]) -> Layer {
        let mut attributes = AttributeTable::new();
        for (i, w) in weights.iter().enumerate() {
            let id = Value::Text(format!("F{i}"));
            let w = Value::Number(*w);
            attributes.push_row([("id", id.as_ref()), ("population", w.as_ref())]);
        }
        Layer {
            name: "features".into(),
            source_index: (0..geometries.len() as u32).collect(),
            geometries,
            attributes,
            ..Layer::default()
        }
    }

    fn point(east: f64, north: f64) -> Geometry<f64> {
        Geometry::Point(Point(at(east, north)))
    }

    #[test]
    fn points_just_inside_and_outside_the_band() {
        let (graph, snaps) = road_with_stations(&[0.0]);
        let covered = covered_area(&graph, &snaps, &two_minutes());
        let features = feature_layer(
            vec![
                point(0.0, 650.0),  // along the road, 50 m inside the end of the band
                point(0.0, 760.0),  // 60 m beyond it
                point(60.0, 300.0), // beside a reached road, within access
                point(150.0, 300.0),
                point(0.0, -60.0), // behind the station, within access
                point(0.0, -150.0),
            ],
            &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
        );
        let result = layer_coverage(&graph, &covered, &features);
        assert_eq!(result.covered, 3);
        assert_eq!(result.total, 6);
        assert_eq!(result.uncovered, vec!["F1", "F3", "F5"]);
        let (share, warnings) = demand_share(&graph, &covered, &features, "population");
        assert!(warnings.is_empty());
        assert_eq!(share.covered, 1.0 + 4.0 + 16.0);
        assert_eq!(share.total, 63.0);
        assert_eq!(share.share, Some(21.0 / 63.0));
    }

    #[test]
    fn a_line_or_polygon_counts_when_any_part_is_covered() {
        let (graph, snaps) = road_with_stations(&[0.0]);
        let covered = covered_area(&graph, &snaps, &two_minutes());
        let line =
            |a: Coord<f64>, b: Coord<f64>| Geometry::LineString(LineString::from(vec![a, b]));
        let square = |e: f64, n: f64, side: f64| {
            Geometry::Polygon(Rect::new(at(e, n), at(e + side, n + side)).to_polygon())
        };
        let features = feature_layer(
            vec![
                line(at(30.0, 300.0), at(2000.0, 2500.0)), // starts inside, runs far out
                line(at(0.0, 1500.0), at(0.0, 2000.0)),    // on the road, beyond the band
                square(-20.0, 500.0, 1000.0),              // overlaps the band's end
                square(300.0, 300.0, 200.0),               // off to the side
            ],
            &[0.0; 4],
        );
        let result = layer_coverage(&graph, &covered, &features);
        assert_eq!(result.uncovered, vec!["F1", "F3"]);
        assert_eq!(result.covered, 2);
    }

    #[test]
    fn built_up_share_matches_the_covered_strip() {
        let (graph, snaps) = road_with_stations(&[0.0]);
        let covered = covered_area(&graph, &snaps, &two_minutes());
        // A 100 m × 1000 m strip along the road from the station: covered up to 600 m plus
        // the rounded end of the 100 m access disc.
        let strip = feature_layer(
            vec![Geometry::Polygon(
                Rect::new(at(-50.0, 0.0), at(50.0, 1000.0)).to_polygon(),
            )],
            &[0.0],
        );
        let share = area_share(&graph, &covered, &strip);
        let cap: f64 = 2.0 * (25.0 * 7500f64.sqrt() + 5000.0 * 0.5f64.asin());
        let expected_km2 = (100.0 * 600.0 + cap) / 1e6;
        assert!((share.total - 0.1).abs() < 1e-4, "{share:?}");
        // One 25 m cell of error along the 100 m strip width at the band's end.
        assert!(
            (share.covered - expected_km2).abs() < 0.003,
            "{share:?} {expected_km2}"
        );
        assert!((share.share.unwrap() - expected_km2 / 0.1).abs() < 0.03);
        // Overlapping copies count once.
        let twice = feature_layer(vec![strip.geometries[0].clone(); 2], &[0.0, 0.0]);
        let again = area_share(&graph, &covered, &twice);
        assert!((again.total - share.total).abs() < 1e-9);
        assert!((again.covered - share.covered).abs() < 1e-9);
        let empty = area_share(&graph, &covered, &feature_layer(Vec::new(), &[]));
        assert_eq!(empty.share, None);
    }

    #[test]
    fn demand_is_conserved_and_matches_the_definition_on_random_points() {
        let (graph, snaps) = road_with_stations(&[0.0, 2000.0]);
        let covered = covered_area(&graph, &snaps, &two_minutes());
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut places = Vec::new();
        let mut weights = Vec::new();
        let mut expected = 0.0;
        while places.len() < 400 {
            let (e, n): (f64, f64) = (
                rng.random_range(-300.0..300.0),
                rng.random_range(-400.0..3400.0),
            );
            // Exact definition: within 100 m of road reached within 60 s of driving, i.e.
            // of the road from 0 to 600 m, or from 1400 to 2600 m, north.
            let dist = |lo: f64, hi: f64| f64::hypot(e, (n - n.clamp(lo, hi)).abs());
            let d = dist(0.0, 600.0).min(dist(1400.0, 2600.0));
            // Exact test: only places too close to the boundary for floating point (and the
            // local projection's scale) to decide are skipped.
            if (d - 100.0).abs() < 0.01 {
                continue;
            }
            let w = f64::from(rng.random_range(1u32..100));
            if d < 100.0 {
                expected += w;
            }
            places.push(point(e, n));
            weights.push(w);
        }
        let demand = feature_layer(places, &weights);
        let (share, _) = demand_share(&graph, &covered, &demand, "population");
        assert_eq!(share.covered, expected);
        let uncovered = layer_coverage(&graph, &covered, &demand).uncovered;
        let uncovered_weight: f64 = uncovered
            .iter()
            .map(|id| weights[id[1..].parse::<usize>().unwrap()])
            .sum();
        assert_eq!(share.covered + uncovered_weight, share.total);
        assert_eq!(share.total, weights.iter().sum::<f64>());
    }

    /// Distance (metres) from `q` to a polyline.
    fn polyline_distance(q: [f64; 2], line: &[[f64; 2]]) -> f64 {
        line.windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let d = [b[0] - a[0], b[1] - a[1]];
                let dd = d[0] * d[0] + d[1] * d[1];
                let t = if dd > 0.0 {
                    (((q[0] - a[0]) * d[0] + (q[1] - a[1]) * d[1]) / dd).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                (a[0] + t * d[0] - q[0]).hypot(a[1] + t * d[1] - q[1])
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn access_index_matches_the_reached_pieces_on_random_networks() {
        use crate::analysis::reach::tests::{random_network, stations};
        let (mut covered_total, mut checked) = (0, 0);
        for seed in 0..8u64 {
            let roads = random_network(seed, 8);
            let (graph, _) = RoadGraph::build(&[&roads], &SpeedTable::default()).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 40);
            let step = deg(200.0);
            let around = |rng: &mut ChaCha8Rng| {
                (
                    117.9 + rng.random_range(-1.0..8.0) * step,
                    36.8 + rng.random_range(-1.0..8.0) * step,
                )
            };
            let pts: Vec<(f64, f64)> = (0..rng.random_range(1..3))
                .map(|_| around(&mut rng))
                .collect();
            let (snaps, _) = SnapIndex::new(&graph).snap_stations(&graph, &stations(&pts), 500.0);
            let places: Vec<Coord<f64>> = (0..300)
                .map(|_| {
                    let (x, y) = around(&mut rng);
                    Coord { x, y }
                })
                .collect();
            let access_m = rng.random_range(20.0..150.0);
            let index = AccessIndex::new(&graph, &places, access_m);
            let budget = rng.random_range(70.0..200.0);
            let reached = reach(&graph, &snaps, 60.0, budget);
            let got = index.covered_places(&graph, &reached, budget);
            let pieces: Vec<Vec<[f64; 2]>> = reached
                .pieces(&graph)
                .iter()
                .map(|p| graph.sub_polyline(p.edge as usize, p.from_m, p.to_m))
                .collect();
            for (i, c) in places.iter().enumerate() {
                let q = graph.projection.forward(*c);
                let d = pieces
                    .iter()
                    .map(|line| polyline_distance(q, line))
                    .fold(f64::INFINITY, f64::min);
                if (d - access_m).abs() < 0.01 {
                    continue;
                }
                checked += 1;
                let is_covered = got.binary_search(&(i as u32)).is_ok();
                assert_eq!(is_covered, d <= access_m, "seed {seed} place {i}: {d} m");
                covered_total += usize::from(is_covered);
            }
            // A shorter limit than the reach's budget covers a subset.
            let fewer = index.covered_places(&graph, &reached, budget - 30.0);
            assert!(fewer.iter().all(|p| got.binary_search(p).is_ok()));
        }
        assert!(
            covered_total > 100 && covered_total + 100 < checked,
            "{covered_total}/{checked}"
        );
    }

    #[test]
    fn districts_sum_to_the_band_and_match_split_areas() {
        let (graph, snaps) = road_with_stations(&[0.0, 900.0, 2000.0]);
        let options = two_minutes();
        let covered = covered_area(&graph, &snaps, &options);
        assert_eq!(covered.districts.len(), 3);
        let sum: f64 = covered.districts.iter().map(|d| d.area_km2).sum();
        assert!((sum - covered.area_km2).abs() < 1e-9);
        let area_options = AreaOptions {
            bands_min: vec![2.0],
            mode: AreaMode::Split,
            ..AreaOptions::default()
        };
        let (split, _) = response_areas(&graph, &snaps, &area_options);
        for (district, band) in covered.districts.iter().zip(&split) {
            assert_eq!(Some(district.station), band.station);
            assert!((district.area_km2 - band.area_km2).abs() < 1e-9);
        }
        let dissolve = AreaOptions {
            mode: AreaMode::Dissolve,
            ..area_options
        };
        let (band, _) = response_areas(&graph, &snaps, &dissolve);
        assert!((band[0].area_km2 - covered.area_km2).abs() < 1e-9);
        // The polygons' own area agrees within the cell rounding.
        let polygon_km2 = covered.projected.unsigned_area() / 1e6;
        assert!(
            (polygon_km2 - covered.area_km2).abs() < 1e-6,
            "{polygon_km2}"
        );
        // Three stations, 100 m access: small districts, none over the guideline.
        assert!(
            covered
                .districts
                .iter()
                .all(|d| !d.over_standard && !d.over_limit)
        );
    }

    #[test]
    fn large_districts_are_flagged() {
        let (graph, snaps) = road_with_stations(&[0.0]);
        let options = CoverageOptions {
            access_m: 2500.0,
            cell_m: 100.0,
            ..two_minutes()
        };
        let covered = covered_area(&graph, &snaps, &options);
        let d = &covered.districts[0];
        // About π·2.5² + 5 × 0.6 km².
        assert!(d.area_km2 > 20.0 && d.area_km2 < 24.0, "{d:?}");
        assert!(d.over_standard && d.over_limit);
        let options = CoverageOptions {
            access_m: 1500.0,
            ..options
        };
        let d = covered_area(&graph, &snaps, &options).districts[0].clone();
        // About π·1.5² + 3 × 0.6 km²: over 7, under 15.
        assert!(d.over_standard && !d.over_limit, "{d:?}");
    }
}
