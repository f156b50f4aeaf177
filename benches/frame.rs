//! One frame's shapes at district zoom for 100k points + 10k polygons + 10k lines: the CPU
//! the map spends culling, thinning and building egui shapes (goal: <= 8 ms).
//!
//! With `ONEMAP_BENCH_DATA` set to the output folder of `../shared/bench/gen_data.py`
//! (points_100k, polys_10k, roads_S), the bench uses those files; otherwise seeded
//! in-memory data of the same sizes around the same centre.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use egui::{Rect, pos2, vec2};
use geo::{Geometry, LineString, Point, Polygon};
use onemap::io::{Progress, load_path};
use onemap::map::render::{LayerDraw, RenderCache, ViewTransform, layer_shapes};
use onemap::map::symbology::LayerStyle;
use onemap::model::{Layer, LayerKind, ValueRef};
use onemap::spatial::LayerIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Prepared {
    layer: Layer,
    index: LayerIndex,
    cache: RenderCache,
    style: LayerStyle,
    classes: Vec<u16>,
}

fn prepare(layer: Layer) -> Prepared {
    let index = LayerIndex::build(&layer.geometries);
    let cache = RenderCache::build(&layer);
    let style = LayerStyle::preset(layer.kind);
    let classes = style.feature_classes(&layer.attributes);
    Prepared {
        classes,
        layer,
        index,
        cache,
        style,
    }
}

fn from_file(dir: &std::path::Path, name: &str, kind: LayerKind) -> Option<Layer> {
    let mut layer = load_path(&dir.join(name), &Progress::default()).ok()?.layer;
    layer.kind = kind;
    Some(layer)
}

fn synthetic(kind: LayerKind, n: usize, seed: u64) -> Layer {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layer = Layer {
        kind,
        ..Layer::default()
    };
    for i in 0..n {
        let lon = 117.87 + rng.random_range(-0.15..0.15);
        let lat = 36.80 + rng.random_range(-0.12..0.12);
        let g: Geometry<f64> = match kind {
            LayerKind::Road => LineString::from(vec![
                (lon, lat),
                (lon + 0.0007, lat + 0.0003),
                (lon + 0.0014, lat + 0.0001),
            ])
            .into(),
            LayerKind::Forest => Polygon::new(
                LineString::from(vec![
                    (lon, lat),
                    (lon + 0.0004, lat),
                    (lon + 0.0004, lat + 0.0003),
                    (lon, lat + 0.0003),
                ]),
                vec![],
            )
            .into(),
            _ => Point::new(lon, lat).into(),
        };
        layer.geometries.push(g);
        layer.source_index.push(i as u32);
        layer.attributes.push_row([
            ("id", ValueRef::Number(i as f64)),
            ("highway", ValueRef::Text("residential")),
        ]);
    }
    layer
}

/// Every layer's shapes for one frame, bottom layer first, as the map view builds them.
fn frame_shapes(layers: &[Prepared], view: &ViewTransform) -> (Vec<egui::Shape>, usize) {
    let mut shapes = Vec::new();
    let mut labels = Vec::new();
    for l in layers {
        layer_shapes(
            view,
            &LayerDraw {
                layer: &l.layer,
                index: &l.index,
                cache: &l.cache,
                style: &l.style,
                classes: &l.classes,
                highlighted: &[],
                flagged: &[],
            },
            &mut shapes,
            &mut labels,
        );
    }
    (shapes, labels.len())
}

fn bench_frame(c: &mut Criterion) {
    let data = std::env::var_os("ONEMAP_BENCH_DATA").map(PathBuf::from);
    let load = |name: &str, kind: LayerKind, n: usize, seed: u64| {
        data.as_ref()
            .and_then(|dir| from_file(dir, name, kind))
            .unwrap_or_else(|| synthetic(kind, n, seed))
    };
    let layers = [
        prepare(load("polys_10k.geojson", LayerKind::Forest, 10_000, 1)),
        prepare(load("roads_S.geojson", LayerKind::Road, 10_000, 2)),
        prepare(load(
            "points_100k.geojson",
            LayerKind::HazchemEnterprise,
            100_000,
            3,
        )),
    ];
    // District zoom: the whole ~30 km synthetic region in a 1280x800 window.
    let clip = Rect::from_min_size(pos2(0.0, 0.0), vec2(1280.0, 800.0));
    let view = ViewTransform::centered(117.87, 36.80, 11.5, clip);
    c.bench_function("frame_shapes_100k_points_10k_polys_10k_lines", |b| {
        b.iter(|| {
            let (shapes, labels) = frame_shapes(&layers, &view);
            black_box((shapes.len(), labels))
        })
    });
    bench_tessellation(c, &layers, &view);
}

/// What egui does with those shapes afterwards on the CPU: tessellation into triangles.
/// Reported beside the shape building so the whole CPU cost of a frame is visible.
fn bench_tessellation(c: &mut Criterion, layers: &[Prepared], view: &ViewTransform) {
    let (shapes, _) = frame_shapes(layers, view);
    let clipped: Vec<egui::epaint::ClippedShape> = shapes
        .into_iter()
        .map(|shape| egui::epaint::ClippedShape::new(view.clip, shape))
        .collect();
    c.bench_function("frame_tessellate_same_shapes", |b| {
        b.iter(|| {
            let mut tessellator = egui::epaint::Tessellator::new(
                1.0,
                egui::epaint::TessellationOptions::default(),
                [2048, 2048],
                Vec::new(),
            );
            black_box(tessellator.tessellate_shapes(clipped.clone()).len())
        })
    });
}

criterion_group!(benches, bench_frame);
criterion_main!(benches);
