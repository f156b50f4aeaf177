//! Shelter allocation for an evacuation zone: evacuees (population features inside the
//! zone) go to open shelters outside it, each taking at most its capacity; as many people as
//! capacity allows are placed, and among such plans total person-km is least. Solved
//! exactly as a min-cost max-flow (successive shortest paths with potentials, integer
//! people, integer metre costs).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use geo::{BooleanOps, Centroid, Coord, Distance, Haversine, Intersects, MultiPolygon, Point};

use super::population::{PopulationInside, as_multipolygon, population_in_polygon};
use super::reach::{Snap, SnapIndex, station_id, station_position};
use super::road_graph::RoadGraph;
use super::shelters::{shelter_capacity, shelter_is_open};
use crate::model::Layer;

/// Where evacuees leave from: one population feature's people inside the zone.
#[derive(Debug, Clone, PartialEq)]
pub struct EvacueeOrigin {
    /// Row in the population layer.
    pub row: usize,
    /// Id as for stations (`id`, else `name`, else the feature index).
    pub id: String,
    /// The point people leave from: the feature's point, or the centre of its part inside.
    pub position: Coord<f64>,
    /// Whole people to move (the area-weighted share, rounded so the origins sum to the
    /// rounded total).
    pub people: u64,
}

/// A shelter that may take evacuees: open and outside the zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ShelterSite {
    /// Row in the shelter layer.
    pub row: usize,
    pub id: String,
    pub position: Coord<f64>,
    /// Whole people it takes (its capacity, rounded down).
    pub capacity: u64,
}

/// The shelters of a layer sorted for a zone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShelterSelection {
    /// Open shelters outside the zone with a known capacity.
    pub usable: Vec<ShelterSite>,
    /// Rows of shelters inside (or touching) the zone: they cannot be used.
    pub inside_zone: Vec<usize>,
    /// Rows of closed shelters outside the zone.
    pub closed: Vec<usize>,
    /// Shelters left out for want of a capacity or a position, and similar notes.
    pub warnings: Vec<String>,
}

/// People sent from one origin to one shelter.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Index into the origins given.
    pub origin: usize,
    /// Index into the shelters given.
    pub shelter: usize,
    pub people: u64,
    /// Distance per person, km.
    pub km: f64,
}

/// An optimal plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Allocation {
    /// Non-zero assignments, by origin then shelter.
    pub assignments: Vec<Assignment>,
    /// People placed from each origin, in origin order.
    pub origin_placed: Vec<u64>,
    /// People of each origin who cannot be placed.
    pub origin_unplaced: Vec<u64>,
    /// People each shelter takes, in shelter order (never above its capacity).
    pub shelter_used: Vec<u64>,
    pub placed: u64,
    pub unplaced: u64,
    /// Sum of people times km over the assignments.
    pub total_person_km: f64,
}

/// Options for road distances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoadDistanceOptions {
    /// Origins and shelters farther than this from every open road cannot be routed (default
    /// 3000 m: rural population cell centres may lie far off a sparse road net; the walk to
    /// the road counts in the distance).
    pub max_snap_m: f64,
}

impl Default for RoadDistanceOptions {
    fn default() -> Self {
        RoadDistanceOptions { max_snap_m: 3000.0 }
    }
}

/// At most this many unroutable origins are named in warnings; the rest are counted.
const MAX_NAMED_ORIGINS: usize = 20;

/// The evacuees of a zone: every population feature with people inside, with its share.
/// Also returns the area-weighted population inside (with its warnings).
pub fn evacuee_origins(
    population: &Layer,
    weight_field: &str,
    zone: &MultiPolygon<f64>,
) -> (Vec<EvacueeOrigin>, PopulationInside) {
    let inside = population_in_polygon(population, weight_field, zone);
    let whole = round_preserving_sum(&inside.features.iter().map(|f| f.people).collect::<Vec<_>>());
    let origins = inside
        .features
        .iter()
        .zip(whole)
        .filter(|(_, people)| *people > 0)
        .filter_map(|(share, people)| {
            let geometry = population.geometries.get(share.row)?;
            let polygons = as_multipolygon(geometry);
            let position = if share.fraction < 1.0 && !polygons.0.is_empty() {
                polygons
                    .intersection(zone)
                    .centroid()
                    .map(|p| p.0)
                    .or_else(|| station_position(geometry))
            } else {
                station_position(geometry)
            }?;
            Some(EvacueeOrigin {
                row: share.row,
                id: station_id(population, share.row),
                position,
                people,
            })
        })
        .collect();
    (origins, inside)
}

/// Rounds each value so the rounded values sum to the rounded sum (largest remainders win).
fn round_preserving_sum(values: &[f64]) -> Vec<u64> {
    let clean: Vec<f64> = values
        .iter()
        .map(|v| if v.is_finite() && *v > 0.0 { *v } else { 0.0 })
        .collect();
    let target = clean.iter().sum::<f64>().round() as u64;
    let mut out: Vec<u64> = clean.iter().map(|v| v.floor() as u64).collect();
    let mut short = target.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..clean.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (clean[a] - clean[a].floor(), clean[b] - clean[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for i in order {
        if short == 0 {
            break;
        }
        out[i] += 1;
        short -= 1;
    }
    out
}

/// Sorts the shelters of a layer for `zone`: usable (open, outside, with a capacity),
/// inside the zone, closed.
pub fn select_shelters(
    shelters: &Layer,
    zone: &MultiPolygon<f64>,
    m2_per_person: f64,
) -> ShelterSelection {
    let mut selection = ShelterSelection::default();
    for (row, geometry) in shelters.geometries.iter().enumerate() {
        let id = station_id(shelters, row);
        if geometry.intersects(zone) {
            selection.inside_zone.push(row);
            continue;
        }
        if !shelter_is_open(shelters, row) {
            selection.closed.push(row);
            continue;
        }
        let Some(position) =
            station_position(geometry).filter(|c| c.x.is_finite() && c.y.is_finite())
        else {
            selection.warnings.push(format!(
                "{}: shelter {id}: no position; not used",
                shelters.name
            ));
            continue;
        };
        let Some(capacity) = shelter_capacity(shelters, row, m2_per_person) else {
            selection.warnings.push(format!(
                "{}: shelter {id}: no capacity or area_m2; not used",
                shelters.name
            ));
            continue;
        };
        selection.usable.push(ShelterSite {
            row,
            id,
            position,
            capacity: capacity.floor() as u64,
        });
    }
    selection
}

/// Geodesic (Haversine) km between every origin and shelter.
pub fn geodesic_km(origins: &[EvacueeOrigin], shelters: &[ShelterSite]) -> Vec<Vec<Option<f64>>> {
    origins
        .iter()
        .map(|o| {
            shelters
                .iter()
                .map(|s| {
                    let m = Haversine.distance(Point(o.position), Point(s.position));
                    m.is_finite().then_some(m / 1000.0)
                })
                .collect()
        })
        .collect()
}

/// Road km from every origin to every shelter (driving direction origin -> shelter, oneway
/// roads and closures respected), including the straight legs from the origin to its road
/// and from the road to the shelter. None where no route exists or an end is too far from
/// every open road. One reverse Dijkstra per shelter. Also returns warnings.
pub fn road_km(
    graph: &RoadGraph,
    index: &SnapIndex,
    origins: &[EvacueeOrigin],
    shelters: &[ShelterSite],
    options: &RoadDistanceOptions,
) -> (Vec<Vec<Option<f64>>>, Vec<String>) {
    let mut warnings = Vec::new();
    let origin_snaps: Vec<Option<Snap>> = origins
        .iter()
        .map(|o| index.snap(graph, o.position, options.max_snap_m))
        .collect();
    let unroutable: Vec<&EvacueeOrigin> = origins
        .iter()
        .zip(&origin_snaps)
        .filter(|(_, snap)| snap.is_none())
        .map(|(o, _)| o)
        .collect();
    for o in unroutable.iter().take(MAX_NAMED_ORIGINS) {
        warnings.push(format!(
            "origin {}: no open road within {} m; its {} people cannot be routed",
            o.id, options.max_snap_m, o.people
        ));
    }
    if unroutable.len() > MAX_NAMED_ORIGINS {
        let rest = &unroutable[MAX_NAMED_ORIGINS..];
        warnings.push(format!(
            "{} more origins ({} people) have no open road within {} m",
            rest.len(),
            rest.iter().map(|o| o.people).sum::<u64>(),
            options.max_snap_m
        ));
    }
    let mut km = vec![vec![None; shelters.len()]; origins.len()];
    let reverse = ReverseArcs::new(graph);
    for (s, shelter) in shelters.iter().enumerate() {
        let Some(target) = index.snap(graph, shelter.position, options.max_snap_m) else {
            warnings.push(format!(
                "shelter {}: no open road within {} m; not reachable",
                shelter.id, options.max_snap_m
            ));
            continue;
        };
        let to_target = reverse.distances_to(graph, &target);
        for (o, snap) in origin_snaps.iter().enumerate() {
            let Some(from) = snap else { continue };
            if let Some(road_m) = route_m(graph, from, &target, &to_target) {
                km[o][s] = Some((from.distance_m + road_m + target.distance_m) / 1000.0);
            }
        }
    }
    (km, warnings)
}

/// Incoming arcs by node, with their edge lengths, for distances towards a target.
struct ReverseArcs {
    start: Vec<u32>,
    tail: Vec<u32>,
    length_m: Vec<f64>,
}

impl ReverseArcs {
    fn new(graph: &RoadGraph) -> Self {
        let n = graph.node_count();
        let mut arcs: Vec<(u32, u32, f64)> = Vec::new();
        for u in 0..n as u32 {
            for (v, time_s, edge) in graph.arcs(u) {
                if time_s.is_finite() && !graph.is_closed(edge as usize) {
                    arcs.push((v, u, graph.edges[edge as usize].length_m));
                }
            }
        }
        arcs.sort_by_key(|a| a.0);
        let mut start = vec![0u32; n + 1];
        for a in &arcs {
            start[a.0 as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        ReverseArcs {
            start,
            tail: arcs.iter().map(|a| a.1).collect(),
            length_m: arcs.iter().map(|a| a.2).collect(),
        }
    }

    /// Metres from every node to the snap point `target`, driving.
    fn distances_to(&self, graph: &RoadGraph, target: &Snap) -> Vec<f64> {
        let mut dist = vec![f64::INFINITY; graph.node_count()];
        let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
        let edge = &graph.edges[target.edge as usize];
        let seed = |node: u32, d: f64, dist: &mut [f64], heap: &mut BinaryHeap<_>| {
            if d < dist[node as usize] {
                dist[node as usize] = d;
                heap.push(Reverse((d.to_bits(), node)));
            }
        };
        if edge.direction.forward() {
            seed(edge.from, target.along_m, &mut dist, &mut heap);
        }
        if edge.direction.backward() {
            seed(
                edge.to,
                edge.length_m - target.along_m,
                &mut dist,
                &mut heap,
            );
        }
        while let Some(Reverse((bits, v))) = heap.pop() {
            let d = f64::from_bits(bits);
            if d > dist[v as usize] {
                continue;
            }
            let (a, b) = (
                self.start[v as usize] as usize,
                self.start[v as usize + 1] as usize,
            );
            for i in a..b {
                let u = self.tail[i];
                let du = d + self.length_m[i];
                if du < dist[u as usize] {
                    dist[u as usize] = du;
                    heap.push(Reverse((du.to_bits(), u)));
                }
            }
        }
        dist
    }
}

/// Road metres from snap `from` to snap `to`, given every node's distance to `to`.
fn route_m(graph: &RoadGraph, from: &Snap, to: &Snap, to_target: &[f64]) -> Option<f64> {
    let edge = &graph.edges[from.edge as usize];
    let mut best = f64::INFINITY;
    if from.edge == to.edge {
        if to.along_m >= from.along_m && edge.direction.forward() {
            best = best.min(to.along_m - from.along_m);
        }
        if to.along_m <= from.along_m && edge.direction.backward() {
            best = best.min(from.along_m - to.along_m);
        }
    }
    if edge.direction.forward() {
        best = best.min(edge.length_m - from.along_m + to_target[edge.to as usize]);
    }
    if edge.direction.backward() {
        best = best.min(from.along_m + to_target[edge.from as usize]);
    }
    best.is_finite().then_some(best)
}

/// The optimal plan: most people placed, then least total person-km. `km[o][s]` is the
/// distance from origin `o` to shelter `s` (None: no route). Costs are compared in whole
/// metres per person, so plans within a metre of each other count as equal.
pub fn allocate(
    origins: &[EvacueeOrigin],
    shelters: &[ShelterSite],
    km: &[Vec<Option<f64>>],
) -> Allocation {
    let supply: Vec<i64> = origins.iter().map(|o| clamp_people(o.people)).collect();
    let capacity: Vec<i64> = shelters.iter().map(|s| clamp_people(s.capacity)).collect();
    let cost_m: Vec<Vec<Option<i64>>> = (0..origins.len())
        .map(|o| {
            (0..shelters.len())
                .map(|s| {
                    km.get(o)
                        .and_then(|row| row.get(s))
                        .copied()
                        .flatten()
                        .filter(|d| d.is_finite() && *d >= 0.0)
                        .map(|d| (d * 1000.0).round() as i64)
                })
                .collect()
        })
        .collect();
    let flows = transport(&supply, &capacity, &cost_m);
    let mut plan = Allocation {
        origin_placed: vec![0; origins.len()],
        origin_unplaced: vec![0; origins.len()],
        shelter_used: vec![0; shelters.len()],
        ..Allocation::default()
    };
    for (o, row) in flows.iter().enumerate() {
        for (s, &people) in row.iter().enumerate() {
            if people <= 0 {
                continue;
            }
            let people = people as u64;
            let distance = km[o][s].unwrap_or(0.0);
            plan.assignments.push(Assignment {
                origin: o,
                shelter: s,
                people,
                km: distance,
            });
            plan.origin_placed[o] += people;
            plan.shelter_used[s] += people;
            plan.total_person_km += people as f64 * distance;
        }
        plan.origin_unplaced[o] = origins[o].people - plan.origin_placed[o];
    }
    plan.placed = plan.origin_placed.iter().sum();
    plan.unplaced = plan.origin_unplaced.iter().sum();
    plan
}

/// People counts far beyond any district are capped so costs cannot overflow.
fn clamp_people(n: u64) -> i64 {
    n.min(1 << 40) as i64
}

/// A residual arc of the flow network.
struct Arc {
    to: usize,
    capacity: i64,
    cost: i64,
    /// Index of the reverse arc in `arcs[to]`.
    reverse: usize,
}

/// Min-cost max-flow on the transportation network source -> origins -> shelters -> sink.
/// Returns the flow per (origin, shelter).
pub(crate) fn transport(
    supply: &[i64],
    capacity: &[i64],
    cost: &[Vec<Option<i64>>],
) -> Vec<Vec<i64>> {
    let (n_o, n_s) = (supply.len(), capacity.len());
    let source = n_o + n_s;
    let sink = source + 1;
    let n = sink + 1;
    let mut arcs: Vec<Vec<Arc>> = (0..n).map(|_| Vec::new()).collect();
    let add = |arcs: &mut Vec<Vec<Arc>>, from: usize, to: usize, cap: i64, c: i64| {
        let (rf, rt) = (arcs[to].len(), arcs[from].len());
        arcs[from].push(Arc {
            to,
            capacity: cap,
            cost: c,
            reverse: rf,
        });
        arcs[to].push(Arc {
            to: from,
            capacity: 0,
            cost: -c,
            reverse: rt,
        });
        rt
    };
    let mut pair_arc = vec![vec![None; n_s]; n_o];
    for (o, &people) in supply.iter().enumerate() {
        if people > 0 {
            add(&mut arcs, source, o, people, 0);
        }
    }
    for (s, &cap) in capacity.iter().enumerate() {
        if cap > 0 {
            add(&mut arcs, n_o + s, sink, cap, 0);
        }
    }
    for o in 0..n_o {
        for s in 0..n_s {
            if let Some(c) = cost.get(o).and_then(|r| r.get(s)).copied().flatten()
                && supply[o] > 0
                && capacity[s] > 0
            {
                pair_arc[o][s] = Some(add(&mut arcs, o, n_o + s, supply[o], c.max(0)));
            }
        }
    }
    // All costs start non-negative, so zero potentials are feasible.
    let mut potential = vec![0i64; n];
    let mut dist = vec![i64::MAX; n];
    let mut previous: Vec<Option<(usize, usize)>> = vec![None; n];
    loop {
        dist.fill(i64::MAX);
        previous.fill(None);
        dist[source] = 0;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((0i64, source)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            for (i, arc) in arcs[u].iter().enumerate() {
                if arc.capacity <= 0 {
                    continue;
                }
                let reduced = arc.cost + potential[u] - potential[arc.to];
                let dv = d + reduced;
                if dv < dist[arc.to] {
                    dist[arc.to] = dv;
                    previous[arc.to] = Some((u, i));
                    heap.push(Reverse((dv, arc.to)));
                }
            }
        }
        if dist[sink] == i64::MAX {
            break;
        }
        // Keeps every residual arc's reduced cost non-negative for the next round.
        for v in 0..n {
            potential[v] += dist[v].min(dist[sink]);
        }
        let mut push = i64::MAX;
        let mut v = sink;
        while let Some((u, i)) = previous[v] {
            push = push.min(arcs[u][i].capacity);
            v = u;
        }
        let mut v = sink;
        while let Some((u, i)) = previous[v] {
            arcs[u][i].capacity -= push;
            let (to, reverse) = (arcs[u][i].to, arcs[u][i].reverse);
            arcs[to][reverse].capacity += push;
            v = u;
        }
    }
    pair_arc
        .iter()
        .enumerate()
        .map(|(o, row)| {
            row.iter()
                .map(|slot| {
                    slot.map(|i| arcs[o][i].capacity)
                        .map_or(0, |left| supply[o] - left)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::layer as road_layer;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Most placed, then least cost, by enumerating every integer plan.
    fn brute_force(supply: &[i64], capacity: &[i64], cost: &[Vec<Option<i64>>]) -> (i64, i64) {
        #[allow(clippy::too_many_arguments)]
        fn walk(
            cell: usize,
            n_s: usize,
            supply_left: &mut Vec<i64>,
            capacity_left: &mut Vec<i64>,
            cost: &[Vec<Option<i64>>],
            placed: i64,
            total: i64,
            best: &mut (i64, i64),
        ) {
            if cell == supply_left.len() * n_s {
                if placed > best.0 || (placed == best.0 && total < best.1) {
                    *best = (placed, total);
                }
                return;
            }
            let (o, s) = (cell / n_s, cell % n_s);
            let max = match cost[o][s] {
                Some(_) => supply_left[o].min(capacity_left[s]),
                None => 0,
            };
            for x in 0..=max {
                supply_left[o] -= x;
                capacity_left[s] -= x;
                walk(
                    cell + 1,
                    n_s,
                    supply_left,
                    capacity_left,
                    cost,
                    placed + x,
                    total + x * cost[o][s].unwrap_or(0),
                    best,
                );
                supply_left[o] += x;
                capacity_left[s] += x;
            }
        }
        let mut best = (-1, i64::MAX);
        walk(
            0,
            capacity.len(),
            &mut supply.to_vec(),
            &mut capacity.to_vec(),
            cost,
            0,
            0,
            &mut best,
        );
        best
    }

    #[test]
    fn transport_is_optimal_against_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        for case in 0..300 {
            let n_o = rng.random_range(1..=3);
            let n_s = rng.random_range(1..=3);
            let supply: Vec<i64> = (0..n_o).map(|_| rng.random_range(0..=4)).collect();
            let capacity: Vec<i64> = (0..n_s).map(|_| rng.random_range(0..=4)).collect();
            let cost: Vec<Vec<Option<i64>>> = (0..n_o)
                .map(|_| {
                    (0..n_s)
                        .map(|_| rng.random_bool(0.8).then(|| rng.random_range(0..20)))
                        .collect()
                })
                .collect();
            let flows = transport(&supply, &capacity, &cost);
            let placed: i64 = flows.iter().flatten().sum();
            let total: i64 = flows
                .iter()
                .enumerate()
                .flat_map(|(o, r)| r.iter().enumerate().map(move |(s, x)| (o, s, *x)))
                .map(|(o, s, x)| {
                    assert!(
                        x == 0 || cost[o][s].is_some(),
                        "case {case}: flow on a missing pair"
                    );
                    x * cost[o][s].unwrap_or(0)
                })
                .sum();
            for (o, row) in flows.iter().enumerate() {
                assert!(row.iter().all(|x| *x >= 0));
                assert!(row.iter().sum::<i64>() <= supply[o], "case {case}");
            }
            for s in 0..n_s {
                assert!(
                    flows.iter().map(|r| r[s]).sum::<i64>() <= capacity[s],
                    "case {case}"
                );
            }
            assert_eq!(
                (placed, total),
                brute_force(&supply, &capacity, &cost),
                "case {case}"
            );
        }
    }

    fn origin(id: &str, x: f64, y: f64, people: u64) -> EvacueeOrigin {
        EvacueeOrigin {
            row: 0,
            id: id.into(),
            position: Coord { x, y },
            people,
        }
    }

    fn site(id: &str, x: f64, y: f64, capacity: u64) -> ShelterSite {
        ShelterSite {
            row: 0,
            id: id.into(),
            position: Coord { x, y },
            capacity,
        }
    }

    #[test]
    fn greedy_nearest_is_beaten_and_people_are_conserved() {
        // Both origins are nearest West. Filling West with A first (greedy by origin) would
        // send B to far East; the optimum sends A's overflow East and B to West.
        let origins = [origin("A", 0.0, 0.0, 10), origin("B", 0.015, 0.0, 10)];
        let shelters = [site("West", 0.01, 0.0, 10), site("East", -0.05, 0.0, 5)];
        let km = geodesic_km(&origins, &shelters);
        let plan = allocate(&origins, &shelters, &km);
        assert_eq!(plan.placed, 15);
        assert_eq!(plan.unplaced, 5);
        assert_eq!(plan.placed + plan.unplaced, 20);
        assert_eq!(plan.shelter_used, vec![10, 5]);
        // B (far from East) takes West; A goes East.
        assert_eq!(plan.origin_placed, vec![5, 10]);
        let expected = 10.0 * km[1][0].unwrap() + 5.0 * km[0][1].unwrap();
        assert!((plan.total_person_km - expected).abs() < 1e-9);
    }

    #[test]
    fn oneway_roads_are_driven_from_origin_to_shelter() {
        // A oneway road west -> east; the shelter lies west of the origin, so the route must
        // go round by the two-way loop road to the north.
        let d = 0.01;
        let roads = road_layer(&[
            ("primary", "yes", vec![(0.0, 0.0), (d, 0.0), (2.0 * d, 0.0)]),
            (
                "primary",
                "no",
                vec![(0.0, 0.0), (0.0, d), (2.0 * d, d), (2.0 * d, 0.0)],
            ),
        ]);
        let (graph, _) = RoadGraph::build(&[&roads], &SpeedTable::emergency_default()).unwrap();
        let index = SnapIndex::new(&graph);
        let origins = [origin("east", 1.5 * d, 0.0001, 1)];
        let shelters = [site("west", 0.5 * d, 0.0001, 1)];
        let (km, warnings) = road_km(
            &graph,
            &index,
            &origins,
            &shelters,
            &RoadDistanceOptions::default(),
        );
        assert!(warnings.is_empty());
        let metres_per_deg = 111_195.0;
        // 0.5d east, d north, 2d west, d south, 0.5d east = 5d, plus two 11 m access legs.
        let expected = (5.0 * d * metres_per_deg + 2.0 * 0.0001 * metres_per_deg) / 1000.0;
        let got = km[0][0].unwrap();
        assert!((got - expected).abs() < 0.01, "{got} vs {expected}");
        // The other way is direct along the oneway road.
        let (back, _) = road_km(
            &graph,
            &index,
            &shelters_as_origins(&shelters),
            &origins_as_shelters(&origins),
            &RoadDistanceOptions::default(),
        );
        let direct = (d * metres_per_deg + 2.0 * 0.0001 * metres_per_deg) / 1000.0;
        assert!((back[0][0].unwrap() - direct).abs() < 0.01);
    }

    fn shelters_as_origins(s: &[ShelterSite]) -> Vec<EvacueeOrigin> {
        s.iter()
            .map(|s| origin(&s.id, s.position.x, s.position.y, s.capacity))
            .collect()
    }

    fn origins_as_shelters(o: &[EvacueeOrigin]) -> Vec<ShelterSite> {
        o.iter()
            .map(|o| site(&o.id, o.position.x, o.position.y, o.people))
            .collect()
    }

    /// Road metres from snap `a` to snap `b` by Bellman-Ford over the edge list (not the
    /// CSR arcs `road_km` uses), with both snaps as extra nodes.
    fn oracle_route_m(graph: &RoadGraph, a: &Snap, b: &Snap) -> Option<f64> {
        let n = graph.node_count();
        let (source, target) = (n, n + 1);
        let mut arcs: Vec<(usize, usize, f64)> = Vec::new();
        for (e, edge) in graph.edges.iter().enumerate() {
            if graph.is_closed(e) {
                continue;
            }
            let (from, to, len) = (edge.from as usize, edge.to as usize, edge.length_m);
            if edge.direction.forward() {
                arcs.push((from, to, len));
                if e == a.edge as usize {
                    arcs.push((source, to, len - a.along_m));
                }
                if e == b.edge as usize {
                    arcs.push((from, target, b.along_m));
                }
                if a.edge == b.edge && e == a.edge as usize && b.along_m >= a.along_m {
                    arcs.push((source, target, b.along_m - a.along_m));
                }
            }
            if edge.direction.backward() {
                arcs.push((to, from, len));
                if e == a.edge as usize {
                    arcs.push((source, from, a.along_m));
                }
                if e == b.edge as usize {
                    arcs.push((to, target, len - b.along_m));
                }
                if a.edge == b.edge && e == a.edge as usize && b.along_m <= a.along_m {
                    arcs.push((source, target, a.along_m - b.along_m));
                }
            }
        }
        let mut dist = vec![f64::INFINITY; n + 2];
        dist[source] = 0.0;
        loop {
            let mut changed = false;
            for &(u, v, w) in &arcs {
                if dist[u] + w < dist[v] - 1e-9 {
                    dist[v] = dist[u] + w;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        dist[target].is_finite().then_some(dist[target])
    }

    #[test]
    fn road_km_matches_a_bellman_ford_oracle_on_random_networks() {
        use crate::analysis::reach::tests::random_network;
        use crate::analysis::road_graph::tests::deg;
        let mut routed = 0;
        for seed in 0..10u64 {
            let roads = random_network(seed, 8);
            let (graph, _) = RoadGraph::build(&[&roads], &SpeedTable::default()).unwrap();
            let index = SnapIndex::new(&graph);
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 500);
            let step = deg(200.0);
            let mut random_point = || Coord {
                x: 117.9 + rng.random_range(0.0..7.0) * step,
                y: 36.8 + rng.random_range(0.0..7.0) * step,
            };
            let origins: Vec<EvacueeOrigin> = (0..5)
                .map(|i| {
                    let p = random_point();
                    origin(&format!("o{i}"), p.x, p.y, 1)
                })
                .collect();
            let shelters: Vec<ShelterSite> = (0..4)
                .map(|i| {
                    let p = random_point();
                    site(&format!("s{i}"), p.x, p.y, 1)
                })
                .collect();
            let options = RoadDistanceOptions::default();
            let (km, _) = road_km(&graph, &index, &origins, &shelters, &options);
            for (o, org) in origins.iter().enumerate() {
                let a = index
                    .snap(&graph, org.position, options.max_snap_m)
                    .unwrap();
                for (s, sh) in shelters.iter().enumerate() {
                    let b = index.snap(&graph, sh.position, options.max_snap_m).unwrap();
                    let want = oracle_route_m(&graph, &a, &b)
                        .map(|m| (a.distance_m + m + b.distance_m) / 1000.0);
                    match (km[o][s], want) {
                        (Some(got), Some(want)) => {
                            assert!((got - want).abs() < 1e-6, "seed {seed}: {got} vs {want}");
                            routed += 1;
                        }
                        (None, None) => {}
                        other => panic!("seed {seed} o{o} s{s}: {other:?}"),
                    }
                }
            }
        }
        assert!(routed > 100, "{routed}");
    }

    #[test]
    fn unreachable_pairs_are_excluded() {
        let origins = [origin("A", 0.0, 0.0, 4)];
        let shelters = [site("S1", 0.01, 0.0, 10), site("S2", 0.02, 0.0, 10)];
        let km = vec![vec![None, Some(2.0)]];
        let plan = allocate(&origins, &shelters, &km);
        assert_eq!(plan.shelter_used, vec![0, 4]);
        let km = vec![vec![None, None]];
        let plan = allocate(&origins, &shelters, &km);
        assert_eq!((plan.placed, plan.unplaced), (0, 4));
    }

    #[test]
    fn rounding_keeps_the_total() {
        let r = round_preserving_sum(&[0.4, 0.4, 0.4, 2.5, f64::NAN]);
        assert_eq!(r.iter().sum::<u64>(), 4);
        assert_eq!(r, vec![1, 0, 0, 3, 0]);
    }
}
