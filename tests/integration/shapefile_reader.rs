//! Tests for the Shapefile reader: geometry types, hole assignment, GBK/UTF-8 attributes with
//! and without .cpg, CRS from .prj and from values, and broken or random files.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::support::shp_writer::{Field, Shape, dbf_bytes, shp_bytes, write_shapefile};
use geo::Geometry;
use onemap::crs::{Crs, GkDatum};
use onemap::io::shapefile_reader::{ShapefileOptions, read_shapefile, read_shapefile_with_info};
use onemap::io::{LoadError, Progress, load_path};
use onemap::model::ValueRef;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ESRI_4527: &str = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_39",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
const ESRI_2363: &str = r#"PROJCS["Xian_1980_3_Degree_GK_Zone_39",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

fn read(path: &Path) -> Result<onemap::io::Loaded, LoadError> {
    read_shapefile(path, &ShapefileOptions::default(), &Progress::default())
}

fn square(x0: f64, y0: f64, size: f64, clockwise: bool) -> Vec<(f64, f64)> {
    let mut ring = vec![
        (x0, y0),
        (x0, y0 + size),
        (x0 + size, y0 + size),
        (x0 + size, y0),
        (x0, y0),
    ];
    if !clockwise {
        ring.reverse();
    }
    ring
}

fn name_field() -> Field<'static> {
    Field {
        name: b"NAME",
        kind: b'C',
        len: 20,
        decimals: 0,
    }
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

fn mentions(warnings: &[onemap::io::LoadWarning], feature: Option<usize>, word: &str) -> bool {
    warnings
        .iter()
        .any(|w| w.feature == feature && w.message.contains(word))
}

#[test]
fn every_geometry_type_and_attribute_kind() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = vec![
        Shape::Point(117.1, 31.1),
        Shape::PointZ(117.2, 31.2, 50.0),
        Shape::MultiPoint(vec![(117.0, 31.0), (117.5, 31.5)]),
        Shape::PolyLine(vec![vec![(117.0, 31.0), (117.1, 31.2)]]),
        Shape::PolyLineZ(vec![
            vec![(117.0, 31.0), (117.1, 31.2)],
            vec![(117.3, 31.0), (117.4, 31.2)],
        ]),
        Shape::Null,
        Shape::MultiPatch(vec![square(117.0, 31.0, 0.1, true)]),
        Shape::PolygonM(vec![square(117.0, 31.0, 0.1, true)]),
    ];
    let fields = [
        name_field(),
        Field {
            name: b"POP",
            kind: b'N',
            len: 10,
            decimals: 2,
        },
        Field {
            name: b"OPEN",
            kind: b'L',
            len: 1,
            decimals: 0,
        },
        Field {
            name: b"BUILT",
            kind: b'D',
            len: 8,
            decimals: 0,
        },
    ];
    let rows: Vec<Vec<Vec<u8>>> = (0..shapes.len())
        .map(|i| {
            let pop = match i {
                1 => b"".to_vec(),
                2 => b"**********".to_vec(),
                _ => format!("{}.50", i * 10).into_bytes(),
            };
            vec![
                format!("  site {i}  ").into_bytes(),
                pop,
                if i % 2 == 0 {
                    b"T".to_vec()
                } else {
                    b"F".to_vec()
                },
                b"20240131".to_vec(),
            ]
        })
        .collect();
    let path = write_shapefile(
        dir.path(),
        "mixed",
        &shapes,
        Some(dbf_bytes(&fields, &rows)),
    );
    let loaded = read(&path).unwrap();
    let layer = &loaded.layer;
    assert_eq!(layer.source_index, vec![0, 1, 2, 3, 4, 7]);
    assert!(matches!(layer.geometries[0], Geometry::Point(p) if p.x() == 117.1 && p.y() == 31.1));
    assert!(matches!(layer.geometries[1], Geometry::Point(p) if p.x() == 117.2));
    assert!(matches!(&layer.geometries[2], Geometry::MultiPoint(m) if m.0.len() == 2));
    assert!(matches!(&layer.geometries[3], Geometry::LineString(l) if l.0.len() == 2));
    assert!(matches!(&layer.geometries[4], Geometry::MultiLineString(m) if m.0.len() == 2));
    assert!(matches!(&layer.geometries[5], Geometry::Polygon(p) if p.exterior().0.len() == 5));
    assert!(mentions(&loaded.warnings, Some(5), "null shape"));
    assert!(mentions(&loaded.warnings, Some(6), "MultiPatch"));
    assert!(mentions(&loaded.warnings, None, "GCJ-02"));
    let t = &layer.attributes;
    assert_eq!(t.get(0, "NAME"), ValueRef::Text("site 0"));
    assert_eq!(t.get(0, "POP"), ValueRef::Number(0.5));
    assert_eq!(t.get(3, "POP"), ValueRef::Number(30.5));
    assert_eq!(t.get(1, "POP"), ValueRef::Null);
    assert_eq!(t.get(2, "POP"), ValueRef::Null);
    assert_eq!(t.get(0, "OPEN"), ValueRef::Bool(true));
    assert_eq!(t.get(1, "OPEN"), ValueRef::Bool(false));
    assert_eq!(t.get(5, "BUILT"), ValueRef::Text("2024-01-31"));
    // Row 5 of the layer is record 7.
    assert_eq!(t.get(5, "NAME"), ValueRef::Text("site 7"));
}

#[test]
fn holes_go_to_the_outer_ring_that_contains_them() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = vec![
        Shape::Polygon(vec![
            square(117.0, 31.0, 1.0, true),
            square(117.2, 31.2, 0.2, false),
        ]),
        // Two outers; the hole (listed first) lies in the second one.
        Shape::Polygon(vec![
            square(118.2, 31.2, 0.2, false),
            square(117.0, 31.0, 0.5, true),
            square(118.0, 31.0, 1.0, true),
        ]),
    ];
    let path = write_shapefile(dir.path(), "holes", &shapes, None);
    let loaded = read(&path).unwrap();
    assert!(mentions(&loaded.warnings, None, ".dbf"));
    match &loaded.layer.geometries[0] {
        Geometry::Polygon(p) => assert_eq!(p.interiors().len(), 1),
        other => panic!("expected a polygon, got {other:?}"),
    }
    match &loaded.layer.geometries[1] {
        Geometry::MultiPolygon(m) => {
            assert_eq!(m.0.len(), 2);
            assert_eq!(m.0[0].interiors().len(), 0);
            assert_eq!(m.0[1].interiors().len(), 1);
            assert_eq!(m.0[1].exterior().0[0].x, 118.0);
        }
        other => panic!("expected a multipolygon, got {other:?}"),
    }
}

fn gbk_fixture(dir: &Path, stem: &str, cpg: Option<&str>) -> std::path::PathBuf {
    let fields = [Field {
        name: &gbk("名称"),
        kind: b'C',
        len: 30,
        decimals: 0,
    }];
    let rows = vec![vec![gbk("消防站")], vec![gbk("应急避难场所")]];
    let path = write_shapefile(
        dir,
        stem,
        &[Shape::Point(117.0, 31.0), Shape::Point(117.1, 31.1)],
        Some(dbf_bytes(&fields, &rows)),
    );
    if let Some(cpg) = cpg {
        std::fs::write(dir.join(format!("{stem}.cpg")), cpg).unwrap();
    }
    path
}

#[test]
fn gbk_attributes_are_detected_without_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let path = gbk_fixture(dir.path(), "gbk", None);
    let (loaded, info) =
        read_shapefile_with_info(&path, &ShapefileOptions::default(), &Progress::default())
            .unwrap();
    assert_eq!(info.encoding, "gb18030");
    assert!(info.encoding_reason.contains("not valid UTF-8"));
    assert_eq!(
        loaded.layer.attributes.get(0, "名称"),
        ValueRef::Text("消防站")
    );
    assert_eq!(
        loaded.layer.attributes.get(1, "名称"),
        ValueRef::Text("应急避难场所")
    );
}

#[test]
fn cpg_names_the_encoding() {
    for label in ["GBK", "936", "CP936", "GB2312", "GB18030"] {
        let dir = tempfile::tempdir().unwrap();
        let path = gbk_fixture(dir.path(), "gbk", Some(label));
        let (loaded, info) =
            read_shapefile_with_info(&path, &ShapefileOptions::default(), &Progress::default())
                .unwrap();
        assert!(info.encoding_reason.contains(".cpg"), "{label}: {info:?}");
        assert_eq!(
            loaded.layer.attributes.get(0, "名称"),
            ValueRef::Text("消防站")
        );
    }
}

#[test]
fn the_option_overrides_cpg_and_detection() {
    let dir = tempfile::tempdir().unwrap();
    // A wrong .cpg: the user knows better.
    let path = gbk_fixture(dir.path(), "gbk", Some("UTF-8"));
    let (wrong, info) =
        read_shapefile_with_info(&path, &ShapefileOptions::default(), &Progress::default())
            .unwrap();
    assert_eq!(info.encoding, "UTF-8");
    assert_ne!(
        wrong.layer.attributes.get(0, "名称"),
        ValueRef::Text("消防站")
    );
    let options = ShapefileOptions {
        encoding: Some("gbk".to_string()),
        crs: None,
    };
    let (right, info) = read_shapefile_with_info(&path, &options, &Progress::default()).unwrap();
    assert!(info.encoding_reason.contains("user"));
    assert_eq!(
        right.layer.attributes.get(0, "名称"),
        ValueRef::Text("消防站")
    );
}

#[test]
fn utf8_attributes_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![vec!["医院".as_bytes().to_vec()]];
    let dbf = dbf_bytes(&[name_field()], &rows);
    let path = write_shapefile(dir.path(), "utf8", &[Shape::Point(117.0, 31.0)], Some(dbf));
    let (loaded, info) =
        read_shapefile_with_info(&path, &ShapefileOptions::default(), &Progress::default())
            .unwrap();
    assert_eq!(info.encoding, "UTF-8");
    assert_eq!(
        loaded.layer.attributes.get(0, "NAME"),
        ValueRef::Text("医院")
    );
}

#[test]
fn gauss_kruger_zone_39_from_prj_comes_out_at_the_right_lon_lat() {
    let dir = tempfile::tempdir().unwrap();
    let gk = Crs::from_epsg(4527).unwrap();
    let known = [(117.283, 31.861), (116.1, 32.5), (118.4, 30.2)];
    let projected: Vec<(f64, f64)> = known
        .iter()
        .map(|&(lon, lat)| gk.from_wgs84(lon, lat).unwrap())
        .collect();
    assert!(projected[0].0 > 39_000_000.0);
    let shapes: Vec<Shape> = projected.iter().map(|&(x, y)| Shape::Point(x, y)).collect();
    let path = write_shapefile(dir.path(), "gk", &shapes, None);
    std::fs::write(dir.path().join("gk.prj"), ESRI_4527).unwrap();
    let (loaded, info) =
        read_shapefile_with_info(&path, &ShapefileOptions::default(), &Progress::default())
            .unwrap();
    assert_eq!(info.crs, Some(gk));
    assert!(info.crs_reason.contains(".prj"));
    for (geometry, &(lon, lat)) in loaded.layer.geometries.iter().zip(&known) {
        let Geometry::Point(p) = geometry else {
            panic!("expected a point")
        };
        assert!((p.x() - lon).abs() < 1e-7, "{} vs {lon}", p.x());
        assert!((p.y() - lat).abs() < 1e-7, "{} vs {lat}", p.y());
    }
}

#[test]
fn gauss_kruger_by_value_with_zone_prefix_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let gk = Crs::from_epsg(4527).unwrap();
    let (x, y) = gk.from_wgs84(117.283, 31.861).unwrap();
    let path = write_shapefile(dir.path(), "gkv", &[Shape::Point(x, y)], None);
    let (loaded, info) =
        read_shapefile_with_info(&path, &ShapefileOptions::default(), &Progress::default())
            .unwrap();
    assert!(info.crs_reason.contains("no .prj"));
    let Geometry::Point(p) = loaded.layer.geometries[0] else {
        panic!("expected a point")
    };
    assert!((p.x() - 117.283).abs() < 1e-6 && (p.y() - 31.861).abs() < 1e-6);
}

#[test]
fn central_meridian_form_without_prj_names_candidates_unless_given() {
    let dir = tempfile::tempdir().unwrap();
    let gk = Crs::gauss_kruger_cm(GkDatum::Cgcs2000, 3, 117.0);
    let (x, y) = gk.from_wgs84(117.283, 31.861).unwrap();
    let path = write_shapefile(dir.path(), "cm", &[Shape::Point(x, y)], None);
    match read(&path) {
        Err(LoadError::Format { message, .. }) => {
            assert!(message.contains("candidates"), "{message}");
            assert!(message.contains("117"), "{message}");
        }
        other => panic!("expected a format error, got {other:?}"),
    }
    let options = ShapefileOptions {
        encoding: None,
        crs: Some(gk),
    };
    let loaded = read_shapefile(&path, &options, &Progress::default()).unwrap();
    let Geometry::Point(p) = loaded.layer.geometries[0] else {
        panic!("expected a point")
    };
    assert!((p.x() - 117.283).abs() < 1e-7 && (p.y() - 31.861).abs() < 1e-7);
}

#[test]
fn xian80_prj_gives_the_datum_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_shapefile(
        dir.path(),
        "xian",
        &[Shape::Point(39_526_000.0, 3_526_000.0)],
        None,
    );
    std::fs::write(dir.path().join("xian.prj"), ESRI_2363).unwrap();
    let loaded = read(&path).unwrap();
    assert!(mentions(&loaded.warnings, None, "Xi"));
    assert_eq!(loaded.layer.len(), 1);
}

fn five_points_with_names(dir: &Path, stem: &str, dbf_rows: usize) -> std::path::PathBuf {
    let shapes: Vec<Shape> = (0..5)
        .map(|i| Shape::Point(117.0 + i as f64 * 0.1, 31.0))
        .collect();
    let rows: Vec<Vec<Vec<u8>>> = (0..dbf_rows)
        .map(|i| vec![format!("p{i}").into_bytes()])
        .collect();
    write_shapefile(dir, stem, &shapes, Some(dbf_bytes(&[name_field()], &rows)))
}

#[test]
fn mismatched_record_counts_load_the_common_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = five_points_with_names(dir.path(), "fewer", 3);
    let loaded = read(&path).unwrap();
    assert_eq!(loaded.layer.len(), 3);
    assert_eq!(loaded.layer.attributes.get(2, "NAME"), ValueRef::Text("p2"));
    assert!(mentions(&loaded.warnings, None, "the .dbf has 3"));
    let path = five_points_with_names(dir.path(), "more", 8);
    let loaded = read(&path).unwrap();
    assert_eq!(loaded.layer.len(), 5);
    assert!(mentions(&loaded.warnings, None, "the .dbf has 8"));
}

#[test]
fn truncated_shp_keeps_the_records_before_the_break() {
    let dir = tempfile::tempdir().unwrap();
    let path = five_points_with_names(dir.path(), "cut", 5);
    let bytes = std::fs::read(&path).unwrap();
    // Each point record is 8 + 20 bytes: cut in the middle of the fourth.
    std::fs::write(&path, &bytes[..100 + 28 * 3 + 10]).unwrap();
    let loaded = read(&path).unwrap();
    assert_eq!(loaded.layer.len(), 3);
    assert!(mentions(&loaded.warnings, Some(3), "kept the 3 records"));
    assert!(mentions(&loaded.warnings, None, "truncated"));
}

#[test]
fn not_a_shapefile_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.shp");
    std::fs::write(&path, b"hello, this is not a shapefile at all").unwrap();
    let message = read(&path).unwrap_err().to_string();
    assert!(
        message.contains("junk.shp") && message.contains("not a Shapefile"),
        "{message}"
    );
}

#[test]
fn load_path_reads_shp() {
    let dir = tempfile::tempdir().unwrap();
    let path = five_points_with_names(dir.path(), "hospitals", 5);
    let loaded = load_path(&path, &Progress::default()).unwrap();
    assert_eq!(loaded.layer.len(), 5);
    assert_eq!(loaded.layer.name, "hospitals");
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (good_shp, _) = shp_bytes(&[
        Shape::Polygon(vec![
            square(117.0, 31.0, 1.0, true),
            square(117.2, 31.2, 0.2, false),
        ]),
        Shape::PolyLine(vec![vec![(117.0, 31.0), (117.1, 31.2)]]),
        Shape::Point(117.0, 31.0),
    ]);
    let good_dbf = dbf_bytes(
        &[name_field()],
        &[
            vec![b"a".to_vec()],
            vec![b"b".to_vec()],
            vec![b"c".to_vec()],
        ],
    );
    let shp_path = dir.path().join("fuzz.shp");
    let dbf_path = dir.path().join("fuzz.dbf");
    let mut loaded_some = 0;
    for round in 0..400 {
        let (mut shp, mut dbf) = (good_shp.clone(), good_dbf.clone());
        if round % 4 == 0 {
            let len = rng.random_range(0..400);
            shp = (0..len).map(|_| rng.random()).collect();
            if len > 4 && rng.random_bool(0.5) {
                shp[..4].copy_from_slice(&9994i32.to_be_bytes());
            }
        } else {
            for _ in 0..rng.random_range(1..6) {
                let target = if rng.random_bool(0.7) {
                    &mut shp
                } else {
                    &mut dbf
                };
                let at = rng.random_range(0..target.len());
                target[at] = rng.random();
            }
            if rng.random_bool(0.3) {
                let cut = rng.random_range(0..shp.len());
                shp.truncate(cut);
            }
        }
        std::fs::write(&shp_path, &shp).unwrap();
        std::fs::write(&dbf_path, &dbf).unwrap();
        if read(&shp_path).is_ok() {
            loaded_some += 1;
        }
    }
    assert!(loaded_some > 0);
}

/// Regression for the first cargo-fuzz finding: a polygon record whose rings hold NaN
/// coordinates panicked inside geo's hole assignment. The input is the fuzz target's packed
/// form: two little-endian u16 lengths, then the .shp, the .dbf and the .prj bytes.
#[test]
fn fuzz_finding_nan_in_a_polygon_ring_drops_the_record_with_a_message() {
    let packed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/shapefile-nan-ring.bin"),
    )
    .unwrap();
    let shp_len = usize::from(u16::from_le_bytes([packed[0], packed[1]]));
    let dbf_len = usize::from(u16::from_le_bytes([packed[2], packed[3]]));
    let rest = &packed[4..];
    let shp_end = shp_len.min(rest.len());
    let dbf_end = (shp_end + dbf_len).min(rest.len());
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("f.shp");
    std::fs::write(&shp, &rest[..shp_end]).unwrap();
    std::fs::write(dir.path().join("f.dbf"), &rest[shp_end..dbf_end]).unwrap();
    std::fs::write(dir.path().join("f.prj"), &rest[dbf_end..]).unwrap();
    // Reading must not panic; whatever loads has only finite coordinates.
    match read_shapefile(&shp, &ShapefileOptions::default(), &Progress::default()) {
        Ok(loaded) => {
            for g in &loaded.layer.geometries {
                use geo::CoordsIter;
                assert!(g.coords_iter().all(|c| c.x.is_finite() && c.y.is_finite()));
            }
            assert!(
                loaded
                    .warnings
                    .iter()
                    .any(|w| w.message.contains("not numbers")),
                "{:?}",
                loaded.warnings
            );
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
