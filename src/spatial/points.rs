//! The index of a layer made only of points: a static k-d tree over lon/lat degrees. The
//! points sit in one array, each node a range of it split at its middle by a median
//! selection; the split values live apart in heap order (node n has children 2n and 2n+1),
//! so a descent reads a small, cache-resident array and only the leaves touch the points.
//! About 28 bytes a point; one selection pass per level to build.

use std::collections::BinaryHeap;

use super::sphere::Origin;

/// Nodes with at most this many points are scanned rather than split.
const LEAF_SIZE: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Item {
    lon: f64,
    lat: f64,
    id: u32,
}

impl Item {
    #[inline]
    fn coord(&self, axis: u8) -> f64 {
        if axis == 0 { self.lon } else { self.lat }
    }
}

/// Box as [min lon, min lat, max lon, max lat].
type DegBox = [f64; 4];

/// Static k-d tree over point features.
#[derive(Debug, Clone)]
pub struct PointTree {
    items: Vec<Item>,
    /// Split value of each internal node, by heap index (1 is the root).
    splits: Vec<f64>,
    /// Split axis of each internal node (0 = lon, 1 = lat).
    axes: Vec<u8>,
    root_box: DegBox,
    /// Smallest cos(latitude) of any point: bounds how short a degree of longitude gets.
    cos_lat_min: f64,
}

impl PointTree {
    /// Builds the tree from (feature index, lon, lat); longitudes must be in [-180, 180] and
    /// latitudes in [-90, 90] (the caller folds or drops others).
    pub fn build(points: Vec<(u32, f64, f64)>) -> PointTree {
        let mut items: Vec<Item> = points
            .into_iter()
            .map(|(id, lon, lat)| Item { lon, lat, id })
            .collect();
        let mut root_box = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for it in &items {
            root_box[0] = root_box[0].min(it.lon);
            root_box[1] = root_box[1].min(it.lat);
            root_box[2] = root_box[2].max(it.lon);
            root_box[3] = root_box[3].max(it.lat);
        }
        let cos_lat_min = if items.is_empty() {
            1.0
        } else {
            root_box[1]
                .abs()
                .max(root_box[3].abs())
                .to_radians()
                .cos()
                .max(0.0)
        };
        // Splitting the wider side in metres keeps cells square on the ground.
        let scale_x = if items.is_empty() {
            1.0
        } else {
            (0.5 * (root_box[1] + root_box[3]))
                .to_radians()
                .cos()
                .max(0.01)
        };
        let slots = 4 * (items.len() / LEAF_SIZE + 1);
        let mut nodes = Nodes {
            splits: vec![0.0; slots],
            axes: vec![0; slots],
            scale_x,
        };
        nodes.build(&mut items, 1, root_box);
        PointTree {
            items,
            splits: nodes.splits,
            axes: nodes.axes,
            root_box,
            cos_lat_min,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Bytes held by the tree.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Item>()
            + self.splits.capacity() * std::mem::size_of::<f64>()
            + self.axes.capacity()
    }

    /// Calls `visit(id, lon, lat)` for every point inside the degree box (edges included).
    pub fn visit_in_box(&self, query: DegBox, visit: &mut impl FnMut(u32, f64, f64)) {
        if query.iter().any(|v| v.is_nan()) {
            return;
        }
        self.visit_range(0, self.items.len(), 1, &query, visit);
    }

    /// Visits the points of node `node` (items `lo..hi`) that lie in the box `q`.
    fn visit_range(
        &self,
        lo: usize,
        hi: usize,
        node: usize,
        q: &DegBox,
        visit: &mut impl FnMut(u32, f64, f64),
    ) {
        if hi - lo <= LEAF_SIZE {
            for it in &self.items[lo..hi] {
                if it.lon >= q[0] && it.lon <= q[2] && it.lat >= q[1] && it.lat <= q[3] {
                    visit(it.id, it.lon, it.lat);
                }
            }
            return;
        }
        let m = lo + (hi - lo) / 2;
        let a = usize::from(self.axes[node]);
        let split = self.splits[node];
        if q[a] <= split {
            self.visit_range(lo, m, 2 * node, q, visit);
        }
        if q[2 + a] >= split {
            self.visit_range(m, hi, 2 * node + 1, q, visit);
        }
    }

    /// Points within haversine value `max_hav` of the origin, as (id, haversine value).
    pub fn within(&self, origin: &Origin, radius_m: f64, max_hav: f64) -> Vec<(u32, f64)> {
        let mut found = Vec::new();
        for b in origin.boxes_within(radius_m).as_slice() {
            self.visit_range(0, self.items.len(), 1, b, &mut |id, lon, lat| {
                let a = origin.hav(lon, lat);
                if a <= max_hav {
                    found.push((id, a));
                }
            });
        }
        found
    }

    /// The `k` points nearest the origin as (id, haversine value), nearest first.
    pub fn nearest(&self, origin: &Origin, k: usize) -> Vec<(u32, f64)> {
        if k == 0 || self.items.is_empty() {
            return Vec::new();
        }
        let mut search = NearestSearch {
            tree: self,
            origin,
            cos_lat_min: self.cos_lat_min,
            window_for: f64::INFINITY,
            max_lat_gap: f64::INFINITY,
            max_lon_gap: f64::INFINITY,
        };
        if k == 1 {
            let mut best = Best1 {
                hav: f64::INFINITY,
                id: 0,
            };
            search.visit(0, self.items.len(), 1, self.root_box, &mut best);
            return vec![(best.id, best.hav)];
        }
        let mut best = KBest::new(k.min(self.items.len()));
        search.visit(0, self.items.len(), 1, self.root_box, &mut best);
        best.into_sorted()
    }
}

/// Split values being filled in during the build.
struct Nodes {
    splits: Vec<f64>,
    axes: Vec<u8>,
    scale_x: f64,
}

impl Nodes {
    fn build(&mut self, items: &mut [Item], node: usize, node_box: DegBox) {
        if items.len() <= LEAF_SIZE {
            return;
        }
        let axis: u8 = if (node_box[2] - node_box[0]) * self.scale_x >= node_box[3] - node_box[1] {
            0
        } else {
            1
        };
        let m = items.len() / 2;
        items.select_nth_unstable_by(m, |a, b| a.coord(axis).total_cmp(&b.coord(axis)));
        let split = items[m].coord(axis);
        if node >= self.splits.len() {
            self.splits.resize(node + 1, 0.0);
            self.axes.resize(node + 1, 0);
        }
        self.splits[node] = split;
        self.axes[node] = axis;
        let (left_box, right_box) = split_box(node_box, axis, split);
        let (left, right) = items.split_at_mut(m);
        self.build(left, 2 * node, left_box);
        self.build(right, 2 * node + 1, right_box);
    }
}

#[inline]
fn split_box(b: DegBox, axis: u8, split: f64) -> (DegBox, DegBox) {
    let a = usize::from(axis);
    let mut left = b;
    let mut right = b;
    left[2 + a] = split;
    right[a] = split;
    (left, right)
}

/// Candidate ordered by haversine value, then id, so that ties resolve the same way always.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    hav: f64,
    id: u32,
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.hav
            .total_cmp(&other.hav)
            .then_with(|| self.id.cmp(&other.id))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What a nearest search collects.
trait Collector {
    /// Haversine value a point must beat to get in.
    fn worst(&self) -> f64;
    fn offer(&mut self, hav: f64, id: u32);
}

/// The single best candidate (ties go to the lower id, as in `KBest`).
struct Best1 {
    hav: f64,
    id: u32,
}

impl Collector for Best1 {
    #[inline]
    fn worst(&self) -> f64 {
        self.hav
    }

    #[inline]
    fn offer(&mut self, hav: f64, id: u32) {
        if hav < self.hav || (hav == self.hav && id < self.id) {
            self.hav = hav;
            self.id = id;
        }
    }
}

/// The k best candidates seen so far (a max-heap, so the worst is on top).
struct KBest {
    k: usize,
    heap: BinaryHeap<Candidate>,
    worst: f64,
}

impl KBest {
    fn new(k: usize) -> KBest {
        KBest {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
            worst: f64::INFINITY,
        }
    }

    fn into_sorted(self) -> Vec<(u32, f64)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| (c.id, c.hav))
            .collect()
    }
}

impl Collector for KBest {
    #[inline]
    fn worst(&self) -> f64 {
        self.worst
    }

    #[inline]
    fn offer(&mut self, hav: f64, id: u32) {
        if self.heap.len() < self.k {
            self.heap.push(Candidate { hav, id });
            if self.heap.len() == self.k {
                self.worst = self.heap.peek().map_or(f64::INFINITY, |c| c.hav);
            }
        } else if hav < self.worst {
            if let Some(mut top) = self.heap.peek_mut() {
                *top = Candidate { hav, id };
            }
            self.worst = self.heap.peek().map_or(f64::INFINITY, |c| c.hav);
        }
    }
}

struct NearestSearch<'a> {
    tree: &'a PointTree,
    origin: &'a Origin,
    cos_lat_min: f64,
    /// The worst value the degree window below was computed for.
    window_for: f64,
    /// Degrees beyond which a point cannot beat the current worst: a cheap test that
    /// spares most of the exact haversine evaluations.
    max_lat_gap: f64,
    max_lon_gap: f64,
}

impl NearestSearch<'_> {
    /// Lower bound of the haversine value to a node box. Tree longitudes lie in
    /// [-180, 180] and the origin's in [-180, 180), so the wrap needs no division.
    #[inline]
    fn bound(&self, b: &DegBox) -> f64 {
        let o = self.origin;
        let lat_gap = (b[1] - o.lat).max(o.lat - b[3]).max(0.0);
        let lon_gap = if o.lon < b[0] {
            (b[0] - o.lon).min(360.0 - (b[2] - o.lon))
        } else if o.lon > b[2] {
            (o.lon - b[2]).min(360.0 - (o.lon - b[0]))
        } else {
            0.0
        };
        o.hav_lower_bound(lat_gap, lon_gap.max(0.0), self.cos_lat_min)
    }

    fn update_window(&mut self, worst: f64) {
        self.window_for = worst;
        let angle_deg = |s: f64| {
            if s < 1.0 {
                (2.0 * s.asin()).to_degrees() * (1.0 + 1e-9) + 1e-12
            } else {
                f64::INFINITY
            }
        };
        // hav >= sin²(Δφ/2) and hav >= cos φ0 · cos_lat_min · sin²(Δλ/2).
        self.max_lat_gap = angle_deg(worst.sqrt());
        let c = self.origin.cos_lat * self.cos_lat_min;
        self.max_lon_gap = if c > 0.0 {
            angle_deg((worst / c).sqrt())
        } else {
            f64::INFINITY
        };
    }

    #[inline]
    fn consider(&mut self, it: &Item, best: &mut impl Collector) {
        let worst = best.worst();
        if worst != self.window_for {
            self.update_window(worst);
        }
        let lat_gap = (it.lat - self.origin.lat).abs();
        let mut lon_gap = (it.lon - self.origin.lon).abs();
        if lon_gap > 180.0 {
            lon_gap = 360.0 - lon_gap;
        }
        if lat_gap <= self.max_lat_gap && lon_gap <= self.max_lon_gap {
            best.offer(self.origin.hav(it.lon, it.lat), it.id);
        }
    }

    fn visit(
        &mut self,
        lo: usize,
        hi: usize,
        node: usize,
        node_box: DegBox,
        best: &mut impl Collector,
    ) {
        let tree = self.tree;
        if hi - lo <= LEAF_SIZE {
            for it in &tree.items[lo..hi] {
                self.consider(it, best);
            }
            return;
        }
        let m = lo + (hi - lo) / 2;
        let axis = tree.axes[node];
        let split = tree.splits[node];
        let (left_box, right_box) = split_box(node_box, axis, split);
        let here = if axis == 0 {
            self.origin.lon
        } else {
            self.origin.lat
        };
        let left = (lo, m, 2 * node, left_box);
        let right = (m, hi, 2 * node + 1, right_box);
        let (near, far) = if here < split {
            (left, right)
        } else {
            (right, left)
        };
        // The near side holds the origin's projection onto the split, so bounding it
        // rarely prunes anything: descend straight away.
        self.visit(near.0, near.1, near.2, near.3, best);
        if self.bound(&far.3) < best.worst() {
            self.visit(far.0, far.1, far.2, far.3, best);
        }
    }
}
