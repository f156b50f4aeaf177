//! Station siting: choose k new stations from candidates to cover the most demand within a
//! time budget, existing stations fixed (the maximal covering location problem, MCLP).
//!
//! Covered means what it means in coverage: within `access_m` of a road position reached
//! within the budget (turnout + driving), found by one cut-off reach per candidate and an
//! [`AccessIndex`] built once. The choice is a branch and bound whose first dive is the
//! greedy solution and whose bound is the submodular one (value so far + the best remaining
//! marginal gains), taken at its least along each node's greedy completion and capped by
//! the weight left. Candidates whose covered set lies inside another's are dropped first.
//! It is exact when it finishes within the node budget (`optimal`); else the best solution
//! found is returned with a proven upper bound and the relative gap. Highly overlapping
//! candidates (a fine grid) are where it can stop short: the greedy answer is then within
//! the reported gap, and never worse than (1 - 1/e) of the optimum.

use geo::{Coord, Rect};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::analysis::coverage::{AccessIndex, DemandPoint, Share};
use crate::analysis::reach::{Snap, SnapIndex, Station, reach};
use crate::analysis::road_graph::RoadGraph;

/// Default search budget: branch-and-bound nodes before settling for a proven gap.
pub const DEFAULT_MAX_NODES: u64 = 100_000;

/// Options of a siting run.
#[derive(Debug, Clone, PartialEq)]
pub struct SitingOptions {
    /// How many new stations to choose.
    pub k: usize,
    /// The band, minutes, turnout included (default 5).
    pub minutes: f64,
    /// Turnout time, seconds (default 60).
    pub turnout_s: f64,
    /// How far from a reached road a place counts as covered, metres (default 100).
    pub access_m: f64,
    /// Candidates farther than this from every open road are not used (default 500 m).
    pub max_snap_m: f64,
    /// Branch-and-bound nodes before the search stops with a gap.
    pub max_nodes: u64,
}

impl Default for SitingOptions {
    fn default() -> Self {
        SitingOptions {
            k: 1,
            minutes: 5.0,
            turnout_s: 60.0,
            access_m: 100.0,
            max_snap_m: 500.0,
            max_nodes: DEFAULT_MAX_NODES,
        }
    }
}

/// One chosen site.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenSite {
    /// Index into the candidates given.
    pub candidate: usize,
    /// Demand weight it adds, given the existing stations and the sites listed before it.
    pub gain: f64,
}

/// The outcome of a siting run.
#[derive(Debug, Clone, PartialEq)]
pub struct SitingResult {
    /// Demand covered by the existing stations.
    pub before: Share,
    /// Demand covered with the chosen sites added.
    pub after: Share,
    /// In order of choice: each gain is marginal to the ones before it.
    pub sites: Vec<ChosenSite>,
    /// The search finished: no k candidates cover more.
    pub optimal: bool,
    /// Proven bound on the newly covered weight of any k candidates.
    pub upper_bound: f64,
    /// `(upper_bound - found) / upper_bound`, 0 when optimal.
    pub gap: f64,
    /// Branch-and-bound nodes visited.
    pub nodes: u64,
    /// Candidates not used, and why.
    pub warnings: Vec<String>,
}

/// The places each candidate covers, and those the existing stations cover.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageSets {
    /// Places covered by the existing stations (sorted).
    pub existing: Vec<u32>,
    /// Per candidate, the places it covers alone (sorted); `None` when it did not snap.
    pub candidates: Vec<Option<Vec<u32>>>,
}

/// Runs one cut-off reach for the existing stations together and one per candidate, and
/// lists the places (of `index`) each covers within `limit_s` total time.
pub fn coverage_sets(
    graph: &RoadGraph,
    index: &AccessIndex,
    existing: &[Option<Snap>],
    candidates: &[Option<Snap>],
    turnout_s: f64,
    limit_s: f64,
) -> CoverageSets {
    let covered_by = |snaps: &[Option<Snap>]| {
        let reached = reach(graph, snaps, turnout_s, limit_s);
        index.covered_places(graph, &reached, limit_s)
    };
    let existing = if existing.iter().any(Option::is_some) {
        covered_by(existing)
    } else {
        Vec::new()
    };
    let candidates = candidates
        .iter()
        .map(|snap| snap.map(|s| covered_by(&[Some(s)])))
        .collect();
    CoverageSets {
        existing,
        candidates,
    }
}

/// Candidates on a regular grid: for every grid point `spacing_m` apart over `extent`
/// (lon/lat), the nearest graph node with an open road out of it, if within `spacing_m`;
/// each node once. Ids are the 0-based index in the returned list. `None` when the grid
/// would have more than `max_points` points.
pub fn grid_candidates(
    graph: &RoadGraph,
    extent: Rect<f64>,
    spacing_m: f64,
    max_points: usize,
) -> Option<Vec<Station>> {
    if !(spacing_m.is_finite() && spacing_m > 0.0) {
        return None;
    }
    let lo = graph.projection.forward(extent.min());
    let hi = graph.projection.forward(extent.max());
    let columns = ((hi[0] - lo[0]) / spacing_m).floor() + 1.0;
    let rows = ((hi[1] - lo[1]) / spacing_m).floor() + 1.0;
    if !(columns.is_finite() && rows.is_finite()) || columns * rows > max_points as f64 {
        return None;
    }
    let usable: Vec<GeomWithData<[f64; 2], u32>> = (0..graph.node_count() as u32)
        .filter(|&n| graph.arcs(n).any(|(_, t, _)| t.is_finite()))
        .map(|n| GeomWithData::new(graph.projection.forward(graph.nodes[n as usize]), n))
        .collect();
    let tree = RTree::bulk_load(usable);
    let mut taken = vec![false; graph.node_count()];
    let mut out = Vec::new();
    // Centre the grid on the extent so both edges get the same margin.
    let x0 = lo[0] + ((hi[0] - lo[0]) - (columns - 1.0) * spacing_m) / 2.0;
    let y0 = lo[1] + ((hi[1] - lo[1]) - (rows - 1.0) * spacing_m) / 2.0;
    for i in 0..columns as usize {
        for j in 0..rows as usize {
            let q = [x0 + i as f64 * spacing_m, y0 + j as f64 * spacing_m];
            let Some((node, d2)) = tree
                .nearest_neighbor_iter_with_distance_2(&q)
                .next()
                .map(|(n, d2)| (n.data, d2))
            else {
                continue;
            };
            if d2 > spacing_m * spacing_m || taken[node as usize] {
                continue;
            }
            taken[node as usize] = true;
            out.push(Station {
                id: out.len().to_string(),
                position: graph.nodes[node as usize],
            });
        }
    }
    Some(out)
}

/// Chooses up to `options.k` of `candidates` (those with `allowed[i]`; all when `allowed`
/// is shorter) to cover the most `demand` weight not already covered by the `existing`
/// snapped stations. Negative weights count as 0.
pub fn site(
    graph: &RoadGraph,
    snap_index: &SnapIndex,
    existing: &[Option<Snap>],
    candidates: &[Station],
    allowed: &[bool],
    demand: &[DemandPoint],
    options: &SitingOptions,
) -> SitingResult {
    let mut warnings = Vec::new();
    let places: Vec<Coord<f64>> = demand.iter().map(|d| d.position).collect();
    let weights: Vec<f64> = demand.iter().map(|d| d.weight.max(0.0)).collect();
    let limit_s = if options.minutes.is_finite() {
        options.minutes.max(0.0) * 60.0
    } else {
        0.0
    };
    let index = AccessIndex::new(graph, &places, options.access_m);
    let candidate_snaps: Vec<Option<Snap>> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if !allowed.get(i).copied().unwrap_or(true) {
                return None;
            }
            let snap = snap_index.snap(graph, c.position, options.max_snap_m);
            if snap.is_none() {
                warnings.push(format!(
                    "candidate {}: no open road within {} m; not used",
                    c.id, options.max_snap_m
                ));
            }
            snap
        })
        .collect();
    let sets = coverage_sets(
        graph,
        &index,
        existing,
        &candidate_snaps,
        options.turnout_s,
        limit_s,
    );
    let mut already = vec![false; places.len()];
    for &p in &sets.existing {
        already[p as usize] = true;
    }
    let usable: Vec<bool> = sets.candidates.iter().map(Option::is_some).collect();
    let lists: Vec<Vec<u32>> = sets
        .candidates
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    let solution = max_cover(
        &lists,
        &weights,
        &already,
        &usable,
        options.k,
        options.max_nodes,
    );
    let total: f64 = weights.iter().sum();
    let before: f64 = sets.existing.iter().map(|&p| weights[p as usize]).sum();
    let added: f64 = solution.sites.iter().map(|s| s.gain).sum();
    if solution.sites.len() < options.k {
        warnings.push(format!(
            "only {} usable candidates for k = {}",
            solution.sites.len(),
            options.k
        ));
    }
    SitingResult {
        before: Share::new(before, total),
        after: Share::new(before + added, total),
        sites: solution.sites,
        optimal: solution.optimal,
        upper_bound: solution.upper_bound,
        gap: solution.gap,
        nodes: solution.nodes,
        warnings,
    }
}

/// A solved maximal covering instance.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxCover {
    /// The chosen sets in greedy order over the chosen ones, with their marginal gains;
    /// padded with zero-gain usable sets up to k when no more can be gained.
    pub sites: Vec<ChosenSite>,
    /// Total weight newly covered.
    pub value: f64,
    /// Proven upper bound on the value of any k usable sets.
    pub upper_bound: f64,
    pub gap: f64,
    pub optimal: bool,
    pub nodes: u64,
}

/// Chooses up to `k` of the `sets` (lists of place indexes; only those with `usable[i]`,
/// all when `usable` is shorter) maximising the weight of places covered that are not
/// `already` covered. Weights must be >= 0 (negative ones count as 0).
pub fn max_cover(
    sets: &[Vec<u32>],
    weights: &[f64],
    already: &[bool],
    usable: &[bool],
    k: usize,
    max_nodes: u64,
) -> MaxCover {
    let weight_of = |p: u32| weights.get(p as usize).copied().unwrap_or(0.0).max(0.0);
    let open = |p: u32| !already.get(p as usize).copied().unwrap_or(false) && weight_of(p) > 0.0;
    let is_usable = |i: usize| usable.get(i).copied().unwrap_or(true);
    // Compact the places that can still be gained, and drop sets that gain nothing.
    let mut compact = vec![u32::MAX; weights.len()];
    let mut compact_weight = Vec::new();
    let mut reduced: Vec<(usize, Vec<u32>)> = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        if !is_usable(i) {
            continue;
        }
        let mut list = Vec::new();
        for &p in set {
            if (p as usize) < weights.len() && open(p) {
                if compact[p as usize] == u32::MAX {
                    compact[p as usize] = compact_weight.len() as u32;
                    compact_weight.push(weight_of(p));
                }
                list.push(compact[p as usize]);
            }
        }
        list.sort_unstable();
        list.dedup();
        if !list.is_empty() {
            reduced.push((i, list));
        }
    }
    let kept = drop_dominated(reduced);
    let mut search = Search::new(&kept, compact_weight, k, max_nodes);
    search.run();
    let chosen: Vec<usize> = search
        .best_chosen
        .iter()
        .map(|&c| kept[c as usize].0)
        .collect();
    let (upper_bound, optimal, nodes) = (search.upper_bound(), !search.aborted, search.nodes);
    let sites = order_by_gain(sets, &chosen, weights, already, usable, k);
    // The gains recomputed from the sets are exact; the search's running sums may round.
    let value = sites.iter().map(|s| s.gain).sum::<f64>().max(0.0);
    let upper_bound = if optimal {
        value
    } else {
        upper_bound.max(value)
    };
    let gap = if upper_bound > 0.0 {
        ((upper_bound - value) / upper_bound).max(0.0)
    } else {
        0.0
    };
    MaxCover {
        sites,
        value,
        upper_bound,
        gap,
        optimal,
        nodes,
    }
}

/// Removes every set contained in another (of equal sets, all but the first): some
/// optimal choice never needs it.
fn drop_dominated(mut sets: Vec<(usize, Vec<u32>)>) -> Vec<(usize, Vec<u32>)> {
    // Larger sets first, so a set can only be contained in one before it.
    sets.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut kept: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    for (i, set) in sets {
        // Only kept sets holding the first place can contain this one.
        let first = set[0] as usize;
        let contained = members.get(first).is_some_and(|holders| {
            holders
                .iter()
                .any(|&h| is_subset(&set, &kept[h as usize].1))
        });
        if contained {
            continue;
        }
        let id = kept.len() as u32;
        for &p in &set {
            if members.len() <= p as usize {
                members.resize(p as usize + 1, Vec::new());
            }
            members[p as usize].push(id);
        }
        kept.push((i, set));
    }
    kept
}

/// Is sorted `a` contained in sorted `b`?
fn is_subset(a: &[u32], b: &[u32]) -> bool {
    if a.len() > b.len() {
        return false;
    }
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            return false;
        }
        j += 1;
    }
    true
}

/// Orders the chosen sets greedily (largest marginal gain first) with exact gains, and
/// pads with other usable sets (gain 0 or more) up to k.
fn order_by_gain(
    sets: &[Vec<u32>],
    chosen: &[usize],
    weights: &[f64],
    already: &[bool],
    usable: &[bool],
    k: usize,
) -> Vec<ChosenSite> {
    let mut covered: Vec<bool> = (0..weights.len())
        .map(|p| already.get(p).copied().unwrap_or(false))
        .collect();
    let gain = |i: usize, covered: &[bool]| -> f64 {
        let mut list = sets[i].clone();
        list.sort_unstable();
        list.dedup();
        list.iter()
            .filter(|&&p| (p as usize) < covered.len() && !covered[p as usize])
            .map(|&p| weights[p as usize].max(0.0))
            .sum()
    };
    let mut left: Vec<usize> = chosen.to_vec();
    let mut out = Vec::new();
    let pad: Vec<usize> = (0..sets.len())
        .filter(|i| usable.get(*i).copied().unwrap_or(true) && !chosen.contains(i))
        .collect();
    let mut pad = pad.into_iter();
    while out.len() < k {
        let next = if left.is_empty() {
            pad.next()
        } else {
            let (at, _) = left
                .iter()
                .enumerate()
                .map(|(at, &i)| (at, gain(i, &covered)))
                .fold(
                    (0, f64::NEG_INFINITY),
                    |best, x| {
                        if x.1 > best.1 { x } else { best }
                    },
                );
            Some(left.remove(at))
        };
        let Some(i) = next else { break };
        let g = gain(i, &covered);
        for &p in &sets[i] {
            if let Some(c) = covered.get_mut(p as usize) {
                *c = true;
            }
        }
        out.push(ChosenSite {
            candidate: i,
            gain: g,
        });
    }
    out
}

/// Branch-and-bound state over compacted sets.
struct Search {
    /// Places of each set, and the sets holding each place.
    set_places: Vec<Vec<u32>>,
    place_sets: Vec<Vec<u32>>,
    weight: Vec<f64>,
    k: usize,
    max_nodes: u64,
    /// How many chosen sets hold each place.
    count: Vec<u32>,
    /// Marginal gain of each set given the chosen ones.
    gain: Vec<f64>,
    excluded: Vec<bool>,
    chosen: Vec<u32>,
    value: f64,
    best_value: f64,
    best_chosen: Vec<u32>,
    nodes: u64,
    aborted: bool,
    /// Highest bound of the subtrees left unexplored when the budget ran out.
    open_bound: f64,
    /// Weight of the places no chosen set holds yet.
    uncovered: f64,
    scratch: Vec<f64>,
}

impl Search {
    fn new(sets: &[(usize, Vec<u32>)], weight: Vec<f64>, k: usize, max_nodes: u64) -> Search {
        let mut place_sets = vec![Vec::new(); weight.len()];
        for (s, (_, places)) in sets.iter().enumerate() {
            for &p in places {
                place_sets[p as usize].push(s as u32);
            }
        }
        let gain = sets
            .iter()
            .map(|(_, places)| places.iter().map(|&p| weight[p as usize]).sum())
            .collect();
        Search {
            set_places: sets.iter().map(|(_, places)| places.clone()).collect(),
            place_sets,
            count: vec![0; weight.len()],
            weight,
            k,
            max_nodes,
            gain,
            excluded: vec![false; sets.len()],
            chosen: Vec::new(),
            value: 0.0,
            best_value: 0.0,
            best_chosen: Vec::new(),
            nodes: 0,
            aborted: false,
            open_bound: 0.0,
            uncovered: 0.0,
            scratch: Vec::new(),
        }
        .with_uncovered()
    }

    fn with_uncovered(mut self) -> Search {
        self.uncovered = self.weight.iter().sum();
        self
    }

    /// The sum of the `room` largest gains of the sets still allowed.
    fn top_gains(&mut self, room: usize) -> f64 {
        let mut gains = std::mem::take(&mut self.scratch);
        gains.clear();
        gains.extend(
            self.gain
                .iter()
                .zip(&self.excluded)
                .filter(|(g, x)| !**x && **g > 0.0)
                .map(|(g, _)| *g),
        );
        if gains.len() > room && room > 0 {
            gains.select_nth_unstable_by(room - 1, |a, b| b.total_cmp(a));
        }
        let sum = gains.iter().take(room).sum();
        self.scratch = gains;
        sum
    }

    /// The allowed set with the largest gain, if any gains anything.
    fn best_allowed(&self) -> Option<u32> {
        let mut best: Option<(f64, u32)> = None;
        for (s, (&g, &x)) in self.gain.iter().zip(&self.excluded).enumerate() {
            if !x && g > 0.0 && best.is_none_or(|(bg, _)| g > bg) {
                best = Some((g, s as u32));
            }
        }
        best.map(|(_, s)| s)
    }

    /// A bound on every completion of the chosen sets by `room` allowed ones, and the
    /// greedy completion as an incumbent. For any sets D, f(C ∪ T) <= f(C ∪ D) + the
    /// `room` largest gains given C ∪ D (submodularity); D runs through the greedy
    /// completion's prefixes and the least bound is kept, capped by the weight left.
    fn node_bound(&mut self, room: usize) -> f64 {
        let mut bound = self.value + self.top_gains(room).min(self.uncovered);
        let mut added = Vec::with_capacity(room);
        for _ in 0..room {
            let Some(s) = self.best_allowed() else { break };
            self.add(s);
            added.push(s);
            let here = self.value + self.top_gains(room).min(self.uncovered);
            bound = bound.min(here);
        }
        if self.value > self.best_value {
            self.best_value = self.value;
            self.best_chosen = self.chosen.clone();
        }
        for &s in added.iter().rev() {
            self.remove(s);
        }
        bound
    }

    fn add(&mut self, s: u32) {
        self.value += self.gain[s as usize];
        for &p in &self.set_places[s as usize] {
            if self.count[p as usize] == 0 {
                let w = self.weight[p as usize];
                self.uncovered -= w;
                for &t in &self.place_sets[p as usize] {
                    self.gain[t as usize] -= w;
                }
            }
            self.count[p as usize] += 1;
        }
        self.chosen.push(s);
    }

    fn remove(&mut self, s: u32) {
        for &p in &self.set_places[s as usize] {
            self.count[p as usize] -= 1;
            if self.count[p as usize] == 0 {
                let w = self.weight[p as usize];
                self.uncovered += w;
                for &t in &self.place_sets[p as usize] {
                    self.gain[t as usize] += w;
                }
            }
        }
        self.chosen.pop();
        self.value -= self.gain[s as usize];
    }

    /// Is `bound` no better than the incumbent (with room for rounding)?
    fn beaten(&self, bound: f64) -> bool {
        bound <= self.best_value + 1e-9 * (1.0 + self.best_value.abs())
    }

    fn run(&mut self) {
        if self.k == 0 || self.set_places.is_empty() {
            return;
        }
        self.best_value = f64::NEG_INFINITY;
        self.branch();
        self.best_value = self.best_value.max(0.0);
    }

    fn upper_bound(&self) -> f64 {
        if self.aborted {
            self.open_bound.max(self.best_value)
        } else {
            self.best_value
        }
    }

    /// Explores every way to complete the chosen sets; the children are "take the set with
    /// the j-th largest gain, having ruled out the ones before it".
    fn branch(&mut self) {
        self.nodes += 1;
        if self.value > self.best_value {
            self.best_value = self.value;
            self.best_chosen = self.chosen.clone();
        }
        let room = self.k - self.chosen.len();
        if room == 0 {
            return;
        }
        let node_bound = self.node_bound(room);
        if self.beaten(node_bound) {
            return;
        }
        let mut order: Vec<u32> = (0..self.gain.len() as u32)
            .filter(|&s| !self.excluded[s as usize] && self.gain[s as usize] > 0.0)
            .collect();
        order.sort_unstable_by(|&a, &b| {
            self.gain[b as usize]
                .total_cmp(&self.gain[a as usize])
                .then(a.cmp(&b))
        });
        let gains: Vec<f64> = order.iter().map(|&s| self.gain[s as usize]).collect();
        // Bound of child j: the value so far plus the `room` largest gains from j on
        // (gains only shrink as sets are added).
        let mut window: f64 = gains.iter().take(room).sum();
        let mut ruled_out = 0;
        for j in 0..order.len() {
            if j > 0 {
                window -= gains[j - 1];
                if let Some(g) = gains.get(j + room - 1) {
                    window += g;
                }
            }
            let bound = (self.value + window).min(node_bound);
            if self.beaten(bound) {
                break;
            }
            if self.aborted || self.nodes >= self.max_nodes {
                self.aborted = true;
                self.open_bound = self.open_bound.max(bound);
                break;
            }
            let s = order[j];
            self.add(s);
            self.branch();
            self.remove(s);
            self.excluded[s as usize] = true;
            ruled_out = j + 1;
        }
        for &s in &order[..ruled_out] {
            self.excluded[s as usize] = false;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::reach::tests::{random_network, stations};
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::deg;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The best value over every subset of at most k usable sets.
    fn brute_force(
        sets: &[Vec<u32>],
        weights: &[f64],
        already: &[bool],
        usable: &[bool],
        k: usize,
    ) -> f64 {
        let ids: Vec<usize> = (0..sets.len()).filter(|&i| usable[i]).collect();
        let mut best = 0.0f64;
        for mask in 0u32..(1 << ids.len()) {
            if mask.count_ones() as usize > k {
                continue;
            }
            let mut covered = already.to_vec();
            let mut value = 0.0;
            for (b, &i) in ids.iter().enumerate() {
                if mask & (1 << b) != 0 {
                    for &p in &sets[i] {
                        if !covered[p as usize] {
                            covered[p as usize] = true;
                            value += weights[p as usize];
                        }
                    }
                }
            }
            best = best.max(value);
        }
        best
    }

    /// Sets, weights, already covered, usable, k.
    type Instance = (Vec<Vec<u32>>, Vec<f64>, Vec<bool>, Vec<bool>, usize);

    fn random_instance(rng: &mut ChaCha8Rng) -> Instance {
        let places = rng.random_range(5..40);
        let m = rng.random_range(1..12);
        let weights: Vec<f64> = (0..places)
            .map(|_| f64::from(rng.random_range(0u32..20)))
            .collect();
        let already: Vec<bool> = (0..places).map(|_| rng.random_bool(0.2)).collect();
        let usable: Vec<bool> = (0..m).map(|_| rng.random_bool(0.85)).collect();
        // Sets of nearby places, as real catchments are, so they overlap.
        let sets: Vec<Vec<u32>> = (0..m)
            .map(|_| {
                let centre = rng.random_range(0..places) as i64;
                let reach = rng.random_range(0..8);
                (centre - reach..=centre + reach)
                    .filter(|p| (0..places as i64).contains(p) && rng.random_bool(0.8))
                    .map(|p| p as u32)
                    .collect()
            })
            .collect();
        let k = rng.random_range(0..5);
        (sets, weights, already, usable, k)
    }

    #[test]
    fn exact_search_equals_brute_force_on_random_instances() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for round in 0..400 {
            let (sets, weights, already, usable, k) = random_instance(&mut rng);
            let want = brute_force(&sets, &weights, &already, &usable, k);
            let got = max_cover(&sets, &weights, &already, &usable, k, u64::MAX);
            assert!(got.optimal);
            assert!(
                (got.value - want).abs() < 1e-9,
                "round {round}: {got:?} vs {want}"
            );
            assert!((got.upper_bound - want).abs() < 1e-9);
            assert_eq!(got.gap, 0.0);
            // Distinct, usable, at most k, and the gains are the marginal ones in order.
            let usable_count = usable.iter().filter(|u| **u).count();
            assert_eq!(got.sites.len(), k.min(usable_count), "round {round}");
            let mut covered = already.clone();
            let mut seen = Vec::new();
            for site in &got.sites {
                assert!(usable[site.candidate] && !seen.contains(&site.candidate));
                seen.push(site.candidate);
                let mut gain = 0.0;
                for &p in &sets[site.candidate] {
                    if !covered[p as usize] {
                        covered[p as usize] = true;
                        gain += weights[p as usize];
                    }
                }
                assert!((gain - site.gain).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn a_small_node_budget_gives_a_valid_bound_and_gap() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut stopped = 0;
        for _ in 0..300 {
            let (sets, weights, already, usable, k) = random_instance(&mut rng);
            let want = brute_force(&sets, &weights, &already, &usable, k);
            let got = max_cover(&sets, &weights, &already, &usable, k, 1);
            assert!(got.value <= want + 1e-9);
            assert!(got.upper_bound >= want - 1e-9, "{got:?} vs {want}");
            if got.optimal {
                assert!((got.value - want).abs() < 1e-9);
            } else {
                stopped += 1;
                let gap = (got.upper_bound - got.value) / got.upper_bound;
                assert!((got.gap - gap).abs() < 1e-12);
            }
        }
        assert!(stopped > 10, "{stopped}");
    }

    #[test]
    fn dominated_sets_are_dropped_but_equal_ones_keep_the_first() {
        let kept = drop_dominated(vec![
            (0, vec![1, 2]),
            (1, vec![0, 1, 2, 3]),
            (2, vec![4]),
            (3, vec![0, 1, 2, 3]),
            (4, vec![3, 4]),
        ]);
        let ids: Vec<usize> = kept.iter().map(|k| k.0).collect();
        assert_eq!(ids, vec![1, 4]);
        assert!(is_subset(&[1, 3], &[0, 1, 2, 3]));
        assert!(!is_subset(&[1, 5], &[0, 1, 2, 3]));
    }

    #[test]
    fn siting_on_random_networks_matches_brute_force_and_the_coverage_oracle() {
        let mut total_gain = 0.0;
        for seed in 0..4u64 {
            let roads = random_network(seed, 9);
            let (graph, _) = RoadGraph::build(&[&roads], &SpeedTable::default()).unwrap();
            let snap_index = SnapIndex::new(&graph);
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 70);
            let step = deg(200.0);
            let mut around = || Coord {
                x: 117.9 + rng.random_range(0.0..8.0) * step,
                y: 36.8 + rng.random_range(0.0..8.0) * step,
            };
            let existing_at: Vec<(f64, f64)> =
                (0..1).map(|_| around()).map(|c| (c.x, c.y)).collect();
            let (existing, _) = snap_index.snap_stations(&graph, &stations(&existing_at), 500.0);
            let demand: Vec<DemandPoint> = (0..200)
                .map(|i| DemandPoint {
                    position: around(),
                    weight: f64::from(i % 7 + 1),
                })
                .collect();
            let candidates: Vec<Station> = (0..9)
                .map(|i| Station {
                    id: format!("C{i}"),
                    position: around(),
                })
                .collect();
            let options = SitingOptions {
                k: 3,
                minutes: 2.5,
                ..SitingOptions::default()
            };
            let result = site(
                &graph,
                &snap_index,
                &existing,
                &candidates,
                &[],
                &demand,
                &options,
            );
            assert!(result.optimal);
            // The covered sets, each against one reach per station checked place by place.
            let places: Vec<Coord<f64>> = demand.iter().map(|d| d.position).collect();
            let index = AccessIndex::new(&graph, &places, options.access_m);
            let covers = |snaps: &[Option<Snap>]| -> Vec<bool> {
                let r = reach(&graph, snaps, 60.0, 150.0);
                let got = index.covered_places(&graph, &r, 150.0);
                (0..places.len() as u32).map(|p| got.contains(&p)).collect()
            };
            let before = covers(&existing);
            let candidate_sets: Vec<Vec<u32>> = candidates
                .iter()
                .map(|c| {
                    let snap = snap_index.snap(&graph, c.position, 500.0);
                    let cov = covers(&[snap]);
                    (0..places.len() as u32)
                        .filter(|&p| cov[p as usize])
                        .collect()
                })
                .collect();
            let weights: Vec<f64> = demand.iter().map(|d| d.weight).collect();
            let before_weight: f64 = (0..places.len())
                .filter(|&p| before[p])
                .map(|p| weights[p])
                .sum();
            assert!((result.before.covered - before_weight).abs() < 1e-9);
            let usable = vec![true; candidates.len()];
            let want = brute_force(&candidate_sets, &weights, &before, &usable, 3);
            let gained: f64 = result.sites.iter().map(|s| s.gain).sum();
            assert!(
                (gained - want).abs() < 1e-9,
                "seed {seed}: {gained} vs {want}"
            );
            total_gain += gained;
            assert!((result.after.covered - result.before.covered - gained).abs() < 1e-9);
            assert!(result.after.covered >= result.before.covered);
            assert_eq!(result.sites.len(), 3);
            // Together the chosen sites with the existing station cover what they claim.
            let mut all = existing.clone();
            for s in &result.sites {
                all.push(snap_index.snap(&graph, candidates[s.candidate].position, 500.0));
            }
            let after = covers(&all);
            let after_weight: f64 = (0..places.len())
                .filter(|&p| after[p])
                .map(|p| weights[p])
                .sum();
            assert!((after_weight - result.after.covered).abs() < 1e-9);
        }
        assert!(total_gain > 100.0, "{total_gain}");
    }

    #[test]
    fn grid_candidates_are_distinct_road_nodes() {
        let roads = random_network(2, 9);
        let (graph, _) = RoadGraph::build(&[&roads], &SpeedTable::default()).unwrap();
        let step = deg(200.0);
        let extent = Rect::new(
            Coord { x: 117.9, y: 36.8 },
            Coord {
                x: 117.9 + 8.0 * step,
                y: 36.8 + 8.0 * step,
            },
        );
        let grid = grid_candidates(&graph, extent, 300.0, 10_000).unwrap();
        assert!(grid.len() > 10, "{}", grid.len());
        for (i, c) in grid.iter().enumerate() {
            assert_eq!(c.id, i.to_string());
            assert!(graph.nodes.contains(&c.position));
            assert!(grid[..i].iter().all(|d| d.position != c.position));
        }
        // A finer grid finds more nodes, never repeating one.
        let fine = grid_candidates(&graph, extent, 100.0, 10_000).unwrap();
        assert!(fine.len() > grid.len());
        assert!(grid_candidates(&graph, extent, 1.0, 1000).is_none());
        assert!(grid_candidates(&graph, extent, 0.0, 1000).is_none());
    }
}
