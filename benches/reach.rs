//! Drive-time engine benchmarks: graph build, 5-station 300 s reach, and band polygons
//! (goals: reach < 3 ms and 4 bands < 20 ms on 100k segments; 1M-segment graph < 2 s;
//! one station's areas on the demo network < 10 ms).
//!
//! With `ONEMAP_BENCH_DATA` set to the output folder of `../shared/bench/gen_data.py`,
//! the 100k-segment figures use its `roads_M.geojson` and a seeded 1M-segment grid is
//! built too; otherwise a small seeded grid keeps `cargo test --all-targets` quick.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Coord, Geometry, LineString};
use onemap::analysis::band_fill::dissolved_band_polygons;
use onemap::analysis::isochrone::{AreaMode, AreaOptions, TimeGrid, response_areas};
use onemap::analysis::live::StationAreas;
use onemap::analysis::reach::stations_from_layer;
use onemap::analysis::reach::{SnapIndex, Station, reach};
use onemap::analysis::road_graph::{RoadGraph, SpeedTable};
use onemap::io::{Progress, load_path};
use onemap::model::{AttributeTable, Layer, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A jittered grid of `side` x `side` junctions, about 150 m apart, joined by two-vertex
/// roads of mixed classes (about 2 * side² segments).
fn synthetic_grid(side: usize, seed: u64) -> Layer {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let step_lat = 150.0 / 111_195.0;
    let step_lon = step_lat / 36.8f64.to_radians().cos();
    let classes = [
        "primary",
        "secondary",
        "tertiary",
        "residential",
        "residential",
    ];
    let mut pts = Vec::with_capacity(side * side);
    for i in 0..side {
        for j in 0..side {
            pts.push(Coord {
                x: 117.9 + (i as f64 + rng.random_range(-0.25..0.25)) * step_lon,
                y: 36.8 + (j as f64 + rng.random_range(-0.25..0.25)) * step_lat,
            });
        }
    }
    let mut geometries = Vec::new();
    let mut attributes = AttributeTable::new();
    for i in 0..side {
        for j in 0..side {
            for (di, dj) in [(1, 0), (0, 1)] {
                if i + di < side && j + dj < side {
                    let a = pts[i * side + j];
                    let b = pts[(i + di) * side + j + dj];
                    geometries.push(Geometry::LineString(LineString::from(vec![a, b])));
                    let class = Value::Text(classes[rng.random_range(0..classes.len())].into());
                    attributes.push_row([("highway", class.as_ref())]);
                }
            }
        }
    }
    Layer {
        name: "synthetic roads".into(),
        source_index: (0..geometries.len() as u32).collect(),
        geometries,
        attributes,
        ..Layer::default()
    }
}

/// Five stations around the middle of the network.
fn stations(graph: &RoadGraph) -> Vec<Station> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for n in &graph.nodes {
        lo = [lo[0].min(n.x), lo[1].min(n.y)];
        hi = [hi[0].max(n.x), hi[1].max(n.y)];
    }
    [(0.5, 0.5), (0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)]
        .iter()
        .enumerate()
        .map(|(i, (fx, fy))| Station {
            id: format!("S{i}"),
            position: Coord {
                x: lo[0] + fx * (hi[0] - lo[0]),
                y: lo[1] + fy * (hi[1] - lo[1]),
            },
        })
        .collect()
}

fn load(path: &Path) -> Option<Layer> {
    load_path(path, &Progress::default()).ok().map(|l| l.layer)
}

fn bench_network(c: &mut Criterion, label: &str, roads: &Layer) {
    let speeds = SpeedTable::emergency_default();
    let Ok((graph, _)) = RoadGraph::build(&[roads], &speeds) else {
        return;
    };
    c.bench_function(&format!("graph_build/{label}"), |b| {
        b.iter(|| RoadGraph::build(&[black_box(roads)], &speeds).map(|g| g.0.edges.len()))
    });
    let index = SnapIndex::new(&graph);
    let (snaps, _) = index.snap_stations(&graph, &stations(&graph), 500.0);
    c.bench_function(&format!("reach_5_stations_300s/{label}"), |b| {
        b.iter(|| {
            reach(&graph, black_box(&snaps), 60.0, 300.0)
                .reached_nodes
                .len()
        })
    });
    let options = AreaOptions::default();
    let all = reach(&graph, &snaps, 60.0, 600.0);
    let pieces = all.pieces(&graph);
    c.bench_function(&format!("time_grid_10min/{label}"), |b| {
        b.iter(|| TimeGrid::from_pieces(&graph, black_box(&pieces), 100.0, 25.0).width)
    });
    c.bench_function(&format!("polygons_4_bands/{label}"), |b| {
        b.iter(|| {
            let grid = TimeGrid::from_pieces(&graph, black_box(&pieces), 100.0, 25.0);
            options
                .bands_min
                .iter()
                .map(|m| grid.band_polygons(m * 60.0, None).1)
                .sum::<usize>()
        })
    });
    // The same dissolved polygons filled straight from the road, as `response_areas` now
    // makes them (no time grid).
    let limits: Vec<f64> = options.bands_min.iter().map(|m| m * 60.0).collect();
    c.bench_function(&format!("polygons_4_bands_band_fill/{label}"), |b| {
        b.iter(|| {
            dissolved_band_polygons(&graph, black_box(&pieces), &limits, 100.0, 25.0)
                .0
                .iter()
                .map(|(_, cells)| cells)
                .sum::<usize>()
        })
    });
    // The same four-band polygons for the 5-minute scenario (2/3/4/5 min from the 300 s
    // reach), where the grid covers far less ground than 10 minutes does.
    let short = reach(&graph, &snaps, 60.0, 300.0).pieces(&graph);
    c.bench_function(&format!("polygons_4_bands_2_to_5min/{label}"), |b| {
        b.iter(|| {
            let grid = TimeGrid::from_pieces(&graph, black_box(&short), 100.0, 25.0);
            [2.0, 3.0, 4.0, 5.0]
                .iter()
                .map(|m| grid.band_polygons(m * 60.0, None).1)
                .sum::<usize>()
        })
    });
    // The same with the band fill, as `response_areas` makes dissolved bands.
    let short_limits = [120.0, 180.0, 240.0, 300.0];
    c.bench_function(
        &format!("polygons_4_bands_2_to_5min_band_fill/{label}"),
        |b| {
            b.iter(|| {
                dissolved_band_polygons(&graph, black_box(&short), &short_limits, 100.0, 25.0)
                    .0
                    .iter()
                    .map(|(_, cells)| cells)
                    .sum::<usize>()
            })
        },
    );
    c.bench_function(&format!("response_areas_4_bands_total/{label}"), |b| {
        b.iter(|| response_areas(&graph, black_box(&snaps), &options).0.len())
    });
}

fn bench_reach(c: &mut Criterion) {
    let data = std::env::var_os("ONEMAP_BENCH_DATA").map(PathBuf::from);
    match data
        .as_deref()
        .and_then(|d| load(&d.join("roads_M.geojson")))
    {
        Some(roads) => bench_network(c, "roads_M_100k", &roads),
        None => bench_network(c, "grid_2k", &synthetic_grid(32, 1)),
    }
    if data.is_some() {
        let big = synthetic_grid(708, 2);
        let speeds = SpeedTable::emergency_default();
        let mut group = c.benchmark_group("graph_build_1m");
        group.sample_size(10);
        group.bench_function("grid_1m", |b| {
            b.iter(|| RoadGraph::build(&[black_box(&big)], &speeds).map(|g| g.0.edges.len()))
        });
        group.finish();
    }

    // One station recomputed on the demo network, as when it is dragged in the window.
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/zhoucun");
    if let (Some(roads), Some(fire_stations)) = (
        load(&demo.join("roads.geojson")),
        load(&demo.join("fire_stations.geojson")),
    ) {
        let Ok((graph, _)) = RoadGraph::build(&[&roads], &SpeedTable::emergency_default()) else {
            return;
        };
        let index = SnapIndex::new(&graph);
        let Some(Geometry::Point(station)) = fire_stations.geometries.first().cloned() else {
            return;
        };
        let options = AreaOptions {
            mode: AreaMode::Dissolve,
            ..AreaOptions::default()
        };
        c.bench_function("demo_one_station_snap_and_4_bands", |b| {
            b.iter(|| {
                let snap = index.snap(&graph, black_box(station.0), 500.0);
                response_areas(&graph, &[snap], &options).0.len()
            })
        });
        // Dragging one of the demo's fire stations: the others' grids are kept.
        let all: Vec<_> = stations_from_layer(&fire_stations)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        let (snaps, _) = index.snap_stations(&graph, &all, 500.0);
        let mut live = StationAreas::new(&graph, &snaps, &options);
        let east = 300.0 / 111_195.0 / 36.8f64.to_radians().cos();
        let mut step = 0usize;
        c.bench_function("demo_move_one_station_4_bands", |b| {
            b.iter(|| {
                step += 1;
                let shift = if step.is_multiple_of(2) { 0.0 } else { east };
                let position = geo::Coord {
                    x: station.0.x + shift,
                    y: station.0.y,
                };
                let snap = index.snap(&graph, black_box(position), 500.0);
                live.set_station(&graph, 0, snap);
                live.areas(&graph).len()
            })
        });
    }
}

criterion_group!(benches, bench_reach);
criterion_main!(benches);
