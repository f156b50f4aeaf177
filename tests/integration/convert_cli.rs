//! `onemap convert` end to end: the demo GeoJSON through a GBK Shapefile and back, GCJ-02
//! point lists to WGS84 with the known Zhoucun offset, projected and GCJ-02 targets, and
//! the exit codes of the real binary.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use geo::{Coord, Geometry, LineString};
use onemap::cli::convert::{ConvertArgs, convert_to};
use onemap::io::{Progress, load_path};
use onemap::model::{Layer, ValueRef};

fn convert(list: &[&str]) -> (i32, String) {
    let args = ConvertArgs::try_parse_from(std::iter::once("convert").chain(list.iter().copied()))
        .unwrap();
    let mut err = Vec::new();
    let code = convert_to(&args, &mut err);
    (code, String::from_utf8(err).unwrap())
}

fn demo(stem: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("maps/zhoucun")
        .join(format!("{stem}.geojson"))
}

fn load(path: &Path) -> Layer {
    load_path(path, &Progress::default()).unwrap().layer
}

/// Every part of a geometry as a coordinate list; polygon rings in one winding (exteriors
/// counter-clockwise), so files that differ only in winding or in Multi-of-one compare equal.
fn parts(g: &Geometry<f64>) -> Vec<Vec<Coord<f64>>> {
    let turn = |r: &LineString<f64>, ccw: bool| {
        let mut points = r.0.clone();
        let area: f64 = points
            .windows(2)
            .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
            .sum();
        if (area > 0.0) != ccw {
            points.reverse();
        }
        points
    };
    match g {
        Geometry::Point(p) => vec![vec![p.0]],
        Geometry::MultiPoint(m) => m.0.iter().map(|p| vec![p.0]).collect(),
        Geometry::LineString(l) => vec![l.0.clone()],
        Geometry::MultiLineString(m) => m.0.iter().map(|l| l.0.clone()).collect(),
        Geometry::Polygon(p) => std::iter::once(turn(p.exterior(), true))
            .chain(p.interiors().iter().map(|h| turn(h, false)))
            .collect(),
        Geometry::MultiPolygon(m) => {
            m.0.iter()
                .flat_map(|p| parts(&Geometry::Polygon(p.clone())))
                .collect()
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn assert_same_geometry(a: &Geometry<f64>, b: &Geometry<f64>, tolerance: f64, what: &str) {
    let (pa, pb) = (parts(a), parts(b));
    assert_eq!(pa.len(), pb.len(), "{what}: part count");
    for (ra, rb) in pa.iter().zip(&pb) {
        assert_eq!(ra.len(), rb.len(), "{what}: point count");
        for (ca, cb) in ra.iter().zip(rb) {
            assert!(
                (ca.x - cb.x).abs() <= tolerance && (ca.y - cb.y).abs() <= tolerance,
                "{what}: {ca:?} vs {cb:?}"
            );
        }
    }
}

/// dBASE field names are at most 10 bytes: the name a field comes back with.
fn dbf_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if encoding_rs::GBK.encode(&format!("{out}{c}")).0.len() > 10 {
            break;
        }
        out.push(c);
    }
    out
}

/// A Shapefile has no empty text: "" comes back as null.
fn comparable(v: ValueRef<'_>) -> ValueRef<'_> {
    match v {
        ValueRef::Text(t) if t.trim().is_empty() => ValueRef::Null,
        other => other,
    }
}

#[test]
fn demo_geojson_through_a_gbk_shapefile_comes_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    for stem in ["shelters", "pipelines", "forest", "district_border"] {
        let input = demo(stem);
        let shp = dir.path().join(format!("{stem}.shp"));
        let back = dir.path().join(format!("{stem}_back.geojson"));
        let (code, err) = convert(&[
            input.to_str().unwrap(),
            shp.to_str().unwrap(),
            "--encoding",
            "gbk",
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(&format!("wrote {}", shp.display())), "{err}");
        assert_eq!(
            std::fs::read_to_string(shp.with_extension("cpg")).unwrap(),
            "GBK"
        );
        let (code, err) = convert(&[shp.to_str().unwrap(), back.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("GBK"), "the .cpg named the encoding: {err}");

        let original = load(&input);
        let round = load(&back);
        assert_eq!(original.len(), round.len(), "{stem}");
        for (i, (a, b)) in original
            .geometries
            .iter()
            .zip(&round.geometries)
            .enumerate()
        {
            assert_same_geometry(a, b, 1e-9, &format!("{stem} feature {i}"));
        }
        for name in original.attributes.field_names() {
            let short = dbf_name(name);
            for row in 0..original.len() {
                assert_eq!(
                    comparable(original.attributes.get(row, name)),
                    comparable(round.attributes.get(row, &short)),
                    "{stem} row {row} field {name}"
                );
            }
        }
    }
}

#[test]
fn gcj02_point_list_becomes_wgs84_with_the_zhoucun_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (lon, lat) = (117.87, 36.80);
    let (g_lon, g_lat) = onemap::crs::gcj02::wgs84_to_gcj02(lon, lat);
    let csv = dir.path().join("amap.csv");
    std::fs::write(
        &csv,
        format!("名称,经度,纬度\n周村消防站,{g_lon},{g_lat}\n"),
    )
    .unwrap();
    let out = dir.path().join("wgs.geojson");
    let (code, err) = convert(&[
        csv.to_str().unwrap(),
        out.to_str().unwrap(),
        "--from-crs",
        "gcj02",
    ]);
    assert_eq!(code, 0, "{err}");
    let layer = load(&out);
    let Geometry::Point(p) = layer.geometries[0] else {
        panic!("point expected")
    };
    assert!(
        (p.x() - lon).abs() < 1e-7 && (p.y() - lat).abs() < 1e-7,
        "{p:?}"
    );
    let metres_per_degree = 111_000.0;
    let east = (g_lon - p.x()) * metres_per_degree * lat.to_radians().cos();
    let north = (g_lat - p.y()) * metres_per_degree;
    assert!((east - 515.0).abs() < 6.0, "east {east}");
    assert!((north - 23.0).abs() < 3.0, "north {north}");
    assert_eq!(
        layer.attributes.get(0, "名称"),
        ValueRef::Text("周村消防站")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(json.get("crs_note").is_none(), "WGS 84 needs no note");

    // Not told: the values stay as they are, and the messages say WGS 84 was assumed.
    let (code, err) = convert(&[csv.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning:") && err.contains("degrees read as WGS 84"),
        "{err}"
    );
    let Geometry::Point(q) = load(&out).geometries[0] else {
        panic!("point expected")
    };
    assert!((q.x() - g_lon).abs() < 1e-9);

    // And back to GCJ-02 for Amap: the same numbers, with the note.
    let gcj = dir.path().join("gcj.geojson");
    let (code, err) = convert(&[
        csv.to_str().unwrap(),
        gcj.to_str().unwrap(),
        "--from-crs",
        "gcj02",
        "--to-crs",
        "gcj02",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gcj).unwrap()).unwrap();
    assert!(json["crs_note"].as_str().unwrap().starts_with("GCJ-02"));
    let c = &json["features"][0]["geometry"]["coordinates"];
    assert!((c[0].as_f64().unwrap() - g_lon).abs() < 1e-8, "{c}");
}

#[test]
fn projected_targets_go_to_shapefile_and_csv_not_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let input = demo("shelters");
    let bad = dir.path().join("gk.geojson");
    let (code, err) = convert(&[
        input.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--to-crs",
        "EPSG:4527",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("Shapefile (.shp)"), "{err}");

    let csv = dir.path().join("gk.csv");
    let (code, err) = convert(&[
        input.to_str().unwrap(),
        csv.to_str().unwrap(),
        "--to-crs",
        "EPSG:4527",
        "--bom",
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFx,y,"), "BOM then x,y");
    // The CSV reader finds Gauss-Krueger metres by their range and puts them back.
    let original = load(&input);
    let round = load(&csv);
    for (a, b) in original.geometries.iter().zip(&round.geometries) {
        assert_same_geometry(a, b, 1e-8, "csv");
    }
}

#[test]
fn the_binary_runs_convert_and_fails_with_a_nonzero_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.shp");
    let binary = env!("CARGO_BIN_EXE_onemap");
    let ok = Command::new(binary)
        .args([
            "convert",
            demo("shelters").to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.exists() && out.with_extension("dbf").exists());
    let inspect = Command::new(binary)
        .args(["inspect", out.to_str().unwrap(), "--encoding", "utf-8"])
        .output()
        .unwrap();
    assert!(inspect.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(summary["format"], "Shapefile");
    assert_eq!(summary["features"], 21);

    let missing = Command::new(binary)
        .args(["convert", "no/such/file.geojson", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error: "));
    let unknown_format = out.with_extension("dxf");
    let unknown = Command::new(binary)
        .args([
            "convert",
            demo("shelters").to_str().unwrap(),
            unknown_format.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "an unknown output format is a usage error"
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown output format"));
    // KML and GeoPackage output read back with every shelter.
    for extension in ["kml", "gpkg"] {
        let target = out.with_extension(extension);
        let written = Command::new(binary)
            .args([
                "convert",
                demo("shelters").to_str().unwrap(),
                target.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            written.status.success(),
            "{}",
            String::from_utf8_lossy(&written.stderr)
        );
        let inspect = Command::new(binary)
            .args(["inspect", target.to_str().unwrap(), "--crs", "wgs84"])
            .output()
            .unwrap();
        assert!(
            inspect.status.success(),
            "{}",
            String::from_utf8_lossy(&inspect.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
        assert_eq!(summary["features"], 21, "{extension}: {summary}");
    }
}
