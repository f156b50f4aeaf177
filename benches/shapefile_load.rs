//! Shapefile load time: 100k polygons with attributes (issue 5's goal: under a fifth of
//! geopandas' time on the same file).
//!
//! With `ONEMAP_BENCH_DATA` naming a directory made by `shared/bench/gen_data.py`, converts
//! `polys_100k.geojson` once into `<temp>/onemap_shapefile_bench/polys_100k.shp` (left there so
//! geopandas can read the very same file) and times reading it; without it, a small seeded
//! generated shapefile, so `cargo test --all-targets` stays quick.

#[path = "../tests/integration/support/shp_writer.rs"]
mod shp_writer;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Geometry, Polygon};
use onemap::io::Progress;
use onemap::io::geojson_reader::read_geojson_file;
use onemap::io::shapefile_reader::{ShapefileOptions, read_shapefile};
use onemap::model::{Layer, ValueRef};
use rand::{Rng, SeedableRng};
use shp_writer::{Field, Shape, dbf_bytes, write_shapefile};

fn signed_area2(ring: &[(f64, f64)]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

/// Rings in Shapefile winding: clockwise outer, counter-clockwise holes.
fn polygon_rings(polygon: &Polygon<f64>, rings: &mut Vec<Vec<(f64, f64)>>) {
    let mut push = |ring: &geo::LineString<f64>, clockwise: bool| {
        let mut r: Vec<(f64, f64)> = ring.0.iter().map(|c| (c.x, c.y)).collect();
        if (signed_area2(&r) < 0.0) != clockwise {
            r.reverse();
        }
        rings.push(r);
    };
    push(polygon.exterior(), true);
    for hole in polygon.interiors() {
        push(hole, false);
    }
}

/// Writes a polygon layer as a Shapefile: numbers as N fields, everything else as C.
fn write_layer(layer: &Layer, dir: &Path, stem: &str) -> PathBuf {
    let shapes: Vec<Shape> = layer
        .geometries
        .iter()
        .map(|g| {
            let mut rings = Vec::new();
            match g {
                Geometry::Polygon(p) => polygon_rings(p, &mut rings),
                Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| polygon_rings(p, &mut rings)),
                _ => {}
            }
            Shape::Polygon(rings)
        })
        .collect();
    let table = &layer.attributes;
    let names: Vec<String> = table.field_names().map(str::to_string).collect();
    let rows: Vec<Vec<Vec<u8>>> = (0..table.len())
        .map(|row| {
            (0..names.len())
                .map(|f| match table.value(row, f) {
                    ValueRef::Null => Vec::new(),
                    ValueRef::Bool(b) => {
                        if b {
                            b"T".to_vec()
                        } else {
                            b"F".to_vec()
                        }
                    }
                    ValueRef::Number(n) => format!("{n}").into_bytes(),
                    ValueRef::Text(t) | ValueRef::Json(t) => t.as_bytes().to_vec(),
                })
                .collect()
        })
        .collect();
    let numeric: Vec<bool> = (0..names.len())
        .map(|f| {
            (0..table.len())
                .all(|r| matches!(table.value(r, f), ValueRef::Number(_) | ValueRef::Null))
        })
        .collect();
    let widths: Vec<u8> = (0..names.len())
        .map(|f| {
            rows.iter()
                .map(|r| r[f].len())
                .max()
                .unwrap_or(1)
                .clamp(1, 254) as u8
        })
        .collect();
    let fields: Vec<Field> = names
        .iter()
        .enumerate()
        .map(|(f, name)| Field {
            name: name.as_bytes(),
            kind: if numeric[f] { b'N' } else { b'C' },
            len: widths[f],
            decimals: if numeric[f] { 6 } else { 0 },
        })
        .collect();
    let path = write_shapefile(dir, stem, &shapes, Some(dbf_bytes(&fields, &rows)));
    std::fs::write(dir.join(format!("{stem}.cpg")), "UTF-8").unwrap_or_else(|e| panic!("{e}"));
    path
}

/// A small seeded polygon shapefile with a few attributes.
fn generated(dir: &Path, count: usize) -> PathBuf {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let shapes: Vec<Shape> = (0..count)
        .map(|_| {
            let (x, y) = (
                117.7 + rng.random::<f64>() * 0.3,
                36.7 + rng.random::<f64>() * 0.2,
            );
            let ring: Vec<(f64, f64)> = (0..=16)
                .map(|k| {
                    let a = -(k % 16) as f64 * std::f64::consts::TAU / 16.0;
                    (x + 0.001 * a.cos(), y + 0.001 * a.sin())
                })
                .collect();
            Shape::Polygon(vec![ring])
        })
        .collect();
    let fields = [
        Field {
            name: b"id",
            kind: b'N',
            len: 10,
            decimals: 0,
        },
        Field {
            name: b"name",
            kind: b'C',
            len: 24,
            decimals: 0,
        },
    ];
    let rows: Vec<Vec<Vec<u8>>> = (0..count)
        .map(|i| {
            vec![
                i.to_string().into_bytes(),
                format!("Flood Zone {i}").into_bytes(),
            ]
        })
        .collect();
    write_shapefile(dir, "generated", &shapes, Some(dbf_bytes(&fields, &rows)))
}

fn bench_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("shapefile_load");
    let _temp;
    let (path, samples) = match std::env::var_os("ONEMAP_BENCH_DATA") {
        Some(dir) => {
            let source = PathBuf::from(dir).join("polys_100k.geojson");
            let loaded = read_geojson_file(&source, &Progress::default())
                .unwrap_or_else(|e| panic!("cannot load {}: {e}", source.display()));
            let out = std::env::temp_dir().join("onemap_shapefile_bench");
            std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{e}"));
            let path = write_layer(&loaded.layer, &out, "polys_100k");
            eprintln!("shapefile written to {}", path.display());
            (path, 10)
        }
        None => {
            let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let path = generated(temp.path(), 500);
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
            let loaded = read_shapefile(&path, &ShapefileOptions::default(), &Progress::default())
                .unwrap_or_else(|e| panic!("{e}"));
            black_box(loaded.layer.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
