//! Throughput of the coordinate transforms an import runs per vertex: Gauss-Krüger
//! (proj4rs) forward and inverse, the iterated GCJ-02 and BD-09 inverses, and the cost of
//! preparing a transform (which `Crs::to_wgs84` pays on every call).
//!
//! Inputs are 10 000 seeded random points around Zhoucun (no data files needed).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use onemap::crs::{Crs, CrsTransform, gcj02};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const POINTS: usize = 10_000;

fn lon_lat_points() -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(39);
    (0..POINTS)
        .map(|_| (rng.random_range(116.5..119.0), rng.random_range(35.5..38.0)))
        .collect()
}

fn bench_crs(c: &mut Criterion) {
    let degrees = lon_lat_points();
    let zone39 = match Crs::from_epsg(4527) {
        Ok(crs) => crs,
        Err(e) => panic!("EPSG:4527 must be supported: {e}"),
    };
    let (Ok(forward), Ok(inverse)) = (
        CrsTransform::new(Crs::Wgs84, zone39),
        CrsTransform::new(zone39, Crs::Wgs84),
    ) else {
        panic!("zone 39 transforms must build");
    };
    let projected: Vec<(f64, f64)> = degrees
        .iter()
        .filter_map(|&(x, y)| forward.apply(x, y).ok())
        .collect();
    let gcj: Vec<(f64, f64)> = degrees
        .iter()
        .map(|&(x, y)| gcj02::wgs84_to_gcj02(x, y))
        .collect();
    let bd: Vec<(f64, f64)> = gcj
        .iter()
        .map(|&(x, y)| gcj02::gcj02_to_bd09(x, y))
        .collect();

    c.bench_function("gk_zone39_forward_10k", |b| {
        b.iter(|| {
            degrees
                .iter()
                .filter_map(|&(x, y)| forward.apply(black_box(x), y).ok())
                .count()
        })
    });
    c.bench_function("gk_zone39_inverse_10k", |b| {
        b.iter(|| {
            projected
                .iter()
                .filter_map(|&(x, y)| inverse.apply(black_box(x), y).ok())
                .count()
        })
    });
    c.bench_function("gcj02_to_wgs84_10k", |b| {
        b.iter(|| {
            gcj.iter()
                .map(|&(x, y)| gcj02::gcj02_to_wgs84(black_box(x), y).0)
                .sum::<f64>()
        })
    });
    c.bench_function("bd09_to_wgs84_10k", |b| {
        b.iter(|| {
            bd.iter()
                .map(|&(x, y)| gcj02::bd09_to_wgs84(black_box(x), y).0)
                .sum::<f64>()
        })
    });
    c.bench_function("crs_transform_new_gk", |b| {
        b.iter(|| CrsTransform::new(Crs::Wgs84, black_box(zone39)).is_ok())
    });
}

criterion_group!(benches, bench_crs);
criterion_main!(benches);
