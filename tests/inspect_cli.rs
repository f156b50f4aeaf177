//! `onemap inspect` end to end on files: one JSON line per layer on stdout, messages on
//! stderr, and the exit code.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use onemap::cli::inspect::inspect_to;
use serde_json::{Value, json};

fn run(paths: &[PathBuf]) -> (i32, Vec<Value>, Vec<String>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = inspect_to(paths, &mut out, &mut err);
    let out = String::from_utf8(out).unwrap();
    let err = String::from_utf8(err).unwrap();
    let layers = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (code, layers, err.lines().map(str::to_owned).collect())
}

#[test]
fn inspect_prints_one_line_per_layer_and_messages_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let stations = dir.path().join("fire_stations.geojson");
    std::fs::write(
        &stations,
        r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"name":"一站","trucks":5,"personnel":40},"geometry":{"type":"Point","coordinates":[117.85,36.80]}},
          {"type":"Feature","properties":{"name":"二站","trucks":12,"personnel":88},"geometry":{"type":"Point","coordinates":[117.90,36.78]}},
          {"type":"Feature","properties":{"name":"bad"},"geometry":{"type":"Point","coordinates":[NaN,36.78]}}]}"#,
    )
    .unwrap();
    let roads = dir.path().join("roads.geojson");
    std::fs::write(
        &roads,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"highway":"primary"},"geometry":{"type":"LineString","coordinates":[[117.8,36.8],[117.8,36.81]]}}]}"#,
    )
    .unwrap();
    let missing = dir.path().join("missing.geojson");
    let (code, layers, err) = run(&[stations.clone(), missing, roads]);
    assert_eq!(code, 0);
    assert_eq!(layers.len(), 2);
    let s = &layers[0];
    assert_eq!(s["name"], "fire_stations");
    assert_eq!(s["path"], stations.display().to_string());
    assert_eq!(s["kind"], "fire_station");
    assert_eq!(s["features"], 2);
    assert_eq!(s["geometry_types"], json!(["Point"]));
    assert_eq!(s["bbox"], json!([117.85, 36.78, 117.9, 36.8]));
    assert_eq!(s["sums"], json!({"trucks": 17, "personnel": 128}));
    assert_eq!(s["total_area_km2"], 0.0);
    let warnings = s["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| {
        w.as_str()
            .unwrap()
            .contains("feature 2: a coordinate is NaN")
    }));
    let r = &layers[1];
    assert_eq!(r["kind"], "road");
    let km = r["total_length_km"].as_f64().unwrap();
    assert!((km - 1.1092).abs() < 0.002, "{km}");
    assert!(r.get("sums").is_none());

    assert!(
        err.iter()
            .any(|l| l.starts_with("warning: ") && l.contains("fire_stations.geojson: feature 2:"))
    );
    assert!(
        err.iter()
            .any(|l| l.starts_with("error: ") && l.contains("missing.geojson: cannot read"))
    );
}

#[test]
fn inspect_fails_when_nothing_loads() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.geojson");
    std::fs::write(&empty, "").unwrap();
    let all_bad = dir.path().join("bad.geojson");
    std::fs::write(
        &all_bad,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#,
    )
    .unwrap();
    let (code, layers, err) = run(&[dir.path().join("nope.geojson"), empty, all_bad]);
    assert_eq!(code, 1);
    assert_eq!(layers.len(), 1, "the all-bad layer is still described");
    assert_eq!(layers[0]["features"], 0);
    assert_eq!(layers[0]["bbox"], Value::Null);
    assert!(err.iter().any(|l| l.contains("empty.geojson: empty file")));
    assert!(err.iter().any(|l| l.contains("nope.geojson")));
    assert!(
        err.iter()
            .any(|l| l.contains("feature 0: the geometry is null"))
    );

    let valid_empty = dir.path().join("valid_empty.geojson");
    std::fs::write(
        &valid_empty,
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .unwrap();
    assert_eq!(run(&[valid_empty]).0, 0);
}
