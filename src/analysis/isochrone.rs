//! Response-area polygons. The covered area of a band is the set of points within
//! `access_m` of a road position reached within the band's time. It is approximated on a
//! grid of `cell_m` cells: each cell holds the least time of the road positions within
//! `access_m` of its centre (computed exactly per road segment), and the cells within a
//! band are traced into MultiPolygons (cell-boundary union), keeping holes and detached
//! pieces. A point is thus classified as its cell centre is: error at most one cell.

use geo::{Coord, LineString, MultiPolygon, Polygon};

use super::reach::{NO_STATION, Reach, ReachedPiece, Snap, reach};
use super::road_graph::RoadGraph;

/// How stations' areas are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AreaMode {
    /// One area per band, whichever station gets there.
    #[default]
    Dissolve,
    /// One area per station per band; each place goes to its fastest station.
    Split,
    /// One area per station per band, as if that station were alone (areas overlap).
    PerStation,
}

impl AreaMode {
    /// The name used on the command line and in outputs.
    pub fn key(self) -> &'static str {
        match self {
            AreaMode::Dissolve => "dissolve",
            AreaMode::Split => "split",
            AreaMode::PerStation => "per-station",
        }
    }

    /// Parses `dissolve`, `split` or `per-station`.
    pub fn from_key(key: &str) -> Option<AreaMode> {
        [AreaMode::Dissolve, AreaMode::Split, AreaMode::PerStation]
            .into_iter()
            .find(|m| m.key() == key)
    }
}

/// Options for response areas.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaOptions {
    /// Band limits in minutes, turnout included (default 3, 5, 8, 10).
    pub bands_min: Vec<f64>,
    /// How far from a reached road a place counts as covered, metres (default 100).
    pub access_m: f64,
    /// Grid cell size, metres (default 25).
    pub cell_m: f64,
    pub mode: AreaMode,
    /// Turnout time, seconds (default 60).
    pub turnout_s: f64,
}

impl Default for AreaOptions {
    fn default() -> Self {
        AreaOptions {
            bands_min: vec![3.0, 5.0, 8.0, 10.0],
            access_m: 100.0,
            cell_m: 25.0,
            mode: AreaMode::Dissolve,
            turnout_s: 60.0,
        }
    }
}

/// The covered area of one band (and one station, except in dissolve mode).
#[derive(Debug, Clone, PartialEq)]
pub struct BandArea {
    pub minutes: f64,
    /// Station index (into the snaps given), when per station.
    pub station: Option<u32>,
    /// Lon/lat polygons with their holes.
    pub area: MultiPolygon<f64>,
    /// Area in km² (cells counted in the local projection).
    pub area_km2: f64,
}

/// Least time (turnout included) per grid cell, and the station giving it.
#[derive(Debug, Clone)]
pub struct TimeGrid {
    /// Projected metres of the grid's lower-left corner.
    pub origin: [f64; 2],
    pub cell_m: f64,
    pub width: usize,
    pub height: usize,
    /// Row-major (row = y), infinite when no reached road is within reach.
    pub time_s: Vec<f32>,
    pub station: Vec<u32>,
}

impl TimeGrid {
    /// Stamps every reached segment: a cell gets the least time of the road positions
    /// within `access_m` of its centre, exactly. The cost grows with the reached road length
    /// times `access_m` (each cell is visited by every segment within `access_m`).
    pub fn from_pieces(
        graph: &RoadGraph,
        pieces: &[ReachedPiece],
        access_m: f64,
        cell_m: f64,
    ) -> TimeGrid {
        let cell_m = if cell_m.is_finite() && cell_m > 0.0 {
            cell_m
        } else {
            25.0
        };
        let access_m = if access_m.is_finite() {
            access_m.max(0.0)
        } else {
            100.0
        };
        // One pass over the pieces (their edges lie scattered in memory) into a flat list
        // of straight segments with their end times.
        let mut segments: Vec<TimedSegment> = Vec::with_capacity(pieces.len() * 2);
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for piece in pieces {
            let span = piece.to_m - piece.from_m;
            let time_at = |a: f64| {
                if span > 0.0 {
                    piece.time_from_s
                        + (a - piece.from_m) / span * (piece.time_to_s - piece.time_from_s)
                } else {
                    piece.time_from_s.min(piece.time_to_s)
                }
            };
            sub_segments(graph, piece, |a, b, along_a, along_b| {
                for k in 0..2 {
                    lo[k] = lo[k].min(a[k]).min(b[k]);
                    hi[k] = hi[k].max(a[k]).max(b[k]);
                }
                segments.push((a, b, time_at(along_a), time_at(along_b), piece.station));
            });
        }
        if !lo[0].is_finite() {
            return TimeGrid {
                origin: [0.0, 0.0],
                cell_m,
                width: 0,
                height: 0,
                time_s: Vec::new(),
                station: Vec::new(),
            };
        }
        let margin = access_m + cell_m;
        let origin = [
            ((lo[0] - margin) / cell_m).floor() * cell_m,
            ((lo[1] - margin) / cell_m).floor() * cell_m,
        ];
        let width = ((hi[0] + margin - origin[0]) / cell_m).ceil() as usize + 1;
        let height = ((hi[1] + margin - origin[1]) / cell_m).ceil() as usize + 1;
        let mut grid = TimeGrid {
            origin,
            cell_m,
            width,
            height,
            time_s: vec![f32::INFINITY; width * height],
            station: vec![NO_STATION; width * height],
        };
        for (a, b, ta, tb, station) in segments {
            grid.stamp_segment(a, b, ta, tb, access_m, station);
        }
        grid
    }

    fn stamp_segment(&mut self, a: [f64; 2], b: [f64; 2], ta: f64, tb: f64, r: f64, station: u32) {
        let cell = self.cell_m;
        let x0 = (((a[0].min(b[0]) - r - self.origin[0]) / cell)
            .floor()
            .max(0.0)) as usize;
        let y0 = (((a[1].min(b[1]) - r - self.origin[1]) / cell)
            .floor()
            .max(0.0)) as usize;
        let x1 = ((((a[0].max(b[0]) + r - self.origin[0]) / cell).ceil()) as usize).min(self.width);
        let y1 =
            ((((a[1].max(b[1]) + r - self.origin[1]) / cell).ceil()) as usize).min(self.height);
        let d = [b[0] - a[0], b[1] - a[1]];
        let len = (d[0] * d[0] + d[1] * d[1]).sqrt();
        let u = if len > 0.0 {
            [d[0] / len, d[1] / len]
        } else {
            [0.0, 0.0]
        };
        let r2 = r * r;
        let slope = if len > 0.0 { (tb - ta) / len } else { 0.0 };
        let t_least = ta.min(tb);
        let t_least_f32 = t_least as f32;
        for y in y0..y1 {
            let cy = self.origin[1] + (y as f64 + 0.5) * cell - a[1];
            // The capsule around the segment is convex: its slice by this row of cell
            // centres is one x interval (relative to `a`), the hull of the slices of the
            // end discs and of the swept rectangle.
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for (ex, ey) in [(0.0, 0.0), (d[0], d[1])] {
                let dy = cy - ey;
                if dy.abs() <= r {
                    let w = (r2 - dy * dy).sqrt();
                    lo = lo.min(ex - w);
                    hi = hi.max(ex + w);
                }
            }
            if len > 0.0 {
                // -r <= -u.y * x + u.x * cy <= r and 0 <= u.x * x + u.y * cy <= len.
                let mut span = (f64::NEG_INFINITY, f64::INFINITY);
                let mut empty = false;
                for (k, m, l, h) in [(-u[1], u[0] * cy, -r, r), (u[0], u[1] * cy, 0.0, len)] {
                    if k.abs() < 1e-12 {
                        empty |= m < l || m > h;
                    } else {
                        let (p, q) = ((l - m) / k, (h - m) / k);
                        span = (span.0.max(p.min(q)), span.1.min(p.max(q)));
                    }
                }
                if !empty && span.0 <= span.1 {
                    lo = lo.min(span.0);
                    hi = hi.max(span.1);
                }
            }
            if lo > hi {
                continue;
            }
            let first = ((lo - 1e-6 + a[0] - self.origin[0]) / cell - 0.5)
                .ceil()
                .max(x0 as f64);
            let last = ((hi + 1e-6 + a[0] - self.origin[0]) / cell - 0.5).floor() + 1.0;
            let (first, last) = (first as usize, (last.max(0.0) as usize).min(x1));
            let row = y * self.width;
            for x in first..last {
                let k = row + x;
                // Most cells already hold a time no later than anything this segment
                // offers (pieces come roughly in time order): skip the square root.
                if self.time_s[k] <= t_least_f32 {
                    continue;
                }
                let cx = self.origin[0] + (x as f64 + 0.5) * cell - a[0];
                let along = cx * u[0] + cy * u[1];
                let h2 = cx * cx + cy * cy - along * along;
                if h2 > r2 {
                    continue;
                }
                let half = (r2 - h2).max(0.0).sqrt();
                let s1 = (along - half).max(0.0);
                let s2 = (along + half).min(len);
                if s1 > s2 {
                    continue;
                }
                // Time is linear along the segment: its least value on [s1, s2] is at an end.
                let t = (ta + slope * s1).min(ta + slope * s2);
                // f32 keeps the grid small (it is swept many times); its rounding at
                // 1000 s is about 0.1 ms, a centimetre of road.
                let t = t as f32;
                if t < self.time_s[k] {
                    self.time_s[k] = t;
                    self.station[k] = station;
                }
            }
        }
    }

    /// Cells within `limit_s` (and of `station`, when given) traced into polygons, in
    /// projected metres. Returns the polygons and the number of cells.
    pub fn band_polygons(&self, limit_s: f64, station: Option<u32>) -> (MultiPolygon<f64>, usize) {
        let inside = |k: usize| {
            f64::from(self.time_s[k]) <= limit_s
                && station.is_none_or(|want| want == self.station[k])
        };
        // Trace only the window holding the band's cells: bands are often much smaller
        // than the grid.
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let mut cells = 0;
        for y in 0..self.height {
            for x in 0..self.width {
                if inside(y * self.width + x) {
                    cells += 1;
                    x0 = x0.min(x);
                    x1 = x1.max(x + 1);
                    y0 = y0.min(y);
                    y1 = y1.max(y + 1);
                }
            }
        }
        if cells == 0 {
            return (MultiPolygon(Vec::new()), 0);
        }
        let (w, h) = (x1 - x0, y1 - y0);
        let mut mask = Vec::with_capacity(w * h);
        for y in y0..y1 {
            mask.extend((x0..x1).map(|x| inside(y * self.width + x)));
        }
        let origin = [
            self.origin[0] + x0 as f64 * self.cell_m,
            self.origin[1] + y0 as f64 * self.cell_m,
        ];
        let polygons = trace_mask(&mask, w, h)
            .into_iter()
            .map(|(outer, holes)| {
                let to_xy = |ring: Vec<[i64; 2]>| {
                    LineString::from(
                        ring.into_iter()
                            .map(|[i, j]| Coord {
                                x: origin[0] + i as f64 * self.cell_m,
                                y: origin[1] + j as f64 * self.cell_m,
                            })
                            .collect::<Vec<_>>(),
                    )
                };
                Polygon::new(to_xy(outer), holes.into_iter().map(to_xy).collect())
            })
            .collect();
        (MultiPolygon(polygons), cells)
    }
}

/// A straight stretch of reached road: ends (projected metres), their times, station.
type TimedSegment = ([f64; 2], [f64; 2], f64, f64, u32);

/// Calls `f(a, b, along_a, along_b)` for each straight part of a reached piece, in
/// projected metres and metres along its edge.
fn sub_segments(
    graph: &RoadGraph,
    piece: &ReachedPiece,
    mut f: impl FnMut([f64; 2], [f64; 2], f64, f64),
) {
    let e = piece.edge as usize;
    let along = graph.edge_along_m(e);
    let xy = graph.edge_xy(e);
    let first = along.partition_point(|&a| a <= piece.from_m);
    let mut prev = (graph.point_along(e, piece.from_m), piece.from_m);
    for i in first..along.len() {
        if along[i] >= piece.to_m {
            break;
        }
        f(prev.0, xy[i], prev.1, along[i]);
        prev = (xy[i], along[i]);
    }
    f(prev.0, graph.point_along(e, piece.to_m), prev.1, piece.to_m);
}

/// A ring of grid corners.
type GridRing = Vec<[i64; 2]>;
/// An outer ring and its holes.
type GridPolygon = (GridRing, Vec<GridRing>);

/// Traces the filled cells of a mask into polygons (outer ring, holes), as closed rings of
/// grid-corner coordinates: outer rings counter-clockwise, holes clockwise. Cells touching
/// only at a corner are separate pieces.
fn trace_mask(mask: &[bool], width: usize, height: usize) -> Vec<GridPolygon> {
    const NONE: u32 = u32::MAX;
    let filled = |i: usize, j: usize| mask[j * width + i];
    // Boundary edges with the filled cell on their left, by start corner (at most two: a
    // corner where two cells touch diagonally). Corner (i, j) is index j * vw + i.
    let vw = width + 1;
    let corner_count = vw * (height + 1);
    let mut outgoing: Vec<[u32; 2]> = vec![[NONE; 2]; corner_count];
    let mut add = |from: usize, to: usize| {
        let slots = &mut outgoing[from];
        let k = usize::from(slots[0] != NONE);
        slots[k] = to as u32;
    };
    for j in 0..height {
        for i in 0..width {
            if !filled(i, j) {
                continue;
            }
            let c = j * vw + i;
            if j == 0 || !filled(i, j - 1) {
                add(c, c + 1);
            }
            if i + 1 == width || !filled(i + 1, j) {
                add(c + 1, c + 1 + vw);
            }
            if j + 1 == height || !filled(i, j + 1) {
                add(c + 1 + vw, c + vw);
            }
            if i == 0 || !filled(i - 1, j) {
                add(c + vw, c);
            }
        }
    }
    let xy = |v: u32| [(v as usize % vw) as i64, (v as usize / vw) as i64];
    let mut position_in_ring: Vec<u32> = vec![NONE; corner_count];
    let mut rings: Vec<GridRing> = Vec::new();
    for start in 0..corner_count as u32 {
        loop {
            let slots = &mut outgoing[start as usize];
            let first = if slots[1] != NONE {
                std::mem::replace(&mut slots[1], NONE)
            } else if slots[0] != NONE {
                std::mem::replace(&mut slots[0], NONE)
            } else {
                break;
            };
            let mut ring: Vec<u32> = vec![start];
            let mut prev = start;
            let mut at = first;
            while at != start {
                ring.push(at);
                let (p, q) = (xy(prev), xy(at));
                let dir = [q[0] - p[0], q[1] - p[1]];
                // At a corner where two cells touch diagonally, turn left: that keeps each
                // cell's piece to itself.
                let left = (q[1] + dir[0]) * vw as i64 + (q[0] - dir[1]);
                let slots = &mut outgoing[at as usize];
                let k = if slots[1] != NONE && i64::from(slots[1]) == left {
                    1
                } else if slots[0] != NONE {
                    0
                } else if slots[1] != NONE {
                    1
                } else {
                    break;
                };
                let next = std::mem::replace(&mut slots[k], NONE);
                if k == 0 && slots[1] != NONE {
                    slots.swap(0, 1);
                }
                prev = at;
                at = next;
            }
            split_pinched(&ring, &mut position_in_ring, &mut rings, xy);
        }
    }
    let signed = |ring: &[[i64; 2]]| -> i64 {
        let n = ring.len();
        (0..n)
            .map(|k| {
                let (p, q) = (ring[k], ring[(k + 1) % n]);
                p[0] * q[1] - q[0] * p[1]
            })
            .sum()
    };
    let mut outers: Vec<(Vec<[i64; 2]>, i64, [i64; 4])> = Vec::new();
    let mut holes: Vec<Vec<[i64; 2]>> = Vec::new();
    for ring in rings {
        let ring = drop_collinear(ring);
        if ring.len() < 4 {
            continue;
        }
        let a = signed(&ring);
        if a > 0 {
            let bbox = ring
                .iter()
                .fold([i64::MAX, i64::MAX, i64::MIN, i64::MIN], |b, p| {
                    [
                        b[0].min(p[0]),
                        b[1].min(p[1]),
                        b[2].max(p[0]),
                        b[3].max(p[1]),
                    ]
                });
            outers.push((ring, a, bbox));
        } else if a < 0 {
            holes.push(ring);
        }
    }
    let mut result: Vec<GridPolygon> = outers
        .iter()
        .map(|(r, _, _)| (r.clone(), Vec::new()))
        .collect();
    for hole in holes {
        // The filled cell left of the hole's first edge lies strictly inside its polygon.
        let (p, q) = (hole[0], hole[1]);
        let d = [(q[0] - p[0]).signum(), (q[1] - p[1]).signum()];
        let cell = match d {
            [1, 0] => [p[0], p[1]],
            [0, 1] => [p[0] - 1, p[1]],
            [-1, 0] => [p[0] - 1, p[1] - 1],
            _ => [p[0], p[1] - 1],
        };
        let probe = [cell[0] as f64 + 0.5, cell[1] as f64 + 0.5];
        let owner = outers
            .iter()
            .enumerate()
            .filter(|(_, (ring, _, b))| {
                probe[0] > b[0] as f64
                    && probe[0] < b[2] as f64
                    && probe[1] > b[1] as f64
                    && probe[1] < b[3] as f64
                    && ring_contains(ring, probe)
            })
            .min_by_key(|(_, (_, area, _))| *area)
            .map(|(k, _)| k);
        if let Some(k) = owner {
            let mut closed = hole;
            closed.push(closed[0]);
            result[k].1.push(closed);
        }
    }
    for (outer, _) in &mut result {
        outer.push(outer[0]);
    }
    result
}

/// Splits a ring that passes a corner twice into simple rings, appended to `out`.
/// `position` is scratch space (all `u32::MAX`), left as it was found.
fn split_pinched(
    ring: &[u32],
    position: &mut [u32],
    out: &mut Vec<GridRing>,
    xy: impl Fn(u32) -> [i64; 2],
) {
    let mut stack: Vec<u32> = Vec::with_capacity(ring.len());
    for &v in ring {
        let k = position[v as usize];
        if k != u32::MAX {
            let part: Vec<u32> = stack.drain(k as usize..).collect();
            for &q in &part {
                position[q as usize] = u32::MAX;
            }
            out.push(part.into_iter().map(&xy).collect());
        }
        position[v as usize] = stack.len() as u32;
        stack.push(v);
    }
    for &q in &stack {
        position[q as usize] = u32::MAX;
    }
    out.push(stack.into_iter().map(xy).collect());
}

/// Removes corners where the ring goes straight on (the ring is given unclosed).
fn drop_collinear(ring: Vec<[i64; 2]>) -> Vec<[i64; 2]> {
    let n = ring.len();
    if n < 3 {
        return ring;
    }
    (0..n)
        .filter(|&k| {
            let (a, b, c) = (ring[(k + n - 1) % n], ring[k], ring[(k + 1) % n]);
            (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) != 0
        })
        .map(|k| ring[k])
        .collect()
}

/// Even-odd test of a point against an unclosed ring of grid corners.
fn ring_contains(ring: &[[i64; 2]], p: [f64; 2]) -> bool {
    let mut inside = false;
    let n = ring.len();
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        let (ay, by) = (a[1] as f64, b[1] as f64);
        if (ay > p[1]) != (by > p[1]) {
            let x = a[0] as f64 + (p[1] - ay) / (by - ay) * (b[0] - a[0]) as f64;
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

fn to_lonlat(graph: &RoadGraph, mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let conv = |ls: &LineString<f64>| {
        LineString::from(
            ls.0.iter()
                .map(|c| graph.projection.inverse([c.x, c.y]))
                .collect::<Vec<_>>(),
        )
    };
    MultiPolygon(
        mp.0.iter()
            .map(|p| Polygon::new(conv(p.exterior()), p.interiors().iter().map(conv).collect()))
            .collect(),
    )
}

fn band_areas(
    graph: &RoadGraph,
    grid: &TimeGrid,
    bands: &[f64],
    station: Option<u32>,
    split_station: bool,
    out: &mut Vec<BandArea>,
) {
    for &minutes in bands {
        let filter = if split_station { station } else { None };
        let (mp, cells) = grid.band_polygons(minutes * 60.0, filter);
        out.push(BandArea {
            minutes,
            station,
            area: to_lonlat(graph, mp),
            area_km2: cells as f64 * grid.cell_m * grid.cell_m / 1e6,
        });
    }
}

/// Response areas for the snapped stations (station `i` is `snaps[i]`; `None` is unused)
/// by band, in the chosen mode. Also returns the reach used for the largest band (in
/// per-station mode, of all stations together) for the reached-streets output.
pub fn response_areas(
    graph: &RoadGraph,
    snaps: &[Option<Snap>],
    options: &AreaOptions,
) -> (Vec<BandArea>, Reach) {
    let mut bands: Vec<f64> = options
        .bands_min
        .iter()
        .copied()
        .filter(|b| b.is_finite() && *b >= 0.0)
        .collect();
    bands.sort_by(f64::total_cmp);
    bands.dedup();
    let budget = bands.last().copied().unwrap_or(0.0) * 60.0;
    let all = reach(graph, snaps, options.turnout_s, budget);
    let mut out = Vec::new();
    match options.mode {
        AreaMode::Dissolve | AreaMode::Split => {
            let grid =
                TimeGrid::from_pieces(graph, &all.pieces(graph), options.access_m, options.cell_m);
            if options.mode == AreaMode::Dissolve {
                band_areas(graph, &grid, &bands, None, false, &mut out);
            } else {
                for (s, snap) in snaps.iter().enumerate() {
                    if snap.is_some() {
                        band_areas(graph, &grid, &bands, Some(s as u32), true, &mut out);
                    }
                }
            }
        }
        AreaMode::PerStation => {
            for (s, snap) in snaps.iter().enumerate() {
                if snap.is_none() {
                    continue;
                }
                let only: Vec<Option<Snap>> = (0..snaps.len())
                    .map(|k| if k == s { *snap } else { None })
                    .collect();
                let alone = reach(graph, &only, options.turnout_s, budget);
                let grid = TimeGrid::from_pieces(
                    graph,
                    &alone.pieces(graph),
                    options.access_m,
                    options.cell_m,
                );
                band_areas(graph, &grid, &bands, Some(s as u32), false, &mut out);
            }
        }
    }
    (out, all)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::reach::{SnapIndex, Station};
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::{deg, layer};
    use geo::{Area, Contains, Point};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn station(lon: f64, lat: f64) -> Station {
        Station {
            id: "S".into(),
            position: Coord { x: lon, y: lat },
        }
    }

    /// Road positions sampled every 0.5 m along the pieces, with their times: an
    /// independent brute force of the definition, indexed for the queries below.
    fn samples(
        graph: &RoadGraph,
        pieces: &[ReachedPiece],
    ) -> rstar::RTree<rstar::primitives::GeomWithData<[f64; 2], f64>> {
        let mut out = Vec::new();
        for piece in pieces {
            let span = piece.to_m - piece.from_m;
            let steps = (span / 0.5).ceil().max(1.0) as usize;
            for k in 0..=steps {
                let a = piece.from_m + span * k as f64 / steps as f64;
                let q = graph.point_along(piece.edge as usize, a);
                let t = if span > 0.0 {
                    piece.time_from_s
                        + (a - piece.from_m) / span * (piece.time_to_s - piece.time_from_s)
                } else {
                    piece.time_from_s
                };
                out.push(rstar::primitives::GeomWithData::new(q, t));
            }
        }
        rstar::RTree::bulk_load(out)
    }

    /// Least time of sampled road positions within `r` of `p` (projected).
    fn exact_time(
        samples: &rstar::RTree<rstar::primitives::GeomWithData<[f64; 2], f64>>,
        p: [f64; 2],
        r: f64,
    ) -> f64 {
        samples
            .locate_within_distance(p, r * r)
            .map(|s| s.data)
            .fold(f64::INFINITY, f64::min)
    }

    fn covered(area: &MultiPolygon<f64>, lonlat: Coord<f64>) -> bool {
        area.contains(&Point(lonlat))
    }

    #[test]
    fn polygons_match_the_definition_on_random_points() {
        let net = crate::analysis::reach::tests::random_network(7, 10);
        let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
        let index = SnapIndex::new(&g);
        let st = [
            station(117.9 + deg(700.0), 36.8 + deg(900.0)),
            station(117.9 + deg(1500.0), 36.8 + deg(400.0)),
        ];
        let (snaps, _) = index.snap_stations(&g, &st, 500.0);
        let options = AreaOptions {
            bands_min: vec![3.0, 5.0],
            ..AreaOptions::default()
        };
        let (areas, all) = response_areas(&g, &snaps, &options);
        assert_eq!(areas.len(), 2);
        let samples = samples(&g, &all.pieces(&g));
        let half_diag = options.cell_m * std::f64::consts::SQRT_2 / 2.0;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut inside, mut outside) = (0, 0);
        for _ in 0..1000 {
            let p = [
                rng.random_range(-1100.0..1100.0),
                rng.random_range(-1100.0..1100.0),
            ];
            let ll = g.projection.inverse(p);
            let p = g.projection.forward(ll);
            for band in &areas {
                let limit = band.minutes * 60.0;
                if covered(&band.area, ll) {
                    inside += 1;
                    assert!(exact_time(&samples, p, options.access_m + half_diag + 1.0) <= limit);
                } else {
                    outside += 1;
                    assert!(exact_time(&samples, p, options.access_m - half_diag - 1.0) > limit);
                }
            }
        }
        assert!(inside > 50 && outside > 50, "{inside} {outside}");
        // Area figure agrees with the polygons' own area.
        let mp = &areas[1].area;
        let xy_area: f64 =
            mp.0.iter()
                .map(|poly| {
                    let conv = |ls: &LineString<f64>| {
                        LineString::from(
                            ls.0.iter()
                                .map(|c| {
                                    let q = g.projection.forward(*c);
                                    Coord { x: q[0], y: q[1] }
                                })
                                .collect::<Vec<_>>(),
                        )
                    };
                    Polygon::new(
                        conv(poly.exterior()),
                        poly.interiors().iter().map(conv).collect(),
                    )
                    .unsigned_area()
                })
                .sum();
        assert!((xy_area / 1e6 - areas[1].area_km2).abs() < 1e-6 * areas[1].area_km2.max(1.0));
    }

    #[test]
    fn river_banks_joined_only_by_a_distant_bridge_are_not_covered_across() {
        // Bank roads 300 m apart, 3 km long, joined at the far end; a crossing road at
        // x = 500 m passes over both without a shared vertex. 36 km/h = 10 m/s.
        let (x0, y0) = (117.9, 36.8);
        let dx = |m: f64| deg(m) / (36.8f64).to_radians().cos();
        let l = layer(&[
            (
                "x",
                "",
                vec![(x0, y0), (x0 + dx(1500.0), y0), (x0 + dx(3000.0), y0)],
            ),
            (
                "x",
                "",
                vec![
                    (x0, y0 + deg(300.0)),
                    (x0 + dx(1500.0), y0 + deg(300.0)),
                    (x0 + dx(3000.0), y0 + deg(300.0)),
                ],
            ),
            (
                "x",
                "",
                vec![(x0 + dx(3000.0), y0), (x0 + dx(3000.0), y0 + deg(300.0))],
            ),
            (
                "x",
                "",
                vec![
                    (x0 + dx(500.0), y0 - deg(200.0)),
                    (x0 + dx(500.0), y0 + deg(500.0)),
                ],
            ),
        ]);
        let speeds = SpeedTable::from_json(r#"{"x": 36}"#).unwrap();
        let (g, _) = RoadGraph::build(&[&l], &speeds).unwrap();
        let index = SnapIndex::new(&g);
        let (snaps, _) = index.snap_stations(&g, &[station(x0 + dx(700.0), y0 - deg(30.0))], 500.0);
        assert_eq!(
            snaps[0].unwrap().edge,
            g.edges.iter().position(|e| e.feature == 0).unwrap() as u32
        );
        let options = AreaOptions {
            bands_min: vec![5.0],
            ..AreaOptions::default()
        };
        let (areas, _) = response_areas(&g, &snaps, &options);
        let area = &areas[0].area;
        let at = |x: f64, y: f64| Coord {
            x: x0 + dx(x),
            y: y0 + deg(y),
        };
        assert!(covered(area, at(700.0, 50.0)));
        assert!(covered(area, at(2000.0, -60.0)));
        assert!(!covered(area, at(700.0, 150.0)), "river middle");
        assert!(!covered(area, at(700.0, 300.0)), "far bank");
        assert!(
            !covered(area, at(500.0, 400.0)),
            "unconnected crossing road"
        );
        // With more time the bridge is reached and the far bank is covered near it.
        let options = AreaOptions {
            bands_min: vec![10.0],
            ..AreaOptions::default()
        };
        let (areas, _) = response_areas(&g, &snaps, &options);
        assert!(covered(&areas[0].area, at(2900.0, 350.0)));
        assert!(!covered(&areas[0].area, at(700.0, 150.0)));
    }

    #[test]
    fn holes_and_detached_pieces_are_kept() {
        // A 1200 m square ring road, and a separate short road far away with its own station.
        let (x0, y0) = (117.9, 36.8);
        let dx = |m: f64| deg(m) / (36.8f64).to_radians().cos();
        let at = |x: f64, y: f64| (x0 + dx(x), y0 + deg(y));
        let l = layer(&[
            (
                "x",
                "",
                vec![
                    at(0.0, 0.0),
                    at(1200.0, 0.0),
                    at(1200.0, 1200.0),
                    at(0.0, 1200.0),
                    at(0.0, 0.0),
                ],
            ),
            ("x", "", vec![at(5000.0, 0.0), at(5300.0, 0.0)]),
        ]);
        let speeds = SpeedTable::from_json(r#"{"x": 60}"#).unwrap();
        let (g, _) = RoadGraph::build(&[&l], &speeds).unwrap();
        let index = SnapIndex::new(&g);
        let s1 = at(10.0, -10.0);
        let s2 = at(5100.0, 10.0);
        let (snaps, _) =
            index.snap_stations(&g, &[station(s1.0, s1.1), station(s2.0, s2.1)], 500.0);
        let options = AreaOptions {
            bands_min: vec![10.0],
            ..AreaOptions::default()
        };
        let (areas, _) = response_areas(&g, &snaps, &options);
        let mp = &areas[0].area;
        assert_eq!(mp.0.len(), 2);
        let ring = mp.0.iter().find(|p| !p.interiors().is_empty()).unwrap();
        assert_eq!(ring.interiors().len(), 1);
        let c = at(600.0, 600.0);
        assert!(!covered(mp, Coord { x: c.0, y: c.1 }));
        let c = at(50.0, 600.0);
        assert!(covered(mp, Coord { x: c.0, y: c.1 }));
        // Expected area: (1400² - 1000²) m² minus the rounded outer corners, within a cell.
        let expected = (1400.0f64.powi(2)
            - 1000.0f64.powi(2)
            - 4.0 * (100.0f64.powi(2) - std::f64::consts::PI * 100.0f64.powi(2) / 4.0)
            + 300.0 * 200.0
            + std::f64::consts::PI * 100.0f64.powi(2))
            / 1e6;
        assert!(
            (areas[0].area_km2 - expected).abs() < 0.03 * expected,
            "{} vs {expected}",
            areas[0].area_km2
        );

        // Split mode: each station gets its own piece.
        let options = AreaOptions {
            bands_min: vec![10.0],
            mode: AreaMode::Split,
            ..AreaOptions::default()
        };
        let (areas, _) = response_areas(&g, &snaps, &options);
        assert_eq!(areas.len(), 2);
        assert_eq!(areas[0].area.0.len(), 1);
        assert_eq!(areas[1].area.0.len(), 1);
        assert!(areas[1].area_km2 < 0.2);
    }

    #[test]
    fn split_and_per_station_modes_divide_and_overlap() {
        // A straight 4 km road with stations near each end, 36 km/h.
        let (x0, y0) = (117.9, 36.8);
        let dx = |m: f64| deg(m) / (36.8f64).to_radians().cos();
        let l = layer(&[("x", "", vec![(x0, y0), (x0 + dx(4000.0), y0)])]);
        let speeds = SpeedTable::from_json(r#"{"x": 36}"#).unwrap();
        let (g, _) = RoadGraph::build(&[&l], &speeds).unwrap();
        let index = SnapIndex::new(&g);
        let st = [station(x0 + dx(1000.0), y0), station(x0 + dx(3000.0), y0)];
        let (snaps, _) = index.snap_stations(&g, &st, 500.0);
        let mk = |mode| AreaOptions {
            bands_min: vec![5.0],
            mode,
            ..AreaOptions::default()
        };
        let (split, _) = response_areas(&g, &snaps, &mk(AreaMode::Split));
        let (per, _) = response_areas(&g, &snaps, &mk(AreaMode::PerStation));
        let (dis, _) = response_areas(&g, &snaps, &mk(AreaMode::Dissolve));
        let mid = Coord {
            x: x0 + dx(1900.0),
            y: y0,
        };
        assert!(covered(&split[0].area, mid) && !covered(&split[1].area, mid));
        let mid2 = Coord {
            x: x0 + dx(2100.0),
            y: y0,
        };
        assert!(covered(&per[0].area, mid2) && covered(&per[1].area, mid2));
        assert!(!covered(&split[0].area, mid2));
        let sum_split = split[0].area_km2 + split[1].area_km2;
        assert!((sum_split - dis[0].area_km2).abs() < 1e-9);
        assert!(per[0].area_km2 + per[1].area_km2 > dis[0].area_km2 + 0.1);
    }

    #[test]
    fn tracing_separates_diagonal_cells_and_keeps_a_pinched_hole() {
        // Two cells touching at a corner -> two squares.
        let mask = [true, false, false, true];
        let polys = trace_mask(&mask, 2, 2);
        assert_eq!(polys.len(), 2);
        // A 3x3 ring of cells with a hole in the middle, plus a diagonal touch.
        let mask = [
            true, true, true, false, //
            true, false, true, false, //
            true, true, true, false, //
            false, false, false, true,
        ];
        let polys = trace_mask(&mask, 4, 4);
        assert_eq!(polys.len(), 2);
        let ring = polys.iter().find(|p| !p.1.is_empty()).unwrap();
        assert_eq!(ring.1.len(), 1);
        assert_eq!(ring.0.len(), 5);
        // An L-shaped hole pinched at a corner: the polygon still has its hole.
        let mask = [
            true, true, true, true, //
            true, false, true, true, //
            true, true, false, true, //
            true, true, true, true,
        ];
        let polys = trace_mask(&mask, 4, 4);
        let holes: usize = polys.iter().map(|p| p.1.len()).sum();
        let area: f64 = polys
            .iter()
            .map(|(o, hs)| {
                let to = |r: &Vec<[i64; 2]>| {
                    LineString::from(
                        r.iter()
                            .map(|p| (p[0] as f64, p[1] as f64))
                            .collect::<Vec<_>>(),
                    )
                };
                Polygon::new(to(o), hs.iter().map(to).collect()).unsigned_area()
            })
            .sum();
        assert_eq!(area, 14.0);
        assert!(holes >= 1);
    }
}
