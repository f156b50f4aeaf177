//! KML/KMZ reading and writing: every geometry type, folders as attribute or layers,
//! ExtendedData, KMZ, CRS choice, broken and hostile input, and write/read round trips.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use geo::{
    Coord, CoordsIter, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint,
    MultiPolygon, Point, Polygon,
};
use onemap::crs::Crs;
use onemap::io::kml_reader::{KmlInfo, KmlOptions, read_kml, read_kml_bytes};
use onemap::io::kml_writer::write_kml;
use onemap::io::{Format, LoadError, Loaded, Progress, ReadOptions, read_path};
use onemap::model::{Layer, ValueRef};
use rand::{Rng, SeedableRng};

const SAMPLE: &[u8] = include_bytes!("../data/ovital_sample.kml");

fn read(bytes: &[u8], options: &KmlOptions) -> Result<(Vec<Loaded>, KmlInfo), LoadError> {
    read_kml_bytes(
        Path::new("sample.kml"),
        bytes,
        options,
        &Progress::default(),
    )
}

fn row_of(layer: &Layer, name: &str) -> usize {
    (0..layer.attributes.len())
        .find(|&r| layer.attributes.get(r, "name") == ValueRef::Text(name))
        .unwrap_or_else(|| panic!("no placemark named {name}"))
}

fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn every_geometry_type_with_attributes_and_folders() {
    let (layers, info) = read(SAMPLE, &KmlOptions::default()).unwrap();
    assert_eq!(layers.len(), 1);
    let loaded = &layers[0];
    let layer = &loaded.layer;
    assert_eq!(info.placemarks, 8);
    assert_eq!(
        layer.geometries.len(),
        7,
        "the placemark without geometry is skipped"
    );
    assert_eq!(info.crs, Crs::Wgs84);
    assert!(info.crs_reason.contains("WGS 84"), "{}", info.crs_reason);
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("GCJ-02") && w.feature.is_none()),
        "{:?}",
        loaded.warnings
    );
    let skipped = loaded
        .warnings
        .iter()
        .find(|w| w.feature == Some(7))
        .unwrap();
    assert!(skipped.message.contains("No geometry") && skipped.message.contains("no geometry"));
    assert!(skipped.to_string().contains("sample.kml"));

    let t = &layer.attributes;
    let root = row_of(layer, "Root point");
    assert_eq!(
        layer.geometries[root],
        Geometry::Point(Point::new(117.5, 36.5))
    );
    assert!(t.get(root, "folder").is_null());

    let station = row_of(layer, "一中队 & 二中队");
    assert_eq!(layer.source_index[station], 1);
    assert_eq!(
        layer.geometries[station],
        Geometry::Point(Point::new(117.871, 36.801))
    );
    assert_eq!(t.get(station, "folder"), ValueRef::Text("消防站"));
    assert_eq!(t.get(station, "等级"), ValueRef::Text("一级"));
    assert_eq!(t.get(station, "车辆"), ValueRef::Number(6.0));
    assert_eq!(
        t.get(station, "code"),
        ValueRef::Text("0531"),
        "typed string"
    );
    assert_eq!(t.get(station, "staff"), ValueRef::Number(45.0));
    assert_eq!(
        t.get(station, "description"),
        ValueRef::Text("<b>24h</b> duty<br>tel 119")
    );

    let road = row_of(layer, "Road");
    assert_eq!(t.get(road, "folder"), ValueRef::Text("消防站/规划"));
    assert_eq!(
        layer.geometries[road],
        Geometry::LineString(LineString::from(vec![
            (117.8, 36.8),
            (117.85, 36.82),
            (117.9, 36.85)
        ]))
    );
    let road_warning = loaded
        .warnings
        .iter()
        .find(|w| w.feature == Some(2))
        .unwrap();
    assert!(road_warning.message.contains("junk"), "{road_warning}");

    let zone = row_of(layer, "Zone");
    match &layer.geometries[zone] {
        Geometry::Polygon(p) => {
            assert_eq!(p.exterior().0.len(), 5);
            assert_eq!(p.interiors().len(), 1);
            assert_eq!(p.interiors()[0].0.len(), 4);
        }
        other => panic!("not a polygon: {other:?}"),
    }

    let nested = row_of(layer, "Nested");
    assert_eq!(t.get(nested, "folder"), ValueRef::Text("Other"));
    assert_eq!(
        layer.geometries[nested],
        Geometry::GeometryCollection(GeometryCollection::new_from(vec![
            Geometry::Point(Point::new(117.1, 36.1)),
            Geometry::MultiLineString(MultiLineString::new(vec![LineString::from(vec![
                (117.1, 36.1),
                (117.2, 36.2)
            ])])),
        ]))
    );
    let ring = row_of(layer, "Ring");
    assert_eq!(
        layer.geometries[ring],
        Geometry::LineString(LineString::from(vec![
            (117.0, 36.0),
            (117.1, 36.0),
            (117.1, 36.1),
            (117.0, 36.0)
        ]))
    );
    let track = row_of(layer, "Track");
    assert_eq!(
        layer.geometries[track],
        Geometry::LineString(LineString::from(vec![(117.3, 36.3), (117.31, 36.31)]))
    );
}

#[test]
fn folders_as_layers() {
    let options = KmlOptions {
        folders_as_layers: true,
        ..KmlOptions::default()
    };
    let (layers, _) = read(SAMPLE, &options).unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l.layer.name.as_str()).collect();
    assert_eq!(names, ["sample", "消防站", "消防站/规划", "Other"]);
    let counts: Vec<usize> = layers.iter().map(|l| l.layer.geometries.len()).collect();
    assert_eq!(counts, [1, 1, 2, 3]);
    assert_eq!(
        layers[1].layer.kind,
        onemap::model::LayerKind::FireStation,
        "kind guessed from the folder name"
    );
    assert!(
        layers
            .iter()
            .all(|l| l.layer.attributes.field_index("folder").is_none())
    );
    // A placemark's warning goes with its own layer.
    assert!(layers[3].warnings.iter().any(|w| w.feature == Some(7)));
}

#[test]
fn kmz_reads_the_first_kml_entry() {
    let kmz = zip_bytes(&[
        ("files/icon.png", b"\x89PNG not really"),
        ("doc.kml", SAMPLE),
        ("other.kml", b"<kml/>"),
    ]);
    let (layers, info) = read(&kmz, &KmlOptions::default()).unwrap();
    assert_eq!(info.kmz_entry.as_deref(), Some("doc.kml"));
    assert_eq!(layers[0].layer.geometries.len(), 7);

    let no_kml = zip_bytes(&[("readme.txt", b"hello")]);
    let message = read(&no_kml, &KmlOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("no .kml") && message.contains("readme.txt"),
        "{message}"
    );

    let mut broken = kmz.clone();
    broken.truncate(kmz.len() / 2);
    let message = read(&broken, &KmlOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("sample.kml"), "{message}");
}

#[test]
fn gcj02_is_applied_only_when_chosen() {
    let options = KmlOptions {
        crs: Some(Crs::Gcj02),
        ..KmlOptions::default()
    };
    let (layers, info) = read(SAMPLE, &options).unwrap();
    assert_eq!(info.crs, Crs::Gcj02);
    assert!(info.crs_reason.contains("user"), "{}", info.crs_reason);
    let layer = &layers[0].layer;
    let station = row_of(layer, "一中队 & 二中队");
    let expected = onemap::crs::gcj02::gcj02_to_wgs84(117.871, 36.801);
    match layer.geometries[station] {
        Geometry::Point(p) => {
            assert!((p.x() - expected.0).abs() < 1e-9 && (p.y() - expected.1).abs() < 1e-9);
            // The shift is hundreds of metres: it really was applied.
            assert!((p.x() - 117.871).abs() > 1e-3);
        }
        ref other => panic!("not a point: {other:?}"),
    }
    assert!(
        !layers[0]
            .warnings
            .iter()
            .any(|w| w.message.contains("500 m"))
    );
}

#[test]
fn gbk_declared_encoding_is_decoded() {
    let text = "<?xml version=\"1.0\" encoding=\"GBK\"?><kml><Placemark><name>避难场所</name>\
                <Point><coordinates>117,36</coordinates></Point></Placemark></kml>";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let (layers, info) = read(&bytes, &KmlOptions::default()).unwrap();
    assert_eq!(info.encoding, "GBK");
    assert_eq!(
        layers[0].layer.attributes.get(0, "name"),
        ValueRef::Text("避难场所")
    );
    // Undeclared GBK is caught too.
    let undeclared = text.replace(" encoding=\"GBK\"", "");
    let (bytes, _, _) = encoding_rs::GBK.encode(&undeclared);
    let (layers, info) = read(&bytes, &KmlOptions::default()).unwrap();
    assert_eq!(info.encoding, "GB18030");
    assert_eq!(
        layers[0].layer.attributes.get(0, "name"),
        ValueRef::Text("避难场所")
    );
}

#[test]
fn truncated_xml_keeps_the_placemarks_before_the_break() {
    let text = std::str::from_utf8(SAMPLE).unwrap();
    let cut = text.find("<name>Zone</name>").unwrap();
    let (layers, _) = read(&SAMPLE[..cut], &KmlOptions::default()).unwrap();
    let loaded = &layers[0];
    assert_eq!(loaded.layer.geometries.len(), 3, "root, station, road");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.feature == Some(3) && w.message.contains("truncated")),
        "{:?}",
        loaded.warnings
    );

    // A real XML error (bad markup) after two placemarks.
    let broken = text.replacen("<name>Road</name>", "<name>Road</name><!-- never closed", 1);
    let (layers, _) = read(broken.as_bytes(), &KmlOptions::default()).unwrap();
    let loaded = &layers[0];
    assert_eq!(loaded.layer.geometries.len(), 2);
    let file_warning = loaded
        .warnings
        .iter()
        .find(|w| w.feature.is_none() && w.message.contains("XML error"))
        .unwrap();
    assert!(
        file_warning.message.contains("kept the 2 placemark"),
        "{file_warning}"
    );
    assert!(file_warning.to_string().contains("sample.kml"));
    assert!(loaded.warnings.iter().any(|w| w.feature == Some(2)));
}

#[test]
fn mismatched_tags_are_closed_by_name() {
    let text = "<kml><Document><Placemark><name>a</name><Point><coordinates>1,2\
                </Point></Placemark><Placemark><name>b<Point><coordinates>3,4</coordinates>\
                </Point></Placemark></Document></kml>";
    let (layers, _) = read(text.as_bytes(), &KmlOptions::default()).unwrap();
    let layer = &layers[0].layer;
    assert_eq!(
        layer.geometries,
        vec![
            Geometry::Point(Point::new(1.0, 2.0)),
            Geometry::Point(Point::new(3.0, 4.0))
        ],
        "{:?}",
        layers[0].warnings
    );
}

#[test]
fn empty_elements_are_opened_and_closed() {
    let text = "<kml><Placemark><name>a</name><description/><Point/></Placemark>\
                <Placemark><name/><description>d</description><ExtendedData><Data name=\"k\"/>\
                </ExtendedData><Point><coordinates>5,6</coordinates></Point></Placemark></kml>";
    let (layers, _) = read(text.as_bytes(), &KmlOptions::default()).unwrap();
    let loaded = &layers[0];
    assert_eq!(
        loaded.layer.geometries,
        vec![Geometry::Point(Point::new(5.0, 6.0))]
    );
    assert_eq!(loaded.layer.source_index, vec![1]);
    assert_eq!(
        loaded.layer.attributes.get(0, "description"),
        ValueRef::Text("d")
    );
    let first = loaded
        .warnings
        .iter()
        .find(|w| w.feature == Some(0))
        .unwrap();
    assert!(
        first.message.contains("Point has no readable coordinates"),
        "{first}"
    );
}

#[test]
fn garbage_and_empty_files_are_named_errors() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let garbage: Vec<u8> = (0..4096).map(|_| rng.random()).collect();
    let message = read(&garbage, &KmlOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("sample.kml"), "{message}");
    for bad in [
        &b""[..],
        b"hello world",
        b"<html><body>x</body></html>",
        b"<?xml",
    ] {
        let message = read(bad, &KmlOptions::default()).unwrap_err().to_string();
        assert!(message.contains("sample.kml"), "{message}");
    }
    // Valid KML with no placemark: one empty layer and a warning.
    let (layers, _) = read(b"<kml><Document/></kml>", &KmlOptions::default()).unwrap();
    assert_eq!(layers.len(), 1);
    assert!(layers[0].layer.geometries.is_empty());
    assert!(
        layers[0]
            .warnings
            .iter()
            .any(|w| w.message.contains("no readable placemark"))
    );
}

/// Seeded random mutations of a valid file never panic: each read returns layers or an error.
#[test]
fn random_mutations_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let kmz = zip_bytes(&[("doc.kml", SAMPLE)]);
    for round in 0..1500 {
        let base: &[u8] = if round % 5 == 0 { &kmz } else { SAMPLE };
        let mut bytes = base.to_vec();
        for _ in 0..rng.random_range(1..6) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..5) {
                0 => bytes[at] = rng.random(),
                1 => bytes.truncate(at),
                2 => {
                    let end = (at + rng.random_range(1..40)).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 => {
                    let junk: &[u8] = [&b"<"[..], b">", b"</Placemark>", b",", b"&", b"\xff"]
                        [rng.random_range(0..6)];
                    bytes.splice(at..at, junk.iter().copied());
                }
                _ => {
                    let from = rng.random_range(0..bytes.len());
                    let end = (from + rng.random_range(1..80)).min(bytes.len());
                    let copy = bytes[from..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
        }
        let options = KmlOptions {
            folders_as_layers: round % 2 == 0,
            ..KmlOptions::default()
        };
        if let Ok((layers, _)) = read(&bytes, &options) {
            assert!(!layers.is_empty());
            for loaded in &layers {
                let layer = &loaded.layer;
                assert_eq!(layer.geometries.len(), layer.attributes.len());
                assert_eq!(layer.geometries.len(), layer.source_index.len());
                for g in &layer.geometries {
                    assert!(
                        g.coords_iter()
                            .all(|c| c.x.abs() <= 180.0 && c.y.abs() <= 90.0)
                    );
                }
            }
        }
    }
}

fn every_geometry_layer() -> Layer {
    let square = |x: f64, y: f64, size: f64| {
        Polygon::new(
            LineString::from(vec![
                (x, y),
                (x + size, y),
                (x + size, y + size),
                (x, y + size),
                (x, y),
            ]),
            vec![LineString::from(vec![
                (x + size * 0.25, y + size * 0.25),
                (x + size * 0.5, y + size * 0.25),
                (x + size * 0.5, y + size * 0.5),
                (x + size * 0.25, y + size * 0.25),
            ])],
        )
    };
    let line = LineString::from(vec![(117.123456789012, 36.1), (117.2, 36.987654321098)]);
    let geometries = vec![
        Geometry::Point(Point::new(117.87123456789, 36.80000000001)),
        Geometry::LineString(line.clone()),
        Geometry::Polygon(square(117.0, 36.0, 0.1)),
        Geometry::MultiPoint(MultiPoint::new(vec![
            Point::new(117.1, 36.1),
            Point::new(-0.5, -45.25),
        ])),
        Geometry::MultiLineString(MultiLineString::new(vec![line.clone(), line.clone()])),
        Geometry::MultiPolygon(MultiPolygon::new(vec![
            square(117.0, 36.0, 0.1),
            square(118.0, 37.0, 0.2),
        ])),
        Geometry::GeometryCollection(GeometryCollection::new_from(vec![
            Geometry::Point(Point::new(117.5, 36.5)),
            Geometry::Polygon(square(117.6, 36.6, 0.05)),
        ])),
    ];
    let mut layer = Layer {
        name: "消防站 & <test>".to_owned(),
        ..Layer::default()
    };
    for (i, g) in geometries.into_iter().enumerate() {
        layer.geometries.push(g);
        layer.source_index.push(i as u32);
        let name = format!("站点{i} \"quoted\" <b>");
        let code = format!("{:04}", i * 7);
        layer.attributes.push_row([
            ("name", ValueRef::Text(&name)),
            ("code", ValueRef::Text(&code)),
            ("staff", ValueRef::Number(i as f64 * 1.5)),
            (
                "open",
                if i % 3 == 0 {
                    ValueRef::Null
                } else {
                    ValueRef::Bool(i % 2 == 0)
                },
            ),
            (
                "mixed",
                if i % 2 == 0 {
                    ValueRef::Number(i as f64)
                } else {
                    ValueRef::Text("text & more")
                },
            ),
        ]);
    }
    layer
}

fn assert_geometries_close(a: &Geometry<f64>, b: &Geometry<f64>) {
    let ca: Vec<Coord<f64>> = a.coords_iter().collect();
    let cb: Vec<Coord<f64>> = b.coords_iter().collect();
    assert_eq!(ca.len(), cb.len(), "{a:?} vs {b:?}");
    for (p, q) in ca.iter().zip(&cb) {
        assert!(
            (p.x - q.x).abs() < 1e-9 && (p.y - q.y).abs() < 1e-9,
            "{p:?} vs {q:?}"
        );
    }
    assert_eq!(
        std::mem::discriminant(a),
        std::mem::discriminant(b),
        "{a:?} vs {b:?}"
    );
}

#[test]
fn write_then_read_back_kml_and_kmz() {
    let original = every_geometry_layer();
    let second = Layer {
        name: "第二层".to_owned(),
        geometries: vec![Geometry::Point(Point::new(1.0, 2.0))],
        source_index: vec![0],
        ..Layer::default()
    };
    let dir = tempfile::tempdir().unwrap();
    for file in ["out.kml", "out.kmz"] {
        let path = dir.path().join(file);
        let warnings = write_kml(&path, &[&original, &second]).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        if file.ends_with("kmz") {
            assert!(std::fs::read(&path).unwrap().starts_with(b"PK"));
        }
        let result = read_path(
            &path,
            &ReadOptions {
                folders_as_layers: true,
                ..ReadOptions::default()
            },
            &Progress::default(),
        )
        .unwrap();
        let expected_format = if file.ends_with("kmz") { "KMZ" } else { "KML" };
        assert_eq!(result.info.format, expected_format);
        assert_eq!(result.layers.len(), 2);
        let back = &result.layers[0].layer;
        assert_eq!(back.name, original.name);
        assert_eq!(back.geometries.len(), original.geometries.len());
        for (a, b) in original.geometries.iter().zip(&back.geometries) {
            assert_geometries_close(a, b);
        }
        for row in 0..original.attributes.len() {
            for field in ["name", "code", "staff", "open", "mixed"] {
                assert_eq!(
                    back.attributes.get(row, field),
                    original.attributes.get(row, field),
                    "{file} row {row} field {field}"
                );
            }
        }
        let mut fields: Vec<&str> = back.attributes.field_names().collect();
        fields.sort_unstable();
        assert_eq!(fields, ["code", "mixed", "name", "open", "staff"]);
        assert_eq!(result.layers[1].layer.name, "第二层");
        assert_eq!(
            result.layers[1].layer.geometries,
            vec![Geometry::Point(Point::new(1.0, 2.0))]
        );
    }
}

#[test]
fn writer_labels_placemarks_and_skips_empty_geometries() {
    let mut layer = Layer {
        name: "shelters".to_owned(),
        ..Layer::default()
    };
    layer
        .geometries
        .push(Geometry::Point(Point::new(117.0, 36.0)));
    layer.attributes.push_row([
        ("名称", ValueRef::Text("第一避难所")),
        ("note", ValueRef::Text("bell\u{7} and tab\t")),
    ]);
    layer
        .geometries
        .push(Geometry::MultiPoint(MultiPoint::new(Vec::new())));
    layer
        .attributes
        .push_row([("名称", ValueRef::Text("empty"))]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.kml");
    let warnings = write_kml(&path, &[&layer]).unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("feature 1"), "{warnings:?}");
    let (layers, _) = read_kml(&path, &KmlOptions::default(), &Progress::default()).unwrap();
    let back = &layers[0].layer;
    assert_eq!(back.geometries.len(), 1);
    assert_eq!(back.attributes.get(0, "name"), ValueRef::Text("第一避难所"));
    assert_eq!(back.attributes.get(0, "名称"), ValueRef::Text("第一避难所"));
    assert_eq!(back.attributes.get(0, "folder"), ValueRef::Text("shelters"));
    assert_eq!(
        back.attributes.get(0, "note"),
        ValueRef::Text("bell and tab"),
        "control characters XML forbids are dropped; text is trimmed"
    );

    let unwritable = dir.path().join("missing-dir").join("x.kml");
    let error = write_kml(&unwritable, &[&layer]).unwrap_err();
    assert!(error.contains("x.kml"), "{error}");
}

#[test]
fn formats_are_registered() {
    assert_eq!(Format::from_path(Path::new("a.KML")), Format::Kml);
    assert_eq!(Format::from_path(Path::new("a.kmz")), Format::Kmz);
    assert_eq!(Format::from_path(Path::new("a.xlsx")), Format::Xlsx);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("消防站.kml");
    std::fs::write(&path, SAMPLE).unwrap();
    let loaded = onemap::io::load_path(&path, &Progress::default()).unwrap();
    assert_eq!(loaded.layer.geometries.len(), 7);
    assert_eq!(loaded.layer.kind, onemap::model::LayerKind::FireStation);
}
