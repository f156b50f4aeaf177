//! Checks every projected CRS against PROJ's own numbers (tests/data/crs_reference.csv, made by
//! tools/make_crs_reference.py with pyproj 3.7.2 / PROJ 9.5.1).
#![allow(clippy::unwrap_used)]

use onemap::crs::{Crs, CrsTransform};

struct Row {
    epsg: u32,
    lon: f64,
    lat: f64,
    x: f64,
    y: f64,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/crs_reference.csv"
    ))
    .unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 5, "{line}");
            Row {
                epsg: f[0].parse().unwrap(),
                lon: f[1].parse().unwrap(),
                lat: f[2].parse().unwrap(),
                x: f[3].parse().unwrap(),
                y: f[4].parse().unwrap(),
            }
        })
        .collect()
}

#[test]
fn projections_agree_with_proj() {
    let rows = rows();
    assert!(rows.len() >= 200, "only {} reference rows", rows.len());
    let mut worst_forward_m: f64 = 0.0;
    let mut worst_inverse_deg: f64 = 0.0;
    let mut worst_round_trip_m: f64 = 0.0;
    let mut gk_rows = 0;
    for row in &rows {
        let crs = Crs::from_epsg(row.epsg).unwrap();
        assert_eq!(crs.epsg(), Some(row.epsg));
        if matches!(crs, Crs::GaussKruger { .. }) {
            gk_rows += 1;
        }
        let forward = CrsTransform::new(Crs::Wgs84, crs).unwrap();
        let inverse = CrsTransform::new(crs, Crs::Wgs84).unwrap();
        let (x, y) = forward.apply(row.lon, row.lat).unwrap();
        let forward_err = (x - row.x).abs().max((y - row.y).abs());
        assert!(
            forward_err < 0.01,
            "EPSG:{} forward off by {forward_err} m",
            row.epsg
        );
        let (lon, lat) = inverse.apply(row.x, row.y).unwrap();
        let inverse_err = (lon - row.lon).abs().max((lat - row.lat).abs());
        assert!(
            inverse_err < 1e-9,
            "EPSG:{} inverse off by {inverse_err} deg",
            row.epsg
        );
        let (x2, y2) = forward.apply(lon, lat).unwrap();
        let round_trip_err = (x2 - row.x).abs().max((y2 - row.y).abs());
        assert!(
            round_trip_err < 0.01,
            "EPSG:{} round trip off by {round_trip_err} m",
            row.epsg
        );
        worst_forward_m = worst_forward_m.max(forward_err);
        worst_inverse_deg = worst_inverse_deg.max(inverse_err);
        worst_round_trip_m = worst_round_trip_m.max(round_trip_err);
    }
    assert!(gk_rows >= 200, "only {gk_rows} Gauss-Krüger rows");
    eprintln!(
        "{} rows: worst forward {worst_forward_m:.2e} m, inverse {worst_inverse_deg:.2e} deg, round trip {worst_round_trip_m:.2e} m",
        rows.len()
    );
}

/// Seeded random points over every Chinese Gauss-Krüger code: geographic -> projected ->
/// geographic closes to 1e-9 degrees, and projected -> geographic -> projected to 1 mm.
#[test]
fn gauss_kruger_round_trips_at_random_points() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4527);
    let codes: Vec<u32> = (4491..=4554)
        .chain(2327..=2390)
        .chain(2401..=2442)
        .chain(21413..=21423)
        .chain(21453..=21463)
        .collect();
    assert_eq!(codes.len(), 192);
    for &code in &codes {
        let crs = Crs::from_epsg(code).unwrap();
        let Crs::GaussKruger {
            central_meridian_deg,
            zone_width_deg,
            ..
        } = crs
        else {
            panic!("EPSG:{code} is not Gauss-Krüger");
        };
        let half = f64::from(zone_width_deg) / 2.0;
        let forward = CrsTransform::new(Crs::Wgs84, crs).unwrap();
        let inverse = CrsTransform::new(crs, Crs::Wgs84).unwrap();
        for _ in 0..100 {
            let lon = central_meridian_deg + rng.random_range(-half..half);
            let lat = rng.random_range(3.0..54.0);
            let (x, y) = forward.apply(lon, lat).unwrap();
            let (lon2, lat2) = inverse.apply(x, y).unwrap();
            assert!(
                (lon2 - lon).abs() < 1e-9 && (lat2 - lat).abs() < 1e-9,
                "EPSG:{code} {lon},{lat}"
            );
            let (x3, y3) = forward.apply(lon2, lat2).unwrap();
            assert!(
                (x3 - x).abs() < 1e-3 && (y3 - y).abs() < 1e-3,
                "EPSG:{code} {x},{y}"
            );
        }
    }
}
