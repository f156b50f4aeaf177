//! GeoJSON out (RFC 7946): a FeatureCollection streamed feature by feature through a
//! buffered writer, typed properties in field order, exteriors counter-clockwise.
//!
//! RFC 7946 allows only WGS84 longitude/latitude. GCJ-02 and BD-09 output is still written
//! (Amap/Baidu-based systems want it) but the collection says so in a top-level `crs_note`
//! member; projected systems are refused, since no GeoJSON reader would place them.

use crate::io::staged::StagedFile;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use geo::{Coord, Geometry, LineString, Polygon};

use super::write::{Reprojector, WriteError, WriteOptions, WriteReport, feature_warning, oriented};
use crate::crs::Crs;
use crate::model::Layer;

/// Decimal places kept for degrees: 1e-9 degree is about 0.1 mm.
const DEGREE_DECIMALS: usize = 9;

/// The `crs_note` written when the coordinates are not WGS84, or `None` for WGS84.
pub fn crs_note(crs: Crs) -> Option<String> {
    match crs {
        Crs::Gcj02 => Some(
            "GCJ-02: these coordinates are GCJ-02 (Amap/Gaode, Tencent), not WGS 84 as RFC 7946 \
             requires; for overlay on GCJ-02 maps only (elsewhere they sit about 500 m off)"
                .to_string(),
        ),
        Crs::Bd09 => Some(
            "BD-09: these coordinates are BD-09 (Baidu), not WGS 84 as RFC 7946 requires; for \
             overlay on Baidu maps only (elsewhere they sit about 500 m off)"
                .to_string(),
        ),
        _ => None,
    }
}

/// Writes one layer as a GeoJSON FeatureCollection at `path`.
pub fn write_geojson(
    path: &Path,
    layer: &Layer,
    options: &WriteOptions,
    report: &mut WriteReport,
) -> Result<(), WriteError> {
    if !options.crs.is_geographic() {
        return Err(WriteError::unsupported(
            path,
            format!(
                "GeoJSON holds WGS 84 longitude/latitude only (RFC 7946), not {}: write a \
                 Shapefile (.shp) or GeoPackage (.gpkg) to keep projected coordinates",
                options.crs
            ),
        ));
    }
    let reprojector = Reprojector::new(path, options.crs)?;
    let mut out = StagedFile::create(path).map_err(|e| WriteError::io(path, e))?;
    let io_error = |e| WriteError::io(path, e);

    let mut head = String::from("{\"type\":\"FeatureCollection\",\"name\":");
    head.push_str(&json_string(&layer.name));
    if let Some(note) = crs_note(options.crs) {
        head.push_str(",\"crs_note\":");
        head.push_str(&json_string(&note));
        report.warnings.push(format!(
            "{}: written in {}, not WGS 84; the file says so in \"crs_note\"",
            path.display(),
            options.crs.name()
        ));
    }
    head.push_str(",\"features\":[");
    out.write_all(head.as_bytes()).map_err(io_error)?;

    let names: Vec<&str> = layer.attributes.field_names().collect();
    let mut feature = String::new();
    let mut written = 0usize;
    for (row, geometry) in layer.geometries.iter().enumerate() {
        let geometry = match reprojector.apply(geometry) {
            Ok(g) => g,
            Err(e) => {
                report
                    .warnings
                    .push(feature_warning(path, layer, row, &format!("skipped: {e}")));
                continue;
            }
        };
        feature.clear();
        feature.push_str(if written == 0 { "\n" } else { ",\n" });
        feature.push_str("{\"type\":\"Feature\",\"properties\":{");
        for (field, name) in names.iter().enumerate() {
            if field > 0 {
                feature.push(',');
            }
            feature.push_str(&json_string(name));
            feature.push(':');
            // to_json writes NaN as null and integers without a fraction.
            let value = layer.attributes.value(row, field).to_json();
            feature.push_str(&value.to_string());
        }
        feature.push_str("},\"geometry\":");
        push_geometry(&mut feature, &geometry);
        feature.push('}');
        out.write_all(feature.as_bytes()).map_err(io_error)?;
        written += 1;
    }
    out.write_all(b"\n]}\n").map_err(io_error)?;
    out.finish().map_err(io_error)?;
    report.files.push(path.to_owned());
    Ok(())
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Degrees rounded to 1e-9 with trailing zeros dropped ("117.5", "36.800000001").
fn push_number(out: &mut String, value: f64) {
    let start = out.len();
    let _ = write!(out, "{value:.DEGREE_DECIMALS$}");
    if out[start..].contains('.') {
        let trimmed = out[start..]
            .trim_end_matches('0')
            .trim_end_matches('.')
            .len();
        out.truncate(start + trimmed);
    }
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

fn push_coord(out: &mut String, c: Coord<f64>) {
    out.push('[');
    push_number(out, c.x);
    out.push(',');
    push_number(out, c.y);
    out.push(']');
}

fn push_coords(out: &mut String, coords: impl IntoIterator<Item = Coord<f64>>) {
    out.push('[');
    for (i, c) in coords.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_coord(out, c);
    }
    out.push(']');
}

fn push_line(out: &mut String, line: &LineString<f64>) {
    push_coords(out, line.0.iter().copied());
}

/// RFC 7946 section 3.1.6: exterior rings counter-clockwise, holes clockwise.
fn push_polygon_rings(out: &mut String, polygon: &Polygon<f64>) {
    out.push('[');
    push_coords(out, oriented(polygon.exterior(), false));
    for hole in polygon.interiors() {
        out.push(',');
        push_coords(out, oriented(hole, true));
    }
    out.push(']');
}

fn push_geometry(out: &mut String, geometry: &Geometry<f64>) {
    match geometry {
        Geometry::Point(p) => {
            out.push_str("{\"type\":\"Point\",\"coordinates\":");
            push_coord(out, p.0);
        }
        Geometry::MultiPoint(m) => {
            out.push_str("{\"type\":\"MultiPoint\",\"coordinates\":");
            push_coords(out, m.0.iter().map(|p| p.0));
        }
        Geometry::Line(l) => {
            out.push_str("{\"type\":\"LineString\",\"coordinates\":");
            push_coords(out, [l.start, l.end]);
        }
        Geometry::LineString(l) => {
            out.push_str("{\"type\":\"LineString\",\"coordinates\":");
            push_line(out, l);
        }
        Geometry::MultiLineString(m) => {
            out.push_str("{\"type\":\"MultiLineString\",\"coordinates\":[");
            for (i, l) in m.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_line(out, l);
            }
            out.push(']');
        }
        Geometry::Polygon(p) => {
            out.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            push_polygon_rings(out, p);
        }
        Geometry::Rect(r) => {
            out.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            push_polygon_rings(out, &r.to_polygon());
        }
        Geometry::Triangle(t) => {
            out.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            push_polygon_rings(out, &t.to_polygon());
        }
        Geometry::MultiPolygon(m) => {
            out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
            for (i, p) in m.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_polygon_rings(out, p);
            }
            out.push(']');
        }
        Geometry::GeometryCollection(c) => {
            out.push_str("{\"type\":\"GeometryCollection\",\"geometries\":[");
            for (i, g) in c.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_geometry(out, g);
            }
            out.push(']');
        }
    }
    out.push('}');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::io::geojson_reader::read_geojson_bytes;
    use crate::model::ValueRef;
    use geo::{Point, polygon};

    fn sample() -> Layer {
        let mut layer = Layer {
            name: "避难场所".to_string(),
            ..Layer::default()
        };
        layer
            .geometries
            .push(Geometry::Point(Point::new(117.123456789, 36.8)));
        layer.attributes.push_row([
            ("名称", ValueRef::Text("一号\"广场\"")),
            ("area", ValueRef::Number(2500.0)),
            ("ratio", ValueRef::Number(f64::NAN)),
            ("open", ValueRef::Bool(true)),
        ]);
        // Clockwise exterior on purpose: the writer must turn it.
        layer.geometries.push(Geometry::Polygon(polygon![
            (x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0)
        ]));
        layer.attributes.push_row([("名称", ValueRef::Null)]);
        layer.source_index = vec![0, 1];
        layer
    }

    #[test]
    fn writes_typed_properties_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.geojson");
        let mut report = WriteReport::default();
        write_geojson(&path, &sample(), &WriteOptions::default(), &mut report).unwrap();
        assert_eq!(report.files, std::slice::from_ref(&path));
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["name"], "避难场所");
        let p = &json["features"][0]["properties"];
        assert_eq!(p["名称"], "一号\"广场\"");
        assert_eq!(p["area"], 2500);
        assert!(p["ratio"].is_null());
        assert_eq!(p["open"], true);
        assert_eq!(
            json["features"][0]["geometry"]["coordinates"],
            serde_json::json!([117.123456789, 36.8])
        );
        let ring = &json["features"][1]["geometry"]["coordinates"][0];
        assert_eq!(ring[1], serde_json::json!([1, 0]), "exterior turned CCW");
        assert!(json.get("crs_note").is_none());
        let back = read_geojson_bytes(&path, text.as_bytes()).unwrap();
        assert_eq!(back.layer.len(), 2);
        assert_eq!(
            back.layer.attributes.get(0, "area"),
            ValueRef::Number(2500.0)
        );
    }

    #[test]
    fn gcj02_is_written_with_a_note_and_projected_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gcj.geojson");
        let mut report = WriteReport::default();
        let options = WriteOptions {
            crs: Crs::Gcj02,
            ..WriteOptions::default()
        };
        write_geojson(&path, &sample(), &options, &mut report).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(json["crs_note"].as_str().unwrap().starts_with("GCJ-02"));
        let lon = json["features"][0]["geometry"]["coordinates"][0]
            .as_f64()
            .unwrap();
        assert!((lon - 117.123456789).abs() > 0.003, "shifted: {lon}");
        assert_eq!(report.warnings.len(), 1);

        let gk = WriteOptions {
            crs: Crs::from_epsg(4527).unwrap(),
            ..WriteOptions::default()
        };
        let e = write_geojson(&path, &sample(), &gk, &mut report).unwrap_err();
        assert!(e.to_string().contains("Shapefile"), "{e}");
    }

    #[test]
    fn numbers_are_rounded_to_a_nanodegree() {
        let mut s = String::new();
        push_number(&mut s, 117.000_000_000_4);
        s.push(' ');
        push_number(&mut s, -0.000_000_000_1);
        s.push(' ');
        push_number(&mut s, 36.5);
        assert_eq!(s, "117 0 36.5");
    }
}
