//! Builds the benchmark frame's shapes repeatedly, for profiling the drawing path
//! (`valgrind --tool=callgrind --toggle-collect='*layer_shapes*' target/release/examples/frame_profile DIR`).
use onemap::io::{Progress, load_path};
use onemap::map::render::{LayerDraw, RenderCache, ViewTransform, layer_shapes};
use onemap::map::symbology::LayerStyle;
use onemap::model::LayerKind;
use onemap::spatial::LayerIndex;

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: frame_profile BENCH_DATA_DIR");
        return;
    };
    let clip = egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(1280.0, 800.0));
    let view = ViewTransform::centered(117.87, 36.80, 11.5, clip);
    let mut prepared = Vec::new();
    for (file, kind) in [
        ("polys_10k", LayerKind::Forest),
        ("roads_S", LayerKind::Road),
        ("points_100k", LayerKind::HazchemEnterprise),
    ] {
        let Ok(loaded) = load_path(&dir.join(format!("{file}.geojson")), &Progress::default())
        else {
            eprintln!("{file}: cannot load");
            return;
        };
        let mut layer = loaded.layer;
        layer.kind = kind;
        let style = LayerStyle::preset(kind);
        let classes = style.feature_classes(&layer.attributes);
        let index = LayerIndex::build(&layer.geometries);
        let cache = RenderCache::build(&layer);
        prepared.push((layer, index, cache, style, classes));
    }
    let mut total = 0;
    for _ in 0..20 {
        for (layer, index, cache, style, classes) in &prepared {
            let mut shapes = Vec::new();
            let mut labels = Vec::new();
            layer_shapes(
                &view,
                &LayerDraw {
                    layer,
                    index,
                    cache,
                    style,
                    classes,
                    highlighted: &[],
                    flagged: &[],
                },
                &mut shapes,
                &mut labels,
            );
            total += shapes.len();
        }
    }
    println!("{total}");
}
