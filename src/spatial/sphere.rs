//! Sphere arithmetic for the index: great-circle distances on geo's Haversine sphere, cheap
//! lower bounds for pruning, and the degree boxes that contain a metre radius.
//!
//! Distances are compared as the haversine value `a = sin²(θ/2)` (θ the central angle), which
//! grows with distance, so that metres are only computed for results.

use geo::{Coord, Geometry, Intersects, LineString, Polygon, Rect};

/// Radius of the sphere all distances are measured on: geo's `Haversine` (GRS80 mean radius).
pub const EARTH_RADIUS_M: f64 = geo::HaversineMeasure::GRS80_MEAN_RADIUS.radius();

/// Below this angle (radians) the short series below are exact to double precision.
const SMALL_ANGLE: f64 = 0.02;

/// sin(x) for |x| <= SMALL_ANGLE: the first omitted term is below 1e-20 relative.
#[inline]
fn sin_small(x: f64) -> f64 {
    let x2 = x * x;
    x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0)))
}

/// cos(x) for |x| <= SMALL_ANGLE.
#[inline]
fn cos_small(x: f64) -> f64 {
    let x2 = x * x;
    1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0)))
}

/// A number never above sin²(h) for h in [0, π/2] (sin h >= h - h³/6 there), with no trig.
#[inline]
fn sin_sq_lower(h: f64) -> f64 {
    let s = h - h * h * h / 6.0;
    if s > 0.0 { s * s } else { 0.0 }
}

/// Longitude difference folded into [-180, 180].
#[inline]
pub fn wrap_lon_delta(d: f64) -> f64 {
    if (-180.0..=180.0).contains(&d) {
        d
    } else {
        d - 360.0 * (d / 360.0).round()
    }
}

/// The smallest angular longitude difference (degrees, 0..=180) between `lon0` and any
/// longitude in `[lo, hi]`, modulo 360.
#[inline]
pub fn lon_gap_deg(lon0: f64, lo: f64, hi: f64) -> f64 {
    // Also catches NaN and infinite spans.
    let span_below_turn = hi - lo < 360.0;
    if !span_below_turn {
        return 0.0;
    }
    let a = (lo - lon0).rem_euclid(360.0);
    let b = a + (hi - lo);
    if a == 0.0 || b >= 360.0 {
        return 0.0;
    }
    a.min(360.0 - b).min(180.0)
}

/// Converts a haversine value to metres.
#[inline]
pub fn hav_to_m(a: f64) -> f64 {
    let x = a.clamp(0.0, 1.0).sqrt();
    let asin = if x < 1e-3 {
        let x2 = x * x;
        x * (1.0 + x2 / 6.0 + 0.075 * x2 * x2)
    } else {
        x.asin()
    };
    2.0 * EARTH_RADIUS_M * asin
}

/// The haversine value of a distance in metres (1.0, the antipode, for anything longer).
pub fn m_to_hav(m: f64) -> f64 {
    let theta = m / EARTH_RADIUS_M;
    if theta >= std::f64::consts::PI {
        1.0
    } else {
        let s = (theta * 0.5).sin();
        s * s
    }
}

/// A query point with the trigonometry it needs precomputed.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// Longitude folded into [-180, 180).
    pub lon: f64,
    pub lat: f64,
    pub cos_lat: f64,
    pub sin_lat: f64,
}

impl Origin {
    /// None for a non-finite point or a latitude beyond ±90°.
    pub fn new(lon: f64, lat: f64) -> Option<Origin> {
        if !lon.is_finite() || !lat.is_finite() || lat.abs() > 90.0 {
            return None;
        }
        let lon = (lon + 180.0).rem_euclid(360.0) - 180.0;
        let (sin_lat, cos_lat) = lat.to_radians().sin_cos();
        Some(Origin {
            lon,
            lat,
            cos_lat: cos_lat.max(0.0),
            sin_lat,
        })
    }

    /// Haversine value from the origin to (lon, lat) in degrees.
    #[inline]
    pub fn hav(&self, lon: f64, lat: f64) -> f64 {
        let dphi = (lat - self.lat).to_radians();
        let dlam = wrap_lon_delta(lon - self.lon).to_radians();
        if dphi.abs() < SMALL_ANGLE && dlam.abs() < SMALL_ANGLE {
            let s1 = sin_small(dphi * 0.5);
            let s2 = sin_small(dlam * 0.5);
            let cos_lat =
                (self.cos_lat * cos_small(dphi) - self.sin_lat * sin_small(dphi)).max(0.0);
            s1 * s1 + self.cos_lat * cos_lat * s2 * s2
        } else {
            let s1 = (dphi * 0.5).sin();
            let s2 = (dlam * 0.5).sin();
            let cos_lat = lat.to_radians().cos().max(0.0);
            (s1 * s1 + self.cos_lat * cos_lat * s2 * s2).min(1.0)
        }
    }

    /// A haversine value never above that of any point whose latitude is at least
    /// `lat_gap_deg` and whose longitude at least `lon_gap_deg` (0..=180) from the origin,
    /// when every such point has cos(latitude) >= `cos_lat_min`.
    #[inline]
    pub fn hav_lower_bound(&self, lat_gap_deg: f64, lon_gap_deg: f64, cos_lat_min: f64) -> f64 {
        let lat_part = sin_sq_lower(lat_gap_deg.to_radians() * 0.5);
        let lon_part = sin_sq_lower(lon_gap_deg.to_radians() * 0.5);
        // The slack covers rounding in the exact values this is compared with.
        (lat_part + self.cos_lat * cos_lat_min * lon_part) * (1.0 - 1e-12)
    }

    /// Lower bound of the haversine value to any point of a lon/lat box.
    pub fn hav_lower_bound_box(&self, min: [f64; 2], max: [f64; 2]) -> f64 {
        let lat_gap = (min[1] - self.lat).max(self.lat - max[1]).max(0.0);
        let lon_gap = lon_gap_deg(self.lon, min[0], max[0]);
        let cos_min = min[1]
            .abs()
            .max(max[1].abs())
            .min(90.0)
            .to_radians()
            .cos()
            .max(0.0);
        let cos_min = if cos_min.is_finite() { cos_min } else { 0.0 };
        self.hav_lower_bound(lat_gap, lon_gap, cos_min)
    }

    /// Degree boxes (min lon, min lat, max lon, max lat) that together hold every point
    /// within `radius_m` of the origin: one box, or two when the circle crosses the
    /// antimeridian. A circle over a pole gets every longitude.
    pub fn boxes_within(&self, radius_m: f64) -> DegreeBoxes {
        let theta = radius_m / EARTH_RADIUS_M;
        let all = f64::INFINITY;
        if theta >= std::f64::consts::PI {
            return DegreeBoxes::one([-all, -all, all, all]);
        }
        // Margins keep the boxes conservative against rounding (1e-9° is 0.1 mm).
        let dlat = theta.to_degrees() * (1.0 + 1e-9) + 1e-9;
        let (lat_lo, lat_hi) = (self.lat - dlat, self.lat + dlat);
        let s = theta.sin() / self.cos_lat;
        // `s` is NaN or infinite at a pole (cos_lat = 0): every longitude then.
        let cap_below_pole = s < 1.0;
        if lat_hi >= 90.0 || lat_lo <= -90.0 || !cap_below_pole {
            return DegreeBoxes::one([-all, lat_lo, all, lat_hi]);
        }
        let dlon = s.asin().to_degrees() * (1.0 + 1e-9) + 1e-9;
        if dlon >= 180.0 {
            return DegreeBoxes::one([-all, lat_lo, all, lat_hi]);
        }
        let (lon_lo, lon_hi) = (self.lon - dlon, self.lon + dlon);
        let mut boxes = DegreeBoxes::one([lon_lo, lat_lo, lon_hi, lat_hi]);
        if lon_lo < -180.0 {
            boxes.push([lon_lo + 360.0, lat_lo, lon_hi + 360.0, lat_hi]);
        }
        if lon_hi > 180.0 {
            boxes.push([lon_lo - 360.0, lat_lo, lon_hi - 360.0, lat_hi]);
        }
        boxes
    }

    /// Haversine value to the nearest point of segment a-b (straight in lon/lat, as
    /// RFC 7946 draws it). The nearest point is found in an equirectangular frame centred on
    /// the origin, then measured exactly; the result is the exact distance to a point of the
    /// segment, so never below the true minimum and above it only by a second-order error.
    #[inline]
    fn segment_hav(&self, a: Coord<f64>, b: Coord<f64>) -> f64 {
        let ax = wrap_lon_delta(a.x - self.lon);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let (px, py) = (ax * self.cos_lat, a.y - self.lat);
        let (vx, vy) = (dx * self.cos_lat, dy);
        let len2 = vx * vx + vy * vy;
        let t = if len2 > 0.0 {
            (-(px * vx + py * vy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let foot = self.hav(a.x + t * dx, a.y + t * dy);
        // Endpoints too: they keep the answer good where the frame is poor (near the poles).
        foot.min(self.hav(a.x, a.y)).min(self.hav(b.x, b.y))
    }

    fn line_string_hav(&self, ls: &LineString<f64>) -> f64 {
        match ls.0.as_slice() {
            [] => f64::INFINITY,
            [only] => self.hav(only.x, only.y),
            coords => coords
                .windows(2)
                .map(|w| self.segment_hav(w[0], w[1]))
                .fold(f64::INFINITY, f64::min),
        }
    }

    fn polygon_hav(&self, polygon: &Polygon<f64>) -> f64 {
        if polygon.exterior().0.is_empty() {
            return f64::INFINITY;
        }
        if polygon.intersects(&self.coord()) {
            return 0.0;
        }
        std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .map(|ring| self.line_string_hav(ring))
            .fold(f64::INFINITY, f64::min)
    }

    fn coord(&self) -> Coord<f64> {
        Coord {
            x: self.lon,
            y: self.lat,
        }
    }

    /// Haversine value to the nearest point of a geometry (0 inside a polygon; infinite for
    /// an empty geometry). Polygon insideness is planar in lon/lat, as GeoJSON defines it.
    pub fn geometry_hav(&self, geometry: &Geometry<f64>) -> f64 {
        match geometry {
            Geometry::Point(p) => self.hav(p.x(), p.y()),
            Geometry::MultiPoint(mp) => mp
                .iter()
                .map(|p| self.hav(p.x(), p.y()))
                .fold(f64::INFINITY, f64::min),
            Geometry::Line(l) => self.segment_hav(l.start, l.end),
            Geometry::LineString(ls) => self.line_string_hav(ls),
            Geometry::MultiLineString(mls) => mls
                .iter()
                .map(|ls| self.line_string_hav(ls))
                .fold(f64::INFINITY, f64::min),
            Geometry::Polygon(p) => self.polygon_hav(p),
            Geometry::MultiPolygon(mp) => mp
                .iter()
                .map(|p| self.polygon_hav(p))
                .fold(f64::INFINITY, f64::min),
            Geometry::Rect(r) => self.polygon_hav(&r.to_polygon()),
            Geometry::Triangle(t) => self.polygon_hav(&t.to_polygon()),
            Geometry::GeometryCollection(gc) => gc
                .iter()
                .map(|g| self.geometry_hav(g))
                .fold(f64::INFINITY, f64::min),
        }
    }
}

/// One or two degree boxes, without allocating.
#[derive(Debug, Clone, Copy)]
pub struct DegreeBoxes {
    boxes: [[f64; 4]; 2],
    len: usize,
}

impl DegreeBoxes {
    fn one(b: [f64; 4]) -> DegreeBoxes {
        DegreeBoxes {
            boxes: [b, b],
            len: 1,
        }
    }

    fn push(&mut self, b: [f64; 4]) {
        if self.len < 2 {
            self.boxes[self.len] = b;
            self.len += 1;
        }
    }

    pub fn as_slice(&self) -> &[[f64; 4]] {
        &self.boxes[..self.len]
    }
}

/// True when every coordinate of the rectangle is finite.
pub fn rect_is_finite(rect: &Rect<f64>) -> bool {
    let (min, max) = (rect.min(), rect.max());
    min.x.is_finite() && min.y.is_finite() && max.x.is_finite() && max.y.is_finite()
}
