//! Good GeoJSON input: every geometry type, holes, properties round trip, any member order,
//! and a seeded random oracle test read whole, from a file, and one byte at a time.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::Path;

use geo::{Coord, Geometry};
use onemap::io::geojson_reader::{read_geojson_bytes, read_geojson_file, read_geojson_reader};
use onemap::io::{Loaded, Progress};
use onemap::model::{LayerKind, ValueRef};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

fn load(name: &str, text: &str) -> Loaded {
    read_geojson_bytes(Path::new(name), text.as_bytes()).unwrap()
}

fn c(x: f64, y: f64) -> Coord<f64> {
    Coord { x, y }
}

#[test]
fn all_geometry_types_load() {
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[117.1,36.2,50.0]}},
      {"type":"Feature","properties":{},"geometry":{"type":"MultiPoint","coordinates":[[117,36],[118,37]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[117,36],[117.5,36.5],[118,37]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"MultiLineString","coordinates":[[[117,36],[118,37]],[[119,38],[120,39]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[117,36],[118,36],[118,37],[117,36]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[117,36],[118,36],[118,37],[117,36]]],[[[119,36],[120,36],[120,37],[119,36]]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"GeometryCollection","geometries":[
        {"type":"Point","coordinates":[117,36]},{"type":"LineString","coordinates":[[117,36],[118,37]]}]}}
    ]}"#;
    let loaded = load("all.geojson", text);
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    let g = &loaded.layer.geometries;
    assert_eq!(g.len(), 7);
    assert_eq!(g[0], Geometry::Point(geo::Point::new(117.1, 36.2)));
    let Geometry::MultiPoint(mp) = &g[1] else {
        panic!()
    };
    assert_eq!(mp.0.len(), 2);
    let Geometry::LineString(ls) = &g[2] else {
        panic!()
    };
    assert_eq!(ls.0, [c(117., 36.), c(117.5, 36.5), c(118., 37.)]);
    let Geometry::MultiLineString(mls) = &g[3] else {
        panic!()
    };
    assert_eq!(mls.0[1].0, [c(119., 38.), c(120., 39.)]);
    let Geometry::Polygon(p) = &g[4] else {
        panic!()
    };
    assert_eq!(p.exterior().0.len(), 4);
    let Geometry::MultiPolygon(mpo) = &g[5] else {
        panic!()
    };
    assert_eq!(mpo.0.len(), 2);
    let Geometry::GeometryCollection(gc) = &g[6] else {
        panic!()
    };
    assert_eq!(gc.0.len(), 2);
    assert!(matches!(gc.0[1], Geometry::LineString(_)));
}

#[test]
fn polygons_keep_their_holes() {
    let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":null,
      "geometry":{"type":"Polygon","coordinates":[
        [[117,36],[118,36],[118,37],[117,37],[117,36]],
        [[117.2,36.2],[117.2,36.4],[117.4,36.4],[117.2,36.2]],
        [[117.6,36.6],[117.6,36.8],[117.8,36.8],[117.6,36.6]]]}}]}"#;
    let loaded = load("holes.geojson", text);
    let Geometry::Polygon(p) = &loaded.layer.geometries[0] else {
        panic!()
    };
    assert_eq!(p.interiors().len(), 2);
    assert_eq!(p.interiors()[1].0[2], c(117.8, 36.8));
}

#[test]
fn properties_round_trip() {
    let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[117,36]},"properties":{
      "name":"周村区消防站", "esc":"a\"b\\c\/d\n\t\u00e9\ud83d\ude92\u0001", "n":17, "f":-2.5e-3,
      "yes":true, "no":false, "nothing":null, "big":12345678901234567890, "bigneg":-9007199254740993,
      "exact":9007199254740992, "list":[1, "two", [3.5], {"k": null}], "obj":{"a":{"b":[]}, "c":"\u4e2d"}
    }}]}"#;
    let loaded = load("props.geojson", text);
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    let t = &loaded.layer.attributes;
    assert_eq!(t.get(0, "name"), ValueRef::Text("周村区消防站"));
    assert_eq!(t.get(0, "esc"), ValueRef::Text("a\"b\\c/d\n\té🚒\u{1}"));
    assert_eq!(t.get(0, "n"), ValueRef::Number(17.0));
    assert_eq!(t.get(0, "f"), ValueRef::Number(-2.5e-3));
    assert_eq!(t.get(0, "yes"), ValueRef::Bool(true));
    assert_eq!(t.get(0, "no"), ValueRef::Bool(false));
    assert_eq!(t.get(0, "nothing"), ValueRef::Null);
    assert_eq!(t.get(0, "big"), ValueRef::Text("12345678901234567890"));
    assert_eq!(t.get(0, "bigneg"), ValueRef::Text("-9007199254740993"));
    assert_eq!(t.get(0, "exact"), ValueRef::Number(9007199254740992.0));
    assert_eq!(
        t.get(0, "list"),
        ValueRef::Json(r#"[1,"two",[3.5],{"k":null}]"#)
    );
    assert_eq!(
        t.get(0, "list").to_json(),
        json!([1, "two", [3.5], {"k": null}])
    );
    assert_eq!(
        t.get(0, "obj").to_json(),
        json!({"a": {"b": []}, "c": "中"})
    );
    assert_eq!(t.field_names().count(), 12);
}

#[test]
fn members_in_any_order_and_layer_members() {
    let text = r#"{"features":[
        {"geometry":{"coordinates":[117,36],"type":"Point"},"properties":{"k":1},"type":"Feature","id":7},
        {"properties":{"k":2},"id":"x","geometry":{"bbox":[0,0,1,1],"type":"Point","coordinates":[118,37]},"type":"Feature"}
      ],"onemap_kind":"shelter","name":"避难场所","bbox":[117,36,118,37],"type":"FeatureCollection"}"#;
    let loaded = load("misc.geojson", text);
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    assert_eq!(loaded.layer.name, "避难场所");
    assert_eq!(loaded.layer.kind, LayerKind::Shelter);
    assert_eq!(loaded.layer.attributes.get(1, "k"), ValueRef::Number(2.0));
    assert_eq!(
        loaded.layer.geometries[1],
        Geometry::Point(geo::Point::new(118., 37.))
    );
}

#[test]
fn kind_is_guessed_from_the_file_name_and_unknown_kinds_warn() {
    let empty = r#"{"type":"FeatureCollection","features":[]}"#;
    let loaded = load("maps/zhoucun/fire_stations.geojson", empty);
    assert_eq!(loaded.layer.kind, LayerKind::FireStation);
    assert_eq!(loaded.layer.name, "fire_stations");
    assert!(loaded.layer.is_empty());
    let text = r#"{"type":"FeatureCollection","onemap_kind":"volcano","features":[]}"#;
    let loaded = load("roads.geojson", text);
    assert_eq!(loaded.layer.kind, LayerKind::Road);
    assert!(loaded.warnings[0].message.contains("volcano"));
}

/// A reader that hands out one byte per call, so every token straddles a refill.
struct OneByte<'a>(&'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

fn random_string(rng: &mut impl Rng) -> String {
    const PIECES: [&str; 10] = ["a", "Z", "周", "村", "\"", "\\", "\n", "🚒", "/", "\u{1}"];
    let n = rng.random_range(0..12);
    (0..n)
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect()
}

fn random_value(rng: &mut impl Rng, depth: usize) -> Value {
    match rng.random_range(0..if depth > 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-1_000_000i64..1_000_000)),
        3 => json!(rng.random_range(-1e6..1e6)),
        4 => Value::String(random_string(rng)),
        5 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.random_range(0..4))
                .map(|i| (format!("k{i}"), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// Between `counts.start` and `counts.end - 1` random lon/lat positions.
fn random_coords(rng: &mut impl Rng, counts: std::ops::Range<usize>) -> Vec<[f64; 2]> {
    let n = rng.random_range(counts);
    (0..n)
        .map(|_| {
            [
                rng.random_range(-180.0..180.0),
                rng.random_range(-90.0..90.0),
            ]
        })
        .collect()
}

fn random_ring(rng: &mut impl Rng) -> Vec<[f64; 2]> {
    let mut ring = random_coords(rng, 3..8);
    ring.push(ring[0]);
    ring
}

fn random_geometry(rng: &mut impl Rng) -> Value {
    match rng.random_range(0..6) {
        0 => json!({"type": "Point", "coordinates": random_coords(rng, 1..2)[0]}),
        1 => json!({"type": "MultiPoint", "coordinates": random_coords(rng, 1..5)}),
        2 => json!({"type": "LineString", "coordinates": random_coords(rng, 2..9)}),
        3 => {
            json!({"type": "MultiLineString", "coordinates": [random_coords(rng, 2..3), random_coords(rng, 3..4)]})
        }
        4 => json!({"type": "Polygon", "coordinates": [random_ring(rng), random_ring(rng)]}),
        _ => {
            json!({"type": "MultiPolygon", "coordinates": [[random_ring(rng)], [random_ring(rng)]]})
        }
    }
}

/// Every position of a GeoJSON geometry value, in order.
fn oracle_positions(geometry: &Value, out: &mut Vec<Coord<f64>>) {
    fn walk(v: &Value, out: &mut Vec<Coord<f64>>) {
        let Some(items) = v.as_array() else { return };
        if let (Some(x), Some(y)) = (
            items.first().and_then(Value::as_f64),
            items.get(1).and_then(Value::as_f64),
        ) {
            out.push(c(x, y));
        } else {
            items.iter().for_each(|i| walk(i, out));
        }
    }
    walk(&geometry["coordinates"], out);
}

/// Every position of a loaded geometry; `coords_iter` visits a polygon's exterior then its
/// holes, in file order.
fn loaded_positions(g: &Geometry<f64>) -> Vec<Coord<f64>> {
    use geo::CoordsIter;
    g.coords_iter().collect()
}

fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // Nested values come back through serde_json's parser, which may be 1 ulp off
        // without its `float_roundtrip` feature; top-level numbers are exact (checked above).
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-14 * x.abs().max(1.0),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn seeded_random_collections_match_the_serde_json_oracle() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let features: Vec<Value> = (0..12_000)
        .map(|i| {
            let mut props = serde_json::Map::new();
            props.insert("id".into(), json!(i));
            for k in 0..rng.random_range(0..6) {
                props.insert(format!("p{k}"), random_value(&mut rng, 0));
            }
            if rng.random_bool(0.5) {
                json!({"type": "Feature", "properties": props, "geometry": random_geometry(&mut rng)})
            } else {
                json!({"geometry": random_geometry(&mut rng), "type": "Feature", "properties": props})
            }
        })
        .collect();
    let doc = json!({"type": "FeatureCollection", "features": features});
    let compact = serde_json::to_string(&doc).unwrap();
    let pretty = serde_json::to_string_pretty(&doc).unwrap();
    assert!(pretty.len() > 2 << 20, "must span several read buffers");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.geojson");
    std::fs::write(&path, &pretty).unwrap();
    let progress = Progress::default();
    let from_file = read_geojson_file(&path, &progress).unwrap();
    let done = progress
        .bytes_done
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(done, pretty.len() as u64);
    assert_eq!(progress.fraction(), 1.0);

    let small = &features[..300];
    let small_doc =
        serde_json::to_string(&json!({"type": "FeatureCollection", "features": small})).unwrap();
    let one_byte = read_geojson_reader(
        Path::new("one_byte.geojson"),
        OneByte(small_doc.as_bytes()),
        &Progress::default(),
    )
    .unwrap();

    for (loaded, expected) in [
        (load("compact.geojson", &compact), &features[..]),
        (from_file, &features[..]),
        (one_byte, small),
    ] {
        assert!(loaded.warnings.is_empty(), "{:#?}", &loaded.warnings[..1]);
        assert_eq!(loaded.layer.len(), expected.len());
        for (i, feature) in expected.iter().enumerate() {
            let mut want = Vec::new();
            oracle_positions(&feature["geometry"], &mut want);
            assert_eq!(
                loaded_positions(&loaded.layer.geometries[i]),
                want,
                "feature {i}"
            );
            for (key, value) in feature["properties"].as_object().unwrap() {
                if let Some(n) = value.as_f64() {
                    let got = loaded.layer.attributes.get(i, key);
                    assert_eq!(got, ValueRef::Number(n), "feature {i} {key}");
                }
            }
            let got: serde_json::Map<String, Value> = loaded
                .layer
                .attributes
                .row(i)
                .map(|(k, v)| (k.to_owned(), v.to_json()))
                .collect();
            let want: serde_json::Map<String, Value> = feature["properties"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert!(
                same_json(&Value::Object(got.clone()), &Value::Object(want.clone())),
                "feature {i}: {got:?} != {want:?}"
            );
        }
    }
}
