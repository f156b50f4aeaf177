//! The index of a layer with lines, polygons or mixed geometry: an rstar R-tree over each
//! feature's lon/lat bounding box, searched best-first with spherical lower bounds.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use geo::{CoordsIter, Geometry};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, ParentNode, RTree, RTreeNode, RTreeObject};

use super::sphere::Origin;

/// A feature's bounding box with its index in the layer.
type BoxItem = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// R-tree of feature bounding boxes.
#[derive(Debug, Clone)]
pub struct BoxTree {
    tree: RTree<BoxItem>,
}

impl BoxTree {
    /// Indexes every geometry with a finite bounding box (empty ones are left out).
    pub fn build(geometries: &[Geometry<f64>]) -> BoxTree {
        let items: Vec<BoxItem> = geometries
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let (min, max) = coords_box(g)?;
                let id = u32::try_from(i).ok()?;
                Some(GeomWithData::new(Rectangle::from_corners(min, max), id))
            })
            .collect();
        BoxTree {
            tree: RTree::bulk_load(items),
        }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// Calls `visit(id)` for every feature whose bounding box meets the degree box.
    pub fn visit_in_box(&self, query: [f64; 4], visit: &mut impl FnMut(u32)) {
        if query.iter().any(|v| v.is_nan()) || query[0] > query[2] || query[1] > query[3] {
            return;
        }
        let envelope = AABB::from_corners([query[0], query[1]], [query[2], query[3]]);
        for item in self.tree.locate_in_envelope_intersecting(&envelope) {
            visit(item.data);
        }
    }

    /// Features within haversine value `max_hav` of the origin, as (id, haversine value).
    pub fn within(
        &self,
        geometries: &[Geometry<f64>],
        origin: &Origin,
        radius_m: f64,
        max_hav: f64,
    ) -> Vec<(u32, f64)> {
        let mut found = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let boxes = origin.boxes_within(radius_m);
        let several = boxes.as_slice().len() > 1;
        for b in boxes.as_slice() {
            self.visit_in_box(*b, &mut |id| {
                // A feature whose box spans both sides of the antimeridian meets both boxes.
                if several && !seen.insert(id) {
                    return;
                }
                let Some(geometry) = geometries.get(id as usize) else {
                    return;
                };
                let a = origin.geometry_hav(geometry);
                if a <= max_hav {
                    found.push((id, a));
                }
            });
        }
        found
    }

    /// The `k` features nearest the origin as (id, haversine value), nearest first: a
    /// best-first walk where boxes are keyed by a lower bound and features by their exact
    /// value, so a feature popped from the queue is final.
    pub fn nearest(
        &self,
        geometries: &[Geometry<f64>],
        origin: &Origin,
        k: usize,
    ) -> Vec<(u32, f64)> {
        let mut out = Vec::new();
        if k == 0 || self.tree.size() == 0 {
            return out;
        }
        let mut queue: BinaryHeap<Queued<'_>> = BinaryHeap::new();
        queue.push(Queued {
            key: 0.0,
            entry: Entry::Node(self.tree.root()),
        });
        while let Some(Queued { key, entry }) = queue.pop() {
            match entry {
                Entry::Node(node) => {
                    for child in node.children() {
                        let (key, entry) = match child {
                            RTreeNode::Parent(p) => (bound(origin, &p.envelope()), Entry::Node(p)),
                            RTreeNode::Leaf(item) => {
                                (bound(origin, &item.envelope()), Entry::Box(item.data))
                            }
                        };
                        queue.push(Queued { key, entry });
                    }
                }
                Entry::Box(id) => {
                    if let Some(geometry) = geometries.get(id as usize) {
                        let a = origin.geometry_hav(geometry);
                        if a.is_finite() {
                            queue.push(Queued {
                                key: a,
                                entry: Entry::Feature(id),
                            });
                        }
                    }
                }
                Entry::Feature(id) => {
                    out.push((id, key));
                    if out.len() == k {
                        break;
                    }
                }
            }
        }
        out
    }
}

/// Box of every coordinate, holes included (geo's `bounding_rect` skips holes, and a broken
/// polygon's hole can lie outside its exterior yet count for distance). None when empty or
/// not finite.
pub fn coords_box(g: &Geometry<f64>) -> Option<([f64; 2], [f64; 2])> {
    let mut min = [f64::INFINITY; 2];
    let mut max = [f64::NEG_INFINITY; 2];
    for c in g.coords_iter() {
        if !c.x.is_finite() || !c.y.is_finite() {
            return None;
        }
        min = [min[0].min(c.x), min[1].min(c.y)];
        max = [max[0].max(c.x), max[1].max(c.y)];
    }
    (min[0] <= max[0]).then_some((min, max))
}

fn bound(origin: &Origin, envelope: &AABB<[f64; 2]>) -> f64 {
    origin.hav_lower_bound_box(envelope.lower(), envelope.upper())
}

enum Entry<'a> {
    Node(&'a ParentNode<BoxItem>),
    /// A feature whose exact distance is not computed yet.
    Box(u32),
    Feature(u32),
}

impl Entry<'_> {
    /// At equal keys, exact features come out first (nearest-first ties then break by id).
    fn rank(&self) -> (u8, u32) {
        match self {
            Entry::Feature(id) => (0, *id),
            Entry::Box(id) => (1, *id),
            Entry::Node(_) => (2, 0),
        }
    }
}

struct Queued<'a> {
    key: f64,
    entry: Entry<'a>,
}

impl PartialEq for Queued<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued<'_> {}

impl PartialOrd for Queued<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued<'_> {
    /// Reversed, so that std's max-heap pops the smallest key.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .total_cmp(&self.key)
            .then_with(|| other.entry.rank().cmp(&self.entry.rank()))
    }
}
