//! Bad GeoJSON input: every case gives a message naming the file, the feature index and
//! the problem, keeps the valid features, and never panics or overflows the stack.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use geo::Geometry;
use onemap::io::geojson_reader::{read_geojson_bytes, read_geojson_file, read_geojson_reader};
use onemap::io::{LoadError, LoadWarning, Loaded, Progress};
use onemap::model::ValueRef;

const FILE: &str = "data/bad.geojson";

fn load(text: &str) -> Loaded {
    match read_geojson_bytes(Path::new(FILE), text.as_bytes()) {
        Ok(loaded) => loaded,
        Err(e) => panic!("expected a layer, got error: {e}"),
    }
}

fn load_err(bytes: &[u8]) -> String {
    match read_geojson_bytes(Path::new(FILE), bytes) {
        Ok(loaded) => panic!("expected an error, loaded {} features", loaded.layer.len()),
        Err(e) => e.to_string(),
    }
}

/// A FeatureCollection of `features` (JSON texts).
fn collection(features: &[&str]) -> String {
    format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}",
        features.join(",\n")
    )
}

fn point(lon: f64, lat: f64, name: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"name":"{name}"}},"geometry":{{"type":"Point","coordinates":[{lon},{lat}]}}}}"#
    )
}

fn feature(geometry: &str) -> String {
    format!(r#"{{"type":"Feature","properties":{{"name":"bad"}},"geometry":{geometry}}}"#)
}

/// The warning about `index`, which must also name the file and mention `needle`.
fn warning_about<'a>(loaded: &'a Loaded, index: usize, needle: &str) -> &'a LoadWarning {
    let found = loaded
        .warnings
        .iter()
        .find(|w| w.feature == Some(index) && w.message.contains(needle));
    match found {
        Some(w) => {
            assert_eq!(w.file, Path::new(FILE));
            let line = w.to_string();
            assert!(
                line.contains(FILE) && line.contains(&format!("feature {index}")),
                "{line}"
            );
            w
        }
        None => panic!(
            "no warning about feature {index} mentioning {needle:?}; warnings: {:#?}",
            loaded.warnings
        ),
    }
}

fn names(loaded: &Loaded) -> Vec<String> {
    (0..loaded.layer.len())
        .map(|i| loaded.layer.attributes.get(i, "name").to_string())
        .collect()
}

/// Feature 0 and 2 are good, feature 1 is `bad`: checks 1 is dropped with `needle`.
fn assert_middle_dropped(bad: &str, needle: &str) -> Loaded {
    let text = collection(&[&point(117.0, 36.0, "a"), bad, &point(118.0, 37.0, "c")]);
    let loaded = load(&text);
    assert_eq!(names(&loaded), ["a", "c"], "{:#?}", loaded.warnings);
    assert_eq!(loaded.layer.source_index, [0, 2]);
    warning_about(&loaded, 1, needle);
    warning_about_drop_count(&loaded, 1, 3);
    loaded
}

fn warning_about_drop_count(loaded: &Loaded, dropped: usize, seen: usize) {
    let text = format!("dropped {dropped} of {seen} features");
    assert!(
        loaded.warnings.iter().any(|w| w.message.contains(&text)),
        "{:#?}",
        loaded.warnings
    );
}

#[test]
fn truncated_file_keeps_the_features_before_the_break() {
    let full = collection(&[
        &point(117.0, 36.0, "a"),
        &point(117.1, 36.1, "b"),
        &point(117.2, 36.2, "c"),
    ]);
    let cut = full.find("117.2").unwrap() + 3;
    let loaded = load(&full[..cut]);
    assert_eq!(names(&loaded), ["a", "b"]);
    let w = warning_about(&loaded, 2, "malformed JSON at byte");
    assert!(w.message.contains("line 4"), "{}", w.message);
    assert!(w.message.contains("end of the file"), "{}", w.message);
    assert!(w.message.contains("kept the 2 features"), "{}", w.message);
}

#[test]
fn syntax_error_inside_a_feature_names_it_and_keeps_earlier_ones() {
    let bad = r#"{"type":"Feature","properties":{"name" "x"},"geometry":null}"#;
    let text = collection(&[&point(117.0, 36.0, "a"), bad, &point(118.0, 37.0, "c")]);
    let loaded = load(&text);
    assert_eq!(names(&loaded), ["a"]);
    let w = warning_about(&loaded, 1, "expected ':'");
    assert!(w.message.contains("line 3"), "{}", w.message);
}

#[test]
fn syntax_error_before_any_feature_is_an_error_with_its_position() {
    let message = load_err(br#"{"type":"FeatureCollection","features":[{"type":"Feature",,}]}"#);
    assert!(message.contains(FILE), "{message}");
    assert!(message.contains("feature 0"), "{message}");
    assert!(message.contains("malformed JSON at byte 58"), "{message}");
}

#[test]
fn nan_and_infinite_coordinates_drop_their_feature() {
    for token in ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"] {
        let bad = feature(&format!(
            r#"{{"type":"Point","coordinates":[{token},36.5]}}"#
        ));
        assert_middle_dropped(&bad, "NaN, Infinity or beyond the f64 range");
        let line = feature(&format!(
            r#"{{"type":"LineString","coordinates":[[117,36],[117.5,{token}]]}}"#
        ));
        assert_middle_dropped(&line, "NaN, Infinity");
    }
}

#[test]
fn nan_and_infinite_properties_become_null_with_a_warning() {
    let text = collection(&[
        r#"{"type":"Feature","properties":{"name":"a","depth":NaN,"flow":1e400,"n":3},"geometry":{"type":"Point","coordinates":[117,36]}}"#,
        r#"{"type":"Feature","properties":{"name":"b","depth":-Infinity,"nested":[1,NaN,{"x":Infinity}]},"geometry":{"type":"Point","coordinates":[117,36]}}"#,
    ]);
    let loaded = load(&text);
    assert_eq!(names(&loaded), ["a", "b"]);
    let table = &loaded.layer.attributes;
    assert_eq!(table.get(0, "depth"), ValueRef::Null);
    assert_eq!(table.get(0, "flow"), ValueRef::Null);
    assert_eq!(table.get(0, "n"), ValueRef::Number(3.0));
    assert_eq!(table.get(1, "depth"), ValueRef::Null);
    assert_eq!(
        table.get(1, "nested"),
        ValueRef::Json(r#"[1,null,{"x":null}]"#)
    );
    warning_about(&loaded, 0, "property \"depth\" is NaN");
    warning_about(
        &loaded,
        0,
        "property \"flow\" is NaN, Infinity or beyond the f64 range",
    );
    warning_about(&loaded, 1, "property \"depth\"");
    warning_about(&loaded, 1, "nested property value holds NaN");
}

#[test]
fn out_of_range_coordinates_drop_the_feature_and_suggest_projection() {
    let bad = feature(r#"{"type":"Point","coordinates":[500000.0,4070000.0]}"#);
    let loaded = assert_middle_dropped(&bad, "outside longitude [-180, 180]");
    warning_about(&loaded, 1, "projected coordinates");
    let lat = feature(r#"{"type":"LineString","coordinates":[[117,36],[117,95]]}"#);
    assert_middle_dropped(&lat, "latitude [-90, 90]");
}

#[test]
fn unclosed_rings_are_closed_with_a_warning() {
    let open = feature(r#"{"type":"Polygon","coordinates":[[[117,36],[117.1,36],[117.1,36.1]]]}"#);
    let text = collection(&[&point(117.0, 36.0, "a"), &open]);
    let loaded = load(&text);
    assert_eq!(loaded.layer.len(), 2);
    let Geometry::Polygon(p) = &loaded.layer.geometries[1] else {
        panic!("not a polygon")
    };
    assert_eq!(p.exterior().0.len(), 4);
    assert_eq!(p.exterior().0.first(), p.exterior().0.last());
    warning_about(&loaded, 1, "exterior ring was not closed; closed it");
}

#[test]
fn degenerate_rings_drop_the_feature_or_the_hole() {
    let flat = feature(
        r#"{"type":"Polygon","coordinates":[[[117,36],[117.1,36],[117,36],[117.1,36],[117,36]]]}"#,
    );
    assert_middle_dropped(&flat, "fewer than 3 distinct positions");
    let two = feature(r#"{"type":"Polygon","coordinates":[[[117,36],[117.1,36]]]}"#);
    assert_middle_dropped(&two, "exterior ring has fewer than 3 distinct positions");

    let bad_hole = feature(
        r#"{"type":"Polygon","coordinates":[[[117,36],[117.1,36],[117.1,36.1],[117,36]],[[117.01,36.01],[117.01,36.01],[117.01,36.01]]]}"#,
    );
    let loaded = load(&collection(&[&bad_hole]));
    assert_eq!(loaded.layer.len(), 1);
    let Geometry::Polygon(p) = &loaded.layer.geometries[0] else {
        panic!("not a polygon")
    };
    assert!(p.interiors().is_empty());
    warning_about(&loaded, 0, "hole 1 has fewer than 3 distinct positions");
}

#[test]
fn empty_geometries_drop_their_feature() {
    for (geometry, needle) in [
        (r#"{"type":"Point","coordinates":[]}"#, "empty Point"),
        (
            r#"{"type":"LineString","coordinates":[]}"#,
            "empty LineString",
        ),
        (r#"{"type":"Polygon","coordinates":[]}"#, "empty Polygon"),
        (
            r#"{"type":"MultiPoint","coordinates":[]}"#,
            "empty MultiPoint",
        ),
        (
            r#"{"type":"MultiLineString","coordinates":[]}"#,
            "empty MultiLineString",
        ),
        (
            r#"{"type":"MultiPolygon","coordinates":[]}"#,
            "empty MultiPolygon",
        ),
        (
            r#"{"type":"GeometryCollection","geometries":[]}"#,
            "empty GeometryCollection",
        ),
        (
            r#"{"type":"LineString","coordinates":[[117,36]]}"#,
            "fewer than 2 positions",
        ),
    ] {
        assert_middle_dropped(&feature(geometry), needle);
    }
}

#[test]
fn null_or_missing_geometry_drops_the_feature() {
    assert_middle_dropped(&feature("null"), "the geometry is null");
    assert_middle_dropped(
        r#"{"type":"Feature","properties":{"name":"x"}}"#,
        "no \"geometry\" member",
    );
}

#[test]
fn unknown_geometry_types_drop_the_feature() {
    assert_middle_dropped(
        &feature(r#"{"type":"Circle","coordinates":[117,36],"radius":5}"#),
        "unknown geometry type \"Circle\"",
    );
    assert_middle_dropped(
        &feature(r#"{"coordinates":[117,36]}"#),
        "no \"type\" member",
    );
}

#[test]
fn wrong_member_types_give_warnings() {
    assert_middle_dropped(
        &feature(r#"{"type":"Point","coordinates":"117,36"}"#),
        "\"coordinates\" is a string, not an array",
    );
    assert_middle_dropped(
        &feature(r#"{"type":"LineString","coordinates":[[117,36],["117",36]]}"#),
        "a string",
    );
    assert_middle_dropped(
        &feature(r#"{"type":"Polygon","coordinates":[[117,36],[118,36],[118,37],[117,36]]}"#),
        "Polygon coordinates must be an array of rings",
    );
    assert_middle_dropped(&feature(r#""POINT (117 36)""#), "the geometry is a string");

    // Properties of the wrong type: the feature loads, without properties.
    let text = collection(&[
        r#"{"type":"Feature","properties":["a","b"],"geometry":{"type":"Point","coordinates":[117,36]}}"#,
        r#"{"type":"Feature","properties":null,"geometry":{"type":"Point","coordinates":[117,36]}}"#,
        &point(117.0, 36.0, "c"),
    ]);
    let loaded = load(&text);
    assert_eq!(loaded.layer.len(), 3);
    assert_eq!(names(&loaded), ["null", "null", "c"]);
    warning_about(&loaded, 0, "\"properties\" is an array, not an object");
    assert!(
        !loaded.warnings.iter().any(|w| w.feature == Some(1)),
        "null properties are fine: {:#?}",
        loaded.warnings
    );
}

#[test]
fn mixed_property_types_across_features_load() {
    let text = collection(&[
        r#"{"type":"Feature","properties":{"v":1},"geometry":{"type":"Point","coordinates":[117,36]}}"#,
        r#"{"type":"Feature","properties":{"v":"two"},"geometry":{"type":"Point","coordinates":[117,36]}}"#,
        r#"{"type":"Feature","properties":{"v":true},"geometry":{"type":"Point","coordinates":[117,36]}}"#,
    ]);
    let loaded = load(&text);
    let t = &loaded.layer.attributes;
    assert_eq!(t.get(0, "v"), ValueRef::Number(1.0));
    assert_eq!(t.get(1, "v"), ValueRef::Text("two"));
    assert_eq!(t.get(2, "v"), ValueRef::Bool(true));
}

#[test]
fn zero_byte_and_whitespace_files_are_errors() {
    assert!(load_err(b"").contains("empty file"));
    assert!(load_err(b"  \n\t ").contains("empty file"));
    assert!(load_err(b"\xEF\xBB\xBF").contains("empty file"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.geojson");
    std::fs::write(&path, b"").unwrap();
    let err = read_geojson_file(&path, &Progress::default()).unwrap_err();
    assert!(matches!(err, LoadError::Format { .. }));
    assert!(
        err.to_string().contains("empty.geojson: empty file"),
        "{err}"
    );
}

#[test]
fn binary_and_non_json_files_are_errors() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0u8..=255).cycle().take(3000));
    assert!(load_err(&png).contains("not a GeoJSON/JSON text file"));
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0";
    assert!(load_err(zip).contains("not a GeoJSON/JSON text file"));
    let csv = load_err(b"id,name,lon,lat\n1,a,117,36\n");
    assert!(
        csv.contains("not a GeoJSON/JSON text file") && csv.contains("id,name"),
        "{csv}"
    );
    let utf16 = load_err(b"\xFF\xFE{\0\"\0");
    assert!(utf16.contains("UTF-16"), "{utf16}");
    assert!(load_err(br#"{"type":"Topology"}"#).contains("unknown top-level type \"Topology\""));
    assert!(load_err(br#"{"a":1}"#).contains("no \"type\" member"));
}

#[test]
fn utf8_bom_is_skipped() {
    let text = format!("\u{FEFF}{}", collection(&[&point(117.0, 36.0, "甲")]));
    let loaded = load(&text);
    assert_eq!(names(&loaded), ["甲"]);
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
}

#[test]
fn bare_feature_and_bare_geometry_load_with_a_message() {
    let loaded = load(&point(117.0, 36.0, "solo"));
    assert_eq!(names(&loaded), ["solo"]);
    warning_about(&loaded, 0, "single Feature");
    let loaded = load(r#"{"coordinates":[[117,36],[118,37]],"type":"LineString"}"#);
    assert_eq!(loaded.layer.len(), 1);
    assert!(matches!(
        loaded.layer.geometries[0],
        Geometry::LineString(_)
    ));
    warning_about(&loaded, 0, "bare geometry");
    let bad = load(r#"{"type":"Point","coordinates":[NaN,1]}"#);
    assert!(bad.layer.is_empty());
    warning_about(&bad, 0, "NaN");
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    for n in [65, 1000, 200_000] {
        let coords = feature(&format!(
            r#"{{"type":"Polygon","coordinates":{}}}"#,
            deep(n)
        ));
        assert_middle_dropped(&coords, "nested deeper than 64 levels");
        let props = format!(
            r#"{{"type":"Feature","properties":{{"name":"p","deep":{}}},"geometry":{{"type":"Point","coordinates":[117,36]}}}}"#,
            deep(n)
        );
        let loaded = load(&collection(&[&props]));
        assert_eq!(names(&loaded), ["p"]);
        warning_about(&loaded, 0, "nested deeper than 64 levels");
        let ValueRef::Json(json) = loaded.layer.attributes.get(0, "deep") else {
            panic!("not json")
        };
        assert!(json.contains("null") && json.len() < 200, "{json}");
    }
    // Unclosed deep nesting at the top level: an error, not a crash.
    let message = load_err("[".repeat(500_000).as_bytes());
    assert!(message.contains("malformed JSON"), "{message}");
    let gc = format!(
        r#"{{"type":"Feature","properties":{{}},"geometry":{}{}}}"#,
        r#"{"type":"GeometryCollection","geometries":["#.repeat(100),
        "]}".repeat(100)
    );
    assert_middle_dropped(&gc, "nested deeper than 64 levels");
}

#[test]
fn non_wgs84_crs_gives_a_warning() {
    let text = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[]}"#;
    let loaded = load(text);
    let w = loaded
        .warnings
        .iter()
        .find(|w| w.message.contains("EPSG::3857"))
        .unwrap();
    assert_eq!(w.feature, None);
    let ok = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[]}"#;
    assert!(load(ok).warnings.is_empty());
}

#[test]
fn invalid_utf8_is_replaced_with_a_hint_about_gbk() {
    let mut bytes =
        br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":""#
            .to_vec();
    bytes.extend_from_slice(&[0xD6, 0xDC, 0xB4, 0xE5]); // 周村 in GBK
    bytes.extend_from_slice(br#""},"geometry":{"type":"Point","coordinates":[117,36]}}]}"#);
    let loaded = read_geojson_bytes(Path::new(FILE), &bytes).unwrap();
    assert_eq!(loaded.layer.len(), 1);
    assert!(
        loaded
            .layer
            .attributes
            .get(0, "name")
            .to_string()
            .contains('\u{FFFD}')
    );
    warning_about(&loaded, 0, "GBK");

    // A character split across a key and its value is valid UTF-8 only when glued together:
    // each must still be repaired on its own.
    let mut bytes = br#"{"type":"Feature","properties":{""#.to_vec();
    bytes.extend_from_slice(b"\xE4\xB8\":\"\xAD");
    bytes.extend_from_slice(br#""},"geometry":{"type":"Point","coordinates":[117,36]}}"#);
    let loaded = read_geojson_bytes(Path::new(FILE), &bytes).unwrap();
    let row: Vec<(String, String)> = loaded
        .layer
        .attributes
        .row(0)
        .map(|(k, v)| (k.to_owned(), v.to_string()))
        .collect();
    assert_eq!(row, [("\u{FFFD}".to_owned(), "\u{FFFD}".to_owned())]);
    warning_about(&loaded, 0, "GBK");
}

#[test]
fn features_that_are_not_objects_are_skipped() {
    assert_middle_dropped("42", "the feature is a number, not an object");
    assert_middle_dropped("null", "the feature is null");
}

#[test]
fn trailing_garbage_is_ignored_with_a_warning() {
    let text = format!("{}\n}}}}", collection(&[&point(117.0, 36.0, "a")]));
    let loaded = load(&text);
    assert_eq!(loaded.layer.len(), 1);
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("ignored data after the end"))
    );
}

#[test]
fn many_bad_features_give_a_bounded_number_of_warnings() {
    let bad = feature(r#"{"type":"Point","coordinates":[500000,4000000]}"#);
    let all: Vec<&str> = std::iter::repeat_n(bad.as_str(), 5000).collect();
    let loaded = load(&collection(&all));
    assert!(loaded.layer.is_empty());
    assert!(loaded.warnings.len() <= 205, "{}", loaded.warnings.len());
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("more warnings not listed"))
    );
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("dropped 5000 of 5000"))
    );
}

#[test]
fn cancel_stops_the_load() {
    let one = point(117.0, 36.0, "x");
    let all: Vec<&str> = std::iter::repeat_n(one.as_str(), 3000).collect();
    let text = collection(&all);
    let progress = Progress::default();
    progress
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let result = read_geojson_reader(Path::new(FILE), text.as_bytes(), &progress);
    assert!(matches!(result, Err(LoadError::Cancelled { .. })));
}

/// Seeded random bytes and random mutations of a valid file: the reader returns Ok or Err
/// and never panics.
#[test]
fn random_and_mutated_input_never_panics() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let base = collection(&[
        &point(117.0, 36.0, "a"),
        r#"{"type":"Feature","properties":{"s":"x\"\\\u00e9\ud83d\ude00","n":-1.5e3,"b":true,"z":null,"a":[1,{"k":[2]}]},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2,3]},{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]],[[0.1,0.1],[0.2,0.1],[0.2,0.2],[0.1,0.1]]]]}]}}"#,
        r#"{"geometry":{"coordinates":[[0,0],[1,1]],"type":"MultiPoint"},"type":"Feature","properties":{}}"#,
        r#"{"type":"Feature","properties":{"v":NaN},"geometry":{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3]]]}}"#,
    ]);
    let alphabet = b"{}[]\":,.-+0123456789eENaIfinitytruefalsnul \\u\n\xEF\xBB\xBF\x00\xFF";
    let mut loaded_some = 0;
    for round in 0..4000 {
        let bytes: Vec<u8> = if round % 4 == 0 {
            let n = rng.random_range(0..300);
            (0..n)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect()
        } else {
            let mut b = base.as_bytes().to_vec();
            for _ in 0..rng.random_range(1..6) {
                let at = rng.random_range(0..b.len());
                match rng.random_range(0..4) {
                    0 => b[at] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => {
                        b.remove(at);
                    }
                    2 => b.insert(at, alphabet[rng.random_range(0..alphabet.len())]),
                    _ => b.truncate(at),
                }
                if b.is_empty() {
                    break;
                }
            }
            b
        };
        if let Ok(loaded) = read_geojson_bytes(Path::new(FILE), &bytes) {
            loaded_some += usize::from(!loaded.layer.is_empty());
            assert_eq!(loaded.layer.geometries.len(), loaded.layer.attributes.len());
            assert_eq!(
                loaded.layer.geometries.len(),
                loaded.layer.source_index.len()
            );
        }
    }
    assert!(
        loaded_some > 1000,
        "mutations should often still load: {loaded_some}"
    );
}
