//! Loads one file the way the window does, for measuring peak memory from outside:
//! `/usr/bin/time -v target/release/examples/layer_memory FILE [index|app]`.
//! `index` (default) holds the layer and its spatial index, the measure;
//! `app` also builds the render cache the map draws from (what the window adds).

use std::time::Instant;

use onemap::io::{Progress, load_path};
use onemap::map::render::RenderCache;
use onemap::spatial::LayerIndex;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(path) = args.next().map(std::path::PathBuf::from) else {
        eprintln!("usage: layer_memory FILE [index|app]");
        return std::process::ExitCode::FAILURE;
    };
    let with_render = args.next().is_some_and(|a| a == "app");
    let start = Instant::now();
    let loaded = match load_path(&path, &Progress::default()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let read = start.elapsed();
    let index = LayerIndex::build(&loaded.layer.geometries);
    let indexed = start.elapsed();
    let render = with_render.then(|| RenderCache::build(&loaded.layer));
    eprintln!(
        "{} features; read {:.3} s, index {:.3} s{}",
        loaded.layer.len(),
        read.as_secs_f64(),
        (indexed - read).as_secs_f64(),
        if render.is_some() {
            format!(
                ", render cache {:.3} s",
                (start.elapsed() - indexed).as_secs_f64()
            )
        } else {
            String::new()
        }
    );
    std::hint::black_box((&loaded, &index, &render));
    std::process::ExitCode::SUCCESS
}
