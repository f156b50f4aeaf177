//! Spatial index benchmarks over 1M points (issue 2 item 10): build, k=1 nearest, within
//! 250 m. Points come from `$ONEMAP_BENCH_DATA/points_1m.geojson` when set, else 1M seeded
//! random points in a 30 km box around 36.80 N 117.87 E (100k when criterion runs in test
//! mode, i.e. without `--bench`). Queries: 10,000 seeded points uniform over the data's box.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use geo::{Geometry, Point};
use onemap::spatial::LayerIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LAT0: f64 = 36.80;
const LON0: f64 = 117.87;
const QUERIES: usize = 10_000;

/// Only the coordinates of a FeatureCollection of points, by scanning for `"coordinates":[`
/// (the bench measures the index, not the loader).
fn read_points(path: &PathBuf) -> Vec<Geometry<f64>> {
    let text = std::fs::read_to_string(path).expect("points_1m.geojson readable");
    let key = "\"coordinates\":[";
    let mut out = Vec::new();
    for (at, _) in text.match_indices(key) {
        let rest = &text[at + key.len()..];
        let end = rest.find(']').expect("closing bracket");
        let mut it = rest[..end]
            .split(',')
            .map(|v| v.trim().parse::<f64>().unwrap());
        out.push(Geometry::Point(Point::new(
            it.next().unwrap(),
            it.next().unwrap(),
        )));
    }
    out
}

fn random_points(n: usize) -> Vec<Geometry<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(20_240_633);
    // 15 km either side of the centre.
    let dlat = 15_000.0 / 110_574.0;
    let dlon = 15_000.0 / (111_320.0 * LAT0.to_radians().cos());
    (0..n)
        .map(|_| {
            Geometry::Point(Point::new(
                LON0 + rng.random_range(-dlon..dlon),
                LAT0 + rng.random_range(-dlat..dlat),
            ))
        })
        .collect()
}

fn points() -> (Vec<Geometry<f64>>, &'static str) {
    if let Some(dir) = std::env::var_os("ONEMAP_BENCH_DATA") {
        let path = PathBuf::from(dir).join("points_1m.geojson");
        if path.exists() {
            return (read_points(&path), "points_1m.geojson");
        }
    }
    let full = std::env::args().any(|a| a == "--bench");
    if full {
        (random_points(1_000_000), "random 1M")
    } else {
        (random_points(100_000), "random 100k")
    }
}

fn queries(geoms: &[Geometry<f64>]) -> Vec<Point<f64>> {
    let (mut min, mut max) = ([f64::MAX; 2], [f64::MIN; 2]);
    for g in geoms {
        if let Geometry::Point(p) = g {
            min = [min[0].min(p.x()), min[1].min(p.y())];
            max = [max[0].max(p.x()), max[1].max(p.y())];
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..QUERIES)
        .map(|_| {
            Point::new(
                rng.random_range(min[0]..max[0]),
                rng.random_range(min[1]..max[1]),
            )
        })
        .collect()
}

fn bench_spatial(c: &mut Criterion) {
    let (geoms, source) = points();
    let index = LayerIndex::build(&geoms);
    let qs = queries(&geoms);
    let found: usize = qs
        .iter()
        .map(|q| index.within_distance(&geoms, *q, 250.0).len())
        .sum();
    eprintln!(
        "spatial bench: {} points ({source}), point tree {:.1} MB, mean {:.1} points within 250 m of a query",
        geoms.len(),
        index.point_tree_bytes().unwrap_or(0) as f64 / 1e6,
        found as f64 / qs.len() as f64
    );

    let mut group = c.benchmark_group("spatial");
    group.sample_size(10);
    group.throughput(Throughput::Elements(geoms.len() as u64));
    group.bench_function("build", |b| {
        b.iter_batched(
            || (),
            |()| LayerIndex::build(black_box(&geoms)),
            BatchSize::PerIteration,
        )
    });
    group.throughput(Throughput::Elements(qs.len() as u64));
    group.bench_function("nearest_k1", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for q in &qs {
                if let Some((_, d)) = index.nearest(&geoms, *q, 1).first() {
                    sum += d;
                }
            }
            black_box(sum)
        })
    });
    group.bench_function("within_250m", |b| {
        b.iter(|| {
            let mut count = 0;
            for q in &qs {
                count += index.within_distance(&geoms, *q, 250.0).len();
            }
            black_box(count)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_spatial);
criterion_main!(benches);
