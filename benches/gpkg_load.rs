//! GeoPackage load time: 100k polygons with attributes (issue 5's goal: under a fifth of
//! geopandas' time on the same file in the same session; `tools/bench_gpkg_peer.py` gives that).
//!
//! With `ONEMAP_BENCH_DATA` naming a directory made by `shared/bench/gen_data.py`, reads
//! `polys_100k.gpkg` there (written by geopandas/GDAL with `tools/bench_gpkg_peer.py`; when it
//! is missing, OneMap's own writer makes it from `polys_100k.geojson`); without it, a small
//! seeded GeoPackage written with OneMap's writer, so `cargo test --all-targets` stays quick.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Geometry, LineString, Polygon};
use onemap::crs::Crs;
use onemap::io::geojson_reader::read_geojson_file;
use onemap::io::gpkg_reader::read_geopackage;
use onemap::io::gpkg_writer::write_geopackage;
use onemap::io::{Progress, ReadOptions};
use onemap::model::{Layer, ValueRef};
use rand::{Rng, SeedableRng};

/// A small seeded polygon layer with a few attributes.
fn generated(count: usize) -> Layer {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut layer = Layer {
        name: "generated".to_string(),
        ..Layer::default()
    };
    for i in 0..count {
        let (x, y) = (
            117.7 + rng.random::<f64>() * 0.3,
            36.7 + rng.random::<f64>() * 0.2,
        );
        let ring: Vec<(f64, f64)> = (0..=16)
            .map(|k| {
                let a = (k % 16) as f64 * std::f64::consts::TAU / 16.0;
                (x + 0.001 * a.cos(), y + 0.001 * a.sin())
            })
            .collect();
        layer.geometries.push(Geometry::Polygon(Polygon::new(
            LineString::from(ring),
            Vec::new(),
        )));
        layer.source_index.push(i as u32);
        let name = format!("Flood Zone {i}");
        layer.attributes.push_row([
            ("id", ValueRef::Number(i as f64)),
            ("name", ValueRef::Text(&name)),
        ]);
    }
    layer
}

fn bench_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("gpkg_load");
    let _temp;
    let (path, samples) = match std::env::var_os("ONEMAP_BENCH_DATA") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let path = dir.join("polys_100k.gpkg");
            if !path.exists() {
                let source = dir.join("polys_100k.geojson");
                let loaded = read_geojson_file(&source, &Progress::default())
                    .unwrap_or_else(|e| panic!("cannot load {}: {e}", source.display()));
                write_geopackage(&path, &[&loaded.layer], &Crs::Wgs84)
                    .unwrap_or_else(|e| panic!("{e}"));
                eprintln!("GeoPackage written to {}", path.display());
            }
            (path, 10)
        }
        None => {
            let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let path = temp.path().join("generated.gpkg");
            write_geopackage(&path, &[&generated(500)], &Crs::Wgs84)
                .unwrap_or_else(|e| panic!("{e}"));
            _temp = temp;
            (path, 20)
        }
    };
    group.sample_size(samples);
    group.measurement_time(Duration::from_secs(10));
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    group.bench_function(name, |b| {
        b.iter(|| {
            let result = read_geopackage(&path, &ReadOptions::default(), &Progress::default())
                .unwrap_or_else(|e| panic!("{e}"));
            black_box(result.layers.iter().map(|l| l.layer.len()).sum::<usize>())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
