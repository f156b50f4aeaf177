//! What the commander sees the moment an incident is placed: fire stations ranked by
//! drive-time ETA, the features of each layer within a radius, the nearest open shelters
//! with room, and the people within the radius.
//!
//! Routing follows the response-area engine (`reach`): stations and the incident are
//! snapped to the nearest open road (the off-road stretch is not timed; turnout covers a
//! station's, and the crew walks the incident's), and travel follows the directed graph
//! (one-way streets, closures). ETAs come from one backward Dijkstra out of the incident,
//! so ranking all stations costs one search however many there are.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use geo::{Coord, Distance, Geodesic, Point};

use super::hazard_zones::{self, ZoneError};
use super::population::{PopulationInside, population_in_polygon};
use super::reach::{Snap, SnapIndex, Station, label, station_id, station_position};
use super::road_graph::RoadGraph;
use super::shelters::{shelter_capacity, shelter_is_open};
use crate::model::{IncidentKind, Layer};
use crate::spatial::LayerIndex;

/// Properties read as the people already in a shelter, first found wins.
pub const OCCUPIED_FIELDS: [&str; 2] = ["occupied", "occupancy"];

/// The editable settings of the incident analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IncidentOptions {
    /// Radius of the "what is around" and population searches, metres.
    pub radius_m: f64,
    /// Time from the dispatch order to rolling out, seconds.
    pub turnout_s: f64,
    /// Stations, shelters and the incident farther than this from every open road are not
    /// routed, metres.
    pub max_snap_m: f64,
    /// How many shelters to list.
    pub shelter_count: usize,
    /// Shelter area per person where a shelter has no `capacity`, m² (Zhoucun plan: 2.5).
    pub m2_per_person: f64,
}

impl IncidentOptions {
    /// The defaults for a kind of incident: its search radius, 60 s turnout, 500 m snap,
    /// five shelters, 2.5 m² per person.
    pub fn for_kind(kind: IncidentKind) -> IncidentOptions {
        IncidentOptions {
            radius_m: kind.default_radius_m(),
            turnout_s: 60.0,
            max_snap_m: 500.0,
            shelter_count: 5,
            m2_per_person: 2.5,
        }
    }
}

/// A road graph with its snapping index.
#[derive(Clone, Copy)]
pub struct Roads<'a> {
    pub graph: &'a RoadGraph,
    pub index: &'a SnapIndex,
}

/// One station's place in the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct StationEta {
    /// Index into the stations given.
    pub station: usize,
    pub id: String,
    /// Turnout plus drive time, seconds; None when no road route exists.
    pub eta_s: Option<f64>,
    /// Drive time alone, seconds.
    pub drive_s: Option<f64>,
    /// The station is out on another call (still listed, so the commander sees it).
    pub busy: bool,
}

/// A feature near the incident.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyFeature {
    /// Row in its layer.
    pub row: usize,
    /// `id`, else `name`, else the feature index.
    pub id: String,
    /// Great-circle metres to the nearest point of the geometry (0 inside a polygon).
    pub distance_m: f64,
}

/// The features of one layer within the radius, nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyGroup {
    pub layer: String,
    pub features: Vec<NearbyFeature>,
}

/// A layer to search, with its index (built from the same geometries).
#[derive(Clone, Copy)]
pub struct NearbyLayer<'a> {
    pub name: &'a str,
    pub layer: &'a Layer,
    pub index: &'a LayerIndex,
}

/// An open shelter with room.
#[derive(Debug, Clone, PartialEq)]
pub struct ShelterChoice {
    /// Row in the shelter layer.
    pub row: usize,
    pub id: String,
    pub name: Option<String>,
    /// People it takes (`capacity`, else `area_m2` / m² per person).
    pub capacity: f64,
    /// People already there (`occupied` or `occupancy`; 0 when missing).
    pub occupied: f64,
    /// `capacity - occupied`, above zero.
    pub free_capacity: f64,
    /// Ellipsoidal distance from the incident, km.
    pub straight_km: f64,
    /// Shortest road distance from the incident, km (None without roads, or unreachable).
    pub road_km: Option<f64>,
    /// The shelter stands within the search radius, likely inside the hazard area itself:
    /// listed, so the commander decides.
    pub within_radius: bool,
}

impl ShelterChoice {
    /// The distance shelters are ranked by: road km when roads were given (None when the
    /// shelter cannot be reached), else straight km.
    pub fn km(&self, with_roads: bool) -> Option<f64> {
        if with_roads {
            self.road_km
        } else {
            Some(self.straight_km)
        }
    }
}

/// Everything the incident panel shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentReport {
    /// Reachable stations by ETA (ties by input order), then unreachable ones in input order.
    pub stations: Vec<StationEta>,
    /// One group per layer searched, in the order given.
    pub nearby: Vec<NearbyGroup>,
    /// Open shelters with room, nearest first (unreachable by road last), at most
    /// `shelter_count`.
    pub shelters: Vec<ShelterChoice>,
    /// People within the radius (None without a population layer).
    pub population: Option<PopulationInside>,
    /// Metres from the incident to the road it was snapped to (None: no roads, or none
    /// within reach).
    pub incident_snap_m: Option<f64>,
    pub warnings: Vec<String>,
}

/// Inputs of the analysis; every one is optional.
#[derive(Clone, Copy, Default)]
pub struct IncidentInputs<'a> {
    pub roads: Option<Roads<'a>>,
    pub stations: &'a [Station],
    /// Ids of the stations out on other calls.
    pub busy: Option<&'a HashSet<String>>,
    pub layers: &'a [NearbyLayer<'a>],
    pub shelters: Option<&'a Layer>,
    /// Population layer and its weight field.
    pub population: Option<(&'a Layer, &'a str)>,
}

/// Runs every part of the analysis for an incident at `at` (lon/lat).
pub fn analyse_incident(
    at: Coord<f64>,
    inputs: &IncidentInputs<'_>,
    options: &IncidentOptions,
) -> IncidentReport {
    let mut report = IncidentReport::default();
    let incident_snap = inputs
        .roads
        .and_then(|r| r.index.snap(r.graph, at, options.max_snap_m));
    report.incident_snap_m = incident_snap.map(|s| s.distance_m);
    if inputs.roads.is_some() && incident_snap.is_none() {
        report.warnings.push(format!(
            "the incident is more than {} m from every open road: no drive times or road distances",
            options.max_snap_m
        ));
    }
    if let Some(roads) = inputs.roads {
        let empty = HashSet::new();
        let busy = inputs.busy.unwrap_or(&empty);
        let (ranked, warnings) = rank_stations(
            roads,
            incident_snap.as_ref(),
            inputs.stations,
            busy,
            options,
        );
        report.stations = ranked;
        report.warnings.extend(warnings);
    }
    report.nearby = nearby_features(inputs.layers, at, options.radius_m);
    if let Some(shelters) = inputs.shelters {
        let (chosen, warnings) = nearest_shelters(
            shelters,
            inputs.roads.map(|r| (r, incident_snap)),
            at,
            options,
        );
        report.shelters = chosen;
        report.warnings.extend(warnings);
    }
    if let Some((layer, field)) = inputs.population {
        match population_in_radius(layer, field, at, options.radius_m) {
            Ok(inside) => {
                report.warnings.extend(inside.warnings.iter().cloned());
                report.population = Some(inside);
            }
            Err(e) => report.warnings.push(format!("population: {e}")),
        }
    }
    report
}

/// People of `layer` (field `weight_field`) within `radius_m` of `at`: a geodesic circle,
/// area-weighted for polygon features.
pub fn population_in_radius(
    layer: &Layer,
    weight_field: &str,
    at: Coord<f64>,
    radius_m: f64,
) -> Result<PopulationInside, ZoneError> {
    let zone = hazard_zones::circle(at, radius_m)?;
    Ok(population_in_polygon(layer, weight_field, &zone.geometry))
}

/// What a search minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Weight {
    TimeS,
    LengthM,
}

fn edge_weight(graph: &RoadGraph, e: usize, weight: Weight) -> f64 {
    if graph.is_closed(e) {
        return f64::INFINITY;
    }
    match weight {
        Weight::TimeS => graph.edges[e].time_s,
        Weight::LengthM => graph.edges[e].length_m,
    }
}

/// Share of edge `e` from its first node to `along_m`.
fn share(graph: &RoadGraph, e: usize, along_m: f64) -> f64 {
    let len = graph.edges[e].length_m;
    if len > 0.0 {
        (along_m / len).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Dijkstra from `seeds` (node, cost); `arcs(u, out)` fills `out` with (head, cost). The
/// search stops once every node of `targets` is settled: only their costs are final then.
fn dijkstra(
    node_count: usize,
    seeds: &[(u32, f64)],
    targets: &[u32],
    mut arcs: impl FnMut(u32, &mut Vec<(u32, f64)>),
) -> Vec<f64> {
    let mut cost = vec![f64::INFINITY; node_count];
    let mut is_target = vec![false; node_count];
    let mut remaining = 0usize;
    for &t in targets {
        if let Some(flag) = is_target.get_mut(t as usize)
            && !*flag
        {
            *flag = true;
            remaining += 1;
        }
    }
    if remaining == 0 {
        return cost;
    }
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    for &(node, c) in seeds {
        if c < cost[node as usize] {
            cost[node as usize] = c;
            // Non-negative floats order like their bit patterns.
            heap.push(Reverse((c.to_bits(), node)));
        }
    }
    let mut out = Vec::new();
    while let Some(Reverse((bits, u))) = heap.pop() {
        let c = f64::from_bits(bits);
        if c > cost[u as usize] {
            continue;
        }
        if is_target[u as usize] {
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
        out.clear();
        arcs(u, &mut out);
        for &(v, w) in &out {
            let cv = c + w;
            if cv < cost[v as usize] {
                cost[v as usize] = cv;
                heap.push(Reverse((cv.to_bits(), v)));
            }
        }
    }
    cost
}

/// Cost from a snapped point to the nodes, driving with the traffic; final for `targets`.
fn costs_from(graph: &RoadGraph, from: &Snap, targets: &[u32], weight: Weight) -> Vec<f64> {
    let e = from.edge as usize;
    let w = edge_weight(graph, e, weight);
    let edge = &graph.edges[e];
    let f = share(graph, e, from.along_m);
    let mut seeds = Vec::new();
    if w.is_finite() {
        if edge.direction.forward() {
            seeds.push((edge.to, (1.0 - f) * w));
        }
        if edge.direction.backward() {
            seeds.push((edge.from, f * w));
        }
    }
    dijkstra(graph.node_count(), &seeds, targets, |u, out| {
        for (v, _, e) in graph.arcs(u) {
            let w = edge_weight(graph, e as usize, weight);
            if w.is_finite() {
                out.push((v, w));
            }
        }
    })
}

/// Cost from the nodes to a snapped point, driving with the traffic (a search over the
/// reversed arcs); final for `targets`.
fn costs_to(graph: &RoadGraph, to: &Snap, targets: &[u32], weight: Weight) -> Vec<f64> {
    let n = graph.node_count();
    // Reversed adjacency in compressed rows: arcs into each node.
    let mut start = vec![0u32; n + 1];
    for u in 0..n as u32 {
        for (v, _, _) in graph.arcs(u) {
            start[v as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut tail = vec![0u32; start[n] as usize];
    let mut edge_of = vec![0u32; start[n] as usize];
    for u in 0..n as u32 {
        for (v, _, e) in graph.arcs(u) {
            let slot = fill[v as usize] as usize;
            tail[slot] = u;
            edge_of[slot] = e;
            fill[v as usize] += 1;
        }
    }
    let e = to.edge as usize;
    let w = edge_weight(graph, e, weight);
    let edge = &graph.edges[e];
    let f = share(graph, e, to.along_m);
    let mut seeds = Vec::new();
    if w.is_finite() {
        // Arriving forward means coming from the first node, and backward from the last.
        if edge.direction.forward() {
            seeds.push((edge.from, f * w));
        }
        if edge.direction.backward() {
            seeds.push((edge.to, (1.0 - f) * w));
        }
    }
    dijkstra(n, &seeds, targets, |v, out| {
        for i in start[v as usize] as usize..start[v as usize + 1] as usize {
            let w = edge_weight(graph, edge_of[i] as usize, weight);
            if w.is_finite() {
                out.push((tail[i], w));
            }
        }
    })
}

/// Both end nodes of every snapped point's edge: where searches to or from them may stop.
fn end_nodes<'a>(graph: &RoadGraph, snaps: impl Iterator<Item = &'a Snap>) -> Vec<u32> {
    snaps
        .flat_map(|s| {
            let e = &graph.edges[s.edge as usize];
            [e.from, e.to]
        })
        .collect()
}

/// Cost of driving from `a` to `b` when both lie on the same edge, without leaving it.
fn same_edge_cost(graph: &RoadGraph, a: &Snap, b: &Snap, weight: Weight) -> Option<f64> {
    if a.edge != b.edge {
        return None;
    }
    let e = a.edge as usize;
    let w = edge_weight(graph, e, weight);
    if !w.is_finite() {
        return None;
    }
    let (fa, fb) = (share(graph, e, a.along_m), share(graph, e, b.along_m));
    let direction = graph.edges[e].direction;
    if (fb >= fa && direction.forward()) || (fb <= fa && direction.backward()) {
        Some((fb - fa).abs() * w)
    } else {
        None
    }
}

/// Cost from the point `from` (whose node costs are `from_costs`) to the point `to`.
fn cost_between(
    graph: &RoadGraph,
    from_costs: &[f64],
    from: &Snap,
    to: &Snap,
    weight: Weight,
) -> Option<f64> {
    let e = to.edge as usize;
    let w = edge_weight(graph, e, weight);
    let edge = &graph.edges[e];
    let f = share(graph, e, to.along_m);
    let mut best = f64::INFINITY;
    if w.is_finite() {
        if edge.direction.forward() {
            best = best.min(from_costs[edge.from as usize] + f * w);
        }
        if edge.direction.backward() {
            best = best.min(from_costs[edge.to as usize] + (1.0 - f) * w);
        }
    }
    if let Some(c) = same_edge_cost(graph, from, to, weight) {
        best = best.min(c);
    }
    best.is_finite().then_some(best)
}

/// Cost from the point `from` to the point `to` whose node costs (to it) are `to_costs`.
fn cost_into(
    graph: &RoadGraph,
    to_costs: &[f64],
    from: &Snap,
    to: &Snap,
    weight: Weight,
) -> Option<f64> {
    let e = from.edge as usize;
    let w = edge_weight(graph, e, weight);
    let edge = &graph.edges[e];
    let f = share(graph, e, from.along_m);
    let mut best = f64::INFINITY;
    if w.is_finite() {
        if edge.direction.forward() {
            best = best.min((1.0 - f) * w + to_costs[edge.to as usize]);
        }
        if edge.direction.backward() {
            best = best.min(f * w + to_costs[edge.from as usize]);
        }
    }
    if let Some(c) = same_edge_cost(graph, from, to, weight) {
        best = best.min(c);
    }
    best.is_finite().then_some(best)
}

/// Stations ranked by ETA to the incident's road position: turnout plus the fastest drive
/// from each station's snap. Unreachable stations (not snapped, or no route) come last in
/// input order; busy ones are ranked like the rest and marked. Warnings name stations
/// too far from any road.
pub fn rank_stations(
    roads: Roads<'_>,
    incident_snap: Option<&Snap>,
    stations: &[Station],
    busy: &HashSet<String>,
    options: &IncidentOptions,
) -> (Vec<StationEta>, Vec<String>) {
    let (snaps, warnings) = roads
        .index
        .snap_stations(roads.graph, stations, options.max_snap_m);
    let targets = end_nodes(roads.graph, snaps.iter().flatten());
    let to_costs = incident_snap.map(|s| costs_to(roads.graph, s, &targets, Weight::TimeS));
    let mut ranked: Vec<StationEta> = stations
        .iter()
        .zip(&snaps)
        .enumerate()
        .map(|(i, (station, snap))| {
            let drive_s = match (snap, incident_snap, &to_costs) {
                (Some(from), Some(to), Some(costs)) => {
                    cost_into(roads.graph, costs, from, to, Weight::TimeS)
                }
                _ => None,
            };
            StationEta {
                station: i,
                id: station.id.clone(),
                eta_s: drive_s.map(|d| options.turnout_s + d),
                drive_s,
                busy: busy.contains(&station.id),
            }
        })
        .collect();
    // Stable: equal ETAs and the unreachable keep input order.
    ranked.sort_by(|a, b| match (a.eta_s, b.eta_s) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    (ranked, warnings)
}

/// Features of each layer within `radius_m` of `at`, with great-circle distances to their
/// nearest point, nearest first (ties by row). One group per layer, in the order given.
pub fn nearby_features(
    layers: &[NearbyLayer<'_>],
    at: Coord<f64>,
    radius_m: f64,
) -> Vec<NearbyGroup> {
    layers
        .iter()
        .map(|l| NearbyGroup {
            layer: l.name.to_string(),
            features: l
                .index
                .within_distance(&l.layer.geometries, Point(at), radius_m)
                .into_iter()
                .map(|(row, distance_m)| NearbyFeature {
                    row,
                    id: station_id(l.layer, row),
                    distance_m,
                })
                .collect(),
        })
        .collect()
}

/// People already in shelter `row`: the first of [`OCCUPIED_FIELDS`] holding a number >= 0.
pub fn shelter_occupied(layer: &Layer, row: usize) -> Option<f64> {
    OCCUPIED_FIELDS.iter().find_map(|f| {
        layer
            .attributes
            .get(row, f)
            .as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
    })
}

/// Open shelters with free capacity, nearest to the incident first, at most
/// `options.shelter_count`. With roads (and the incident's snap, None when it is off
/// the network), distance is the shortest road distance from the incident, and shelters
/// with no road route come last by straight distance; without roads it is the ellipsoidal
/// distance. Shelters with no capacity figure are skipped with a warning.
pub fn nearest_shelters(
    shelters: &Layer,
    roads: Option<(Roads<'_>, Option<Snap>)>,
    at: Coord<f64>,
    options: &IncidentOptions,
) -> (Vec<ShelterChoice>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut no_capacity = Vec::new();
    // Shelters with room and their road snaps first, so the search can stop at them.
    let mut snaps = Vec::new();
    let mut chosen = Vec::new();
    for (row, geometry) in shelters.geometries.iter().enumerate() {
        if !shelter_is_open(shelters, row) {
            continue;
        }
        let Some(position) = station_position(geometry) else {
            continue;
        };
        let id = station_id(shelters, row);
        let Some(capacity) = shelter_capacity(shelters, row, options.m2_per_person) else {
            no_capacity.push(id);
            continue;
        };
        let occupied = shelter_occupied(shelters, row).unwrap_or(0.0);
        let free_capacity = capacity - occupied;
        if free_capacity <= 0.0 {
            continue;
        }
        let straight_km = Geodesic.distance(Point(at), Point(position)) / 1000.0;
        snaps.push(roads.and_then(|(r, _)| r.index.snap(r.graph, position, options.max_snap_m)));
        chosen.push(ShelterChoice {
            row,
            id,
            name: label(shelters.attributes.get(row, "name")),
            capacity,
            occupied,
            free_capacity,
            straight_km,
            road_km: None,
            within_radius: straight_km * 1000.0 <= options.radius_m,
        });
    }
    if let Some((r, Some(from))) = roads {
        let targets = end_nodes(r.graph, snaps.iter().flatten());
        let costs = costs_from(r.graph, &from, &targets, Weight::LengthM);
        for (choice, snap) in chosen.iter_mut().zip(&snaps) {
            choice.road_km = snap
                .and_then(|to| cost_between(r.graph, &costs, &from, &to, Weight::LengthM))
                .map(|m| m / 1000.0);
        }
    }
    if !no_capacity.is_empty() {
        warnings.push(format!(
            "shelters with no capacity or area_m2, skipped: {}",
            no_capacity.join(", ")
        ));
    }
    let with_roads = roads.is_some();
    chosen.sort_by(|a, b| {
        let key = |s: &ShelterChoice| {
            (
                s.km(with_roads).is_none(),
                s.km(with_roads).unwrap_or(s.straight_km),
            )
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(a.row.cmp(&b.row))
    });
    chosen.truncate(options.shelter_count);
    (chosen, warnings)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::reach::tests::random_network;
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::{deg, layer};
    use crate::model::{AttributeTable, Value};
    use geo::{Contains, Geometry, Haversine, LineString, Polygon};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const LON0: f64 = 117.9;
    const LAT0: f64 = 36.8;

    /// Lon/lat of a point `east` and `north` metres from (LON0, LAT0).
    fn en(east: f64, north: f64) -> (f64, f64) {
        (
            LON0 + deg(east) / LAT0.to_radians().cos(),
            LAT0 + deg(north),
        )
    }

    fn coord(east: f64, north: f64) -> Coord<f64> {
        let (x, y) = en(east, north);
        Coord { x, y }
    }

    fn station(id: &str, east: f64, north: f64) -> Station {
        Station {
            id: id.into(),
            position: coord(east, north),
        }
    }

    /// A 1 km square: west side A(0,0)-B(0,1000) and east side C(1000,1000)-D(1000,0) at
    /// 36 km/h both ways, north side B->C one-way at 36 km/h, south side A-D at 12 km/h.
    fn square() -> RoadGraph {
        let roads = layer(&[
            ("x", "", vec![en(0.0, 0.0), en(0.0, 1000.0)]),
            ("x", "yes", vec![en(0.0, 1000.0), en(1000.0, 1000.0)]),
            ("x", "", vec![en(1000.0, 1000.0), en(1000.0, 0.0)]),
            ("y", "", vec![en(0.0, 0.0), en(1000.0, 0.0)]),
        ]);
        let speeds = SpeedTable::from_json(r#"{"x": 36, "y": 12}"#).unwrap();
        RoadGraph::build(&[&roads], &speeds).unwrap().0
    }

    #[test]
    fn stations_rank_by_turnout_plus_directed_drive_time() {
        let graph = square();
        let index = SnapIndex::new(&graph);
        let roads = Roads {
            graph: &graph,
            index: &index,
        };
        let options = IncidentOptions::for_kind(IncidentKind::Fire);
        // The incident is halfway along the one-way north side.
        let at = coord(500.0, 1010.0);
        let snap = index.snap(&graph, at, 500.0).unwrap();
        let stations = [
            // Past the incident on the one-way: round the square, 10 + 100 + 300 + 100 +
            // 50 s.
            station("S1", 900.0, 1010.0),
            // At A: up the west side then half the north side, 100 + 50 s.
            station("S0", -20.0, -20.0),
            // Just behind the incident on the one-way: 400 m, 40 s.
            station("S2", 100.0, 1010.0),
            // Nowhere near a road.
            station("S3", 5000.0, 5000.0),
        ];
        let busy: HashSet<String> = ["S0".to_string()].into();
        let (ranked, warnings) = rank_stations(roads, Some(&snap), &stations, &busy, &options);
        let ids: Vec<&str> = ranked.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["S2", "S0", "S1", "S3"]);
        let expected = [100.0, 210.0, 620.0];
        for (s, want) in ranked.iter().zip(expected) {
            let eta = s.eta_s.unwrap();
            assert!((eta - want).abs() < 1.0, "{}: {eta} vs {want}", s.id);
            assert!((s.drive_s.unwrap() + 60.0 - eta).abs() < 1e-9);
        }
        assert!(ranked[1].busy && !ranked[0].busy && !ranked[2].busy);
        assert_eq!(ranked[3].eta_s, None);
        assert_eq!(ranked[3].station, 3);
        assert!(warnings.iter().any(|w| w.contains("S3")), "{warnings:?}");
        // Turnout is an option, not a constant.
        let slow = IncidentOptions {
            turnout_s: 90.0,
            ..options
        };
        let (ranked, _) = rank_stations(roads, Some(&snap), &stations, &busy, &slow);
        assert!((ranked[0].eta_s.unwrap() - 130.0).abs() < 1.0);
        // No incident snap: nobody is reachable, all listed in input order.
        let (ranked, _) = rank_stations(roads, None, &stations, &busy, &options);
        assert!(ranked.iter().all(|s| s.eta_s.is_none()));
        assert_eq!(
            ranked.iter().map(|s| s.station).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }

    /// All-pairs node costs by Floyd-Warshall over the edge list.
    fn all_pairs(graph: &RoadGraph, weight: Weight) -> Vec<Vec<f64>> {
        let n = graph.node_count();
        let mut d = vec![vec![f64::INFINITY; n]; n];
        for (i, row) in d.iter_mut().enumerate() {
            row[i] = 0.0;
        }
        for (e, edge) in graph.edges.iter().enumerate() {
            if graph.is_closed(e) {
                continue;
            }
            let w = match weight {
                Weight::TimeS => edge.length_m / (edge.speed_kmh / 3.6),
                Weight::LengthM => edge.length_m,
            };
            let (a, b) = (edge.from as usize, edge.to as usize);
            if edge.direction.forward() {
                d[a][b] = d[a][b].min(w);
            }
            if edge.direction.backward() {
                d[b][a] = d[b][a].min(w);
            }
        }
        for k in 0..n {
            for i in 0..n {
                for j in 0..n {
                    let via = d[i][k] + d[k][j];
                    if via < d[i][j] {
                        d[i][j] = via;
                    }
                }
            }
        }
        d
    }

    /// Point-to-point cost through the all-pairs table: leave `a`'s edge by an allowed end,
    /// enter `b`'s edge by an allowed end, or stay on a shared edge.
    fn oracle_cost(graph: &RoadGraph, d: &[Vec<f64>], a: &Snap, b: &Snap, weight: Weight) -> f64 {
        let full = |e: usize| {
            let edge = &graph.edges[e];
            match weight {
                Weight::TimeS => edge.length_m / (edge.speed_kmh / 3.6),
                Weight::LengthM => edge.length_m,
            }
        };
        let (ea, eb) = (&graph.edges[a.edge as usize], &graph.edges[b.edge as usize]);
        let (wa, wb) = (full(a.edge as usize), full(b.edge as usize));
        let fa = (a.along_m / ea.length_m).clamp(0.0, 1.0);
        let fb = (b.along_m / eb.length_m).clamp(0.0, 1.0);
        let mut exits = Vec::new();
        if ea.direction.forward() {
            exits.push((ea.to as usize, (1.0 - fa) * wa));
        }
        if ea.direction.backward() {
            exits.push((ea.from as usize, fa * wa));
        }
        let mut entries = Vec::new();
        if eb.direction.forward() {
            entries.push((eb.from as usize, fb * wb));
        }
        if eb.direction.backward() {
            entries.push((eb.to as usize, (1.0 - fb) * wb));
        }
        let mut best = f64::INFINITY;
        for &(u, cu) in &exits {
            for &(v, cv) in &entries {
                best = best.min(cu + d[u][v] + cv);
            }
        }
        if a.edge == b.edge
            && ((fb >= fa && ea.direction.forward()) || (fb <= fa && ea.direction.backward()))
        {
            best = best.min((fb - fa).abs() * wa);
        }
        best
    }

    fn random_point(rng: &mut ChaCha8Rng, extent_m: f64) -> Coord<f64> {
        coord(
            rng.random_range(0.0..extent_m),
            rng.random_range(0.0..extent_m),
        )
    }

    fn shelter_layer(rng: &mut ChaCha8Rng, count: usize, extent_m: f64) -> Layer {
        let mut attributes = AttributeTable::new();
        let mut geometries = Vec::new();
        for i in 0..count {
            let id = Value::Text(format!("SH{i}"));
            let capacity = if rng.random_bool(0.2) {
                Value::Null
            } else {
                Value::Number(rng.random_range(0.0..3000.0f64).round())
            };
            let area = Value::Number(rng.random_range(0.0..5000.0f64).round());
            let status = match rng.random_range(0..5) {
                0 => Value::Text("closed".into()),
                1 => Value::Text("open".into()),
                _ => Value::Null,
            };
            let occupied = if rng.random_bool(0.3) {
                Value::Number(rng.random_range(0.0..2000.0f64).round())
            } else {
                Value::Null
            };
            attributes.push_row([
                ("id", id.as_ref()),
                ("capacity", capacity.as_ref()),
                ("area_m2", area.as_ref()),
                ("status", status.as_ref()),
                ("occupied", occupied.as_ref()),
            ]);
            geometries.push(Geometry::Point(Point(random_point(rng, extent_m))));
        }
        Layer {
            name: "shelters".into(),
            source_index: (0..count as u32).collect(),
            geometries,
            attributes,
            ..Layer::default()
        }
    }

    #[test]
    fn etas_and_road_distances_match_all_pairs_oracle_on_random_networks() {
        let mut checked_eta = 0;
        let mut checked_km = 0;
        for seed in 0..10u64 {
            let roads_layer = random_network(seed, 7);
            let (graph, _) = RoadGraph::build(&[&roads_layer], &SpeedTable::default()).unwrap();
            let index = SnapIndex::new(&graph);
            let roads = Roads {
                graph: &graph,
                index: &index,
            };
            let times = all_pairs(&graph, Weight::TimeS);
            let lengths = all_pairs(&graph, Weight::LengthM);
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 50);
            let options = IncidentOptions {
                shelter_count: usize::MAX,
                ..IncidentOptions::for_kind(IncidentKind::Hazchem)
            };
            let at = random_point(&mut rng, 1200.0);
            let Some(incident) = index.snap(&graph, at, options.max_snap_m) else {
                continue;
            };
            let stations: Vec<Station> = (0..6)
                .map(|i| Station {
                    id: format!("S{i}"),
                    position: random_point(&mut rng, 1200.0),
                })
                .collect();
            let (ranked, _) =
                rank_stations(roads, Some(&incident), &stations, &HashSet::new(), &options);
            let mut last = f64::NEG_INFINITY;
            let mut seen_unreachable = false;
            for s in &ranked {
                let snap = index.snap(&graph, stations[s.station].position, options.max_snap_m);
                let want = snap
                    .map(|a| oracle_cost(&graph, &times, &a, &incident, Weight::TimeS))
                    .unwrap_or(f64::INFINITY);
                match s.drive_s {
                    Some(got) => {
                        assert!(
                            !seen_unreachable,
                            "seed {seed}: reachable after unreachable"
                        );
                        assert!(
                            (got - want).abs() < 1e-6,
                            "seed {seed} {}: {got} vs {want}",
                            s.id
                        );
                        assert!(s.eta_s.unwrap() >= last);
                        last = s.eta_s.unwrap();
                        checked_eta += 1;
                    }
                    None => {
                        assert!(want.is_infinite(), "seed {seed} {}: {want}", s.id);
                        seen_unreachable = true;
                    }
                }
            }
            let shelters = shelter_layer(&mut rng, 12, 1200.0);
            let (chosen, _) =
                nearest_shelters(&shelters, Some((roads, Some(incident))), at, &options);
            let mut last = (0u8, f64::NEG_INFINITY);
            for c in &chosen {
                let Geometry::Point(p) = &shelters.geometries[c.row] else {
                    unreachable!()
                };
                let snap = index.snap(&graph, p.0, options.max_snap_m);
                let want = snap
                    .map(|b| oracle_cost(&graph, &lengths, &incident, &b, Weight::LengthM))
                    .unwrap_or(f64::INFINITY);
                match c.road_km {
                    Some(km) => {
                        assert!((km * 1000.0 - want).abs() < 1e-6, "seed {seed} {}", c.id);
                        checked_km += 1;
                    }
                    None => assert!(want.is_infinite()),
                }
                let key = (
                    u8::from(c.road_km.is_none()),
                    c.road_km.unwrap_or(c.straight_km),
                );
                assert!(key.0 > last.0 || (key.0 == last.0 && key.1 >= last.1));
                last = key;
            }
        }
        assert!(checked_eta > 20, "{checked_eta}");
        assert!(checked_km > 20, "{checked_km}");
    }

    #[test]
    fn shelters_without_roads_match_brute_force() {
        for seed in 0..20u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let shelters = shelter_layer(&mut rng, 40, 5000.0);
            let at = random_point(&mut rng, 5000.0);
            let options = IncidentOptions::for_kind(IncidentKind::Flood);
            let (chosen, warnings) = nearest_shelters(&shelters, None, at, &options);
            let mut want: Vec<(f64, usize, f64)> = Vec::new();
            for row in 0..shelters.len() {
                let status = shelters.attributes.get(row, "status");
                if matches!(status, crate::model::ValueRef::Text("closed")) {
                    continue;
                }
                let capacity = shelters
                    .attributes
                    .get(row, "capacity")
                    .as_f64()
                    .or_else(|| {
                        shelters
                            .attributes
                            .get(row, "area_m2")
                            .as_f64()
                            .map(|a| a / 2.5)
                    })
                    .unwrap();
                let occupied = shelters
                    .attributes
                    .get(row, "occupied")
                    .as_f64()
                    .unwrap_or(0.0);
                if capacity - occupied <= 0.0 {
                    continue;
                }
                let Geometry::Point(p) = &shelters.geometries[row] else {
                    unreachable!()
                };
                want.push((Geodesic.distance(Point(at), *p), row, capacity - occupied));
            }
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            want.truncate(5);
            assert_eq!(chosen.len(), want.len());
            for (c, w) in chosen.iter().zip(&want) {
                assert_eq!(c.row, w.1, "seed {seed}");
                assert!((c.straight_km * 1000.0 - w.0).abs() < 1e-6);
                assert!((c.free_capacity - w.2).abs() < 1e-9);
                assert_eq!(c.road_km, None);
                assert_eq!(c.km(false), Some(c.straight_km));
                assert_eq!(c.within_radius, w.0 <= options.radius_m);
            }
            assert!(warnings.is_empty(), "{warnings:?}");
        }
    }

    /// Great-circle metres from `p` to a geometry: 0 inside a polygon, else the least over
    /// densely sampled points of every edge.
    fn brute_distance(p: Point<f64>, g: &Geometry<f64>) -> f64 {
        let sample = |ls: &LineString<f64>| {
            let mut best = f64::INFINITY;
            for w in ls.0.windows(2) {
                for i in 0..=400 {
                    let f = i as f64 / 400.0;
                    let q = Point::new(
                        w[0].x + f * (w[1].x - w[0].x),
                        w[0].y + f * (w[1].y - w[0].y),
                    );
                    best = best.min(Haversine.distance(p, q));
                }
            }
            best
        };
        match g {
            Geometry::Point(q) => Haversine.distance(p, *q),
            Geometry::LineString(ls) => sample(ls),
            Geometry::Polygon(poly) => {
                if poly.contains(&p) {
                    0.0
                } else {
                    std::iter::once(poly.exterior())
                        .chain(poly.interiors())
                        .map(sample)
                        .fold(f64::INFINITY, f64::min)
                }
            }
            _ => unreachable!(),
        }
    }

    fn random_layer(rng: &mut ChaCha8Rng, kind: usize, count: usize) -> Layer {
        let mut attributes = AttributeTable::new();
        let mut geometries = Vec::new();
        for i in 0..count {
            let c = random_point(rng, 4000.0);
            let g = match kind {
                0 => Geometry::Point(Point(c)),
                1 => {
                    let d = coord(rng.random_range(0.0..4000.0), rng.random_range(0.0..4000.0));
                    let e = coord(rng.random_range(0.0..4000.0), rng.random_range(0.0..4000.0));
                    Geometry::LineString(LineString::new(vec![c, d, e]))
                }
                _ => {
                    let r = deg(rng.random_range(20.0..300.0));
                    Geometry::Polygon(Polygon::new(
                        LineString::from(vec![
                            (c.x - r, c.y - r),
                            (c.x + r, c.y - r),
                            (c.x + r, c.y + r),
                            (c.x - r, c.y + r),
                            (c.x - r, c.y - r),
                        ]),
                        vec![],
                    ))
                }
            };
            let id = Value::Text(format!("F{kind}-{i}"));
            attributes.push_row([("id", id.as_ref())]);
            geometries.push(g);
        }
        Layer {
            name: format!("layer{kind}"),
            source_index: (0..count as u32).collect(),
            geometries,
            attributes,
            ..Layer::default()
        }
    }

    #[test]
    fn nearby_features_match_brute_force_distances_and_order() {
        let mut total = 0;
        for seed in 0..8u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let layers: Vec<Layer> = (0..3).map(|k| random_layer(&mut rng, k, 60)).collect();
            let indices: Vec<LayerIndex> = layers
                .iter()
                .map(|l| LayerIndex::build(&l.geometries))
                .collect();
            let names = ["points", "lines", "polygons"];
            let searched: Vec<NearbyLayer<'_>> = layers
                .iter()
                .zip(&indices)
                .zip(names)
                .map(|((layer, index), name)| NearbyLayer { name, layer, index })
                .collect();
            let at = random_point(&mut rng, 4000.0);
            let radius = rng.random_range(300.0..1500.0);
            let groups = nearby_features(&searched, at, radius);
            assert_eq!(groups.len(), 3);
            for ((group, layer), name) in groups.iter().zip(&layers).zip(names) {
                assert_eq!(group.layer, name);
                let mut last = 0.0;
                for f in &group.features {
                    let want = brute_distance(Point(at), &layer.geometries[f.row]);
                    assert!(
                        (f.distance_m - want).abs() <= 1.0f64.max(want * 2e-3),
                        "seed {seed} {}: {} vs {want}",
                        f.id,
                        f.distance_m
                    );
                    assert!(f.distance_m >= last);
                    assert!(f.distance_m <= radius);
                    assert_eq!(f.id, format!("F{}-{}", &layer.name[5..], f.row));
                    last = f.distance_m;
                }
                let listed: HashSet<usize> = group.features.iter().map(|f| f.row).collect();
                for (row, g) in layer.geometries.iter().enumerate() {
                    let d = brute_distance(Point(at), g);
                    if d < radius - 2.0 {
                        assert!(
                            listed.contains(&row),
                            "seed {seed}: row {row} at {d} missing"
                        );
                    } else if d > radius + 2.0 {
                        assert!(
                            !listed.contains(&row),
                            "seed {seed}: row {row} at {d} listed"
                        );
                    }
                }
                total += listed.len();
            }
        }
        assert!(total > 50, "{total}");
    }

    #[test]
    fn population_in_radius_counts_the_points_inside_the_circle() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut attributes = AttributeTable::new();
        let mut geometries = Vec::new();
        for _ in 0..500 {
            let w = Value::Number(rng.random_range(1.0..100.0f64).round());
            attributes.push_row([("population", w.as_ref())]);
            geometries.push(Geometry::Point(Point(random_point(&mut rng, 3000.0))));
        }
        let layer = Layer {
            name: "population".into(),
            source_index: (0..500).collect(),
            geometries,
            attributes,
            ..Layer::default()
        };
        let at = coord(1500.0, 1500.0);
        let radius = 1000.0;
        let inside = population_in_radius(&layer, "population", at, radius).unwrap();
        let (mut low, mut high) = (0.0, 0.0);
        for row in 0..layer.len() {
            let Geometry::Point(p) = &layer.geometries[row] else {
                unreachable!()
            };
            let d = Geodesic.distance(Point(at), *p);
            let w = layer.attributes.get(row, "population").as_f64().unwrap();
            if d < radius - 2.0 {
                low += w;
            }
            if d <= radius {
                high += w;
            }
        }
        assert!(low > 0.0);
        assert!(
            inside.total >= low && inside.total <= high,
            "{} not in [{low}, {high}]",
            inside.total
        );
        assert!(population_in_radius(&layer, "population", at, -1.0).is_err());
    }

    #[test]
    fn the_whole_analysis_runs_with_nothing_but_a_position() {
        let report = analyse_incident(
            coord(0.0, 0.0),
            &IncidentInputs::default(),
            &IncidentOptions::for_kind(IncidentKind::Other),
        );
        assert_eq!(report, IncidentReport::default());
        let graph = square();
        let index = SnapIndex::new(&graph);
        let stations = [station("S0", 0.0, 0.0)];
        let inputs = IncidentInputs {
            roads: Some(Roads {
                graph: &graph,
                index: &index,
            }),
            stations: &stations,
            ..IncidentInputs::default()
        };
        // Far from every road: listed, unreachable, and said so.
        let report = analyse_incident(
            coord(9000.0, 9000.0),
            &inputs,
            &IncidentOptions::for_kind(IncidentKind::Fire),
        );
        assert_eq!(report.stations.len(), 1);
        assert_eq!(report.stations[0].eta_s, None);
        assert!(report.warnings.iter().any(|w| w.contains("incident")));
    }
}
