//! Response-area polygons. The covered area of a band is the set of points within
//! `access_m` of a road position reached within the band's time. It is approximated on a
//! grid of `cell_m` cells: each cell holds the least time of the road positions within
//! `access_m` of its centre (computed exactly per road segment), and the cells within a
//! band are traced into MultiPolygons (cell-boundary union), keeping holes and detached
//! pieces. A point is thus classified as its cell centre is: error at most one cell.
//! Dissolved bands need no station per cell and are filled without the time grid
//! ([`super::band_fill`]), to the same cells.

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

/// A straight stretch of reached road whose time is the least of two parts: one rising
/// from `a` towards `b`, one rising from `b` towards `a` (an absent part has an infinite
/// start time). Both are linear, so their least value over any stretch of the segment is
/// at one of its ends: that keeps the per-cell work to a few multiplications.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimedSegment {
    pub(crate) a: [f64; 2],
    pub(crate) b: [f64; 2],
    /// Time at `a` of the part rising towards `b`, its seconds per metre, its station.
    pub(crate) time_a: f64,
    pub(crate) rise_a: f64,
    station_a: u32,
    /// Time at `b` of the part rising towards `a`, its seconds per metre, its station.
    pub(crate) time_b: f64,
    pub(crate) rise_b: f64,
    station_b: u32,
}

/// The reached road as straight timed segments, in projected metres.
pub(crate) fn timed_segments(graph: &RoadGraph, pieces: &[ReachedPiece]) -> Vec<TimedSegment> {
    let mut segments: Vec<TimedSegment> = Vec::with_capacity(pieces.len() * 2);
    for stretch in join_pieces(pieces, graph.edges.len()) {
        stretch_segments(graph, &stretch, |s| segments.push(s));
    }
    segments
}

/// The grid frame round `segments` (cells of `cell_m` with a margin of `access_m` and one
/// cell): origin, width, height; `None` when there is no finite segment.
pub(crate) fn grid_frame(
    segments: &[TimedSegment],
    access_m: f64,
    cell_m: f64,
) -> Option<([f64; 2], usize, usize)> {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for s in segments {
        for k in 0..2 {
            lo[k] = lo[k].min(s.a[k]).min(s.b[k]);
            hi[k] = hi[k].max(s.a[k]).max(s.b[k]);
        }
    }
    if !(lo[0].is_finite() && lo[1].is_finite() && hi[0].is_finite() && hi[1].is_finite()) {
        return None;
    }
    let margin = access_m + cell_m;
    let origin = [
        ((lo[0] - margin) / cell_m).floor() * cell_m,
        ((lo[1] - margin) / cell_m).floor() * cell_m,
    ];
    let width = ((hi[0] + margin - origin[0]) / cell_m).ceil() as usize + 1;
    let height = ((hi[1] + margin - origin[1]) / cell_m).ceil() as usize + 1;
    Some((origin, width, height))
}

/// A usable cell size (25 m when not) and access distance (100 m when not).
pub(crate) fn usable_sizes(access_m: f64, cell_m: f64) -> (f64, f64) {
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
    (access_m, cell_m)
}

/// A reached stretch of one edge (metres along it) with its two rising parts, as in
/// [`TimedSegment`].
#[derive(Debug, Clone, Copy)]
struct TimedStretch {
    edge: u32,
    from_m: f64,
    to_m: f64,
    time_from: f64,
    rise_from: f64,
    station_from: u32,
    time_to: f64,
    rise_to: f64,
    station_to: u32,
}

impl TimedStretch {
    fn of_piece(piece: &ReachedPiece) -> TimedStretch {
        let span = piece.to_m - piece.from_m;
        let rise = if span > 0.0 {
            (piece.time_to_s - piece.time_from_s).abs() / span
        } else {
            0.0
        };
        let mut stretch = TimedStretch {
            edge: piece.edge,
            from_m: piece.from_m,
            to_m: piece.to_m,
            time_from: f64::INFINITY,
            rise_from: 0.0,
            station_from: piece.station,
            time_to: f64::INFINITY,
            rise_to: 0.0,
            station_to: piece.station,
        };
        if piece.time_to_s >= piece.time_from_s {
            stretch.time_from = piece.time_from_s;
            stretch.rise_from = rise;
        } else {
            stretch.time_to = piece.time_to_s;
            stretch.rise_to = rise;
        }
        stretch
    }
}

/// Joins the two pieces of an edge driven from both ends that meet in the middle (the
/// usual case: `Reach::pieces` cuts them where their times are equal) into one stretch,
/// so the grid is stamped once per edge. Other pieces stay as they are.
fn join_pieces(pieces: &[ReachedPiece], edge_count: usize) -> Vec<TimedStretch> {
    const NONE: u32 = u32::MAX;
    // The last piece rising along each edge, waiting for a piece rising against it.
    let mut rising_along: Vec<u32> = vec![NONE; edge_count];
    let mut stretches: Vec<TimedStretch> = Vec::with_capacity(pieces.len());
    let mut joined = vec![false; pieces.len()];
    for (k, piece) in pieces.iter().enumerate() {
        if piece.time_to_s >= piece.time_from_s
            && let Some(slot) = rising_along.get_mut(piece.edge as usize)
        {
            *slot = k as u32;
        }
    }
    for (k, piece) in pieces.iter().enumerate() {
        if piece.time_to_s >= piece.time_from_s {
            continue;
        }
        let Some(&j) = rising_along.get(piece.edge as usize) else {
            continue;
        };
        if j == NONE || joined[j as usize] {
            continue;
        }
        let other = &pieces[j as usize];
        let meet_gap = (other.to_m - piece.from_m).abs();
        let time_gap = (other.time_to_s - piece.time_from_s).abs();
        if meet_gap <= 1e-6 * (1.0 + piece.to_m) && time_gap <= 1e-6 * (1.0 + piece.time_from_s) {
            let (up, down) = (TimedStretch::of_piece(other), TimedStretch::of_piece(piece));
            stretches.push(TimedStretch {
                edge: piece.edge,
                from_m: up.from_m,
                to_m: down.to_m,
                time_from: up.time_from,
                rise_from: up.rise_from,
                station_from: up.station_from,
                time_to: down.time_to,
                rise_to: down.rise_to,
                station_to: down.station_to,
            });
            joined[j as usize] = true;
            joined[k] = true;
        }
    }
    for (piece, done) in pieces.iter().zip(&joined) {
        if !done {
            stretches.push(TimedStretch::of_piece(piece));
        }
    }
    stretches
}

/// Calls `f` with each straight part of a stretch, in projected metres.
fn stretch_segments(graph: &RoadGraph, s: &TimedStretch, mut f: impl FnMut(TimedSegment)) {
    let e = s.edge as usize;
    let along = graph.edge_along_m(e);
    let xy = graph.edge_xy(e);
    let mut emit = |a: [f64; 2], b: [f64; 2], along_a: f64, along_b: f64| {
        f(TimedSegment {
            a,
            b,
            time_a: s.time_from + s.rise_from * (along_a - s.from_m),
            rise_a: s.rise_from,
            station_a: s.station_from,
            time_b: s.time_to + s.rise_to * (s.to_m - along_b),
            rise_b: s.rise_to,
            station_b: s.station_to,
        })
    };
    let first = along.partition_point(|&a| a <= s.from_m);
    let mut prev = (graph.point_along(e, s.from_m), s.from_m);
    for i in first..along.len() {
        if along[i] >= s.to_m {
            break;
        }
        emit(prev.0, xy[i], prev.1, along[i]);
        prev = (xy[i], along[i]);
    }
    emit(prev.0, graph.point_along(e, s.to_m), prev.1, s.to_m);
}

impl TimeGrid {
    /// An empty grid (no cells).
    fn empty(cell_m: f64) -> TimeGrid {
        TimeGrid {
            origin: [0.0, 0.0],
            cell_m,
            width: 0,
            height: 0,
            time_s: Vec::new(),
            station: Vec::new(),
        }
    }

    /// Stamps every reached segment: a cell gets the least time of the road positions
    /// within `access_m` of its centre, exactly. The cost grows with the reached road length
    /// times `access_m` (each cell is visited by every segment within `access_m`).
    pub fn from_pieces(
        graph: &RoadGraph,
        pieces: &[ReachedPiece],
        access_m: f64,
        cell_m: f64,
    ) -> TimeGrid {
        let (access_m, cell_m) = usable_sizes(access_m, cell_m);
        let segments = timed_segments(graph, pieces);
        let Some((origin, width, height)) = grid_frame(&segments, access_m, cell_m) else {
            return TimeGrid::empty(cell_m);
        };
        let mut grid = TimeGrid {
            origin,
            cell_m,
            width,
            height,
            time_s: vec![f32::INFINITY; width * height],
            station: vec![NO_STATION; width * height],
        };
        for s in &segments {
            grid.stamp_segment(s, access_m);
        }
        grid
    }

    /// Lowers the cells within `r` of the segment to the least time of the segment's
    /// positions within `r` of their centres.
    fn stamp_segment(&mut self, s: &TimedSegment, r: f64) {
        let (a, b) = (s.a, s.b);
        let cell = self.cell_m;
        let d = [b[0] - a[0], b[1] - a[1]];
        let len = (d[0] * d[0] + d[1] * d[1]).sqrt();
        // A point is a segment of length 0 in any direction.
        let u = if len > 0.0 {
            [d[0] / len, d[1] / len]
        } else {
            [1.0, 0.0]
        };
        // Cell index ranges of the capsule's bounding box. The grid has a margin of
        // `r + cell` round every segment, so these are positive.
        let to_col = |x: f64| (x - self.origin[0]) / cell - 0.5;
        let to_row = |y: f64| (y - self.origin[1]) / cell - 0.5;
        let x0 = to_col(a[0].min(b[0]) - r).max(0.0) as usize;
        let x1 = (to_col(a[0].max(b[0]) + r).max(0.0) as usize + 2).min(self.width);
        let y0 = to_row(a[1].min(b[1]) - r).max(0.0) as usize;
        let y1 = (to_row(a[1].max(b[1]) + r).max(0.0) as usize + 2).min(self.height);
        // Per-cell work in f32, relative to `a`: centres are within a segment length (plus
        // `r`) of `a`, where f32 keeps millimetres even for kilometre-long segments.
        let (ux, uy) = (u[0] as f32, u[1] as f32);
        let r2 = (r * r) as f32;
        let len32 = len as f32;
        let (time_a, rise_a) = (s.time_a as f32, s.rise_a as f32);
        let (time_b, rise_b) = (s.time_b as f32, s.rise_b as f32);
        // No cell gets less than this from the segment: rows already at or below it are
        // skipped (most are, as pieces come roughly in order of time).
        let least_offered = time_a.min(time_b.min(time_b + rise_b * len32));
        let (station_a, station_b) = (s.station_a, s.station_b);
        let cell32 = cell as f32;
        let pad = 1e-6 * (1.0 + len);
        // Centres a row can hold: within `r` of the segment's line, and within `r` of its
        // span along it (a parallelogram round the capsule; the exact test is per cell).
        // Each bound is linear in the row's height `cy`: bound = c0 + c1 * cy.
        let mut lower = [[f64::NEG_INFINITY, 0.0]; 2];
        let mut upper = [[f64::INFINITY, 0.0]; 2];
        // For a line parallel to x, the first test is on cy alone.
        let mut rows_within = (f64::NEG_INFINITY, f64::INFINITY);
        for (n, (k, c, l, h)) in [
            (-u[1], u[0], -r - pad, r + pad),
            (u[0], u[1], -r - pad, len + r + pad),
        ]
        .into_iter()
        .enumerate()
        {
            if k.abs() > 1e-12 {
                // k * x + c * cy in [l, h]  <=>  x in [(l - c cy) / k, (h - c cy) / k].
                let (p, q) = ([l / k, -c / k], [h / k, -c / k]);
                let (low, high) = if k > 0.0 { (p, q) } else { (q, p) };
                lower[n] = low;
                upper[n] = high;
            } else if c.abs() > 1e-12 {
                let (p, q) = (l / c, h / c);
                rows_within = (rows_within.0.max(p.min(q)), rows_within.1.min(p.max(q)));
            } else if l > 0.0 || h < 0.0 {
                return;
            }
        }
        let col_shift = a[0] - self.origin[0];
        for y in y0..y1 {
            let cy = self.origin[1] + (y as f64 + 0.5) * cell - a[1];
            if cy < rows_within.0 || cy > rows_within.1 {
                continue;
            }
            let lo = (lower[0][0] + lower[0][1] * cy).max(lower[1][0] + lower[1][1] * cy);
            let hi = (upper[0][0] + upper[0][1] * cy).min(upper[1][0] + upper[1][1] * cy);
            if lo > hi {
                continue;
            }
            let first = ((((lo + col_shift) / cell - 0.5).max(0.0)) as usize).max(x0);
            let last = ((((hi + col_shift) / cell - 0.5).max(0.0)) as usize + 2).min(x1);
            if first >= last {
                continue;
            }
            let row = y * self.width;
            let times = &mut self.time_s[row + first..row + last];
            if times
                .iter()
                .fold(true, |all, &t| all & (t <= least_offered))
            {
                continue;
            }
            let stations = &mut self.station[row + first..row + last];
            let cy32 = cy as f32;
            let base = (self.origin[0] + (first as f64 + 0.5) * cell - a[0]) as f32;
            let (across_row, along_row) = (cy32 * ux, cy32 * uy);
            // Branch-free (`&`, not `&&`) so that the compiler runs several cells at once.
            for (k, (t, st)) in times.iter_mut().zip(stations.iter_mut()).enumerate() {
                let cx = base + (k as i32) as f32 * cell32;
                let across = across_row - cx * uy;
                let along = cx * ux + along_row;
                let room = r2 - across * across;
                let half = if room > 0.0 { room } else { 0.0 }.sqrt();
                let s1 = along - half;
                let s1 = if s1 > 0.0 { s1 } else { 0.0 };
                let s2 = along + half;
                let s2 = if s2 < len32 { s2 } else { len32 };
                // Each part is least at the end of the reachable stretch nearest its start.
                let from_a = time_a + rise_a * s1;
                let from_b = time_b + rise_b * (len32 - s2);
                let a_first = from_a <= from_b;
                let best = if a_first { from_a } else { from_b };
                let by = if a_first { station_a } else { station_b };
                let better = (room >= 0.0) & (s1 <= s2) & (best < *t);
                *t = if better { best } else { *t };
                *st = if better { by } else { *st };
            }
        }
    }

    /// The cell-wise least of several grids with the same cell size (their origins lie
    /// on the same lattice, as [`TimeGrid::from_pieces`] makes them), over their joint
    /// extent.
    pub fn least_of<'a>(grids: impl IntoIterator<Item = &'a TimeGrid> + Clone) -> TimeGrid {
        let live = || {
            grids
                .clone()
                .into_iter()
                .filter(|g| g.width > 0 && g.height > 0)
        };
        let Some(cell) = live().next().map(|g| g.cell_m) else {
            return TimeGrid::empty(25.0);
        };
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for g in live() {
            for k in 0..2 {
                let size = if k == 0 { g.width } else { g.height };
                lo[k] = lo[k].min(g.origin[k]);
                hi[k] = hi[k].max(g.origin[k] + size as f64 * cell);
            }
        }
        let width = ((hi[0] - lo[0]) / cell).round() as usize;
        let height = ((hi[1] - lo[1]) / cell).round() as usize;
        let mut out = TimeGrid {
            origin: lo,
            cell_m: cell,
            width,
            height,
            time_s: vec![f32::INFINITY; width * height],
            station: vec![NO_STATION; width * height],
        };
        for g in live() {
            let dx = ((g.origin[0] - lo[0]) / cell).round() as usize;
            let dy = ((g.origin[1] - lo[1]) / cell).round() as usize;
            for y in 0..g.height.min(height.saturating_sub(dy)) {
                let w = g.width.min(width.saturating_sub(dx));
                let src = y * g.width..y * g.width + w;
                let dst = (y + dy) * width + dx..(y + dy) * width + dx + w;
                let (times, stations) = (&mut out.time_s[dst.clone()], &mut out.station[dst]);
                for (((t, st), &gt), &gs) in times
                    .iter_mut()
                    .zip(stations.iter_mut())
                    .zip(&g.time_s[src.clone()])
                    .zip(&g.station[src])
                {
                    let better = gt < *t;
                    *t = if better { gt } else { *t };
                    *st = if better { gs } else { *st };
                }
            }
        }
        out
    }

    /// Cells within `limit_s` (and of `station`, when given) traced into polygons, in
    /// projected metres. Returns the polygons and the number of cells.
    pub fn band_polygons(&self, limit_s: f64, station: Option<u32>) -> (MultiPolygon<f64>, usize) {
        self.bands_polygons(&[limit_s], station)
            .pop()
            .unwrap_or_else(|| (MultiPolygon(Vec::new()), 0))
    }

    /// [`TimeGrid::band_polygons`] for several limits at once (one pass over the grid),
    /// in the order given.
    pub fn bands_polygons(
        &self,
        limits_s: &[f64],
        station: Option<u32>,
    ) -> Vec<(MultiPolygon<f64>, usize)> {
        let mut order: Vec<usize> = (0..limits_s.len()).collect();
        order.sort_by(|&i, &j| limits_s[i].total_cmp(&limits_s[j]));
        let sorted: Vec<f64> = order.iter().map(|&i| limits_s[i]).collect();
        let mut out: Vec<(MultiPolygon<f64>, usize)> = limits_s
            .iter()
            .map(|_| (MultiPolygon(Vec::new()), 0))
            .collect();
        if let Some(levels) = BandCodes::new(self, &sorted, station) {
            levels.polygons(self.origin, self.cell_m, &order, &mut out);
        }
        out
    }
}

/// Band level per cell over the window holding the band cells, with a border of empty
/// cells: a cell is in band `level` when its code is at most `level`.
pub(crate) struct BandCodes {
    /// Row-major `(width + 2) * (height + 2)`, [`BandCodes::OUTSIDE`] beyond the bands.
    codes: Vec<u8>,
    width: usize,
    height: usize,
    /// The window's lower-left cell in the grid.
    x0: usize,
    y0: usize,
    /// Cells per code.
    counts: Vec<usize>,
    /// Horizontal cell edges where the code changes: (corner x, corner y, lower code,
    /// upper code). Every ring of every band has at least one of them.
    changes: Vec<(u32, u32, u8, u8)>,
}

impl BandCodes {
    pub(crate) const OUTSIDE: u8 = u8::MAX;

    /// The polygons of every band, traced in ascending order; `out[order[level]]` gets
    /// band `level` (the limits' order as given). `origin` and `cell_m` are the full grid's.
    pub(crate) fn polygons(
        &self,
        grid_origin: [f64; 2],
        cell_m: f64,
        order: &[usize],
        out: &mut [(MultiPolygon<f64>, usize)],
    ) {
        let origin = [
            grid_origin[0] + self.x0 as f64 * cell_m,
            grid_origin[1] + self.y0 as f64 * cell_m,
        ];
        let mut visited = vec![0u8; self.width * (self.height + 1)];
        let mut cells = 0;
        for (level, &slot) in order.iter().enumerate() {
            cells += self.counts[level];
            let polygons = self
                .trace(level as u8, &mut visited)
                .into_iter()
                .map(|(outer, holes)| {
                    let to_xy = |ring: Vec<[i64; 2]>| {
                        LineString::from(
                            ring.into_iter()
                                .map(|[i, j]| Coord {
                                    x: origin[0] + i as f64 * cell_m,
                                    y: origin[1] + j as f64 * cell_m,
                                })
                                .collect::<Vec<_>>(),
                        )
                    };
                    Polygon::new(to_xy(outer), holes.into_iter().map(to_xy).collect())
                })
                .collect();
            if let Some(slot) = out.get_mut(slot) {
                *slot = (MultiPolygon(polygons), cells);
            }
        }
    }

    /// `limits` ascending, fewer than 255 of them; `None` when no cell is in any band.
    fn new(grid: &TimeGrid, limits: &[f64], station: Option<u32>) -> Option<BandCodes> {
        if limits.is_empty() || limits.len() >= usize::from(Self::OUTSIDE) {
            return None;
        }
        let (w, h) = (grid.width, grid.height);
        let mut full = vec![Self::OUTSIDE; w * h];
        // The largest f32 within each limit: a time is within the limit when not above it.
        let within: Vec<f32> = limits.iter().map(|&l| f32_at_most(l)).collect();
        let levels = limits.len() as u8;
        for y in 0..h {
            let row = y * w..(y + 1) * w;
            let codes = &mut full[row.clone()];
            let times = &grid.time_s[row.clone()];
            codes.fill(0);
            for &limit in &within {
                for (code, &t) in codes.iter_mut().zip(times) {
                    *code += u8::from(t > limit);
                }
            }
            match station {
                None => {
                    for code in codes.iter_mut() {
                        *code = if *code >= levels {
                            Self::OUTSIDE
                        } else {
                            *code
                        };
                    }
                }
                Some(want) => {
                    for (code, &s) in codes.iter_mut().zip(&grid.station[row]) {
                        let inside = (*code < levels) & (s == want);
                        *code = if inside { *code } else { Self::OUTSIDE };
                    }
                }
            }
        }
        Self::from_full(full, w, h, limits.len())
    }

    /// Band codes from a full grid of codes (`w * h`, row-major; `levels` bands, anything
    /// else [`BandCodes::OUTSIDE`]).
    pub(crate) fn from_full(full: Vec<u8>, w: usize, h: usize, levels: usize) -> Option<BandCodes> {
        if levels == 0 || levels >= usize::from(Self::OUTSIDE) || full.len() != w * h {
            return None;
        }
        let mut counts = vec![0usize; levels + 1];
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..h {
            let codes = &full[y * w..(y + 1) * w];
            if let Some(first) = codes.iter().position(|&c| c != Self::OUTSIDE) {
                let last = codes
                    .iter()
                    .rposition(|&c| c != Self::OUTSIDE)
                    .unwrap_or(first);
                x0 = x0.min(first);
                x1 = x1.max(last + 1);
                y0 = y0.min(y);
                y1 = y1.max(y + 1);
                for &c in &codes[first..=last] {
                    counts[usize::from(c.min(levels as u8))] += 1;
                }
            }
        }
        if x0 >= x1 {
            return None;
        }
        let (ww, wh) = (x1 - x0, y1 - y0);
        let pw = ww + 2;
        let mut codes = vec![Self::OUTSIDE; pw * (wh + 2)];
        for y in 0..wh {
            let src = (y0 + y) * w + x0;
            codes[(y + 1) * pw + 1..(y + 1) * pw + 1 + ww].copy_from_slice(&full[src..src + ww]);
        }
        // Rows of the padded window are corners' rows: corner row j lies between padded
        // rows j and j + 1.
        let mut changes = Vec::new();
        for j in 0..=wh {
            let below = &codes[j * pw + 1..j * pw + 1 + ww];
            let above = &codes[(j + 1) * pw + 1..(j + 1) * pw + 1 + ww];
            for (chunk, (b8, a8)) in below.chunks(8).zip(above.chunks(8)).enumerate() {
                if b8 == a8 {
                    continue;
                }
                for (k, (&b, &a)) in b8.iter().zip(a8).enumerate() {
                    if b != a {
                        changes.push(((chunk * 8 + k) as u32, j as u32, b, a));
                    }
                }
            }
        }
        Some(BandCodes {
            codes,
            width: ww,
            height: wh,
            x0,
            y0,
            counts,
            changes,
        })
    }

    /// Whether window cell (i, j) is in band `level`; i and j may be -1 or the size.
    #[inline]
    fn filled(&self, i: i64, j: i64, level: u8) -> bool {
        self.codes[((j + 1) as usize) * (self.width + 2) + (i + 1) as usize] <= level
    }

    /// The polygons of band `level`, as in [`trace_mask`]. `visited` has one entry per
    /// horizontal cell edge and must not hold `level + 1` yet.
    fn trace(&self, level: u8, visited: &mut [u8]) -> Vec<GridPolygon> {
        let tag = level + 1;
        let w = self.width as i64;
        let mut rings: Vec<GridRing> = Vec::new();
        for &(i, j, below, above) in &self.changes {
            let (below, above) = (below <= level, above <= level);
            if below == above || visited[j as usize * self.width + i as usize] == tag {
                continue;
            }
            // Walk with the band on the left: east under a band cell, west over one.
            let start = if above {
                (i64::from(i), i64::from(j), [1i64, 0i64])
            } else {
                (i64::from(i) + 1, i64::from(j), [-1, 0])
            };
            let (mut x, mut y, mut d) = start;
            let mut ring: GridRing = Vec::new();
            let mut pinches: Vec<usize> = Vec::new();
            loop {
                if d[1] == 0 {
                    let edge_x = if d[0] > 0 { x } else { x - 1 };
                    visited[(y * w + edge_x) as usize] = tag;
                }
                x += d[0];
                y += d[1];
                // The cells ahead of (x, y): left and right of the edge going on straight.
                let (left, right) = match d {
                    [1, 0] => ((x, y), (x, y - 1)),
                    [0, 1] => ((x - 1, y), (x, y)),
                    [-1, 0] => ((x - 1, y - 1), (x - 1, y)),
                    _ => ((x, y - 1), (x - 1, y - 1)),
                };
                let left_in = self.filled(left.0, left.1, level);
                let right_in = self.filled(right.0, right.1, level);
                // Turn left round a band cell's corner, also where two band cells touch
                // only diagonally: that keeps each to its own piece.
                let next = if !left_in {
                    if right_in {
                        pinches.push(ring.len());
                    }
                    [-d[1], d[0]]
                } else if right_in {
                    [d[1], -d[0]]
                } else {
                    d
                };
                if next != d {
                    ring.push([x, y]);
                }
                d = next;
                if (x, y, d) == start {
                    break;
                }
            }
            if pinches.len() < 2 {
                rings.push(ring);
            } else {
                split_pinched(ring, &pinches, &mut rings);
            }
        }
        assemble(rings)
    }
}

/// Splits a ring that passes a corner twice (only possible at the `pinches` positions,
/// where two band cells touch diagonally) into simple rings, appended to `out`.
fn split_pinched(ring: GridRing, pinches: &[usize], out: &mut Vec<GridRing>) {
    let mut is_pinch = vec![false; ring.len()];
    for &p in pinches {
        if let Some(flag) = is_pinch.get_mut(p) {
            *flag = true;
        }
    }
    let mut stack: Vec<[i64; 2]> = Vec::with_capacity(ring.len());
    // Pinch corners on the stack, with their stack positions.
    let mut open: Vec<([i64; 2], usize)> = Vec::new();
    for (v, pinch) in ring.into_iter().zip(is_pinch) {
        if pinch {
            if let Some(k) = open.iter().position(|(c, _)| *c == v) {
                let at = open[k].1;
                out.push(drop_collinear(stack.split_off(at)));
                open.retain(|&(_, p)| p < at);
            }
            open.push((v, stack.len()));
        }
        stack.push(v);
    }
    out.push(drop_collinear(stack));
}

/// The largest f32 not above `limit` (so `t <= limit` in f64 is `t <= f32_at_most(limit)`
/// for any f32 `t`).
fn f32_at_most(limit: f64) -> f32 {
    if limit.is_nan() {
        return f32::NEG_INFINITY;
    }
    let near = limit as f32;
    if f64::from(near) <= limit {
        near
    } else if near > 0.0 {
        f32::from_bits(near.to_bits() - 1)
    } else if near == 0.0 {
        -f32::from_bits(1)
    } else {
        f32::from_bits(near.to_bits() + 1)
    }
}

/// Sorts traced rings into polygons (outer ring, holes), each ring closed: outer rings
/// are counter-clockwise, holes clockwise and given to the smallest outer ring round them.
fn assemble(rings: Vec<GridRing>) -> Vec<GridPolygon> {
    let signed = |ring: &[[i64; 2]]| -> i64 {
        let n = ring.len();
        (0..n)
            .map(|k| {
                let (p, q) = (ring[k], ring[(k + 1) % n]);
                p[0] * q[1] - q[0] * p[1]
            })
            .sum()
    };
    let mut outers: Vec<(GridRing, i64, [i64; 4])> = Vec::new();
    let mut holes: Vec<GridRing> = Vec::new();
    for ring in rings {
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
    outers.sort_by_key(|o| o.1);
    let mut result: Vec<GridPolygon> = Vec::with_capacity(outers.len());
    let mut hole_lists: Vec<Vec<GridRing>> = vec![Vec::new(); outers.len()];
    for hole in holes {
        // The band cell left of the hole's first edge lies strictly inside its polygon.
        let (p, q) = (hole[0], hole[1]);
        let d = [(q[0] - p[0]).signum(), (q[1] - p[1]).signum()];
        let cell = match d {
            [1, 0] => [p[0], p[1]],
            [0, 1] => [p[0] - 1, p[1]],
            [-1, 0] => [p[0] - 1, p[1] - 1],
            _ => [p[0], p[1] - 1],
        };
        let probe = [cell[0] as f64 + 0.5, cell[1] as f64 + 0.5];
        let owner = outers.iter().position(|(ring, _, b)| {
            probe[0] > b[0] as f64
                && probe[0] < b[2] as f64
                && probe[1] > b[1] as f64
                && probe[1] < b[3] as f64
                && ring_contains(ring, probe)
        });
        if let Some(k) = owner {
            let mut closed = hole;
            closed.push(closed[0]);
            hole_lists[k].push(closed);
        }
    }
    for ((mut outer, _, _), holes) in outers.into_iter().zip(hole_lists) {
        outer.push(outer[0]);
        result.push((outer, holes));
    }
    result
}

/// A ring of grid corners.
type GridRing = Vec<[i64; 2]>;
/// An outer ring and its holes.
type GridPolygon = (GridRing, Vec<GridRing>);

/// Traces the filled cells of a mask into polygons (outer ring, holes), as closed rings of
/// grid-corner coordinates: outer rings counter-clockwise, holes clockwise. Cells touching
/// only at a corner are separate pieces.
#[cfg(test)]
fn trace_mask(mask: &[bool], width: usize, height: usize) -> Vec<GridPolygon> {
    let grid = TimeGrid {
        origin: [0.0, 0.0],
        cell_m: 1.0,
        width,
        height,
        time_s: mask
            .iter()
            .map(|&m| if m { 0.0 } else { f32::INFINITY })
            .collect(),
        station: vec![0; mask.len()],
    };
    let Some(levels) = BandCodes::new(&grid, &[0.0], None) else {
        return Vec::new();
    };
    let mut visited = vec![0u8; levels.width * (levels.height + 1)];
    let shift = [levels.x0 as i64, levels.y0 as i64];
    let moved = |ring: GridRing| -> GridRing {
        ring.into_iter()
            .map(|p| [p[0] + shift[0], p[1] + shift[1]])
            .collect()
    };
    levels
        .trace(0, &mut visited)
        .into_iter()
        .map(|(outer, holes)| (moved(outer), holes.into_iter().map(moved).collect()))
        .collect()
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

/// The areas of `bands` (minutes, ascending) from one grid, appended to `out`: of
/// `station`'s cells only when `split_station`, labelled with `station` in any case.
pub(crate) fn band_areas(
    graph: &RoadGraph,
    grid: &TimeGrid,
    bands: &[f64],
    station: Option<u32>,
    split_station: bool,
    out: &mut Vec<BandArea>,
) {
    let filter = if split_station { station } else { None };
    let limits: Vec<f64> = bands.iter().map(|m| m * 60.0).collect();
    for (&minutes, (mp, cells)) in bands.iter().zip(grid.bands_polygons(&limits, filter)) {
        out.push(BandArea {
            minutes,
            station,
            area: to_lonlat(graph, mp),
            area_km2: cells as f64 * grid.cell_m * grid.cell_m / 1e6,
        });
    }
}

/// The usable band limits of `options`, in minutes, ascending and without repeats.
pub(crate) fn sorted_bands(options: &AreaOptions) -> Vec<f64> {
    let mut bands: Vec<f64> = options
        .bands_min
        .iter()
        .copied()
        .filter(|b| b.is_finite() && *b >= 0.0)
        .collect();
    bands.sort_by(f64::total_cmp);
    bands.dedup();
    bands
}

/// Response areas for the snapped stations (station `i` is `snaps[i]`; `None` is unused)
/// by band, in the chosen mode. Also returns the reach used for the largest band (in
/// per-station mode, of all stations together) for the reached-streets output.
pub fn response_areas(
    graph: &RoadGraph,
    snaps: &[Option<Snap>],
    options: &AreaOptions,
) -> (Vec<BandArea>, Reach) {
    let bands = sorted_bands(options);
    let budget = bands.last().copied().unwrap_or(0.0) * 60.0;
    let all = reach(graph, snaps, options.turnout_s, budget);
    let mut out = Vec::new();
    match options.mode {
        AreaMode::Dissolve => {
            // No station per cell is needed: the bands are filled straight from the road.
            let limits: Vec<f64> = bands.iter().map(|m| m * 60.0).collect();
            let (polygons, cell_m) = super::band_fill::dissolved_band_polygons(
                graph,
                &all.pieces(graph),
                &limits,
                options.access_m,
                options.cell_m,
            );
            for (&minutes, (mp, cells)) in bands.iter().zip(polygons) {
                out.push(BandArea {
                    minutes,
                    station: None,
                    area: to_lonlat(graph, mp),
                    area_km2: cells as f64 * cell_m * cell_m / 1e6,
                });
            }
        }
        AreaMode::Split => {
            let grid =
                TimeGrid::from_pieces(graph, &all.pieces(graph), options.access_m, options.cell_m);
            for (s, snap) in snaps.iter().enumerate() {
                if snap.is_some() {
                    band_areas(graph, &grid, &bands, Some(s as u32), true, &mut out);
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
pub(crate) mod tests {

    /// How many of the polygons hold the point (outer ring minus holes).
    fn holders(polys: &[GridPolygon], p: [f64; 2]) -> usize {
        let unclosed = |r: &GridRing| r[..r.len() - 1].to_vec();
        polys
            .iter()
            .filter(|(outer, holes)| {
                ring_contains(&unclosed(outer), p)
                    && !holes.iter().any(|h| ring_contains(&unclosed(h), p))
            })
            .count()
    }

    #[test]
    fn tracing_agrees_with_the_former_tracer_on_random_masks() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for round in 0..400 {
            let (w, h) = (rng.random_range(1..14), rng.random_range(1..14));
            let density = rng.random_range(0.2..0.9);
            let mask: Vec<bool> = (0..w * h).map(|_| rng.random_bool(density)).collect();
            let polys = trace_mask(&mask, w, h);
            let former = reference::reference_trace(&mask, w, h);
            // Every cell centre lies in exactly one polygon when filled, in none otherwise.
            for j in 0..h {
                for i in 0..w {
                    let p = [i as f64 + 0.5, j as f64 + 0.5];
                    let want = usize::from(mask[j * w + i]);
                    assert_eq!(holders(&polys, p), want, "round {round} cell {i},{j}");
                    assert_eq!(holders(&former, p), want, "former, round {round}");
                }
            }
            assert_eq!(polys.len(), former.len(), "round {round}");
            let holes = |ps: &[GridPolygon]| ps.iter().map(|p| p.1.len()).sum::<usize>();
            assert_eq!(holes(&polys), holes(&former), "round {round}");
            // Rings are closed, without collinear corners, outer ones counter-clockwise.
            for (outer, holes) in &polys {
                for (k, ring) in std::iter::once(outer).chain(holes).enumerate() {
                    assert_eq!(ring.first(), ring.last());
                    let open = ring[..ring.len() - 1].to_vec();
                    assert_eq!(drop_collinear(open.clone()).len(), open.len());
                    let area: i64 = (0..open.len())
                        .map(|q| {
                            let (a, b) = (open[q], open[(q + 1) % open.len()]);
                            a[0] * b[1] - b[0] * a[1]
                        })
                        .sum();
                    assert_eq!(area > 0, k == 0, "round {round}");
                }
            }
        }
    }

    #[test]
    fn several_bands_from_one_pass_match_single_bands() {
        let net = crate::analysis::reach::tests::random_network(5, 8);
        let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
        let index = SnapIndex::new(&g);
        let st = [
            station(117.9 + deg(600.0), 36.8 + deg(700.0)),
            station(117.9 + deg(1400.0), 36.8 + deg(500.0)),
        ];
        let (snaps, _) = index.snap_stations(&g, &st, 500.0);
        let all = reach(&g, &snaps, 60.0, 600.0);
        let grid = TimeGrid::from_pieces(&g, &all.pieces(&g), 100.0, 25.0);
        let limits = [300.0, 180.0, 600.0, 480.0];
        for station in [None, Some(0), Some(1)] {
            let together = grid.bands_polygons(&limits, station);
            for (limit, (mp, cells)) in limits.iter().zip(&together) {
                let (single, single_cells) = grid.band_polygons(*limit, station);
                assert_eq!(*cells, single_cells);
                assert_eq!(mp, &single);
                let brute = grid
                    .time_s
                    .iter()
                    .zip(&grid.station)
                    .filter(|(t, s)| {
                        f64::from(**t) <= *limit && station.is_none_or(|want| want == **s)
                    })
                    .count();
                assert_eq!(*cells, brute);
            }
        }
    }

    #[test]
    fn grid_matches_a_brute_force_of_the_definition_at_cell_centres() {
        let net = crate::analysis::reach::tests::random_network(9, 8);
        let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
        let index = SnapIndex::new(&g);
        let st = [
            station(117.9 + deg(500.0), 36.8 + deg(600.0)),
            station(117.9 + deg(1200.0), 36.8 + deg(300.0)),
        ];
        let (snaps, _) = index.snap_stations(&g, &st, 500.0);
        let all = reach(&g, &snaps, 60.0, 420.0);
        let pieces = all.pieces(&g);
        let grid = TimeGrid::from_pieces(&g, &pieces, 100.0, 25.0);
        let samples = samples(&g, &pieces);
        let mut checked = 0;
        for y in 0..grid.height {
            for x in 0..grid.width {
                let c = [
                    grid.origin[0] + (x as f64 + 0.5) * 25.0,
                    grid.origin[1] + (y as f64 + 0.5) * 25.0,
                ];
                let t = f64::from(grid.time_s[y * grid.width + x]);
                // Samples lie every 0.5 m along the road: compare with slightly wider and
                // narrower circles, allowing the time of half a metre of road (> 2 m/s).
                let wide = exact_time(&samples, c, 100.3);
                let narrow = exact_time(&samples, c, 99.7);
                assert!(
                    t >= wide - 0.25 && t <= narrow + 0.25,
                    "{t} {wide} {narrow}"
                );
                checked += usize::from(t.is_finite());
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn least_of_per_station_grids_is_the_joint_grid() {
        let net = crate::analysis::reach::tests::random_network(4, 8);
        let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
        let index = SnapIndex::new(&g);
        let st = [
            station(117.9 + deg(400.0), 36.8 + deg(600.0)),
            station(117.9 + deg(1300.0), 36.8 + deg(900.0)),
        ];
        let (snaps, _) = index.snap_stations(&g, &st, 500.0);
        let joint_reach = reach(&g, &snaps, 60.0, 480.0);
        let joint = TimeGrid::from_pieces(&g, &joint_reach.pieces(&g), 100.0, 25.0);
        let alone: Vec<TimeGrid> = (0..2)
            .map(|s| {
                let only: Vec<Option<Snap>> = (0..2)
                    .map(|k| if k == s { snaps[k] } else { None })
                    .collect();
                TimeGrid::from_pieces(&g, &reach(&g, &only, 60.0, 480.0).pieces(&g), 100.0, 25.0)
            })
            .collect();
        let merged = TimeGrid::least_of(&alone);
        let at = |grid: &TimeGrid, c: [f64; 2]| -> f32 {
            let x = ((c[0] - grid.origin[0]) / grid.cell_m).floor();
            let y = ((c[1] - grid.origin[1]) / grid.cell_m).floor();
            if x < 0.0 || y < 0.0 || x >= grid.width as f64 || y >= grid.height as f64 {
                f32::INFINITY
            } else {
                grid.time_s[y as usize * grid.width + x as usize]
            }
        };
        let mut differ = 0;
        let mut finite = 0;
        for y in 0..merged.height.max(joint.height) + 8 {
            for x in 0..merged.width.max(joint.width) + 8 {
                let c = [
                    merged.origin[0].min(joint.origin[0]) + (x as f64 - 3.5) * 25.0,
                    merged.origin[1].min(joint.origin[1]) + (y as f64 - 3.5) * 25.0,
                ];
                let (a, b) = (at(&merged, c), at(&joint, c));
                assert!(
                    (a.is_infinite() && b.is_infinite()) || (a - b).abs() < 1e-3,
                    "{a} {b}"
                );
                differ += usize::from(a != b);
                finite += usize::from(a.is_finite());
            }
        }
        assert!(finite > 1000, "{finite}");
        assert!(differ < finite / 100, "{differ}");
    }
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
    pub(crate) fn samples(
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
    pub(crate) fn exact_time(
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

    /// The former tracer, kept as an independent oracle for the band tracing.
    mod reference {
        use super::super::{GridPolygon, GridRing, drop_collinear, ring_contains};

        /// The former tracer (edge lists over every grid corner), kept as an oracle: traces the filled cells of a mask into polygons (outer ring, holes), as closed rings of
        /// grid-corner coordinates: outer rings counter-clockwise, holes clockwise. Cells touching
        /// only at a corner are separate pieces.
        pub(super) fn reference_trace(
            mask: &[bool],
            width: usize,
            height: usize,
        ) -> Vec<GridPolygon> {
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
                    reference_split(&ring, &mut position_in_ring, &mut rings, xy);
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
                    let bbox =
                        ring.iter()
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

        /// The former tracer's splitting of a ring that passes a corner twice into simple rings, appended to `out`.
        /// `position` is scratch space (all `u32::MAX`), left as it was found.
        fn reference_split(
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
    }
}
