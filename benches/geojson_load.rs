//! GeoJSON load throughput (MB/s of file text, properties included).
//!
//! With `ONEMAP_BENCH_DATA` naming a directory made by `shared/bench/gen_data.py`
//! (`roads_M.geojson`, `points_1m.geojson`), loads those files from disk (page cache); without
//! it, a small seeded in-memory FeatureCollection, so `cargo test --all-targets` stays quick.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use onemap::io::Progress;
use onemap::io::geojson_reader::{read_geojson_bytes, read_geojson_file};
use rand::{Rng, SeedableRng};

/// A road-like FeatureCollection (LineStrings with OSM-style properties), seeded.
fn generated_roads(features: usize) -> String {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut out = String::from(r#"{"type":"FeatureCollection","name":"roads","features":["#);
    for i in 0..features {
        if i > 0 {
            out.push_str(",\n");
        }
        let n = rng.random_range(2..6);
        let coords: Vec<String> = (0..n)
            .map(|_| {
                format!(
                    "[{:.7},{:.7}]",
                    117.7 + rng.random::<f64>() * 0.3,
                    36.7 + rng.random::<f64>() * 0.2
                )
            })
            .collect();
        out.push_str(&format!(
            r#"{{"type":"Feature","properties":{{"id":{i},"u":{},"v":{},"highway":"residential","name":"Residential Road {}","maxspeed":30,"lanes":1,"oneway":false,"length_m":{:.1},"travel_time_s":{:.2}}},"geometry":{{"type":"LineString","coordinates":[{}]}}}}"#,
            rng.random_range(0..100_000),
            rng.random_range(0..100_000),
            i % 97,
            rng.random::<f64>() * 300.0,
            rng.random::<f64>() * 30.0,
            coords.join(",")
        ));
    }
    out.push_str("]}\n");
    out
}

fn bench_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("geojson_load");
    match std::env::var_os("ONEMAP_BENCH_DATA") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            for (name, samples) in [("roads_M", 20), ("points_1m", 10)] {
                let path = dir.join(format!("{name}.geojson"));
                let Ok(meta) = std::fs::metadata(&path) else {
                    eprintln!("skipping {}: not found", path.display());
                    continue;
                };
                group.throughput(Throughput::Bytes(meta.len()));
                group.sample_size(samples);
                group.measurement_time(Duration::from_secs(if name == "points_1m" {
                    25
                } else {
                    10
                }));
                group.bench_function(name, |b| {
                    b.iter(|| {
                        let loaded = read_geojson_file(&path, &Progress::default());
                        black_box(loaded.map(|l| l.layer.len()).unwrap_or(0))
                    })
                });
            }
        }
        None => {
            let text = generated_roads(2_000);
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.sample_size(10);
            group.bench_function("generated_roads_2k", |b| {
                b.iter(|| {
                    let loaded = read_geojson_bytes(Path::new("roads.geojson"), text.as_bytes());
                    black_box(loaded.map(|l| l.layer.len()).unwrap_or(0))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
