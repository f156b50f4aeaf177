//! Tests for the GeoPackage reader and writer: write/read round trips (WGS84, Gauss-Krüger,
//! GCJ-02), files shaped like other tools write them (CRS only as WKT, undefined CRS, big-endian
//! blobs, BLOB columns, bad blobs), and garbage, plain SQLite and truncated files.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use onemap::crs::{Crs, CrsTransform};
use onemap::io::gpkg_reader::read_geopackage;
use onemap::io::gpkg_writer::{encode_geometry_blob, write_geopackage};
use onemap::io::{Format, LoadError, Progress, ReadOptions, ReadResult, read_path};
use onemap::model::{AttributeTable, Layer, LayerKind, ValueRef};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::Connection;

fn read(path: &Path) -> Result<ReadResult, LoadError> {
    read_geopackage(path, &ReadOptions::default(), &Progress::default())
}

fn ring(x0: f64, y0: f64, size: f64) -> LineString<f64> {
    LineString::from(vec![
        (x0, y0),
        (x0 + size, y0),
        (x0 + size, y0 + size),
        (x0, y0 + size),
        (x0, y0),
    ])
}

/// Seeded layers around Zhoucun: points with every attribute type, polygons with holes and
/// multipolygons, and multi-part lines.
fn sample_layers() -> Vec<Layer> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut stations = Layer {
        name: "fire_stations".to_string(),
        kind: LayerKind::FireStation,
        ..Layer::default()
    };
    for i in 0..50 {
        let p = Point::new(
            117.8 + rng.random::<f64>() * 0.2,
            36.7 + rng.random::<f64>() * 0.2,
        );
        stations.geometries.push(Geometry::Point(p));
        stations.source_index.push(i);
        let name = format!("周村消防站 {i}");
        stations.attributes.push_row([
            ("name", ValueRef::Text(&name)),
            ("crew", ValueRef::Number(f64::from(i % 7))),
            ("water_t", ValueRef::Number(f64::from(i) * 0.5 + 0.25)),
            ("on_duty", ValueRef::Bool(i % 2 == 0)),
            (
                "note",
                if i % 3 == 0 {
                    ValueRef::Null
                } else {
                    ValueRef::Text("24h")
                },
            ),
        ]);
    }
    let mut zones = Layer {
        name: "flood zones".to_string(),
        ..Layer::default()
    };
    for i in 0..30 {
        let (x, y) = (
            117.8 + rng.random::<f64>() * 0.2,
            36.7 + rng.random::<f64>() * 0.2,
        );
        let with_hole = Polygon::new(ring(x, y, 0.01), vec![ring(x + 0.002, y + 0.002, 0.003)]);
        let geometry = if i % 2 == 0 {
            Geometry::Polygon(with_hole)
        } else {
            Geometry::MultiPolygon(MultiPolygon(vec![
                with_hole,
                Polygon::new(ring(x + 0.02, y, 0.005), Vec::new()),
            ]))
        };
        zones.geometries.push(geometry);
        zones.source_index.push(i);
        zones
            .attributes
            .push_row([("level", ValueRef::Number(f64::from(i % 4)))]);
    }
    let mut rivers = Layer {
        name: "rivers".to_string(),
        ..Layer::default()
    };
    rivers
        .geometries
        .push(Geometry::MultiLineString(MultiLineString(vec![
            LineString::from(vec![(117.85, 36.8), (117.86, 36.81), (117.87, 36.8)]),
            LineString::from(vec![(117.9, 36.8), (117.91, 36.82)]),
        ])));
    rivers.source_index.push(0);
    rivers
        .attributes
        .push_row([("name", ValueRef::Text("孝妇河"))]);
    vec![stations, zones, rivers]
}

fn coords(geometry: &Geometry<f64>) -> Vec<Coord<f64>> {
    use geo::CoordsIter;
    geometry.coords_iter().collect()
}

fn assert_same_geometry(a: &Geometry<f64>, b: &Geometry<f64>, tolerance: f64) {
    assert_eq!(
        std::mem::discriminant(a),
        std::mem::discriminant(b),
        "{a:?} vs {b:?}"
    );
    let (ca, cb) = (coords(a), coords(b));
    assert_eq!(ca.len(), cb.len());
    for (p, q) in ca.iter().zip(&cb) {
        assert!(
            (p.x - q.x).abs() <= tolerance && (p.y - q.y).abs() <= tolerance,
            "{p:?} vs {q:?}"
        );
    }
}

fn assert_same_attributes(a: &AttributeTable, b: &AttributeTable) {
    assert_eq!(a.len(), b.len());
    assert_eq!(
        a.field_names().collect::<Vec<_>>(),
        b.field_names().collect::<Vec<_>>()
    );
    for row in 0..a.len() {
        for field in a.field_names() {
            assert_eq!(a.get(row, field), b.get(row, field), "row {row} {field}");
        }
    }
}

fn round_trip(crs: Crs, tolerance: f64) -> ReadResult {
    let layers = sample_layers();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.gpkg");
    let refs: Vec<&Layer> = layers.iter().collect();
    let warnings = write_geopackage(&path, &refs, &crs).unwrap();
    // "flood zones" has a space: still a valid table name, written as it is
    assert!(warnings.is_empty(), "{warnings:?}");
    let result = read_path(&path, &ReadOptions::default(), &Progress::default()).unwrap();
    assert_eq!(result.info.format, "GeoPackage");
    assert_eq!(result.layers.len(), 3);
    for (written, read) in layers.iter().zip(&result.layers) {
        assert_eq!(read.layer.name, written.name);
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        assert_eq!(read.layer.len(), written.len());
        for (a, b) in written.geometries.iter().zip(&read.layer.geometries) {
            assert_same_geometry(a, b, tolerance);
        }
        assert_same_attributes(&written.attributes, &read.layer.attributes);
    }
    assert_eq!(result.layers[0].layer.kind, LayerKind::FireStation);
    result
}

#[test]
fn round_trip_in_wgs84_is_exact() {
    let result = round_trip(Crs::Wgs84, 0.0);
    assert_eq!(result.info.crs, Some(Crs::Wgs84));
    assert!(
        result.info.crs_reason.contains("EPSG:4326"),
        "{}",
        result.info.crs_reason
    );
    let stations = &result.layers[0].layer;
    assert_eq!(stations.attributes.get(0, "on_duty"), ValueRef::Bool(true));
    assert_eq!(stations.attributes.get(3, "note"), ValueRef::Null);
    assert_eq!(
        stations.attributes.get(1, "water_t"),
        ValueRef::Number(0.75)
    );
}

#[test]
fn round_trip_through_gauss_kruger_and_gcj02() {
    let gk = Crs::from_epsg(4527).unwrap();
    let result = round_trip(gk, 1e-9);
    assert_eq!(result.info.crs, Some(gk));
    assert!(
        result.info.crs_reason.contains("EPSG:4527"),
        "{}",
        result.info.crs_reason
    );
    let result = round_trip(Crs::Gcj02, 1e-7);
    assert_eq!(result.info.crs, Some(Crs::Gcj02));
}

#[test]
fn written_file_is_a_geopackage_in_the_target_crs() {
    let layers = sample_layers();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gk.gpkg");
    let gk = Crs::from_epsg(4527).unwrap();
    write_geopackage(&path, &[&layers[0]], &gk).unwrap();
    let db = Connection::open(&path).unwrap();
    let pragma = |name: &str| -> i64 {
        db.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(pragma("application_id"), 0x4750_4B47);
    assert_eq!(pragma("user_version"), 10300);
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let srs: Vec<i64> = db
        .prepare("SELECT srs_id FROM gpkg_spatial_ref_sys ORDER BY srs_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(srs, [-1, 0, 4326, 4527]);
    let (min_x, max_y, srs_id): (f64, f64, i64) = db
        .query_row(
            "SELECT min_x, max_y, srs_id FROM gpkg_contents WHERE table_name = 'fire_stations'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(srs_id, 4527);
    // zone-39 eastings with the prefix, northings around 4 070 km
    assert!((39_400_000.0..39_600_000.0).contains(&min_x), "{min_x}");
    assert!((4_000_000.0..4_200_000.0).contains(&max_y), "{max_y}");
    let (kind, column): (String, String) = db
        .query_row(
            "SELECT geometry_type_name, column_name FROM gpkg_geometry_columns",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((kind.as_str(), column.as_str()), ("POINT", "geom"));
    let types: Vec<(String, String)> = db
        .prepare("PRAGMA table_info(fire_stations)")
        .unwrap()
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let types: Vec<(&str, &str)> = types
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("fid", "INTEGER"),
            ("geom", "POINT"),
            ("name", "TEXT"),
            ("crew", "INTEGER"),
            ("water_t", "REAL"),
            ("on_duty", "BOOLEAN"),
            ("note", "TEXT"),
        ]
    );
    assert!(!dir.path().join("gk.gpkg.onemap-partial").exists());
}

#[test]
fn clashing_names_are_renamed_with_a_warning() {
    let mut a = Layer {
        name: "gpkg_contents".to_string(),
        ..Layer::default()
    };
    a.geometries.push(Geometry::Point(Point::new(117.9, 36.8)));
    a.source_index.push(0);
    a.attributes.push_row([
        ("FID", ValueRef::Number(7.0)),
        ("geom", ValueRef::Text("x")),
    ]);
    let b = a.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clash.gpkg");
    let warnings = write_geopackage(&path, &[&a, &b], &Crs::Wgs84).unwrap();
    assert_eq!(warnings.len(), 6, "{warnings:?}");
    let result = read(&path).unwrap();
    let names: Vec<&str> = result
        .layers
        .iter()
        .map(|l| l.layer.name.as_str())
        .collect();
    assert_eq!(names, ["layer_gpkg_contents", "layer_gpkg_contents_2"]);
    let layer = &result.layers[0].layer;
    assert_eq!(layer.attributes.get(0, "FID_2"), ValueRef::Number(7.0));
    assert_eq!(layer.attributes.get(0, "geom_2"), ValueRef::Text("x"));
}

// ---------------------------------------------------------------------------------------------
// Files as other tools write them
// ---------------------------------------------------------------------------------------------

const CGCS2000_GK39_WKT: &str = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 39",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",117],PARAMETER["scale_factor",1],PARAMETER["false_easting",39500000],PARAMETER["false_northing",0],UNIT["metre",1]]"#;

/// A minimal GeoPackage skeleton built by hand, the way any tool might.
fn skeleton(path: &Path) -> Connection {
    let db = Connection::open(path).unwrap();
    db.execute_batch(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
           organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
           definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
           identifier TEXT, description TEXT, last_change DATETIME, min_x DOUBLE, min_y DOUBLE,
           max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
           geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT, m TINYINT);",
    )
    .unwrap();
    db
}

fn add_table(db: &Connection, table: &str, srs_id: i64, extra_columns: &str) {
    db.execute_batch(&format!(
        "CREATE TABLE \"{table}\" (fid INTEGER PRIMARY KEY, shape BLOB{extra_columns});
         INSERT INTO gpkg_contents (table_name, data_type, srs_id) VALUES ('{table}', 'features', {srs_id});
         INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'shape', 'GEOMETRY', {srs_id}, 0, 0);"
    ))
    .unwrap();
}

fn blob(geometry: &Geometry<f64>) -> Vec<u8> {
    use geo::BoundingRect;
    let mut out = Vec::new();
    encode_geometry_blob(geometry, 0, geometry.bounding_rect(), &mut out);
    out
}

/// A big-endian GeoPackage point with Z, no envelope.
fn big_endian_point_z(x: f64, y: f64, z: f64) -> Vec<u8> {
    let mut out = vec![b'G', b'P', 0, 0];
    out.extend_from_slice(&0i32.to_be_bytes());
    out.push(0);
    out.extend_from_slice(&1001u32.to_be_bytes());
    for v in [x, y, z] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

fn gk_point(lon: f64, lat: f64) -> (f64, f64) {
    let to_gk = CrsTransform::new(Crs::Wgs84, Crs::from_epsg(4527).unwrap()).unwrap();
    to_gk.apply(lon, lat).unwrap()
}

#[test]
fn crs_from_wkt_only_and_from_values_and_odd_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other_tool.gpkg");
    let db = skeleton(&path);
    db.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('custom GK', 100, 'NONE', 100, ?1, NULL)",
        [CGCS2000_GK39_WKT],
    )
    .unwrap();
    add_table(&db, "wkt_only", 100, ", label TEXT, photo BLOB, ok BOOLEAN");
    add_table(&db, "undefined", -1, ", n INTEGER");
    add_table(&db, "listed_but_missing_is_skipped", 0, "");
    db.execute_batch("DROP TABLE listed_but_missing_is_skipped")
        .unwrap();

    let (e, n) = gk_point(117.9, 36.8);
    let insert = "INSERT INTO wkt_only VALUES (?1, ?2, ?3, ?4, ?5)";
    db.execute(
        insert,
        rusqlite::params![
            1,
            blob(&Geometry::Point(Point::new(e, n))),
            "甲",
            vec![1u8, 2],
            1
        ],
    )
    .unwrap();
    db.execute(
        insert,
        rusqlite::params![2, b"GPgarbage".to_vec(), "bad blob", None::<Vec<u8>>, 0],
    )
    .unwrap();
    db.execute(
        insert,
        rusqlite::params![3, None::<Vec<u8>>, "no geometry", None::<Vec<u8>>, 0],
    )
    .unwrap();
    db.execute(
        insert,
        rusqlite::params![
            4,
            big_endian_point_z(e + 100.0, n, 35.0),
            "replaced below",
            None::<Vec<u8>>,
            0
        ],
    )
    .unwrap();
    db.execute_batch("UPDATE wkt_only SET label = CAST(X'FFFE' AS TEXT) WHERE fid = 4")
        .unwrap();
    for (fid, (lon, lat)) in [(117.85, 36.75), (117.95, 36.85)].into_iter().enumerate() {
        let (e, n) = gk_point(lon, lat);
        db.execute(
            "INSERT INTO undefined VALUES (?1, ?2, ?3)",
            rusqlite::params![fid as i64 + 10, blob(&Geometry::Point(Point::new(e, n))), 5],
        )
        .unwrap();
    }
    drop(db);

    let result = read(&path).unwrap();
    let names: Vec<&str> = result
        .layers
        .iter()
        .map(|l| l.layer.name.as_str())
        .collect();
    assert_eq!(names, ["wkt_only", "undefined"]);
    assert!(
        result.info.crs_reason.contains("definition"),
        "{}",
        result.info.crs_reason
    );

    let wkt_only = &result.layers[0];
    let layer = &wkt_only.layer;
    assert_eq!(layer.len(), 2);
    let Geometry::Point(p) = layer.geometries[0] else {
        panic!()
    };
    assert!(
        (p.x() - 117.9).abs() < 1e-9 && (p.y() - 36.8).abs() < 1e-9,
        "{p:?}"
    );
    assert_eq!(layer.attributes.get(0, "label"), ValueRef::Text("甲"));
    assert_eq!(layer.attributes.get(0, "ok"), ValueRef::Bool(true));
    assert_eq!(layer.attributes.get(0, "photo"), ValueRef::Null);
    assert_eq!(layer.attributes.field_index("photo"), None);
    assert_eq!(
        layer.attributes.get(1, "label"),
        ValueRef::Text("\u{fffd}\u{fffd}")
    );
    assert_eq!(layer.source_index, [0, 3]);
    let warnings: Vec<String> = wkt_only.warnings.iter().map(|w| w.to_string()).collect();
    let has = |needle: &str| warnings.iter().any(|w| w.contains(needle));
    assert!(has("fid 2:"), "{warnings:?}");
    assert!(has("fid 3: the geometry is null"), "{warnings:?}");
    assert!(has("\"photo\""), "{warnings:?}");
    assert!(has("not UTF-8"), "{warnings:?}");
    assert!(has("listed_but_missing_is_skipped"), "{warnings:?}");
    assert!(warnings.iter().all(|w| w.contains("other_tool.gpkg")));

    let undefined = &result.layers[1].layer;
    assert_eq!(undefined.len(), 2);
    let Geometry::Point(q) = undefined.geometries[1] else {
        panic!()
    };
    assert!(
        (q.x() - 117.95).abs() < 1e-9 && (q.y() - 36.85).abs() < 1e-9,
        "{q:?}"
    );
    assert_eq!(undefined.attributes.get(0, "n"), ValueRef::Number(5.0));

    // The user's choice wins over the file.
    let forced = read_geopackage(
        &path,
        &ReadOptions {
            crs: Some(Crs::from_epsg(4548).unwrap()),
            ..ReadOptions::default()
        },
        &Progress::default(),
    )
    .unwrap();
    assert!(forced.info.crs_reason.contains("given by the user"));
    assert_eq!(forced.info.crs, Crs::from_epsg(4548).ok());
}

#[test]
fn a_table_whose_crs_cannot_be_known_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unknown.gpkg");
    let db = skeleton(&path);
    add_table(&db, "mystery", -1, "");
    db.execute(
        "INSERT INTO mystery VALUES (1, ?1)",
        [blob(&Geometry::Point(Point::new(1234.5, 678.9)))],
    )
    .unwrap();
    drop(db);
    match read(&path) {
        Err(LoadError::Format { message, .. }) => {
            assert!(message.contains("mystery"), "{message}");
            assert!(message.contains("--crs"), "{message}");
        }
        other => panic!("expected a format error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------------------------

fn expect_format_error(path: &Path, needle: &str) {
    match read(path) {
        Err(LoadError::Format { message, .. }) => {
            assert!(message.contains(needle), "{message}")
        }
        other => panic!("{}: expected a format error, got {other:?}", path.display()),
    }
}

#[test]
fn garbage_plain_sqlite_and_empty_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gpkg");
    assert_eq!(Format::from_path(&path), Format::GeoPackage);
    std::fs::write(&path, b"").unwrap();
    expect_format_error(&path, "not an SQLite database");
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..50 {
        let bytes: Vec<u8> = (0..rng.random_range(1..5000))
            .map(|_| rng.random())
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        expect_format_error(&path, "not an SQLite database");
    }
    // The SQLite magic followed by garbage.
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend((0..4000).map(|_| rng.random::<u8>()));
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(read(&path), Err(LoadError::Format { .. })));

    let plain = dir.path().join("plain.gpkg");
    let db = Connection::open(&plain).unwrap();
    db.execute_batch("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(db);
    expect_format_error(&plain, "without the gpkg_contents table");

    let no_features = dir.path().join("tiles_only.gpkg");
    drop(skeleton(&no_features));
    expect_format_error(&no_features, "no feature table");

    assert!(matches!(
        read(&dir.path().join("missing.gpkg")),
        Err(LoadError::Io { .. })
    ));
}

#[test]
fn truncated_and_damaged_files_never_panic() {
    let layers = sample_layers();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.gpkg");
    let refs: Vec<&Layer> = layers.iter().collect();
    write_geopackage(&good, &refs, &Crs::Wgs84).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let path: PathBuf = dir.path().join("cut.gpkg");
    for cut in [
        bytes.len() / 4,
        bytes.len() / 2,
        bytes.len() * 3 / 4,
        bytes.len() - 1,
    ] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        // A clear error or what could be read, with warnings; never a panic.
        match read(&path) {
            Ok(result) => assert!(!result.layers.is_empty()),
            Err(LoadError::Format { message, .. }) => assert!(!message.is_empty()),
            Err(other) => panic!("cut at {cut}: {other}"),
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..100 {
        let mut damaged = bytes.clone();
        for _ in 0..rng.random_range(1..20) {
            let i = rng.random_range(100..damaged.len());
            damaged[i] = rng.random();
        }
        std::fs::write(&path, &damaged).unwrap();
        let _ = read(&path);
    }
}

#[test]
fn cancel_stops_the_read() {
    let layers = sample_layers();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.gpkg");
    let refs: Vec<&Layer> = layers.iter().collect();
    write_geopackage(&path, &refs, &Crs::Wgs84).unwrap();
    let progress = Progress::default();
    progress
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(
        read_geopackage(&path, &ReadOptions::default(), &progress),
        Err(LoadError::Cancelled { .. })
    ));
}

#[test]
fn nan_coordinates_drop_the_feature_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.gpkg");
    let db = skeleton(&path);
    db.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, 'GEOGCS[\"WGS 84\"]', NULL)",
        [],
    )
    .unwrap();
    add_table(&db, "lines", 4326, "");
    let good = Geometry::LineString(LineString::from(vec![(117.8, 36.8), (117.9, 36.9)]));
    let bad = Geometry::LineString(LineString::from(vec![(117.8, f64::NAN), (117.9, 36.9)]));
    for (fid, g) in [(1, &good), (2, &bad)] {
        db.execute(
            "INSERT INTO lines VALUES (?1, ?2)",
            rusqlite::params![fid, blob(g)],
        )
        .unwrap();
    }
    drop(db);
    let result = read(&path).unwrap();
    let loaded = &result.layers[0];
    assert_eq!(
        loaded.layer.len(),
        1,
        "the NaN line is dropped, the good one kept"
    );
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("fid 2") && w.message.contains("not numbers")),
        "{:?}",
        loaded.warnings
    );
}
