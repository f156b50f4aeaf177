//! The road graph: nodes where lines share a vertex (within 0.5 m), edges between them with
//! length, class, speed, direction and travel time, stored as compressed adjacency arrays.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use geo::{Coord, Distance, Geometry, Haversine, Intersects, LineString, Point, Polygon};

use crate::model::{Layer, ValueRef};

/// Two vertices closer than this (metres) are the same graph node.
pub const NODE_TOLERANCE_M: f64 = 0.5;

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Why a graph or speed table could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("speed table: {0}")]
    SpeedTable(String),
    #[error("no road network: {0}")]
    NoRoads(String),
}

/// Road class -> speed (km/h) for emergency vehicles, with a `default` for unnamed classes.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedTable {
    speeds: HashMap<String, f64>,
    default_kmh: f64,
}

/// The shipped fire-engine table. Planning speeds for fire engines are not standardised;
/// Chinese practice plans with roughly 30-35 km/h in town (see DOMAIN.md), well under the
/// peacetime limits generic routers use. The table keeps main roads near that figure
/// (primary 40, secondary 35, tertiary 30), lets expressways and trunk roads run faster
/// (60, 50) because they are grade-separated, and slows residential (25) and service (15)
/// roads, where parked cars and narrow lanes dominate; unknown classes get 20.
const DEFAULT_SPEEDS_JSON: &str = include_str!("speeds_default.json");

impl Default for SpeedTable {
    fn default() -> Self {
        Self::emergency_default()
    }
}

impl SpeedTable {
    /// The shipped fire-engine table (`src/analysis/speeds_default.json`): planning
    /// speeds for fire engines are not standardised, and Chinese practice plans with about
    /// 30-35 km/h in town (DOMAIN.md), well under the peacetime limits generic routers use.
    /// Main roads sit near that figure (primary 40, secondary 35, tertiary 30); motorways
    /// and trunk roads run faster (60, 50) being grade-separated; residential (25) and
    /// service (15) roads are slowed by parked cars and narrow lanes; unknown classes 20.
    pub fn emergency_default() -> Self {
        Self::from_json(DEFAULT_SPEEDS_JSON).unwrap_or(SpeedTable {
            speeds: HashMap::new(),
            default_kmh: 20.0,
        })
    }

    /// Parses a JSON object of class -> km/h; `default` covers classes it does not name
    /// (20 km/h when absent). Speeds must be positive numbers.
    pub fn from_json(text: &str) -> Result<Self, AnalysisError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| AnalysisError::SpeedTable(format!("not valid JSON: {e}")))?;
        let object = value.as_object().ok_or_else(|| {
            AnalysisError::SpeedTable("expected a JSON object of class -> km/h".into())
        })?;
        let mut speeds = HashMap::new();
        let mut default_kmh = 20.0;
        for (class, v) in object {
            let kmh = v
                .as_f64()
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| {
                    AnalysisError::SpeedTable(format!(
                        "class \"{class}\": speed must be a positive number of km/h, got {v}"
                    ))
                })?;
            if class == "default" {
                default_kmh = kmh;
            } else {
                speeds.insert(class.clone(), kmh);
            }
        }
        Ok(SpeedTable {
            speeds,
            default_kmh,
        })
    }

    /// Speed for a class, or `None` when the table does not name it.
    pub fn get(&self, class: &str) -> Option<f64> {
        self.speeds.get(class).copied()
    }

    /// Speed for classes the table does not name.
    pub fn default_kmh(&self) -> f64 {
        self.default_kmh
    }

    /// Speed for a class, falling back to `default`.
    pub fn speed_kmh(&self, class: &str) -> f64 {
        self.get(class).unwrap_or(self.default_kmh)
    }

    /// The named classes and their speeds, sorted fastest first (then by name), for the
    /// speed-table editor.
    pub fn classes(&self) -> Vec<(String, f64)> {
        let mut classes: Vec<(String, f64)> =
            self.speeds.iter().map(|(c, v)| (c.clone(), *v)).collect();
        classes.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        classes
    }

    /// Sets one class's speed (`default` sets the fallback). Speeds that are not positive
    /// finite numbers are refused and leave the table as it was.
    pub fn set(&mut self, class: &str, kmh: f64) -> Result<(), AnalysisError> {
        if !(kmh.is_finite() && kmh > 0.0) {
            return Err(AnalysisError::SpeedTable(format!(
                "class \"{class}\": speed must be a positive number of km/h, got {kmh}"
            )));
        }
        if class == "default" {
            self.default_kmh = kmh;
        } else {
            self.speeds.insert(class.to_owned(), kmh);
        }
        Ok(())
    }

    /// The table as the JSON object `from_json` reads (with `default`).
    pub fn to_json(&self) -> String {
        let mut object = serde_json::Map::new();
        for (class, kmh) in self.classes() {
            object.insert(class, serde_json::json!(kmh));
        }
        object.insert("default".to_owned(), serde_json::json!(self.default_kmh));
        serde_json::Value::Object(object).to_string()
    }
}

/// An equirectangular projection about a centre point: metres east/north of it. Over a
/// district (tens of km) its distance error stays well under 0.1 %; edge lengths are
/// nevertheless measured with Haversine, and this is used for snapping, hashing and grids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalProjection {
    lon0: f64,
    lat0: f64,
    metres_per_deg_x: f64,
    metres_per_deg_y: f64,
}

impl LocalProjection {
    /// A projection centred on (`lon0`, `lat0`) degrees.
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let metres_per_deg_y = EARTH_RADIUS_M.to_radians();
        LocalProjection {
            lon0,
            lat0,
            metres_per_deg_x: metres_per_deg_y * lat0.to_radians().cos(),
            metres_per_deg_y,
        }
    }

    /// Lon/lat degrees -> metres.
    pub fn forward(&self, c: Coord<f64>) -> [f64; 2] {
        [
            (c.x - self.lon0) * self.metres_per_deg_x,
            (c.y - self.lat0) * self.metres_per_deg_y,
        ]
    }

    /// Metres -> lon/lat degrees.
    pub fn inverse(&self, p: [f64; 2]) -> Coord<f64> {
        Coord {
            x: self.lon0 + p[0] / self.metres_per_deg_x,
            y: self.lat0 + p[1] / self.metres_per_deg_y,
        }
    }
}

/// Roads that must not be used (an exercise closes them).
#[derive(Debug, Clone, Default)]
pub struct Closures {
    /// Feature indices (rows of the road layer; with several layers, the running index
    /// over all their features in order).
    pub features: HashSet<usize>,
    /// Every edge that touches one of these polygons (lon/lat) is closed.
    pub areas: Vec<Polygon<f64>>,
}

/// Which ways an edge may be driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    /// Only from the edge's first node to its last.
    Forward,
    /// Only from its last node to its first.
    Backward,
}

impl Direction {
    /// May the edge be driven from its first node to its last?
    pub fn forward(self) -> bool {
        self != Direction::Backward
    }
    /// May the edge be driven from its last node to its first?
    pub fn backward(self) -> bool {
        self != Direction::Forward
    }
}

/// One drivable piece of road between two graph nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    /// Geodesic length in metres.
    pub length_m: f64,
    /// Index into [`RoadGraph::classes`].
    pub class: u16,
    pub speed_kmh: f64,
    pub direction: Direction,
    /// The feature (over all road layers, in order) the edge was cut from.
    pub feature: u32,
    /// `length_m` at `speed_kmh`.
    pub time_s: f64,
}

/// The road network: nodes, edges, their geometry, and compressed adjacency for routing.
#[derive(Debug, Clone)]
pub struct RoadGraph {
    /// Node positions, lon/lat.
    pub nodes: Vec<Coord<f64>>,
    pub edges: Vec<Edge>,
    /// Road class names (`highway`), indexed by [`Edge::class`].
    pub classes: Vec<String>,
    /// The projection used for snapping and area grids.
    pub projection: LocalProjection,
    /// Edge `e`'s vertices are `vertex_start[e]..vertex_start[e + 1]`.
    vertex_start: Vec<u32>,
    vertex_xy: Vec<[f64; 2]>,
    /// Distance along the edge, metres, of each vertex.
    vertex_along_m: Vec<f64>,
    /// Outgoing arcs of node `n` are `arc_start[n]..arc_start[n + 1]`.
    pub(crate) arc_start: Vec<u32>,
    pub(crate) arc_head: Vec<u32>,
    pub(crate) arc_time_s: Vec<f64>,
    pub(crate) arc_edge: Vec<u32>,
    /// Does the arc run from the edge's first node to its last?
    pub(crate) arc_forward: Vec<bool>,
    closed: Vec<bool>,
}

/// A cheap hasher for grid cells; the default SipHash costs most of the build time.
#[derive(Default)]
struct CellHasher(u64);

impl Hasher for CellHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type CellMap<V> = HashMap<(i64, i64), V, BuildHasherDefault<CellHasher>>;

/// Groups vertices closer than [`NODE_TOLERANCE_M`] into clusters.
struct VertexSnapper {
    cell_m: f64,
    /// First cluster in each cell; the rest follow through `next_in_cell`.
    cells: CellMap<u32>,
    next_in_cell: Vec<u32>,
    cluster_xy: Vec<[f64; 2]>,
}

impl VertexSnapper {
    fn new(capacity: usize) -> Self {
        let mut cells = CellMap::default();
        cells.reserve(capacity);
        VertexSnapper {
            // Four tolerances wide, so most lookups stay inside one cell.
            cell_m: 4.0 * NODE_TOLERANCE_M,
            cells,
            next_in_cell: Vec::with_capacity(capacity),
            cluster_xy: Vec::with_capacity(capacity),
        }
    }

    fn cluster_of(&mut self, p: [f64; 2]) -> u32 {
        let fx = p[0] / self.cell_m;
        let fy = p[1] / self.cell_m;
        let cx = fx.floor() as i64;
        let cy = fy.floor() as i64;
        let tol_cells = NODE_TOLERANCE_M / self.cell_m;
        let (x_lo, x_hi) = (
            i64::from(fx - (cx as f64) < tol_cells),
            i64::from(fx - (cx as f64) > 1.0 - tol_cells),
        );
        let (y_lo, y_hi) = (
            i64::from(fy - (cy as f64) < tol_cells),
            i64::from(fy - (cy as f64) > 1.0 - tol_cells),
        );
        let tol2 = NODE_TOLERANCE_M * NODE_TOLERANCE_M;
        let mut best: Option<(f64, u32)> = None;
        for gx in cx - x_lo..=cx + x_hi {
            for gy in cy - y_lo..=cy + y_hi {
                let mut id = self.cells.get(&(gx, gy)).copied().unwrap_or(u32::MAX);
                while id != u32::MAX {
                    let q = self.cluster_xy[id as usize];
                    let d2 = (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
                    if d2 <= tol2 && best.is_none_or(|(bd, _)| d2 < bd) {
                        best = Some((d2, id));
                    }
                    id = self.next_in_cell[id as usize];
                }
            }
        }
        if let Some((_, id)) = best {
            return id;
        }
        let id = self.cluster_xy.len() as u32;
        self.cluster_xy.push(p);
        let head = self.cells.entry((cx, cy)).or_insert(u32::MAX);
        self.next_in_cell.push(*head);
        *head = id;
        id
    }
}

/// A line read from a layer, before it is cut into edges.
struct SourceLine {
    feature: u32,
    class: u16,
    speed_kmh: f64,
    direction: Direction,
    /// Range of the line's vertices in the flat coordinate (and cluster) arrays.
    start: usize,
    end: usize,
}

fn text_of(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Text(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

fn direction_of(v: ValueRef<'_>) -> Direction {
    match v {
        ValueRef::Bool(true) => Direction::Forward,
        ValueRef::Number(1.0) => Direction::Forward,
        ValueRef::Number(-1.0) => Direction::Backward,
        ValueRef::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" => Direction::Forward,
            "-1" | "reverse" => Direction::Backward,
            _ => Direction::Both,
        },
        _ => Direction::Both,
    }
}

impl RoadGraph {
    /// Builds the graph from the line features of `layers` (features numbered across the
    /// layers in order). Returns the graph and warnings (skipped features, unknown classes,
    /// disconnected parts). Errors when there is no usable line at all.
    pub fn build(
        layers: &[&Layer],
        speeds: &SpeedTable,
    ) -> Result<(RoadGraph, Vec<String>), AnalysisError> {
        let mut warnings = Vec::new();
        let mut classes: Vec<String> = Vec::new();
        let mut class_ids: HashMap<String, u16> = HashMap::new();
        let mut unknown_classes: HashMap<String, usize> = HashMap::new();
        let mut lines: Vec<SourceLine> = Vec::new();
        let mut all_coords: Vec<Coord<f64>> = Vec::new();
        let mut skipped = 0usize;
        let mut bad_speed = 0usize;
        let mut feature = 0u32;
        let mut lon_sum = 0.0;
        let mut lat_sum = 0.0;
        let mut vertex_count = 0usize;
        for layer in layers {
            let field = |name: &str| layer.attributes.field_index(name).unwrap_or(usize::MAX);
            let (highway_f, speed_f, oneway_f) =
                (field("highway"), field("speed_kmh"), field("oneway"));
            for (row, geometry) in layer.geometries.iter().enumerate() {
                let parts: &[LineString<f64>] = match geometry {
                    Geometry::LineString(ls) => std::slice::from_ref(ls),
                    Geometry::MultiLineString(mls) => &mls.0,
                    _ => {
                        skipped += 1;
                        feature += 1;
                        continue;
                    }
                };
                let class = text_of(layer.attributes.value(row, highway_f))
                    .unwrap_or_else(|| "unclassified".to_string());
                let table_speed = speeds.get(&class);
                if table_speed.is_none() {
                    *unknown_classes.entry(class.clone()).or_default() += 1;
                }
                let speed_kmh = match layer.attributes.value(row, speed_f) {
                    ValueRef::Null => None,
                    v => match v.as_f64().filter(|s| s.is_finite() && *s > 0.0) {
                        Some(s) => Some(s),
                        None => {
                            bad_speed += 1;
                            None
                        }
                    },
                }
                .unwrap_or_else(|| table_speed.unwrap_or(speeds.default_kmh()));
                let class_id = match class_ids.get(&class) {
                    Some(&id) => id,
                    None => {
                        let id = classes.len() as u16;
                        class_ids.insert(class.clone(), id);
                        classes.push(class);
                        id
                    }
                };
                let direction = direction_of(layer.attributes.value(row, oneway_f));
                for part in parts {
                    let start = all_coords.len();
                    all_coords.extend(
                        part.0
                            .iter()
                            .copied()
                            .filter(|c| c.x.is_finite() && c.y.is_finite()),
                    );
                    if all_coords.len() - start < 2 {
                        all_coords.truncate(start);
                        continue;
                    }
                    for c in &all_coords[start..] {
                        lon_sum += c.x;
                        lat_sum += c.y;
                    }
                    vertex_count += all_coords.len() - start;
                    lines.push(SourceLine {
                        feature,
                        class: class_id,
                        speed_kmh,
                        direction,
                        start,
                        end: all_coords.len(),
                    });
                }
                feature += 1;
            }
        }
        if skipped > 0 {
            warnings.push(format!(
                "{skipped} road features are not lines and were skipped"
            ));
        }
        if bad_speed > 0 {
            warnings.push(format!(
                "{bad_speed} road features have a speed_kmh that is not a positive number; \
                 their class speed is used"
            ));
        }
        let mut unknown: Vec<_> = unknown_classes.into_iter().collect();
        unknown.sort();
        for (class, n) in unknown {
            warnings.push(format!(
                "road class \"{class}\" ({n} features) is not in the speed table; \
                 using the default {} km/h",
                speeds.default_kmh()
            ));
        }
        if lines.is_empty() {
            return Err(AnalysisError::NoRoads(
                "no LineString or MultiLineString features".into(),
            ));
        }
        let n = vertex_count as f64;
        let projection = LocalProjection::new(lon_sum / n, lat_sum / n);

        // Cluster vertices and count how many line positions use each cluster.
        let mut snapper = VertexSnapper::new(vertex_count);
        let mut uses: Vec<u32> = Vec::with_capacity(vertex_count);
        let mut kept: Vec<Coord<f64>> = Vec::with_capacity(vertex_count);
        let mut kept_clusters: Vec<u32> = Vec::with_capacity(vertex_count);
        for line in &mut lines {
            let start = kept.len();
            for &c in &all_coords[line.start..line.end] {
                let id = snapper.cluster_of(projection.forward(c));
                // A repeated vertex is one position, not a junction with itself.
                if kept.len() > start && kept_clusters.last() == Some(&id) {
                    continue;
                }
                kept_clusters.push(id);
                kept.push(c);
                if uses.len() <= id as usize {
                    uses.resize(id as usize + 1, 0);
                }
                uses[id as usize] += 1;
            }
            line.start = start;
            line.end = kept.len();
        }
        drop(all_coords);

        let mut node_of_cluster: Vec<u32> = vec![u32::MAX; uses.len()];
        let mut nodes: Vec<Coord<f64>> = Vec::new();
        let mut edges: Vec<Edge> = Vec::new();
        let mut vertex_start: Vec<u32> = vec![0];
        let mut vertex_xy: Vec<[f64; 2]> = Vec::with_capacity(vertex_count + lines.len());
        let mut vertex_along_m: Vec<f64> = Vec::with_capacity(vertex_count + lines.len());
        for line in &lines {
            let coords = &kept[line.start..line.end];
            let clusters = &kept_clusters[line.start..line.end];
            if clusters.len() < 2 {
                continue;
            }
            let is_node =
                |i: usize| i == 0 || i + 1 == clusters.len() || uses[clusters[i] as usize] > 1;
            let mut node_id = |i: usize, nodes: &mut Vec<Coord<f64>>| {
                let cluster = clusters[i] as usize;
                if node_of_cluster[cluster] == u32::MAX {
                    node_of_cluster[cluster] = nodes.len() as u32;
                    nodes.push(coords[i]);
                }
                node_of_cluster[cluster]
            };
            let mut from = node_id(0, &mut nodes);
            let mut along = 0.0;
            vertex_xy.push(projection.forward(coords[0]));
            vertex_along_m.push(0.0);
            for i in 1..coords.len() {
                along += Haversine.distance(Point(coords[i - 1]), Point(coords[i]));
                vertex_xy.push(projection.forward(coords[i]));
                vertex_along_m.push(along);
                if is_node(i) {
                    let to = node_id(i, &mut nodes);
                    let time_s = along / (line.speed_kmh / 3.6);
                    edges.push(Edge {
                        from,
                        to,
                        length_m: along,
                        class: line.class,
                        speed_kmh: line.speed_kmh,
                        direction: line.direction,
                        feature: line.feature,
                        time_s,
                    });
                    vertex_start.push(vertex_xy.len() as u32);
                    from = to;
                    along = 0.0;
                    if i + 1 < coords.len() {
                        vertex_xy.push(projection.forward(coords[i]));
                        vertex_along_m.push(0.0);
                    }
                }
            }
        }

        let closed = vec![false; edges.len()];
        let mut graph = RoadGraph {
            nodes,
            edges,
            classes,
            projection,
            vertex_start,
            vertex_xy,
            vertex_along_m,
            arc_start: Vec::new(),
            arc_head: Vec::new(),
            arc_time_s: Vec::new(),
            arc_edge: Vec::new(),
            arc_forward: Vec::new(),
            closed,
        };
        graph.build_arcs();
        if let Some(w) = graph.component_warning() {
            warnings.push(w);
        }
        Ok((graph, warnings))
    }

    fn build_arcs(&mut self) {
        let n = self.nodes.len();
        let mut count = vec![0u32; n + 1];
        for e in &self.edges {
            if e.direction.forward() {
                count[e.from as usize + 1] += 1;
            }
            if e.direction.backward() {
                count[e.to as usize + 1] += 1;
            }
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let total = count[n] as usize;
        let mut fill = count.clone();
        let mut head = vec![0u32; total];
        let mut time = vec![0.0f64; total];
        let mut edge = vec![0u32; total];
        let mut forward = vec![false; total];
        for (id, e) in self.edges.iter().enumerate() {
            let mut put = |tail: u32, h: u32, along: bool| {
                let slot = fill[tail as usize] as usize;
                fill[tail as usize] += 1;
                head[slot] = h;
                time[slot] = e.time_s;
                edge[slot] = id as u32;
                forward[slot] = along;
            };
            if e.direction.forward() {
                put(e.from, e.to, true);
            }
            if e.direction.backward() {
                put(e.to, e.from, false);
            }
        }
        self.arc_start = count;
        self.arc_head = head;
        self.arc_time_s = time;
        self.arc_edge = edge;
        self.arc_forward = forward;
    }

    /// Counts connected parts (ignoring direction and closures); a warning when > 1.
    fn component_warning(&self) -> Option<String> {
        let mut parent: Vec<u32> = (0..self.nodes.len() as u32).collect();
        fn find(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                parent[x as usize] = parent[parent[x as usize] as usize];
                x = parent[x as usize];
            }
            x
        }
        for e in &self.edges {
            let a = find(&mut parent, e.from);
            let b = find(&mut parent, e.to);
            if a != b {
                parent[a as usize] = b;
            }
        }
        let mut sizes: HashMap<u32, usize> = HashMap::new();
        for x in 0..self.nodes.len() as u32 {
            *sizes.entry(find(&mut parent, x)).or_default() += 1;
        }
        if sizes.len() <= 1 {
            return None;
        }
        let mut sizes: Vec<usize> = sizes.into_values().collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let shown: Vec<String> = sizes.iter().take(10).map(|s| s.to_string()).collect();
        Some(format!(
            "road network has {} disconnected parts; nodes per part (largest first): {}{}",
            sizes.len(),
            shown.join(", "),
            if sizes.len() > 10 { ", ..." } else { "" }
        ))
    }

    /// Closes edges cut from the given features or touching the given areas (replacing
    /// earlier closures). Returns how many edges are now closed.
    pub fn set_closures(&mut self, closures: &Closures) -> usize {
        let mut count = 0;
        for (id, e) in self.edges.iter().enumerate() {
            let mut closed = closures.features.contains(&(e.feature as usize));
            if !closed && !closures.areas.is_empty() {
                let line = LineString::from(
                    self.edge_xy(id)
                        .iter()
                        .map(|p| self.projection.inverse(*p))
                        .collect::<Vec<_>>(),
                );
                closed = closures.areas.iter().any(|a| a.intersects(&line));
            }
            self.closed[id] = closed;
            count += usize::from(closed);
        }
        // Closed arcs keep their slot but can never be taken within any budget.
        for (slot, &e) in self.arc_edge.iter().enumerate() {
            self.arc_time_s[slot] = if self.closed[e as usize] {
                f64::INFINITY
            } else {
                self.edges[e as usize].time_s
            };
        }
        count
    }

    /// Is edge `e` closed?
    pub fn is_closed(&self, e: usize) -> bool {
        self.closed.get(e).copied().unwrap_or(true)
    }

    /// Projected vertices (metres) of edge `e`, from its first node to its last.
    pub fn edge_xy(&self, e: usize) -> &[[f64; 2]] {
        let (a, b) = (
            self.vertex_start[e] as usize,
            self.vertex_start[e + 1] as usize,
        );
        &self.vertex_xy[a..b]
    }

    /// Distance along edge `e` (metres) of each of its vertices.
    pub fn edge_along_m(&self, e: usize) -> &[f64] {
        let (a, b) = (
            self.vertex_start[e] as usize,
            self.vertex_start[e + 1] as usize,
        );
        &self.vertex_along_m[a..b]
    }

    /// Projected point (metres) at `along_m` metres along edge `e`.
    pub fn point_along(&self, e: usize, along_m: f64) -> [f64; 2] {
        let xy = self.edge_xy(e);
        let along = self.edge_along_m(e);
        let i = along
            .partition_point(|&a| a < along_m)
            .clamp(1, xy.len() - 1);
        let seg = along[i] - along[i - 1];
        let f = if seg > 0.0 {
            ((along_m - along[i - 1]) / seg).clamp(0.0, 1.0)
        } else {
            0.0
        };
        [
            xy[i - 1][0] + f * (xy[i][0] - xy[i - 1][0]),
            xy[i - 1][1] + f * (xy[i][1] - xy[i - 1][1]),
        ]
    }

    /// The part of edge `e` between `from_m` and `to_m` metres along it (projected metres).
    pub fn sub_polyline(&self, e: usize, from_m: f64, to_m: f64) -> Vec<[f64; 2]> {
        let along = self.edge_along_m(e);
        let xy = self.edge_xy(e);
        let mut out = vec![self.point_along(e, from_m)];
        for (i, &a) in along.iter().enumerate() {
            if a > from_m && a < to_m {
                out.push(xy[i]);
            }
        }
        out.push(self.point_along(e, to_m));
        out
    }

    /// Number of graph nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Outgoing arcs of `node`: (head node, travel time s (infinite when closed), edge id).
    pub fn arcs(&self, node: u32) -> impl Iterator<Item = (u32, f64, u32)> + '_ {
        let (a, b) = (
            self.arc_start[node as usize] as usize,
            self.arc_start[node as usize + 1] as usize,
        );
        (a..b).map(|i| (self.arc_head[i], self.arc_time_s[i], self.arc_edge[i]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{AttributeTable, Value};

    /// A road line for tests: class, oneway, lon/lat points.
    pub(crate) type TestLine<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

    /// A road layer from test lines.
    pub(crate) fn layer(lines: &[TestLine<'_>]) -> Layer {
        let mut attributes = AttributeTable::new();
        let mut geometries = Vec::new();
        for (class, oneway, pts) in lines {
            let class = Value::Text(class.to_string());
            let oneway = Value::Text(oneway.to_string());
            attributes.push_row([("highway", class.as_ref()), ("oneway", oneway.as_ref())]);
            geometries.push(Geometry::LineString(LineString::from(pts.clone())));
        }
        Layer {
            name: "roads".into(),
            source_index: (0..geometries.len() as u32).collect(),
            geometries,
            attributes,
            ..Layer::default()
        }
    }

    /// Degrees of latitude for `m` metres.
    pub(crate) fn deg(m: f64) -> f64 {
        m / EARTH_RADIUS_M.to_radians()
    }

    #[test]
    fn speed_table_edits_round_trip_through_json() {
        let mut table = SpeedTable::emergency_default();
        table.set("primary", 55.0).unwrap();
        table.set("default", 18.0).unwrap();
        assert!(table.set("secondary", f64::NAN).is_err());
        assert!(table.set("secondary", -3.0).is_err());
        let back = SpeedTable::from_json(&table.to_json()).unwrap();
        assert_eq!(back, table);
        assert_eq!(back.speed_kmh("primary"), 55.0);
        assert_eq!(back.speed_kmh("no_such_class"), 18.0);
        let classes = back.classes();
        assert!(classes.windows(2).all(|w| w[0].1 >= w[1].1));
    }

    #[test]
    fn speed_table_parses_and_falls_back() {
        let t = SpeedTable::from_json(r#"{"primary": 45, "default": 18}"#).unwrap();
        assert_eq!(t.speed_kmh("primary"), 45.0);
        assert_eq!(t.speed_kmh("track"), 18.0);
        assert!(SpeedTable::from_json("[1]").is_err());
        assert!(SpeedTable::from_json(r#"{"primary": "fast"}"#).is_err());
        assert!(SpeedTable::from_json(r#"{"primary": -3}"#).is_err());
        let d = SpeedTable::emergency_default();
        assert_eq!(d.speed_kmh("secondary"), 35.0);
        assert_eq!(d.default_kmh(), 20.0);
    }

    #[test]
    fn shared_vertices_mid_line_become_nodes_but_crossings_do_not() {
        let d = deg(100.0);
        // A horizontal road through (d, 0); a vertical road sharing that vertex mid-line;
        // a third road crossing the horizontal one at (2.5d, 0) without a shared vertex.
        let l = layer(&[
            ("primary", "", vec![(0.0, 0.0), (d, 0.0), (3.0 * d, 0.0)]),
            ("primary", "", vec![(d, -d), (d + 1e-7, 0.0), (d, d)]),
            ("bridge", "", vec![(2.5 * d, -d), (2.5 * d, d)]),
        ]);
        let (g, warnings) = RoadGraph::build(&[&l], &SpeedTable::default()).unwrap();
        // Nodes: 0,0 / d,0 / 3d,0 / d,-d / d,d / 2.5d,-d / 2.5d,d
        assert_eq!(g.node_count(), 7);
        assert_eq!(g.edges.len(), 5);
        assert!(warnings.iter().any(|w| w.contains("2 disconnected parts")));
        assert!(warnings.iter().any(|w| w.contains("\"bridge\"")));
        let e0 = &g.edges[0];
        assert!((e0.length_m - 100.0).abs() < 0.1, "{}", e0.length_m);
        assert!((e0.time_s - 100.0 / (40.0 / 3.6)).abs() < 0.01);
    }

    #[test]
    fn vertices_merge_within_half_a_metre_across_cell_borders() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut snapper = VertexSnapper::new(16);
        let mut points: Vec<[f64; 2]> = Vec::new();
        for _ in 0..3000 {
            // Half the points land within 0.6 m of an earlier one, in any direction.
            let q = match points.len() {
                n if n > 0 && rng.random_bool(0.5) => {
                    let p = points[rng.random_range(0..n)];
                    let angle: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                    let d = rng.random_range(0.0..0.6);
                    [p[0] + d * angle.cos(), p[1] + d * angle.sin()]
                }
                _ => [rng.random_range(-30.0..30.0), rng.random_range(-30.0..30.0)],
            };
            points.push(q);
            // Brute force: is any existing cluster within the tolerance?
            let existing = snapper.cluster_xy.len();
            let any_near = snapper
                .cluster_xy
                .iter()
                .any(|c| (c[0] - q[0]).hypot(c[1] - q[1]) <= NODE_TOLERANCE_M);
            let id = snapper.cluster_of(q) as usize;
            if any_near {
                assert!(id < existing, "a cluster within 0.5 m was missed");
                let c = snapper.cluster_xy[id];
                assert!((c[0] - q[0]).hypot(c[1] - q[1]) <= NODE_TOLERANCE_M);
            } else {
                assert_eq!(id, existing);
            }
        }
        let mut snapper = VertexSnapper::new(16);
        for k in 0..500 {
            // Points on a line 0.6 m apart never merge.
            let p = [k as f64 * 0.6 - 150.0, 0.37];
            assert_eq!(snapper.cluster_of(p), k);
        }
    }

    #[test]
    fn oneway_values_give_arcs_one_way() {
        let d = deg(100.0);
        let l = layer(&[
            ("primary", "yes", vec![(0.0, 0.0), (d, 0.0)]),
            ("primary", "-1", vec![(d, 0.0), (2.0 * d, 0.0)]),
        ]);
        let (g, _) = RoadGraph::build(&[&l], &SpeedTable::default()).unwrap();
        assert_eq!(g.arcs(0).count(), 1);
        assert_eq!(g.arcs(1).count(), 0);
        assert_eq!(g.arcs(2).count(), 1);
    }

    #[test]
    fn closures_by_feature_and_area() {
        let d = deg(100.0);
        let l = layer(&[
            ("primary", "", vec![(0.0, 0.0), (d, 0.0)]),
            ("primary", "", vec![(d, 0.0), (2.0 * d, 0.0)]),
        ]);
        let (mut g, _) = RoadGraph::build(&[&l], &SpeedTable::default()).unwrap();
        let mut c = Closures::default();
        c.features.insert(0);
        assert_eq!(g.set_closures(&c), 1);
        assert!(g.is_closed(0) && !g.is_closed(1));
        let c = Closures {
            features: HashSet::new(),
            areas: vec![Polygon::new(
                LineString::from(vec![
                    (1.5 * d, -d),
                    (1.7 * d, -d),
                    (1.7 * d, d),
                    (1.5 * d, d),
                ]),
                vec![],
            )],
        };
        assert_eq!(g.set_closures(&c), 1);
        assert!(!g.is_closed(0) && g.is_closed(1));
    }

    #[test]
    fn no_lines_is_an_error() {
        let l = Layer::default();
        assert!(RoadGraph::build(&[&l], &SpeedTable::default()).is_err());
    }
}
