//! Dissolved band polygons straight from the reached road, without a time grid.
//!
//! A cell is in band `L` when a road position reached within `L` lies within `access_m` of
//! its centre, the same definition the time grid applies ([`super::isochrone`]). Here
//! the covered set of each band is scan-converted directly: each reached segment is cut
//! where each band's time runs out, and each piece's capsule (the points within
//! `access_m` of it) meets every grid row in one interval whose ends are computed exactly,
//! so a row costs two square roots instead of one per cell. A cell keeps the first band
//! whose capsules hold its centre. Split and per-station modes need the fastest station
//! per cell and keep using the time grid.

use geo::MultiPolygon;

use super::isochrone::{BandCodes, TimedSegment, grid_frame, timed_segments, usable_sizes};
use super::reach::ReachedPiece;
use super::road_graph::RoadGraph;

/// Band codes over the grid frame: the index of the first band holding each cell centre,
/// [`BandCodes::OUTSIDE`] for none.
struct BandGrid {
    origin: [f64; 2],
    cell_m: f64,
    width: usize,
    height: usize,
    codes: Vec<u8>,
}

impl BandGrid {
    /// Lowers to `code` the cells whose centres lie within `r` of the segment `p`-`q`.
    fn stamp_capsule(&mut self, p: [f64; 2], q: [f64; 2], r: f64, code: u8) {
        let cell = self.cell_m;
        let d = [q[0] - p[0], q[1] - p[1]];
        let len = d[0].hypot(d[1]);
        // The band between the end discs: along = (x - px) ux + dy uy in [0, len] and
        // across = dy ux - (x - px) uy in [-r, r], where dy = y - py. On a row each bounds
        // x - px to an interval whose ends move linearly with dy: `base + slope * dy`.
        let mut band_lo: [(f64, f64); 2] = [(f64::NEG_INFINITY, 0.0); 2];
        let mut band_hi: [(f64, f64); 2] = [(f64::INFINITY, 0.0); 2];
        // Rows (as dy) the band can meet at all, for the constraints free of x.
        let mut band_rows = (f64::NEG_INFINITY, f64::INFINITY);
        if len > 0.0 {
            let u = [d[0] / len, d[1] / len];
            // (k, lower at dy=0, upper at dy=0, d(bound)/d(dy) before dividing by k)
            for (n, (k, from, to, rate)) in [(u[0], 0.0, len, -u[1]), (u[1], -r, r, u[0])]
                .into_iter()
                .enumerate()
            {
                if k != 0.0 {
                    let (a, b) = ((from / k, rate / k), (to / k, rate / k));
                    let (low, high) = if k > 0.0 { (a, b) } else { (b, a) };
                    band_lo[n] = low;
                    band_hi[n] = high;
                } else if rate != 0.0 {
                    // from + rate * dy <= 0 <= to + rate * dy
                    let (a, b) = (-from / rate, -to / rate);
                    band_rows = (band_rows.0.max(a.min(b)), band_rows.1.min(a.max(b)));
                } else if from > 0.0 || to < 0.0 {
                    band_rows = (1.0, 0.0);
                }
            }
        } else {
            band_rows = (1.0, 0.0);
        }
        let (ox, oy) = (self.origin[0], self.origin[1]);
        let first_row = ceil_index((p[1].min(q[1]) - r - oy) / cell - 0.5);
        let last_row = floor_index((p[1].max(q[1]) + r - oy) / cell - 0.5);
        let (Some(first_row), Some(last_row)) = (first_row, last_row) else {
            return;
        };
        let first_row = first_row.max(0) as usize;
        if last_row < 0 {
            return;
        }
        let last_row = (last_row as usize).min(self.height.saturating_sub(1));
        let r2 = r * r;
        let last_col = self.width.saturating_sub(1);
        for j in first_row..=last_row {
            let y = oy + (j as f64 + 0.5) * cell;
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for end in [p, q] {
                let dy = y - end[1];
                let room = r2 - dy * dy;
                if room >= 0.0 {
                    let half = room.sqrt();
                    lo = lo.min(end[0] - half);
                    hi = hi.max(end[0] + half);
                }
            }
            let dy = y - p[1];
            if dy >= band_rows.0 && dy <= band_rows.1 {
                let from = (band_lo[0].0 + band_lo[0].1 * dy).max(band_lo[1].0 + band_lo[1].1 * dy);
                let to = (band_hi[0].0 + band_hi[0].1 * dy).min(band_hi[1].0 + band_hi[1].1 * dy);
                if from <= to {
                    lo = lo.min(p[0] + from);
                    hi = hi.max(p[0] + to);
                }
            }
            if lo > hi {
                continue;
            }
            let (Some(first), Some(last)) = (
                ceil_index((lo - ox) / cell - 0.5),
                floor_index((hi - ox) / cell - 0.5),
            ) else {
                continue;
            };
            if last < 0 || last < first {
                continue;
            }
            let (first, last) = (first.max(0) as usize, (last as usize).min(last_col));
            if first > last {
                continue;
            }
            let row = j * self.width;
            for c in &mut self.codes[row + first..=row + last] {
                *c = (*c).min(code);
            }
        }
    }

    /// Stamps one segment for every band: the parts reached within each band's time, the
    /// whole segment from the first band that reaches all of it.
    fn stamp_segment(&mut self, s: &TimedSegment, limits: &[f64], r: f64) {
        let d = [s.b[0] - s.a[0], s.b[1] - s.a[1]];
        let len = d[0].hypot(d[1]);
        let point_at = |m: f64| {
            if len > 0.0 {
                [s.a[0] + d[0] * m / len, s.a[1] + d[1] * m / len]
            } else {
                s.a
            }
        };
        for (code, &limit) in limits.iter().enumerate() {
            let code = code as u8;
            // How far from each end its rising part stays within the limit.
            let from_a = reached_length(s.time_a, s.rise_a, limit, len);
            let from_b = reached_length(s.time_b, s.rise_b, limit, len);
            if from_a.unwrap_or(-1.0) + from_b.unwrap_or(-1.0) >= len
                || from_a.is_some_and(|m| m >= len)
                || from_b.is_some_and(|m| m >= len)
            {
                self.stamp_capsule(s.a, s.b, r, code);
                return;
            }
            if let Some(m) = from_a {
                self.stamp_capsule(s.a, point_at(m), r, code);
            }
            if let Some(m) = from_b {
                self.stamp_capsule(point_at(len - m), s.b, r, code);
            }
        }
    }
}

/// The least integer at or above `v` (without a libm call: `ceil` is one on baseline
/// x86-64), `None` when `v` is not finite.
#[inline]
fn ceil_index(v: f64) -> Option<i64> {
    if !v.is_finite() {
        return None;
    }
    let t = v as i64;
    Some(if (t as f64) < v { t + 1 } else { t })
}

/// The greatest integer at or below `v`, `None` when `v` is not finite.
#[inline]
fn floor_index(v: f64) -> Option<i64> {
    if !v.is_finite() {
        return None;
    }
    let t = v as i64;
    Some(if (t as f64) > v { t - 1 } else { t })
}

/// Metres from its start a part rising from `time_s` at `rise` s/m stays within `limit`
/// (at most `len`); `None` when it starts later.
fn reached_length(time_s: f64, rise: f64, limit: f64, len: f64) -> Option<f64> {
    // A NaN time or limit compares as neither: nothing is reached.
    if !matches!(
        time_s.partial_cmp(&limit),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    ) {
        return None;
    }
    if rise > 0.0 {
        Some(((limit - time_s) / rise).min(len))
    } else {
        Some(len)
    }
}

/// The dissolved polygons of each band limit (seconds, turnout included; any order, fewer
/// than 255), in projected metres, with their cell counts, in the order given: what
/// `TimeGrid::from_pieces(..).bands_polygons(limits, None)` gives, without the grid.
pub fn dissolved_band_polygons(
    graph: &RoadGraph,
    pieces: &[ReachedPiece],
    limits_s: &[f64],
    access_m: f64,
    cell_m: f64,
) -> (Vec<(MultiPolygon<f64>, usize)>, f64) {
    let (access_m, cell_m) = usable_sizes(access_m, cell_m);
    let mut out: Vec<(MultiPolygon<f64>, usize)> = limits_s
        .iter()
        .map(|_| (MultiPolygon(Vec::new()), 0))
        .collect();
    if limits_s.is_empty() || limits_s.len() >= usize::from(BandCodes::OUTSIDE) {
        return (out, cell_m);
    }
    let mut order: Vec<usize> = (0..limits_s.len()).collect();
    order.sort_by(|&i, &j| limits_s[i].total_cmp(&limits_s[j]));
    let sorted: Vec<f64> = order.iter().map(|&i| limits_s[i]).collect();
    let segments = timed_segments(graph, pieces);
    let Some((origin, width, height)) = grid_frame(&segments, access_m, cell_m) else {
        return (out, cell_m);
    };
    let mut grid = BandGrid {
        origin,
        cell_m,
        width,
        height,
        codes: vec![BandCodes::OUTSIDE; width * height],
    };
    for s in &segments {
        grid.stamp_segment(s, &sorted, access_m);
    }
    if let Some(codes) = BandCodes::from_full(grid.codes, width, height, sorted.len()) {
        codes.polygons(origin, cell_m, &order, &mut out);
    }
    (out, cell_m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::isochrone::TimeGrid;
    use crate::analysis::isochrone::tests::{exact_time, samples};
    use crate::analysis::reach::{SnapIndex, Station, reach};
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::deg;
    use geo::{Contains, Coord, Point};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn station(lon: f64, lat: f64) -> Station {
        Station {
            id: String::new(),
            position: Coord { x: lon, y: lat },
        }
    }

    #[test]
    fn bands_match_the_definition_at_cell_centres_and_the_time_grid() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for seed in 0..4u64 {
            let net = crate::analysis::reach::tests::random_network(seed + 20, 7);
            let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
            let index = SnapIndex::new(&g);
            let st: Vec<Station> = (0..2)
                .map(|_| {
                    station(
                        117.9 + deg(rng.random_range(200.0..1300.0)),
                        36.8 + deg(rng.random_range(200.0..1300.0)),
                    )
                })
                .collect();
            let (snaps, _) = index.snap_stations(&g, &st, 500.0);
            let all = reach(&g, &snaps, 60.0, 300.0);
            let pieces = all.pieces(&g);
            let limits = [240.0, 120.0, 300.0, 180.0];
            let (fast, cell) = dissolved_band_polygons(&g, &pieces, &limits, 100.0, 25.0);
            assert_eq!(cell, 25.0);
            // The time grid gives the same cells but where a centre is a hair from an edge.
            let grid = TimeGrid::from_pieces(&g, &pieces, 100.0, 25.0);
            let slow = grid.bands_polygons(&limits, None);
            for ((_, fast_cells), (_, slow_cells)) in fast.iter().zip(&slow) {
                let diff = fast_cells.abs_diff(*slow_cells);
                assert!(
                    diff * 1000 <= *slow_cells + 1000,
                    "{fast_cells} {slow_cells}"
                );
            }
            // Each centre against the definition (road sampled every 0.5 m), away from the
            // edges by the sampling's error.
            let samples = samples(&g, &pieces);
            let mut checked = 0;
            for y in 0..grid.height {
                for x in 0..grid.width {
                    let c = [
                        grid.origin[0] + (x as f64 + 0.5) * 25.0,
                        grid.origin[1] + (y as f64 + 0.5) * 25.0,
                    ];
                    let narrow = exact_time(&samples, c, 99.7);
                    let wide = exact_time(&samples, c, 100.3);
                    for (k, limit) in limits.iter().enumerate() {
                        let inside = fast[k].0.contains(&Point::new(c[0], c[1]));
                        if narrow <= limit - 0.25 {
                            assert!(inside, "{c:?} {narrow} {limit}");
                            checked += 1;
                        } else if wide > limit + 0.25 {
                            assert!(!inside, "{c:?} {wide} {limit}");
                        }
                    }
                }
            }
            assert!(checked > 500, "{checked}");
        }
    }

    #[test]
    fn capsules_hold_exactly_the_centres_within_reach() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut segments: Vec<([f64; 2], [f64; 2])> = vec![
            ([100.0, 100.0], [100.0, 260.0]), // north
            ([260.0, 100.0], [100.0, 100.0]), // west
            ([100.0, 100.0], [220.0, 220.0]), // diagonal
            ([150.0, 150.0], [150.0, 150.0]), // a point
            ([90.0, 300.0], [90.0, 140.0]),   // south
        ];
        for _ in 0..200 {
            let mut p = || [rng.random_range(0.0..400.0), rng.random_range(0.0..400.0)];
            segments.push((p(), p()));
        }
        for (p, q) in segments {
            let r = 60.0;
            let mut grid = BandGrid {
                origin: [-100.0, -100.0],
                cell_m: 10.0,
                width: 60,
                height: 60,
                codes: vec![BandCodes::OUTSIDE; 3600],
            };
            grid.stamp_capsule(p, q, r, 0);
            for j in 0..60 {
                for i in 0..60 {
                    let c = [
                        -100.0 + (i as f64 + 0.5) * 10.0,
                        -100.0 + (j as f64 + 0.5) * 10.0,
                    ];
                    let d = [q[0] - p[0], q[1] - p[1]];
                    let dd = d[0] * d[0] + d[1] * d[1];
                    let t = if dd > 0.0 {
                        (((c[0] - p[0]) * d[0] + (c[1] - p[1]) * d[1]) / dd).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let dist = (p[0] + t * d[0] - c[0]).hypot(p[1] + t * d[1] - c[1]);
                    let inside = grid.codes[j * 60 + i] == 0;
                    if (dist - r).abs() > 1e-6 {
                        assert_eq!(inside, dist < r, "{p:?} {q:?} {c:?} {dist}");
                    }
                }
            }
        }
    }

    #[test]
    fn no_road_or_no_band_gives_empty_polygons() {
        let net = crate::analysis::reach::tests::random_network(3, 4);
        let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
        let (none, _) = dissolved_band_polygons(&g, &[], &[60.0, 120.0], 100.0, 25.0);
        assert!(
            none.iter()
                .all(|(mp, cells)| mp.0.is_empty() && *cells == 0)
        );
        let (empty, _) = dissolved_band_polygons(&g, &[], &[], 100.0, f64::NAN);
        assert!(empty.is_empty());
    }
}
