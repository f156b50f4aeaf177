//! Times the stages of response-area polygons (reach, pieces, grid fill, band tracing,
//! the grid-free band fill of dissolved bands,
//! lon/lat conversion) on a road file, for profiling
//! (`cargo run --release --example isochrone_profile -- ROADS.geojson [ROUNDS]`, or under
//! `perf record`).
use std::time::Instant;

use geo::Coord;
use onemap::analysis::band_fill::dissolved_band_polygons;
use onemap::analysis::isochrone::{AreaOptions, TimeGrid, response_areas};
use onemap::analysis::reach::{SnapIndex, Station, reach};
use onemap::analysis::road_graph::{RoadGraph, SpeedTable};
use onemap::io::{Progress, load_path};

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(path) = args.next().map(std::path::PathBuf::from) else {
        eprintln!("usage: isochrone_profile ROADS.geojson [ROUNDS]");
        return;
    };
    let rounds: usize = args
        .next()
        .and_then(|a| a.to_str().and_then(|s| s.parse().ok()))
        .unwrap_or(20);
    let Ok(loaded) = load_path(&path, &Progress::default()) else {
        eprintln!("{}: cannot load", path.display());
        return;
    };
    let Ok((graph, _)) = RoadGraph::build(&[&loaded.layer], &SpeedTable::emergency_default())
    else {
        eprintln!("no graph");
        return;
    };
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for n in &graph.nodes {
        lo = [lo[0].min(n.x), lo[1].min(n.y)];
        hi = [hi[0].max(n.x), hi[1].max(n.y)];
    }
    let stations: Vec<Station> = [(0.5, 0.5), (0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)]
        .iter()
        .enumerate()
        .map(|(i, (fx, fy))| Station {
            id: format!("S{i}"),
            position: Coord {
                x: lo[0] + fx * (hi[0] - lo[0]),
                y: lo[1] + fy * (hi[1] - lo[1]),
            },
        })
        .collect();
    let index = SnapIndex::new(&graph);
    let (snaps, _) = index.snap_stations(&graph, &stations, 500.0);
    let options = AreaOptions::default();
    let mut timings = [0.0f64; 6];
    let mut summary = String::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let all = reach(&graph, &snaps, 60.0, 600.0);
        timings[0] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let pieces = all.pieces(&graph);
        timings[1] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grid = TimeGrid::from_pieces(&graph, &pieces, 100.0, 25.0);
        timings[2] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let bands: Vec<_> = options
            .bands_min
            .iter()
            .map(|m| grid.band_polygons(m * 60.0, None))
            .collect();
        timings[3] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let limits: Vec<f64> = options.bands_min.iter().map(|m| m * 60.0).collect();
        let (fast, _) = dissolved_band_polygons(&graph, &pieces, &limits, 100.0, 25.0);
        timings[4] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let total = response_areas(&graph, &snaps, &options).0.len();
        timings[5] += t.elapsed().as_secs_f64();
        let fast_cells: Vec<usize> = fast.iter().map(|(_, cells)| *cells).collect();
        let finite = grid.time_s.iter().filter(|t| t.is_finite()).count();
        let rings: Vec<String> = bands
            .iter()
            .map(|(mp, cells)| {
                let holes: usize = mp.0.iter().map(|p| p.interiors().len()).sum();
                let vertices: usize =
                    mp.0.iter()
                        .map(|p| {
                            p.exterior().0.len()
                                + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()
                        })
                        .sum();
                format!(
                    "{cells} cells, {} polys, {holes} holes, {vertices} vertices",
                    mp.0.len()
                )
            })
            .collect();
        summary = format!(
            "reached nodes {}, pieces {}, grid {}x{} ({} finite), bands: {}, total out {total}, \
             band fill cells {fast_cells:?}",
            all.reached_nodes.len(),
            pieces.len(),
            grid.width,
            grid.height,
            finite,
            rings.join("; ")
        );
    }
    println!("{summary}");
    let names = [
        "reach",
        "pieces",
        "grid fill",
        "4 band polygons",
        "band fill 4 bands",
        "response_areas",
    ];
    for (name, t) in names.iter().zip(timings) {
        println!("{name:>18}: {:8.2} ms", t * 1e3 / rounds as f64);
    }
}
