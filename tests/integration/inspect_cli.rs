//! `onemap inspect` end to end on files: one JSON line per layer on stdout, messages on
//! stderr, and the exit code.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use onemap::cli::inspect::{ReadArgs, inspect_to};
use onemap::io::ReadOptions;
use serde_json::{Value, json};

fn run(paths: &[PathBuf]) -> (i32, Vec<Value>, Vec<String>) {
    run_with(paths, &ReadOptions::default())
}

fn run_with(paths: &[PathBuf], options: &ReadOptions) -> (i32, Vec<Value>, Vec<String>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = inspect_to(paths, options, &mut out, &mut err);
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
    assert_eq!(s["format"], "GeoJSON");
    assert_eq!(
        s["crs"],
        json!({"name": "WGS 84 / CGCS2000 (degrees)", "epsg": 4326})
    );
    assert!(s["crs_reason"].as_str().unwrap().contains("RFC 7946"));
    assert_eq!(s["encoding"], "UTF-8");
    assert!(s["encoding_reason"].as_str().unwrap().contains("RFC 7946"));
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

fn read_args(list: &[&str]) -> ReadOptions {
    use clap::Parser;
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        read: ReadArgs,
    }
    let wrapper =
        Wrapper::try_parse_from(std::iter::once("inspect").chain(list.iter().copied())).unwrap();
    wrapper.read.to_read_options().unwrap()
}

#[test]
fn table_without_crs_says_wgs84_was_assumed_and_overrides_apply() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("picked.csv");
    std::fs::write(
        &csv,
        "名称,东,北,备注\n一号,117.875785,36.800212,a\n二号,117.9,36.79,b\n",
    )
    .unwrap();

    // Headers the reader does not know: the overrides name them.
    let options = read_args(&["--x-col", "东", "--y-col", "北"]);
    let (code, layers, err) = run_with(std::slice::from_ref(&csv), &options);
    assert_eq!(code, 0, "{err:?}");
    let s = &layers[0];
    assert_eq!(s["format"], "CSV");
    assert_eq!(s["features"], 2);
    assert_eq!(s["crs"]["epsg"], 4326);
    let reason = s["crs_reason"].as_str().unwrap();
    assert!(
        reason.contains("WGS 84") && reason.contains("GCJ-02"),
        "{reason}"
    );
    assert!(
        err.iter()
            .any(|l| l.starts_with("warning: ") && l.contains("degrees read as WGS 84")),
        "{err:?}"
    );
    assert_eq!(s["encoding"], "UTF-8");

    // Told it is GCJ-02: moved about 500 m west, no WGS 84 warning.
    let options = read_args(&["--x-col", "东", "--y-col", "北", "--crs", "gcj02"]);
    let (_, layers, err) = run_with(std::slice::from_ref(&csv), &options);
    let s = &layers[0];
    assert_eq!(s["crs"]["name"], "GCJ-02 (Amap/Tencent degrees)");
    assert!(s["crs"]["epsg"].is_null());
    let west = s["bbox"][0].as_f64().unwrap();
    assert!((west - 117.87).abs() < 1e-5, "{west}");
    assert!(
        !err.iter().any(|l| l.contains("degrees read as WGS 84")),
        "{err:?}"
    );

    // GBK text read as GBK when told.
    let gbk = dir.path().join("gbk.csv");
    let (bytes, _, _) = encoding_rs::GBK.encode("名称,经度,纬度\n消防站,117.87,36.8\n");
    std::fs::write(&gbk, &bytes).unwrap();
    let (_, layers, _) = run_with(&[gbk], &read_args(&["--encoding", "gbk"]));
    assert_eq!(layers[0]["encoding"], "GBK");
    assert!(
        layers[0]["encoding_reason"]
            .as_str()
            .unwrap()
            .contains("user")
    );
}

#[test]
fn shapefile_shows_its_prj_crs_and_cpg_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let mut layer = onemap::model::Layer {
        name: "shelters".into(),
        ..Default::default()
    };
    layer
        .geometries
        .push(geo::Geometry::Point(geo::Point::new(117.87, 36.8)));
    layer.attributes.push_row([
        ("名称", onemap::model::ValueRef::Text("周村避难场所")),
        ("人数", onemap::model::ValueRef::Number(1200.0)),
    ]);
    layer.source_index = vec![0];
    let shp = dir.path().join("shelters.shp");
    let options = onemap::io::write::WriteOptions {
        crs: onemap::crs::Crs::from_epsg(4527).unwrap(),
        encoding: Some("gbk".into()),
        ..Default::default()
    };
    onemap::io::write::write_path(&shp, &[&layer], &options).unwrap();
    let (code, layers, err) = run(&[shp]);
    assert_eq!(code, 0, "{err:?}");
    let s = &layers[0];
    assert_eq!(s["format"], "Shapefile");
    assert_eq!(s["crs"]["epsg"], 4527);
    assert!(s["crs_reason"].as_str().unwrap().contains(".prj"));
    assert_eq!(s["encoding"], "GBK");
    assert!(s["encoding_reason"].as_str().unwrap().contains(".cpg"));
    assert_eq!(s["sums"], json!({"人数": 1200}));
    let bbox = s["bbox"].as_array().unwrap();
    assert!((bbox[0].as_f64().unwrap() - 117.87).abs() < 1e-9);
}

#[test]
fn sheet_option_reaches_the_reader_options() {
    assert_eq!(
        read_args(&["--sheet", "大地坐标"]).sheet.as_deref(),
        Some("大地坐标")
    );
    assert_eq!(read_args(&[]).sheet, None);
}
