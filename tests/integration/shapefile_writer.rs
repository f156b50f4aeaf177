//! The Shapefile writer checked through the project's reader: geometries, attributes and
//! Chinese text survive a round trip in UTF-8 and GBK, in WGS84 and Gauss-Krüger; mixed
//! layers split; long text is cut with a warning; seeded random layers round-trip too.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use geo::{Coord, Geometry, LineString, MultiPoint, MultiPolygon, Point, Polygon};
use onemap::crs::Crs;
use onemap::io::shapefile_reader::{ShapefileInfo, ShapefileOptions, read_shapefile_with_info};
use onemap::io::write::{WriteOptions, WriteReport, write_path};
use onemap::io::{Loaded, Progress};
use onemap::model::{Layer, Value, ValueRef};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn ring(points: &[(f64, f64)]) -> LineString<f64> {
    LineString::from(points.to_vec())
}

/// A layer of one kind with typed attributes, Chinese text and nulls.
fn polygons() -> Layer {
    let mut layer = Layer {
        name: "zones".into(),
        ..Layer::default()
    };
    // Counter-clockwise exterior with a clockwise-given hole: both must be turned.
    let outer = ring(&[
        (117.80, 36.70),
        (117.90, 36.70),
        (117.90, 36.80),
        (117.80, 36.80),
        (117.80, 36.70),
    ]);
    let hole = ring(&[
        (117.82, 36.72),
        (117.82, 36.74),
        (117.84, 36.74),
        (117.84, 36.72),
        (117.82, 36.72),
    ]);
    layer
        .geometries
        .push(Geometry::Polygon(Polygon::new(outer, vec![hole])));
    let second = Polygon::new(
        ring(&[
            (117.95, 36.75),
            (117.96, 36.75),
            (117.955_123_456_789, 36.76),
            (117.95, 36.75),
        ]),
        vec![],
    );
    let third = Polygon::new(
        ring(&[
            (118.0, 36.9),
            (118.01, 36.9),
            (118.01, 36.91),
            (118.0, 36.9),
        ]),
        vec![],
    );
    layer
        .geometries
        .push(Geometry::MultiPolygon(MultiPolygon::new(vec![
            second, third,
        ])));
    layer.attributes.push_row([
        ("名称", ValueRef::Text("周村区应急避难场所")),
        ("人口", ValueRef::Number(12_500.0)),
        ("面积公顷", ValueRef::Number(3.25)),
        ("开放", ValueRef::Bool(true)),
        ("note", ValueRef::Null),
    ]);
    layer.attributes.push_row([
        ("名称", ValueRef::Text("萌水镇 B区")),
        ("人口", ValueRef::Number(-7.0)),
        ("面积公顷", ValueRef::Number(0.125)),
        ("开放", ValueRef::Bool(false)),
        ("note", ValueRef::Text("plain ascii")),
    ]);
    layer.source_index = vec![0, 1];
    layer
}

fn read(path: &Path, options: &ShapefileOptions) -> (Loaded, ShapefileInfo) {
    read_shapefile_with_info(path, options, &Progress::default()).unwrap()
}

fn write(path: &Path, layer: &Layer, options: &WriteOptions) -> WriteReport {
    write_path(path, &[layer], options).unwrap()
}

/// Rings of every polygon, exteriors counter-clockwise and holes clockwise, so that two
/// windings of the same shape compare equal.
fn normalized_polygons(g: &Geometry<f64>) -> Vec<Vec<Vec<Coord<f64>>>> {
    let polygons: Vec<Polygon<f64>> = match g {
        Geometry::Polygon(p) => vec![p.clone()],
        Geometry::MultiPolygon(m) => m.0.clone(),
        other => panic!("not a polygon: {other:?}"),
    };
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
    polygons
        .iter()
        .map(|p| {
            std::iter::once(turn(p.exterior(), true))
                .chain(p.interiors().iter().map(|h| turn(h, false)))
                .collect()
        })
        .collect()
}

fn assert_close(a: &[Vec<Vec<Coord<f64>>>], b: &[Vec<Vec<Coord<f64>>>], tolerance: f64) {
    assert_eq!(a.len(), b.len(), "polygon count");
    for (pa, pb) in a.iter().zip(b) {
        assert_eq!(pa.len(), pb.len(), "ring count");
        for (ra, rb) in pa.iter().zip(pb) {
            assert_eq!(ra.len(), rb.len(), "point count");
            for (ca, cb) in ra.iter().zip(rb) {
                assert!(
                    (ca.x - cb.x).abs() <= tolerance && (ca.y - cb.y).abs() <= tolerance,
                    "{ca:?} vs {cb:?}"
                );
            }
        }
    }
}

fn assert_attributes_equal(a: &Layer, b: &Layer) {
    assert_eq!(a.attributes.len(), b.attributes.len());
    let names: Vec<&str> = a.attributes.field_names().collect();
    assert_eq!(names, b.attributes.field_names().collect::<Vec<_>>());
    for row in 0..a.attributes.len() {
        for name in &names {
            assert_eq!(
                a.attributes.get(row, name),
                b.attributes.get(row, name),
                "row {row} field {name}"
            );
        }
    }
}

#[test]
fn utf8_wgs84_round_trip_keeps_geometry_attributes_and_ring_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zones.shp");
    let layer = polygons();
    let report = write(&path, &layer, &WriteOptions::default());
    let names: Vec<String> = report
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        assert!(names.contains(&format!("zones.{ext}")), "{names:?}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("zones.cpg")).unwrap(),
        "UTF-8"
    );
    // "面积公顷" is 12 UTF-8 bytes: cut to three characters, and said so.
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("\"面积公顷\" is written as \"面积公\"")),
        "{:?}",
        report.warnings
    );

    let (back, info) = read(&path, &ShapefileOptions::default());
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    assert_eq!(info.crs, Some(Crs::Wgs84));
    assert_eq!(info.encoding, "UTF-8");
    assert_eq!(back.layer.len(), 2);
    for (a, b) in layer.geometries.iter().zip(&back.layer.geometries) {
        assert_close(&normalized_polygons(a), &normalized_polygons(b), 1e-12);
    }
    let t = &back.layer.attributes;
    assert_eq!(t.get(0, "名称"), ValueRef::Text("周村区应急避难场所"));
    assert_eq!(t.get(1, "人口"), ValueRef::Number(-7.0));
    assert_eq!(t.get(0, "面积公"), ValueRef::Number(3.25));
    assert_eq!(t.get(1, "面积公"), ValueRef::Number(0.125));
    assert_eq!(t.get(0, "开放"), ValueRef::Bool(true));
    assert_eq!(t.get(0, "note"), ValueRef::Null);
    assert_eq!(t.get(1, "note"), ValueRef::Text("plain ascii"));

    // The reader decides outer and hole by winding: the hole must be a hole, not a polygon.
    let Geometry::Polygon(p) = &back.layer.geometries[0] else {
        panic!("one polygon expected")
    };
    assert_eq!(p.interiors().len(), 1);
}

#[test]
fn gbk_round_trip_with_and_without_the_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gbk.shp");
    let mut layer = polygons();
    layer.attributes = onemap::model::AttributeTable::new();
    layer.attributes.push_row([
        ("名称", ValueRef::Text("周村区应急避难场所")),
        ("面积公顷", ValueRef::Number(3.25)),
    ]);
    layer.attributes.push_row([
        ("名称", ValueRef::Text("萌水镇")),
        ("面积公顷", ValueRef::Number(1.0)),
    ]);
    let options = WriteOptions {
        encoding: Some("gbk".into()),
        ..WriteOptions::default()
    };
    let report = write(&path, &layer, &options);
    // Four characters are eight GBK bytes: the name fits whole.
    assert!(
        !report.warnings.iter().any(|w| w.contains("面积公顷")),
        "{:?}",
        report.warnings
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("gbk.cpg")).unwrap(),
        "GBK"
    );
    let dbf = std::fs::read(dir.path().join("gbk.dbf")).unwrap();
    let (name_gbk, _, _) = encoding_rs::GBK.encode("周村区应急避难场所");
    assert!(
        dbf.windows(name_gbk.len()).any(|w| w == &name_gbk[..]),
        "the text is GBK bytes"
    );
    assert_eq!(dbf[29], 0x4D, "language driver: code page 936");

    let (back, info) = read(&path, &ShapefileOptions::default());
    assert_eq!(info.encoding, "GBK");
    assert_attributes_equal(&layer, &back.layer);

    // Bureau files come without a .cpg: detection must still find the text.
    std::fs::remove_file(dir.path().join("gbk.cpg")).unwrap();
    let (back, info) = read(&path, &ShapefileOptions::default());
    assert_eq!(info.encoding, "gb18030");
    assert_attributes_equal(&layer, &back.layer);
}

#[test]
fn gauss_kruger_target_round_trips_within_1e7_degree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gk.shp");
    let layer = polygons();
    let gk = Crs::from_epsg(4527).unwrap();
    let options = WriteOptions {
        crs: gk,
        encoding: Some("gbk".into()),
        ..WriteOptions::default()
    };
    write(&path, &layer, &options);
    let prj = std::fs::read_to_string(dir.path().join("gk.prj")).unwrap();
    assert!(
        prj.starts_with("PROJCS[\"CGCS2000_3_Degree_GK_Zone_39\""),
        "{prj}"
    );
    // Stored values are metres with the zone prefix.
    let shp = std::fs::read(&path).unwrap();
    let xmin = f64::from_le_bytes(shp[36..44].try_into().unwrap());
    assert!((39_500_000.0..39_700_000.0).contains(&xmin), "{xmin}");

    let (back, info) = read(&path, &ShapefileOptions::default());
    assert_eq!(info.crs, Some(gk));
    for (a, b) in layer.geometries.iter().zip(&back.layer.geometries) {
        assert_close(&normalized_polygons(a), &normalized_polygons(b), 1e-7);
    }
    assert_attributes_equal(&layer, &back.layer);
}

#[test]
fn mixed_layers_split_by_kind_and_points_stay_points() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.shp");
    let mut layer = Layer {
        name: "mixed".into(),
        ..Layer::default()
    };
    let geometries = [
        Geometry::Point(Point::new(117.87, 36.8)),
        Geometry::LineString(ring(&[(117.8, 36.7), (117.9, 36.8)])),
        Geometry::Point(Point::new(117.88, 36.81)),
        Geometry::GeometryCollection(geo::GeometryCollection::new_from(vec![
            Geometry::Point(Point::new(1.0, 2.0)),
            Geometry::LineString(ring(&[(1.0, 2.0), (2.0, 3.0)])),
        ])),
    ];
    for (i, g) in geometries.into_iter().enumerate() {
        layer.geometries.push(g);
        layer
            .attributes
            .push_row([("id", ValueRef::Number(i as f64))]);
        layer.source_index.push(i as u32);
    }
    let report = write(&path, &layer, &WriteOptions::default());
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("mixes points, lines"))
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("feature 3: skipped: a geometry collection mixing"))
    );
    let (points, _) = read(
        &dir.path().join("mixed_points.shp"),
        &ShapefileOptions::default(),
    );
    assert_eq!(points.layer.len(), 2);
    assert!(matches!(points.layer.geometries[0], Geometry::Point(_)));
    assert_eq!(points.layer.attributes.get(1, "id"), ValueRef::Number(2.0));
    let (lines, _) = read(
        &dir.path().join("mixed_lines.shp"),
        &ShapefileOptions::default(),
    );
    assert_eq!(lines.layer.len(), 1);
    assert_eq!(lines.layer.attributes.get(0, "id"), ValueRef::Number(1.0));
    assert!(!dir.path().join("mixed.shp").exists());
}

#[test]
fn long_text_is_cut_at_a_character_boundary_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.shp");
    let mut layer = Layer::default();
    let long = "应急".repeat(100); // 200 characters, 400 GBK bytes
    layer
        .geometries
        .push(Geometry::Point(Point::new(117.87, 36.8)));
    layer.attributes.push_row([("说明", ValueRef::Text(&long))]);
    layer.source_index = vec![7];
    let options = WriteOptions {
        encoding: Some("gbk".into()),
        ..WriteOptions::default()
    };
    let report = write(&path, &layer, &options);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("\"说明\": 1 value(s) longer than 254 bytes")
                && w.contains("feature 7")),
        "{:?}",
        report.warnings
    );
    let (back, _) = read(&path, &ShapefileOptions::default());
    let ValueRef::Text(text) = back.layer.attributes.get(0, "说明") else {
        panic!("text expected")
    };
    assert_eq!(
        text.chars().count(),
        127,
        "254 bytes are 127 whole characters"
    );
    assert!(long.starts_with(text));
}

#[test]
fn seeded_random_layers_round_trip() {
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_128);
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.shp");
        let multi = round % 2 == 0;
        let mut layer = Layer::default();
        let count = rng.random_range(1..60);
        for i in 0..count {
            let mut point =
                || Point::new(rng.random_range(73.0..136.0), rng.random_range(3.0..54.0));
            let g = if multi {
                Geometry::MultiPoint(MultiPoint::new(vec![point(), point()]))
            } else {
                Geometry::Point(point())
            };
            layer.geometries.push(g);
            let text: String = (0..rng.random_range(0..12))
                .map(|_| {
                    if rng.random_bool(0.5) {
                        char::from_u32(rng.random_range(0x4E00..0x9FA5)).unwrap()
                    } else {
                        char::from(rng.random_range(b'a'..=b'z'))
                    }
                })
                .collect();
            let number = if rng.random_bool(0.2) {
                ValueRef::Null
            } else {
                ValueRef::Number((rng.random_range(-1e6..1e6_f64) * 1000.0).round() / 1000.0)
            };
            let text_value = if text.is_empty() {
                ValueRef::Null
            } else {
                ValueRef::Text(&text)
            };
            layer.attributes.push_row([
                ("文本", text_value),
                ("number", number),
                ("flag", ValueRef::Bool(i % 3 == 0)),
            ]);
            layer.source_index.push(i);
        }
        let encoding = if round % 3 == 0 { "gbk" } else { "utf-8" };
        let options = WriteOptions {
            encoding: Some(encoding.into()),
            ..WriteOptions::default()
        };
        write(&path, &layer, &options);
        let (back, _) = read(&path, &ShapefileOptions::default());
        assert_eq!(back.layer.len(), layer.len(), "round {round}");
        for (a, b) in layer.geometries.iter().zip(&back.layer.geometries) {
            let coords = |g: &Geometry<f64>| -> Vec<Coord<f64>> {
                geo::CoordsIter::coords_iter(g).collect()
            };
            assert_eq!(coords(a), coords(b), "round {round}");
        }
        for row in 0..layer.len() {
            for name in ["文本", "number", "flag"] {
                let expected = layer.attributes.get(row, name).to_owned_value();
                let got = back.layer.attributes.get(row, name).to_owned_value();
                assert_eq!(expected, got, "round {round} row {row} {name}");
                if let Value::Number(n) = got {
                    assert!(n.is_finite());
                }
            }
        }
    }
}
