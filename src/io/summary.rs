//! One JSON object describing a loaded layer: what `onemap inspect` prints.

use std::collections::BTreeSet;

use geo::{Geodesic, GeodesicArea, Geometry, Length};
use serde_json::{Value, json};

use crate::model::{Layer, ValueRef};

use super::{Loaded, SourceInfo};

/// Summarises a layer: `name`, `path`, `kind`, `features`, `geometry_types` (sorted),
/// `bbox` ([min lon, min lat, max lon, max lat] or null), `total_length_km` (geodesic length
/// of lines), `total_area_km2` (geodesic area of polygons, holes subtracted), `warnings`, and
/// for point layers `sums` (per field, the sum of its numeric values).
pub fn summarize(loaded: &Loaded) -> Value {
    let layer = &loaded.layer;
    let mut types = BTreeSet::new();
    let mut length_m = 0.0;
    let mut area_m2 = 0.0;
    for geometry in &layer.geometries {
        measure(geometry, &mut types, &mut length_m, &mut area_m2);
    }
    let bbox = layer
        .bbox()
        .map(|r| json!([r.min().x, r.min().y, r.max().x, r.max().y]))
        .unwrap_or(Value::Null);
    let mut summary = json!({
        "name": layer.name,
        "path": layer.path.as_ref().map(|p| p.display().to_string()),
        "kind": layer.kind.key(),
        "features": layer.len(),
        "geometry_types": types.into_iter().collect::<Vec<_>>(),
        "bbox": bbox,
        "total_length_km": length_m / 1000.0,
        "total_area_km2": area_m2 / 1e6,
        "warnings": loaded.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    if is_point_layer(layer)
        && let Some(object) = summary.as_object_mut()
    {
        object.insert("sums".into(), numeric_sums(layer));
    }
    summary
}

/// [`summarize`] plus what the reader decided about the file: `format`, `crs` (`name` and
/// `epsg`, null when unknown), `crs_reason`, `encoding` (null when the format has no encoded
/// text) and `encoding_reason`; for Excel also `sheet` (the one read) and `sheets` (all).
pub fn summarize_with_source(loaded: &Loaded, info: &SourceInfo) -> Value {
    let mut summary = summarize(loaded);
    if let Some(object) = summary.as_object_mut() {
        object.insert("format".into(), json!(info.format));
        object.insert(
            "crs".into(),
            info.crs
                .map(|crs| json!({"name": crs.name(), "epsg": crs.epsg()}))
                .unwrap_or(Value::Null),
        );
        object.insert("crs_reason".into(), json!(info.crs_reason));
        object.insert("encoding".into(), json!(info.encoding));
        object.insert("encoding_reason".into(), json!(info.encoding_reason));
        if !info.sheets.is_empty() {
            object.insert("sheet".into(), json!(info.sheet));
            object.insert("sheets".into(), json!(info.sheets));
        }
    }
    summary
}

fn measure(
    g: &Geometry<f64>,
    types: &mut BTreeSet<&'static str>,
    length_m: &mut f64,
    area_m2: &mut f64,
) {
    types.insert(type_name(g));
    match g {
        Geometry::LineString(l) => *length_m += Geodesic.length(l),
        Geometry::MultiLineString(m) => *length_m += Geodesic.length(m),
        Geometry::Line(l) => *length_m += Geodesic.length(l),
        // Signed then abs: the unsigned form reads a clockwise exterior as "the rest of the
        // Earth"; the signed one is right for either winding of a polygon smaller than that.
        Geometry::Polygon(p) => *area_m2 += p.geodesic_area_signed().abs(),
        Geometry::MultiPolygon(m) => {
            *area_m2 +=
                m.0.iter()
                    .map(|p| p.geodesic_area_signed().abs())
                    .sum::<f64>();
        }
        Geometry::GeometryCollection(c) => {
            for member in c {
                measure(member, types, length_m, area_m2);
            }
        }
        Geometry::Rect(r) => *area_m2 += r.to_polygon().geodesic_area_signed().abs(),
        Geometry::Triangle(t) => *area_m2 += t.to_polygon().geodesic_area_signed().abs(),
        Geometry::Point(_) | Geometry::MultiPoint(_) => {}
    }
}

fn type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// A point layer: not empty, and every feature a Point or MultiPoint.
fn is_point_layer(layer: &Layer) -> bool {
    !layer.is_empty()
        && layer
            .geometries
            .iter()
            .all(|g| matches!(g, Geometry::Point(_) | Geometry::MultiPoint(_)))
}

/// Per field with at least one number, the sum of its numbers (text, even numeric text,
/// does not count: a field of codes such as "0501" is not a quantity).
fn numeric_sums(layer: &Layer) -> Value {
    let table = &layer.attributes;
    let names: Vec<&str> = table.field_names().collect();
    let mut sums = serde_json::Map::new();
    for (field, name) in names.iter().enumerate() {
        let mut sum = 0.0;
        let mut any = false;
        for row in 0..table.len() {
            if let ValueRef::Number(n) = table.value(row, field) {
                sum += n;
                any = true;
            }
        }
        if any {
            sums.insert((*name).to_owned(), ValueRef::Number(sum).to_json());
        }
    }
    Value::Object(sums)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::io::geojson_reader::read_geojson_bytes;

    #[test]
    fn point_layer_summary_has_sums_bbox_and_types() {
        let text = br#"{"type":"FeatureCollection","name":"fire_stations","features":[
            {"type":"Feature","properties":{"trucks":3,"name":"A","personnel":20.5},"geometry":{"type":"Point","coordinates":[117.8,36.7]}},
            {"type":"Feature","properties":{"trucks":4,"name":"B"},"geometry":{"type":"Point","coordinates":[117.9,36.9]}}]}"#;
        let loaded = read_geojson_bytes(Path::new("x/fire.geojson"), text).unwrap();
        let s = summarize(&loaded);
        assert_eq!(s["name"], "fire_stations");
        assert_eq!(s["kind"], "fire_station");
        assert_eq!(s["features"], 2);
        assert_eq!(s["geometry_types"], json!(["Point"]));
        assert_eq!(s["bbox"], json!([117.8, 36.7, 117.9, 36.9]));
        assert_eq!(s["sums"], json!({"trucks": 7, "personnel": 20.5}));
        assert_eq!(s["total_length_km"], 0.0);
    }

    #[test]
    fn source_info_is_added() {
        let text = br#"{"type":"FeatureCollection","features":[]}"#;
        let loaded = read_geojson_bytes(Path::new("e.geojson"), text).unwrap();
        let info = SourceInfo {
            format: "Shapefile".into(),
            crs: crate::crs::Crs::from_epsg(4527).ok(),
            crs_reason: "from the .prj".into(),
            encoding: Some("GBK".into()),
            encoding_reason: "from the .cpg".into(),
            ..SourceInfo::default()
        };
        let s = summarize_with_source(&loaded, &info);
        assert_eq!(s["format"], "Shapefile");
        assert_eq!(s["crs"]["epsg"], 4527);
        assert_eq!(s["crs"]["name"], "CGCS2000 / 3-degree Gauss-Kruger zone 39");
        assert_eq!(s["crs_reason"], "from the .prj");
        assert_eq!(s["encoding"], "GBK");
        assert_eq!(s["encoding_reason"], "from the .cpg");
        let none = summarize_with_source(&loaded, &SourceInfo::default());
        assert!(none["crs"].is_null() && none["encoding"].is_null());
    }

    #[test]
    fn lengths_and_areas_are_geodesic_and_holes_subtract() {
        // 0.01 degree of latitude is about 1.1 km; a 0.01 x 0.01 degree square at the
        // equator is about 1.23 km2, its centre hole a quarter of that.
        let text = br#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":null,"geometry":{"type":"LineString","coordinates":[[0,0],[0,0.01]]}},
            {"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[
              [[0,0],[0.01,0],[0.01,0.01],[0,0.01],[0,0]],
              [[0.0025,0.0025],[0.0025,0.0075],[0.0075,0.0075],[0.0075,0.0025],[0.0025,0.0025]]]}}]}"#;
        let loaded = read_geojson_bytes(Path::new("mixed.geojson"), text).unwrap();
        let s = summarize(&loaded);
        let km = s["total_length_km"].as_f64().unwrap();
        assert!((km - 1.10574).abs() < 0.001, "{km}");
        let km2 = s["total_area_km2"].as_f64().unwrap();
        let full = 1.113_195 * 1.105_74;
        assert!((km2 - full * 0.75).abs() < 0.01, "{km2}");
        assert!(s.get("sums").is_none());
        assert_eq!(s["geometry_types"], json!(["LineString", "Polygon"]));
    }

    #[test]
    fn clockwise_exterior_gives_the_same_area() {
        let ccw =
            br#"{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0.01],[0,0.01],[0,0]]]}"#;
        let cw =
            br#"{"type":"Polygon","coordinates":[[[0,0],[0,0.01],[0.01,0.01],[0.01,0],[0,0]]]}"#;
        let a = summarize(&read_geojson_bytes(Path::new("a.geojson"), ccw).unwrap());
        let b = summarize(&read_geojson_bytes(Path::new("b.geojson"), cw).unwrap());
        let (a, b) = (
            a["total_area_km2"].as_f64().unwrap(),
            b["total_area_km2"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-9 && a > 1.0 && a < 1.5, "{a} {b}");
    }
}
