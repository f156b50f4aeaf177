//! Tests for the OpenStreetMap PBF reader on `tests/data/zhoucun_small.osm.pbf` (made by
//! `tests/data/make_osm_fixture.py`): which ways and nodes land in which layer with which
//! tags, clipping, missing nodes, and truncated or garbage files.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use geo::{Geometry, Rect, coord};
use onemap::io::osm_reader::read_osm_pbf;
use onemap::io::{Format, LoadError, Progress, ReadOptions, ReadResult, read_path};
use onemap::model::{Layer, LayerKind, ValueRef};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zhoucun_small.osm.pbf")
}

fn read(options: &ReadOptions) -> ReadResult {
    read_osm_pbf(&fixture(), options, &Progress::default()).unwrap()
}

fn layer<'a>(result: &'a ReadResult, name: &str) -> &'a Layer {
    &result
        .layers
        .iter()
        .find(|l| l.layer.name == name)
        .unwrap_or_else(|| panic!("no layer {name}"))
        .layer
}

/// The row whose `osm_id` is `id` ("way/1001", "node/100").
fn row_of(layer: &Layer, id: &str) -> Option<usize> {
    (0..layer.len()).find(|&r| layer.attributes.get(r, "osm_id") == ValueRef::Text(id))
}

fn ids(layer: &Layer) -> Vec<String> {
    let mut ids: Vec<String> = (0..layer.len())
        .map(|r| layer.attributes.get(r, "osm_id").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn roads_keep_highway_tags_and_shared_vertices() {
    let result = read(&ReadOptions::default());
    assert_eq!(Format::from_path(&fixture()), Format::OsmPbf);
    assert_eq!(
        result
            .layers
            .iter()
            .map(|l| l.layer.name.as_str())
            .collect::<Vec<_>>(),
        ["roads", "waterways", "amenities"]
    );
    let roads = layer(&result, "roads");
    assert_eq!(roads.kind, LayerKind::Road);
    // proposed (1003) and the building (3002) are not roads
    assert_eq!(ids(roads), ["way/1001", "way/1002", "way/1004", "way/1005"]);
    let primary = row_of(roads, "way/1001").unwrap();
    assert_eq!(
        roads.attributes.get(primary, "highway"),
        ValueRef::Text("primary")
    );
    assert_eq!(
        roads.attributes.get(primary, "oneway"),
        ValueRef::Text("yes")
    );
    assert_eq!(
        roads.attributes.get(primary, "name"),
        ValueRef::Text("正阳路")
    );
    assert_eq!(
        roads.attributes.get(primary, "maxspeed"),
        ValueRef::Text("60")
    );
    assert_eq!(roads.attributes.get(primary, "lanes"), ValueRef::Null);
    let residential = row_of(roads, "way/1002").unwrap();
    assert_eq!(roads.attributes.get(residential, "oneway"), ValueRef::Null);
    let (Geometry::LineString(a), Geometry::LineString(b)) =
        (&roads.geometries[primary], &roads.geometries[residential])
    else {
        panic!("roads are line strings");
    };
    assert_eq!(a.0.len(), 3);
    assert_eq!(a.0[0], coord! { x: 117.86, y: 36.8 });
    // node 3 ends one road and starts the next: the road graph joins them there
    assert_eq!(a.0[2], b.0[0]);
}

#[test]
fn a_missing_node_splits_the_way_and_is_reported() {
    let result = read(&ReadOptions::default());
    let roads = layer(&result, "roads");
    let split = row_of(roads, "way/1005").unwrap();
    match &roads.geometries[split] {
        Geometry::MultiLineString(m) => {
            assert_eq!(m.0.len(), 2);
            assert_eq!(m.0[0].0.len(), 2);
            assert_eq!(m.0[1].0.len(), 2);
        }
        other => panic!("expected two pieces, got {other:?}"),
    }
    let warnings: Vec<String> = result
        .layers
        .iter()
        .flat_map(|l| l.warnings.iter().map(|w| w.to_string()))
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("1 node references")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("multipolygon")),
        "{warnings:?}"
    );
}

#[test]
fn waterways_are_lines_and_closed_water_areas_polygons() {
    let result = read(&ReadOptions::default());
    let water = layer(&result, "waterways");
    assert_eq!(water.kind, LayerKind::River);
    // the ditch (2002) and the open natural=water way (2004) are not kept
    assert_eq!(ids(water), ["way/2001", "way/2003"]);
    let river = row_of(water, "way/2001").unwrap();
    assert!(matches!(water.geometries[river], Geometry::LineString(_)));
    assert_eq!(
        water.attributes.get(river, "waterway"),
        ValueRef::Text("river")
    );
    assert_eq!(
        water.attributes.get(river, "name"),
        ValueRef::Text("孝妇河")
    );
    let pond = row_of(water, "way/2003").unwrap();
    match &water.geometries[pond] {
        Geometry::Polygon(p) => assert_eq!(p.exterior().0.len(), 4),
        other => panic!("expected a polygon, got {other:?}"),
    }
    assert_eq!(
        water.attributes.get(pond, "natural"),
        ValueRef::Text("water")
    );
    assert_eq!(water.attributes.get(pond, "water"), ValueRef::Text("pond"));
}

#[test]
fn amenities_are_points_with_their_kind_and_areas_give_centroids() {
    let result = read(&ReadOptions::default());
    let amenities = layer(&result, "amenities");
    // mixed kinds: the layer stays generic, each feature says its kind
    assert_eq!(amenities.kind, LayerKind::Generic);
    assert_eq!(
        ids(amenities),
        ["node/100", "node/101", "node/102", "node/104", "way/3001"]
    );
    let expect = [
        ("node/100", "fire_station", "fire_station"),
        ("node/101", "hospital", "hospital"),
        ("node/102", "assembly_point", "shelter"),
        ("node/104", "clinic", "hospital"),
        ("way/3001", "school", "school"),
    ];
    for (id, amenity, kind) in expect {
        let row = row_of(amenities, id).unwrap();
        assert_eq!(
            amenities.attributes.get(row, "amenity"),
            ValueRef::Text(amenity)
        );
        assert_eq!(amenities.attributes.get(row, "kind"), ValueRef::Text(kind));
        assert!(matches!(amenities.geometries[row], Geometry::Point(_)));
    }
    let station = row_of(amenities, "node/100").unwrap();
    assert_eq!(
        amenities.attributes.get(station, "name"),
        ValueRef::Text("周村消防救援站")
    );
    let school = row_of(amenities, "way/3001").unwrap();
    let Geometry::Point(centre) = amenities.geometries[school] else {
        unreachable!()
    };
    assert!((centre.x() - 117.871).abs() < 1e-9, "{centre:?}");
    assert!((centre.y() - 36.806).abs() < 1e-9, "{centre:?}");
}

#[test]
fn clipping_keeps_features_with_a_node_inside() {
    // The box covers the town (117.85-117.9 E) and only the west end of the river.
    let clip = Rect::new(
        coord! { x: 117.855, y: 36.79 },
        coord! { x: 117.9, y: 36.822 },
    );
    let options = ReadOptions {
        clip: Some(clip),
        ..ReadOptions::default()
    };
    let result = read_path(&fixture(), &options, &Progress::default()).unwrap();
    assert_eq!(result.info.format, "OpenStreetMap PBF");
    let roads = layer(&result, "roads");
    // the far-east track (1004) is gone
    assert_eq!(ids(roads), ["way/1001", "way/1002", "way/1005"]);
    let water = layer(&result, "waterways");
    // none of the river's nodes is inside (they lie west or north of the box); the pond is
    assert_eq!(ids(water), ["way/2003"]);
    let amenities = layer(&result, "amenities");
    // the far clinic (node 104) is gone
    assert_eq!(
        ids(amenities),
        ["node/100", "node/101", "node/102", "way/3001"]
    );
    // a kept way keeps all its vertices, also those outside the box
    let primary = row_of(roads, "way/1001").unwrap();
    let Geometry::LineString(line) = &roads.geometries[primary] else {
        unreachable!()
    };
    assert_eq!(line.0.len(), 3);
}

#[test]
fn truncated_files_give_a_clear_error() {
    let bytes = std::fs::read(fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.osm.pbf");
    for cut in [bytes.len() - 1, bytes.len() - 40, bytes.len() / 2, 20] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        match read_osm_pbf(&path, &ReadOptions::default(), &Progress::default()) {
            Err(LoadError::Format { message, .. }) => {
                assert!(
                    message.contains("truncated")
                        || message.contains("damaged")
                        || message.contains("not an OpenStreetMap"),
                    "cut at {cut}: {message}"
                );
            }
            other => panic!("cut at {cut}: expected a format error, got {other:?}"),
        }
    }
}

#[test]
fn garbage_and_empty_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.osm.pbf");
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        read_osm_pbf(&path, &ReadOptions::default(), &Progress::default()),
        Err(LoadError::Format { .. })
    ));
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    for round in 0..200 {
        let len = rng.random_range(1..2000);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if round % 2 == 0 {
            // a plausible header length so the blob header parser gets to work
            bytes[..4].copy_from_slice(&[0, 0, 0, 14]);
        }
        std::fs::write(&path, &bytes).unwrap();
        assert!(read_osm_pbf(&path, &ReadOptions::default(), &Progress::default()).is_err());
    }
    // A real file with random bytes flipped: an error or a result, never a panic.
    let good = std::fs::read(fixture()).unwrap();
    for _ in 0..200 {
        let mut bytes = good.clone();
        for _ in 0..rng.random_range(1..6) {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = rng.random();
        }
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_osm_pbf(&path, &ReadOptions::default(), &Progress::default());
    }
    let missing = dir.path().join("missing.osm.pbf");
    assert!(matches!(
        read_osm_pbf(&missing, &ReadOptions::default(), &Progress::default()),
        Err(LoadError::Io { .. })
    ));
}
