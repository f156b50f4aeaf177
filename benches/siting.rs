//! Siting benchmark: 10 new stations chosen from 200 candidates over 10,000 demand points
//! within 5 minutes, 5 existing stations fixed (goal: exact, or a proven gap under 1 %, in
//! under 1 s). `site_total` is the whole run (access index, 201 cut-off reaches, search);
//! `max_cover_only` is the search on the covered sets.
//!
//! With `ONEMAP_BENCH_DATA` set to the output folder of `../shared/bench/gen_data.py`, it
//! uses `roads_M.geojson` (100k segments) and `points_10k.geojson` (weight `population`);
//! otherwise a small seeded grid keeps `cargo test --all-targets` quick.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Coord, Geometry, LineString};
use onemap::analysis::coverage::{AccessIndex, DemandPoint, demand_points};
use onemap::analysis::reach::{Snap, SnapIndex, Station};
use onemap::analysis::road_graph::{RoadGraph, SpeedTable};
use onemap::analysis::siting::{SitingOptions, coverage_sets, max_cover, site};
use onemap::io::{Progress, load_path};
use onemap::model::{AttributeTable, Layer, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A jittered grid of `side` x `side` junctions about 150 m apart (2 * side² segments).
fn synthetic_grid(side: usize, seed: u64) -> Layer {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let step_lat = 150.0 / 111_195.0;
    let step_lon = step_lat / 36.8f64.to_radians().cos();
    let classes = ["primary", "secondary", "tertiary", "residential"];
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

fn load(path: &Path) -> Option<Layer> {
    load_path(path, &Progress::default()).ok().map(|l| l.layer)
}

/// Seeded places within the network's extent: `count` of them.
fn random_places(graph: &RoadGraph, count: usize, seed: u64) -> Vec<Coord<f64>> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for n in &graph.nodes {
        lo = [lo[0].min(n.x), lo[1].min(n.y)];
        hi = [hi[0].max(n.x), hi[1].max(n.y)];
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| Coord {
            x: rng.random_range(lo[0]..hi[0]),
            y: rng.random_range(lo[1]..hi[1]),
        })
        .collect()
}

/// Five existing stations around the middle of the network.
fn existing(graph: &RoadGraph) -> Vec<Station> {
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

fn bench_instance(
    c: &mut Criterion,
    label: &str,
    roads: &Layer,
    demand: Vec<DemandPoint>,
    candidates: usize,
    k: usize,
) {
    let Ok((graph, _)) = RoadGraph::build(&[roads], &SpeedTable::emergency_default()) else {
        return;
    };
    let snap_index = SnapIndex::new(&graph);
    let (snaps, _) = snap_index.snap_stations(&graph, &existing(&graph), 500.0);
    let candidates: Vec<Station> = random_places(&graph, candidates, 9)
        .into_iter()
        .enumerate()
        .map(|(i, position)| Station {
            id: i.to_string(),
            position,
        })
        .collect();
    let options = SitingOptions {
        k,
        ..SitingOptions::default()
    };
    let result = site(
        &graph,
        &snap_index,
        &snaps,
        &candidates,
        &[],
        &demand,
        &options,
    );
    eprintln!(
        "siting {label}: k {k}, {} candidates, {} demand points: before {:.0}, after {:.0}, optimal {}, gap {:.4}, nodes {}",
        candidates.len(),
        demand.len(),
        result.before.covered,
        result.after.covered,
        result.optimal,
        result.gap,
        result.nodes
    );
    let mut group = c.benchmark_group("siting");
    group.sample_size(10);
    group.bench_function(format!("site_total/{label}"), |b| {
        b.iter(|| {
            site(
                &graph,
                &snap_index,
                black_box(&snaps),
                &candidates,
                &[],
                &demand,
                &options,
            )
            .after
            .covered
        })
    });
    // The search alone, on the covered sets.
    let places: Vec<Coord<f64>> = demand.iter().map(|d| d.position).collect();
    let weights: Vec<f64> = demand.iter().map(|d| d.weight.max(0.0)).collect();
    let index = AccessIndex::new(&graph, &places, options.access_m);
    let candidate_snaps: Vec<Option<Snap>> = candidates
        .iter()
        .map(|s| snap_index.snap(&graph, s.position, 500.0))
        .collect();
    let sets = coverage_sets(&graph, &index, &snaps, &candidate_snaps, 60.0, 300.0);
    let mut already = vec![false; places.len()];
    for &p in &sets.existing {
        already[p as usize] = true;
    }
    let usable: Vec<bool> = sets.candidates.iter().map(Option::is_some).collect();
    let lists: Vec<Vec<u32>> = sets
        .candidates
        .iter()
        .map(|s| s.clone().unwrap_or_default())
        .collect();
    group.bench_function(format!("max_cover_only/{label}"), |b| {
        b.iter(|| {
            max_cover(
                black_box(&lists),
                &weights,
                &already,
                &usable,
                k,
                options.max_nodes,
            )
            .value
        })
    });
    group.finish();
}

fn bench_siting(c: &mut Criterion) {
    let data = std::env::var_os("ONEMAP_BENCH_DATA").map(PathBuf::from);
    let files = data.as_deref().and_then(|d| {
        Some((
            load(&d.join("roads_M.geojson"))?,
            load(&d.join("points_10k.geojson"))?,
        ))
    });
    match files {
        Some((roads, points)) => {
            let (demand, _) = demand_points(&points, "population");
            bench_instance(c, "roads_M_points_10k", &roads, demand, 200, 10);
        }
        None => {
            let roads = synthetic_grid(30, 1);
            let Ok((graph, _)) = RoadGraph::build(&[&roads], &SpeedTable::emergency_default())
            else {
                return;
            };
            let demand = random_places(&graph, 1000, 4)
                .into_iter()
                .enumerate()
                .map(|(i, position)| DemandPoint {
                    position,
                    weight: (i % 13 + 1) as f64,
                })
                .collect();
            bench_instance(c, "grid_1k_points_1k", &roads, demand, 40, 3);
        }
    }
}

criterion_group!(benches, bench_siting);
criterion_main!(benches);
