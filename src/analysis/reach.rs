//! Who gets where within a time budget: stations snapped onto the road graph, a
//! multi-source Dijkstra with a cutoff, and the reached road pieces, cut exactly where the
//! budget runs out.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use geo::{Centroid, Coord, Distance, Geometry, Haversine, Point};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

use super::road_graph::RoadGraph;
use crate::model::{Layer, ValueRef};

/// No station reaches this node.
pub const NO_STATION: u32 = u32::MAX;

/// A station to route from.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    /// The id shown in outputs (`id`, else `name`, else the feature index).
    pub id: String,
    /// Position, lon/lat.
    pub position: Coord<f64>,
}

/// Options for snapping and reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReachOptions {
    /// Time from the dispatch order to rolling out, seconds (default 60).
    pub turnout_s: f64,
    /// Stations farther than this from every open road are not used (default 500 m).
    pub max_snap_m: f64,
    /// Largest total time (turnout included) to explore, seconds (default 300).
    pub budget_s: f64,
}

impl Default for ReachOptions {
    fn default() -> Self {
        ReachOptions {
            turnout_s: 60.0,
            max_snap_m: 500.0,
            budget_s: 300.0,
        }
    }
}

/// Where a station joins the road graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    pub edge: u32,
    /// Metres from the edge's first node.
    pub along_m: f64,
    /// Straight-line distance from the station to the road, metres (not timed: turnout
    /// covers it).
    pub distance_m: f64,
    /// The snap point, lon/lat.
    pub point: Coord<f64>,
}

/// An R-tree over the graph's edge segments (projected metres), for snapping.
pub struct SnapIndex {
    tree: RTree<GeomWithData<Line<[f64; 2]>, u32>>,
}

impl SnapIndex {
    /// Indexes every segment of every edge (closed ones too; snapping skips them).
    pub fn new(graph: &RoadGraph) -> Self {
        let mut segments = Vec::new();
        for e in 0..graph.edges.len() {
            for w in graph.edge_xy(e).windows(2) {
                segments.push(GeomWithData::new(Line::new(w[0], w[1]), e as u32));
            }
        }
        SnapIndex {
            tree: RTree::bulk_load(segments),
        }
    }

    /// Snaps each station to the nearest point of the nearest open edge. Stations with no
    /// open edge within `max_snap_m` get `None` and a warning.
    pub fn snap_stations(
        &self,
        graph: &RoadGraph,
        stations: &[Station],
        max_snap_m: f64,
    ) -> (Vec<Option<Snap>>, Vec<String>) {
        let mut warnings = Vec::new();
        let snaps = stations
            .iter()
            .map(|s| {
                let snap = self.snap(graph, s.position, max_snap_m);
                if snap.is_none() {
                    warnings.push(format!(
                        "station {}: no open road within {max_snap_m} m; not used",
                        s.id
                    ));
                }
                snap
            })
            .collect();
        (snaps, warnings)
    }

    /// The nearest open road position to `position` (lon/lat) within `max_m`.
    pub fn snap(&self, graph: &RoadGraph, position: Coord<f64>, max_m: f64) -> Option<Snap> {
        if !(position.x.is_finite() && position.y.is_finite()) {
            return None;
        }
        let q = graph.projection.forward(position);
        // The projection is accurate to well under 1 %; the margin keeps borderline roads.
        let max_d2 = (max_m * 1.01).powi(2);
        for (seg, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&q) {
            if d2 > max_d2 {
                return None;
            }
            let e = seg.data as usize;
            if graph.is_closed(e) {
                continue;
            }
            let line = seg.geom();
            let p = line.nearest_point(&q);
            let xy = graph.edge_xy(e);
            let along = graph.edge_along_m(e);
            let i = xy
                .windows(2)
                .position(|w| w[0] == line.from && w[1] == line.to)
                .unwrap_or(0);
            let seg_len =
                ((line.to[0] - line.from[0]).powi(2) + (line.to[1] - line.from[1]).powi(2)).sqrt();
            let f = if seg_len > 0.0 {
                (((p[0] - line.from[0]).powi(2) + (p[1] - line.from[1]).powi(2)).sqrt() / seg_len)
                    .clamp(0.0, 1.0)
            } else {
                0.0
            };
            let along_m = along[i] + f * (along[i + 1] - along[i]);
            let point = graph.projection.inverse(p);
            let distance_m = Haversine.distance(Point(position), Point(point));
            if distance_m > max_m {
                return None;
            }
            return Some(Snap {
                edge: e as u32,
                along_m,
                distance_m,
                point,
            });
        }
        None
    }
}

/// Best times from a set of snapped stations.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Total time (turnout included) explored.
    pub budget_s: f64,
    pub turnout_s: f64,
    /// The snap of each station, in station order (`None`: not used).
    pub snaps: Vec<Option<Snap>>,
    /// Best total time at each node, seconds; infinite when not reached within the budget.
    pub node_time_s: Vec<f64>,
    /// Index of the fastest station at each node, or [`NO_STATION`].
    pub node_station: Vec<u32>,
    /// Nodes reached within the budget, in order of time.
    pub reached_nodes: Vec<u32>,
}

/// A stretch of one edge reached within the budget, with time varying linearly along it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReachedPiece {
    pub edge: u32,
    /// Metres from the edge's first node, `from_m <= to_m`.
    pub from_m: f64,
    pub to_m: f64,
    /// Total time at `from_m` and at `to_m`.
    pub time_from_s: f64,
    pub time_to_s: f64,
    /// The station whose route this is.
    pub station: u32,
}

fn fraction(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// Multi-source Dijkstra from the snapped stations (station `i` is `snaps[i]`), stopping at
/// `budget_s` total time; every station starts at `turnout_s`.
pub fn reach(graph: &RoadGraph, snaps: &[Option<Snap>], turnout_s: f64, budget_s: f64) -> Reach {
    let n = graph.node_count();
    let mut time = vec![f64::INFINITY; n];
    let mut station = vec![NO_STATION; n];
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let push = |node: u32,
                t: f64,
                s: u32,
                time: &mut [f64],
                station: &mut [u32],
                heap: &mut BinaryHeap<Reverse<(u64, u32)>>| {
        if t <= budget_s && t < time[node as usize] {
            time[node as usize] = t;
            station[node as usize] = s;
            // Non-negative floats order like their bit patterns.
            heap.push(Reverse((t.to_bits(), node)));
        }
    };
    for (s, snap) in snaps.iter().enumerate() {
        let Some(snap) = snap else { continue };
        let e = &graph.edges[snap.edge as usize];
        if graph.is_closed(snap.edge as usize) {
            continue;
        }
        if e.direction.forward() {
            let t = turnout_s + fraction(e.length_m - snap.along_m, e.length_m) * e.time_s;
            push(e.to, t, s as u32, &mut time, &mut station, &mut heap);
        }
        if e.direction.backward() {
            let t = turnout_s + fraction(snap.along_m, e.length_m) * e.time_s;
            push(e.from, t, s as u32, &mut time, &mut station, &mut heap);
        }
    }
    let mut reached_nodes = Vec::new();
    while let Some(Reverse((bits, u))) = heap.pop() {
        let t = f64::from_bits(bits);
        if t > time[u as usize] {
            continue;
        }
        reached_nodes.push(u);
        let s = station[u as usize];
        let (a, b) = (
            graph.arc_start[u as usize] as usize,
            graph.arc_start[u as usize + 1] as usize,
        );
        for i in a..b {
            let v = graph.arc_head[i];
            let tv = t + graph.arc_time_s[i];
            push(v, tv, s, &mut time, &mut station, &mut heap);
        }
    }
    Reach {
        budget_s,
        turnout_s,
        snaps: snaps.to_vec(),
        node_time_s: time,
        node_station: station,
        reached_nodes,
    }
}

impl Reach {
    /// Every reached stretch of road: from each reached node along each open arc, and from
    /// each station's snap point both ways (as allowed), each cut where the budget runs
    /// out, or where a faster stretch from the edge's other end takes over. Stretches may
    /// overlap; the time at a road position is the least over them.
    pub fn pieces(&self, graph: &RoadGraph) -> Vec<ReachedPiece> {
        let mut out = Vec::new();
        let budget = self.budget_s;
        // Stations' own stretches first, then in order of time: the area grid skips most
        // work for stretches that come after faster ones.
        for (s, snap) in self.snaps.iter().enumerate() {
            let Some(snap) = snap else { continue };
            let e = snap.edge as usize;
            if graph.is_closed(e) || self.turnout_s > budget {
                continue;
            }
            let edge = &graph.edges[e];
            let (len, tt) = (edge.length_m, edge.time_s);
            let go = if tt > 0.0 {
                len * (budget - self.turnout_s) / tt
            } else {
                len
            };
            if edge.direction.forward() {
                let to = (snap.along_m + go).min(len);
                out.push(ReachedPiece {
                    edge: snap.edge,
                    from_m: snap.along_m,
                    to_m: to,
                    time_from_s: self.turnout_s,
                    time_to_s: self.turnout_s + fraction(to - snap.along_m, len) * tt,
                    station: s as u32,
                });
            }
            if edge.direction.backward() {
                let from = (snap.along_m - go).max(0.0);
                out.push(ReachedPiece {
                    edge: snap.edge,
                    from_m: from,
                    to_m: snap.along_m,
                    time_from_s: self.turnout_s + fraction(snap.along_m - from, len) * tt,
                    time_to_s: self.turnout_s,
                    station: s as u32,
                });
            }
        }
        for &u in &self.reached_nodes {
            let t0 = self.node_time_s[u as usize];
            let s = self.node_station[u as usize];
            let (a, b) = (
                graph.arc_start[u as usize] as usize,
                graph.arc_start[u as usize + 1] as usize,
            );
            for i in a..b {
                if !graph.arc_time_s[i].is_finite() {
                    continue;
                }
                let e = graph.arc_edge[i];
                let edge = &graph.edges[e as usize];
                let (len, tt) = (edge.length_m, edge.time_s);
                let mut go = if tt > 0.0 {
                    (len * (budget - t0) / tt).min(len)
                } else {
                    len
                };
                // When the far node is reached and may drive back along this edge, the two
                // stretches meet where their times are equal; past that point this one is
                // slower everywhere, so it stops there (halves the area stamping).
                let (near, far) = if graph.arc_forward[i] {
                    (edge.from, edge.to)
                } else {
                    (edge.to, edge.from)
                };
                debug_assert_eq!(near, u);
                let t_far = self.node_time_s[far as usize];
                let far_drives_back = if graph.arc_forward[i] {
                    edge.direction.backward()
                } else {
                    edge.direction.forward()
                };
                if far_drives_back && t_far.is_finite() && tt > 0.0 && near != far {
                    let meet = ((t_far - t0 + tt) / (2.0 * tt)).clamp(0.0, 1.0) * len;
                    go = go.min(meet);
                }
                let t_end = t0 + fraction(go, len) * tt;
                out.push(if graph.arc_forward[i] {
                    ReachedPiece {
                        edge: e,
                        from_m: 0.0,
                        to_m: go,
                        time_from_s: t0,
                        time_to_s: t_end,
                        station: s,
                    }
                } else {
                    ReachedPiece {
                        edge: e,
                        from_m: len - go,
                        to_m: len,
                        time_from_s: t_end,
                        time_to_s: t0,
                        station: s,
                    }
                });
            }
        }
        out
    }
}

/// A value as an identifier: null and blank text give None.
pub fn label(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Text(s) if s.trim().is_empty() => None,
        ValueRef::Text(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

/// Every station of a layer with the row it came from; features with no position are
/// left out.
pub fn stations_from_layer(layer: &Layer) -> Vec<(usize, Station)> {
    layer
        .geometries
        .iter()
        .enumerate()
        .filter_map(|(row, g)| {
            let position = station_position(g)?;
            Some((
                row,
                Station {
                    id: station_id(layer, row),
                    position,
                },
            ))
        })
        .collect()
}

/// Station id: `id`, else `name`, else the feature index in the file.
pub fn station_id(layer: &Layer, row: usize) -> String {
    label(layer.attributes.get(row, "id"))
        .or_else(|| label(layer.attributes.get(row, "name")))
        .unwrap_or_else(|| {
            layer
                .source_index
                .get(row)
                .copied()
                .unwrap_or(row as u32)
                .to_string()
        })
}

/// Where a station feature stands: the point, the first of a multipoint, else the centroid.
pub fn station_position(g: &Geometry<f64>) -> Option<Coord<f64>> {
    match g {
        Geometry::Point(p) => Some(p.0),
        Geometry::MultiPoint(mp) => mp.0.first().map(|p| p.0),
        other => other.centroid().map(|p| p.0),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::road_graph::tests::{TestLine, deg, layer};
    use crate::analysis::road_graph::{Closures, SpeedTable};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Plain Dijkstra without a heap (scan for the nearest unsettled node) over the edge
    /// list, with the sources computed independently of `reach`.
    fn oracle(graph: &RoadGraph, snaps: &[Option<Snap>], turnout: f64, budget: f64) -> Vec<f64> {
        let n = graph.node_count();
        let mut time = vec![f64::INFINITY; n];
        for snap in snaps.iter().flatten() {
            let e = &graph.edges[snap.edge as usize];
            if graph.is_closed(snap.edge as usize) {
                continue;
            }
            let speed = e.speed_kmh / 3.6;
            if e.direction.forward() {
                let t = turnout + (e.length_m - snap.along_m) / speed;
                time[e.to as usize] = time[e.to as usize].min(t);
            }
            if e.direction.backward() {
                let t = turnout + snap.along_m / speed;
                time[e.from as usize] = time[e.from as usize].min(t);
            }
        }
        let mut done = vec![false; n];
        loop {
            let mut best = None;
            for v in 0..n {
                if !done[v] && time[v].is_finite() && best.is_none_or(|b: usize| time[v] < time[b])
                {
                    best = Some(v);
                }
            }
            let Some(u) = best else { break };
            done[u] = true;
            for (id, e) in graph.edges.iter().enumerate() {
                if graph.is_closed(id) {
                    continue;
                }
                let t = time[u] + e.length_m / (e.speed_kmh / 3.6);
                if e.from as usize == u && e.direction.forward() {
                    time[e.to as usize] = time[e.to as usize].min(t);
                }
                if e.to as usize == u && e.direction.backward() {
                    time[e.from as usize] = time[e.from as usize].min(t);
                }
            }
        }
        time.into_iter()
            .map(|t| if t <= budget { t } else { f64::INFINITY })
            .collect()
    }

    pub(crate) fn stations(points: &[(f64, f64)]) -> Vec<Station> {
        points
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| Station {
                id: format!("S{i}"),
                position: Coord { x, y },
            })
            .collect()
    }

    /// A jittered grid of random roads (some missing, some one-way, mixed classes).
    pub(crate) fn random_network(seed: u64, size: usize) -> crate::model::Layer {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let step = deg(200.0);
        let classes = ["primary", "secondary", "residential", "service"];
        let onew = ["", "", "", "yes", "-1"];
        let mut pts = vec![vec![(0.0, 0.0); size]; size];
        for (i, row) in pts.iter_mut().enumerate() {
            for (j, p) in row.iter_mut().enumerate() {
                *p = (
                    117.9 + i as f64 * step + rng.random_range(-0.2..0.2) * step,
                    36.8 + j as f64 * step + rng.random_range(-0.2..0.2) * step,
                );
            }
        }
        let mut lines: Vec<TestLine<'static>> = Vec::new();
        for i in 0..size {
            for j in 0..size {
                for (di, dj) in [(1, 0), (0, 1)] {
                    if i + di < size && j + dj < size && rng.random_bool(0.8) {
                        let a = pts[i][j];
                        let b = pts[i + di][j + dj];
                        let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0 + 0.1 * step);
                        lines.push((
                            classes[rng.random_range(0..classes.len())],
                            onew[rng.random_range(0..onew.len())],
                            vec![a, mid, b],
                        ));
                    }
                }
            }
        }
        layer(&lines)
    }

    #[test]
    fn dijkstra_matches_oracle_on_random_graphs() {
        let mut total_reached = 0;
        for seed in 0..12u64 {
            let l = random_network(seed, 9);
            let (mut g, _) = RoadGraph::build(&[&l], &SpeedTable::default()).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
            if seed % 3 == 0 {
                let mut c = Closures::default();
                for _ in 0..10 {
                    c.features.insert(rng.random_range(0..l.len()));
                }
                g.set_closures(&c);
            }
            let step = deg(200.0);
            let pts: Vec<(f64, f64)> = (0..rng.random_range(1..4))
                .map(|_| {
                    (
                        117.9 + rng.random_range(0.0..8.0) * step,
                        36.8 + rng.random_range(0.0..8.0) * step,
                    )
                })
                .collect();
            let index = SnapIndex::new(&g);
            let (snaps, _) = index.snap_stations(&g, &stations(&pts), 500.0);
            let budget = rng.random_range(100.0..400.0);
            let r = reach(&g, &snaps, 60.0, budget);
            let want = oracle(&g, &snaps, 60.0, budget);
            // Each station alone, to check the station credited with each node.
            let alone: Vec<Vec<f64>> = (0..snaps.len())
                .map(|i| {
                    let only: Vec<Option<Snap>> = (0..snaps.len())
                        .map(|j| if i == j { snaps[j] } else { None })
                        .collect();
                    oracle(&g, &only, 60.0, budget)
                })
                .collect();
            let mut reached = 0;
            for (v, (&a, &b)) in r.node_time_s.iter().zip(&want).enumerate() {
                assert!(
                    (a.is_infinite() && b.is_infinite()) || (a - b).abs() < 1e-6,
                    "seed {seed} node {v}: {a} vs {b}"
                );
                if a.is_finite() {
                    reached += 1;
                    let s = r.node_station[v] as usize;
                    assert!((alone[s][v] - a).abs() < 1e-6, "seed {seed} node {v}");
                }
            }
            assert_eq!(reached, r.reached_nodes.len());
            total_reached += reached;
        }
        assert!(total_reached > 100, "{total_reached}");
    }

    fn line_graph(speed_kmh: f64, oneway: &str) -> RoadGraph {
        let d = deg(1000.0);
        let l = layer(&[("x", oneway, vec![(117.0, 36.0), (117.0, 36.0 + d)])]);
        let speeds = SpeedTable::from_json(&format!(r#"{{"x": {speed_kmh}}}"#)).unwrap();
        RoadGraph::build(&[&l], &speeds).unwrap().0
    }

    #[test]
    fn partial_edge_is_cut_where_the_budget_runs_out() {
        // 1000 m at 36 km/h = 10 m/s; station in the middle; 30 s of driving = 300 m.
        let g = line_graph(36.0, "");
        let len = g.edges[0].length_m;
        assert!((len - 1000.0).abs() < 0.5);
        let index = SnapIndex::new(&g);
        let st = stations(&[(117.0 + deg(20.0), 36.0 + deg(500.0))]);
        let (snaps, w) = index.snap_stations(&g, &st, 500.0);
        assert!(w.is_empty());
        let snap = snaps[0].unwrap();
        assert!((snap.along_m - 500.0).abs() < 1.0, "{}", snap.along_m);
        assert!((snap.distance_m - 20.0 * (36f64).to_radians().cos()).abs() < 1.0);
        let r = reach(&g, &snaps, 60.0, 90.0);
        assert!(r.reached_nodes.is_empty());
        let mut pieces = r.pieces(&g);
        pieces.sort_by(|a, b| a.from_m.total_cmp(&b.from_m));
        assert_eq!(pieces.len(), 2);
        assert!((pieces[0].from_m - (snap.along_m - 300.0)).abs() < 1e-6);
        assert!((pieces[0].time_from_s - 90.0).abs() < 1e-6);
        assert!((pieces[1].to_m - (snap.along_m + 300.0)).abs() < 1e-6);
        assert!((pieces[1].time_to_s - 90.0).abs() < 1e-6);
        // Past the far node: 500 m to the node (50 s) leaves nothing beyond a 1000 m edge.
        let r = reach(&g, &snaps, 60.0, 200.0);
        assert_eq!(r.reached_nodes.len(), 2);
    }

    #[test]
    fn oneway_is_respected_from_the_snap_point() {
        let g = line_graph(36.0, "yes");
        let index = SnapIndex::new(&g);
        let (snaps, _) = index.snap_stations(&g, &stations(&[(117.0, 36.0 + deg(500.0))]), 500.0);
        let r = reach(&g, &snaps, 60.0, 1000.0);
        assert!(r.node_time_s[g.edges[0].from as usize].is_infinite());
        let t = r.node_time_s[g.edges[0].to as usize];
        assert!((t - 60.0 - 50.0).abs() < 0.2, "{t}");
        let pieces = r.pieces(&g);
        assert!(
            pieces
                .iter()
                .all(|p| p.from_m >= snaps[0].unwrap().along_m - 1e-9)
        );
    }

    #[test]
    fn far_and_closed_roads_are_not_snapped_to() {
        let mut g = line_graph(36.0, "");
        let index = SnapIndex::new(&g);
        let st = stations(&[(117.0 + deg(800.0), 36.0)]);
        let (snaps, w) = index.snap_stations(&g, &st, 500.0);
        assert!(snaps[0].is_none());
        assert!(w[0].contains("S0"));
        let mut c = Closures::default();
        c.features.insert(0);
        g.set_closures(&c);
        let st = stations(&[(117.0, 36.0)]);
        assert!(index.snap_stations(&g, &st, 500.0).0[0].is_none());
    }

    #[test]
    fn a_closed_road_forces_a_detour() {
        // Square A-B-C-D; station at A; closing A-B sends traffic round via D and C.
        let d = deg(500.0);
        let (a, b, c, dd) = ((0.0, 0.0), (d, 0.0), (d, d), (0.0, d));
        let l = layer(&[
            ("x", "", vec![a, b]),
            ("x", "", vec![b, c]),
            ("x", "", vec![c, dd]),
            ("x", "", vec![dd, a]),
        ]);
        let speeds = SpeedTable::from_json(r#"{"x": 36}"#).unwrap();
        let (mut g, _) = RoadGraph::build(&[&l], &speeds).unwrap();
        let index = SnapIndex::new(&g);
        let (snaps, _) = index.snap_stations(&g, &stations(&[(1e-7, 1e-7)]), 500.0);
        let node_b = g.edges[0].to as usize;
        let before = reach(&g, &snaps, 60.0, 1e4).node_time_s[node_b];
        let mut closures = Closures::default();
        closures.features.insert(0);
        g.set_closures(&closures);
        let (snaps, _) = index.snap_stations(&g, &stations(&[(1e-7, 1e-7)]), 500.0);
        let after = reach(&g, &snaps, 60.0, 1e4).node_time_s[node_b];
        assert!((before - 110.0).abs() < 0.5, "{before}");
        assert!((after - 210.0).abs() < 1.0, "{after}");
    }
}
