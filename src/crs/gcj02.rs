//! GCJ-02 ("Mars" coordinates, Amap/Tencent) and BD-09 (Baidu) to and from WGS84.
//!
//! GCJ-02 is a published, deliberately nonlinear offset of WGS84 used by every map sold in
//! mainland China; BD-09 adds a small rotation and shift on top of GCJ-02. The forward
//! formulas below are the widely published ones (Krasovsky ellipsoid constants, the
//! `x_pi = PI * 3000 / 180` Baidu terms), written from the formulas, not copied from a project.
//!
//! Outside China (the customary rough bounding box [`in_china_bbox`]) GCJ-02 is the identity:
//! Chinese map providers do not offset points abroad, so neither do we. BD-09 keeps its
//! rotation/shift everywhere, as Baidu's own converters do.
//!
//! The inverses have no closed form. They are computed by fixed-point iteration
//! `w <- w - (forward(w) - target)`, starting from `w = target` (GCJ-02) or from Baidu's
//! approximate closed-form inverse (BD-09). The offset changes by about 1e-3 degree per
//! degree, so each step gains roughly three digits; the loop stops when a step moves less
//! than [`INVERSE_TOLERANCE_DEG`] (three to five forward evaluations over China, the last one
//! confirming) and gives up after [`MAX_INVERSE_STEPS`], returning its best estimate.

use std::f64::consts::PI;

/// Semi-major axis of the Krasovsky 1940 ellipsoid, as the GCJ-02 formula uses it (metres).
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid, as the GCJ-02 formula uses it.
/// Published as 0.00669342162296594323; this is the same f64.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// Baidu's angular constant `PI * 3000 / 180`.
const X_PI: f64 = PI * 3000.0 / 180.0;

/// An inverse stops iterating once a step moves the estimate by less than this (degrees).
/// Stricter than the 1e-7 the product needs, so the result is within 1e-7 with margin.
pub const INVERSE_TOLERANCE_DEG: f64 = 1e-9;
/// Upper bound on inverse iterations; convergence normally takes two to four.
pub const MAX_INVERSE_STEPS: usize = 30;

/// True when (lon, lat) lies in the rough box inside which GCJ-02 applies its offset
/// (72.004-137.8347 E, 0.8293-55.8271 N, the box every public implementation uses).
pub fn in_china_bbox(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn offset_lat_units(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn offset_lon_units(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// WGS84 (lon, lat) degrees to GCJ-02; the identity outside [`in_china_bbox`].
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china_bbox(lon, lat) {
        return (lon, lat);
    }
    let d_lat = offset_lat_units(lon - 105.0, lat - 35.0);
    let d_lon = offset_lon_units(lon - 105.0, lat - 35.0);
    let rad_lat = lat.to_radians();
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    // The "units" are metres-ish; convert to degrees with the meridian and parallel radii.
    let d_lat =
        (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// Solves `forward(w) == target` by fixed-point iteration (see the module docs).
fn invert(
    forward: impl Fn(f64, f64) -> (f64, f64),
    start: (f64, f64),
    target: (f64, f64),
) -> (f64, f64) {
    let (mut lon, mut lat) = start;
    for _ in 0..MAX_INVERSE_STEPS {
        let (f_lon, f_lat) = forward(lon, lat);
        let step_lon = f_lon - target.0;
        let step_lat = f_lat - target.1;
        lon -= step_lon;
        lat -= step_lat;
        if step_lon.abs() < INVERSE_TOLERANCE_DEG && step_lat.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
    }
    (lon, lat)
}

/// GCJ-02 (lon, lat) degrees to WGS84, iterated (see the module docs); the identity when the
/// GCJ-02 point lies outside [`in_china_bbox`].
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china_bbox(lon, lat) {
        return (lon, lat);
    }
    invert(wgs84_to_gcj02, (lon, lat), (lon, lat))
}

/// GCJ-02 (lon, lat) degrees to BD-09 (Baidu's published forward formula).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// The commonly published closed-form BD-09 -> GCJ-02, accurate to about 1e-6 degrees; used
/// as the iteration's starting point.
fn bd09_to_gcj02_approx(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// BD-09 (lon, lat) degrees to GCJ-02: the published closed form refined by iteration
/// against [`gcj02_to_bd09`] so that the round trip closes to < 1e-7 degrees.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    invert(gcj02_to_bd09, bd09_to_gcj02_approx(lon, lat), (lon, lat))
}

/// WGS84 (lon, lat) degrees to BD-09 (through GCJ-02).
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g_lon, g_lat)
}

/// BD-09 (lon, lat) degrees to WGS84 (through GCJ-02, both steps iterated).
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(g_lon, g_lat)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Reference values from PyPI `coord-convert` 0.2.1 (`coord_convert.transform`, Krasovsky
    /// a = 6378245), computed with `wgs2gcj` / `wgs2bd`: (wgs lon, wgs lat, gcj lon, gcj lat,
    /// bd lon, bd lat).
    const COORD_CONVERT_0_2_1: [(f64, f64, f64, f64, f64, f64); 6] = [
        (
            117.87,
            36.80,
            117.875785392944,
            36.800203001251,
            117.882301692554,
            36.806092317303,
        ),
        (
            116.397428,
            39.90923,
            116.403671625958,
            39.910633506386,
            116.410044101705,
            39.916972856075,
        ),
        (
            121.4737,
            31.2304,
            121.478223059277,
            31.228457737577,
            121.484781468503,
            31.234310593690,
        ),
        (
            113.2644,
            23.1291,
            113.269729592103,
            23.126423339923,
            113.276150751571,
            23.132711257239,
        ),
        (
            87.6168,
            43.8256,
            87.619649949469,
            43.826805393111,
            87.626099770816,
            43.832949794793,
        ),
        (
            100.0,
            30.0,
            100.001209737511,
            29.997260753140,
            100.007756838104,
            30.003093784883,
        ),
    ];

    /// PyPI `eviltransform` 0.1.1 `wgs2gcj` for the same first point. It uses the WGS84
    /// semi-major axis 6378137 instead of Krasovsky's, so it differs from the published formula
    /// by about 1e-7 degrees (1 cm): we assert agreement to 1e-6 only.
    const EVILTRANSFORM_0_1_1_ZHOUCUN: (f64, f64) = (117.875785490907, 36.800203004688);

    #[test]
    fn forward_matches_coord_convert_to_1e9_degrees() {
        for &(lon, lat, g_lon, g_lat, b_lon, b_lat) in &COORD_CONVERT_0_2_1 {
            let (x, y) = wgs84_to_gcj02(lon, lat);
            assert!(
                (x - g_lon).abs() < 1e-9 && (y - g_lat).abs() < 1e-9,
                "gcj {lon},{lat}: {x},{y}"
            );
            let (x, y) = wgs84_to_bd09(lon, lat);
            assert!(
                (x - b_lon).abs() < 1e-9 && (y - b_lat).abs() < 1e-9,
                "bd {lon},{lat}: {x},{y}"
            );
        }
        let (x, y) = wgs84_to_gcj02(117.87, 36.80);
        assert!((x - EVILTRANSFORM_0_1_1_ZHOUCUN.0).abs() < 1e-6);
        assert!((y - EVILTRANSFORM_0_1_1_ZHOUCUN.1).abs() < 1e-6);
    }

    #[test]
    fn zhoucun_offset_is_about_516_m_east_23_m_north() {
        let (lon, lat) = (117.87, 36.80);
        let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
        let metres_per_deg_lat = 111_000.0;
        let east = (g_lon - lon) * metres_per_deg_lat * lat.to_radians().cos();
        let north = (g_lat - lat) * metres_per_deg_lat;
        assert!((east - 516.0).abs() < 5.0, "east offset {east}");
        assert!((north - 23.0).abs() < 3.0, "north offset {north}");
    }

    #[test]
    fn inverse_converges_near_zhoucun() {
        for i in 0..50 {
            let lon = 117.80 + 0.003 * i as f64;
            let lat = 36.75 + 0.002 * i as f64;
            let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
            let (w_lon, w_lat) = gcj02_to_wgs84(g_lon, g_lat);
            assert!(
                (w_lon - lon).abs() < 1e-8 && (w_lat - lat).abs() < 1e-8,
                "{lon},{lat}"
            );
            let (b_lon, b_lat) = wgs84_to_bd09(lon, lat);
            let (w_lon, w_lat) = bd09_to_wgs84(b_lon, b_lat);
            assert!(
                (w_lon - lon).abs() < 1e-8 && (w_lat - lat).abs() < 1e-8,
                "{lon},{lat}"
            );
        }
    }

    #[test]
    fn inverses_converge_at_random_points_over_china() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..5000 {
            // Keep clear of the box edge, where the offset switches off discontinuously.
            let lon = rng.random_range(73.0..135.0);
            let lat = rng.random_range(3.0..53.5);
            let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
            let (w_lon, w_lat) = gcj02_to_wgs84(g_lon, g_lat);
            assert!(
                (w_lon - lon).abs() < 1e-7 && (w_lat - lat).abs() < 1e-7,
                "gcj {lon},{lat}"
            );
            let (b_lon, b_lat) = gcj02_to_bd09(g_lon, g_lat);
            let (h_lon, h_lat) = bd09_to_gcj02(b_lon, b_lat);
            assert!(
                (h_lon - g_lon).abs() < 1e-7 && (h_lat - g_lat).abs() < 1e-7,
                "bd {lon},{lat}"
            );
        }
    }

    #[test]
    fn iterated_bd_inverse_beats_the_closed_form() {
        let (b_lon, b_lat) = gcj02_to_bd09(117.875, 36.80);
        let (a_lon, a_lat) = bd09_to_gcj02_approx(b_lon, b_lat);
        let (i_lon, i_lat) = bd09_to_gcj02(b_lon, b_lat);
        let approx_err = (a_lon - 117.875).abs().max((a_lat - 36.80).abs());
        let iter_err = (i_lon - 117.875).abs().max((i_lat - 36.80).abs());
        assert!(iter_err < 1e-9, "{iter_err}");
        assert!(iter_err <= approx_err);
    }

    #[test]
    fn outside_china_gcj02_is_identity() {
        for &(lon, lat) in &[
            (2.35, 48.85),
            (-74.0, 40.7),
            (139.69, 35.69),
            (117.0, -30.0),
        ] {
            assert_eq!(wgs84_to_gcj02(lon, lat), (lon, lat));
            assert_eq!(gcj02_to_wgs84(lon, lat), (lon, lat));
        }
        assert!(in_china_bbox(117.87, 36.80));
        assert!(!in_china_bbox(139.69, 35.69));
    }
}
