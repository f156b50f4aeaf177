//! KML/KMZ out: one Folder per layer, one Placemark per feature with its attributes as
//! ExtendedData, every geometry type (collections as nested MultiGeometry).
//!
//! Columns whose values all share one type are declared in a `<Schema>` and written as
//! typed `SimpleData`, so that text such as "0531" reads back as text and numbers as
//! numbers; columns of mixed type are written as untyped `<Data>`. A text attribute called
//! `name` (or `description`) becomes the placemark's own `<name>` (`<description>`); without
//! one, a label column such as 名称 is also shown as `<name>` so Google Earth and Ovital
//! label the placemarks. Coordinates are written as given (layers are WGS84) with Rust's
//! shortest round-trip float formatting, so a write and read back returns the same numbers.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use geo::{Coord, Geometry, LineString, Polygon};
use quick_xml::escape::escape;

use crate::model::{Layer, ValueRef};

/// Columns shown as a placemark's `<name>` when the layer has no `name` column, in order.
const LABEL_FIELDS: &[&str] = &["名称", "NAME", "Name", "title", "名字", "label"];

/// Writes layers as KML (or KMZ when the path ends in `.kmz`); returns warnings for features
/// that could not be written (they are left out). Errors name the path.
pub fn write_kml(path: &Path, layers: &[&Layer]) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let document_name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kml = kml_text(&document_name, layers, &mut warnings);
    let is_kmz = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("kmz"));
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{}: {what}: {e}", path.display());
    let mut out = crate::io::staged::StagedFile::create(path)
        .map_err(|e| fail("cannot create the file", &e))?;
    if is_kmz {
        let mut zip = zip::ZipWriter::new(out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("doc.kml", options)
            .map_err(|e| fail("cannot start the KMZ entry", &e))?;
        zip.write_all(kml.as_bytes())
            .map_err(|e| fail("cannot write the KMZ", &e))?;
        let inner = zip
            .finish()
            .map_err(|e| fail("cannot finish the KMZ", &e))?;
        inner.finish().map_err(|e| fail("cannot write", &e))?;
    } else {
        out.write_all(kml.as_bytes())
            .map_err(|e| fail("cannot write", &e))?;
        out.finish().map_err(|e| fail("cannot write", &e))?;
    }
    Ok(warnings)
}

/// The type a column is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    String,
    Double,
    Bool,
    /// Values of several types (or JSON): untyped `<Data>`.
    Untyped,
}

/// The whole KML document as text.
pub fn kml_text(document_name: &str, layers: &[&Layer], warnings: &mut Vec<String>) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<kml xmlns=\"http://www.opengis.net/kml/2.2\" \
         xmlns:gx=\"http://www.google.com/kml/ext/2.2\">\n<Document>\n",
    );
    let _ = writeln!(out, "<name>{}</name>", escape(xml_chars(document_name)));
    let plans: Vec<Vec<(String, ColumnType)>> = layers.iter().map(|l| column_plan(l)).collect();
    for (layer_index, columns) in plans.iter().enumerate() {
        let typed: Vec<&(String, ColumnType)> = columns
            .iter()
            .filter(|(_, t)| *t != ColumnType::Untyped)
            .collect();
        if !typed.is_empty() {
            let _ = writeln!(
                out,
                "<Schema name=\"layer{layer_index}\" id=\"layer{layer_index}\">"
            );
            for (name, kind) in &typed {
                let type_name = match kind {
                    ColumnType::String => "string",
                    ColumnType::Double => "double",
                    ColumnType::Bool => "bool",
                    ColumnType::Untyped => continue,
                };
                let _ = writeln!(
                    out,
                    "<SimpleField name=\"{}\" type=\"{type_name}\"/>",
                    escape(xml_chars(name))
                );
            }
            out.push_str("</Schema>\n");
        }
    }
    for (layer_index, (layer, columns)) in layers.iter().zip(&plans).enumerate() {
        out.push_str("<Folder>\n");
        let _ = writeln!(out, "<name>{}</name>", escape(xml_chars(&layer.name)));
        // A label column only stands in when there is no `name` column at all, so that no
        // placemark carries two different names.
        let has_name_column = layer.attributes.field_index("name").is_some();
        let label_field = LABEL_FIELDS
            .iter()
            .filter(|_| !has_name_column)
            .find(|f| {
                columns
                    .iter()
                    .any(|(n, t)| n == *f && *t == ColumnType::String)
            })
            .copied();
        for (row, geometry) in layer.geometries.iter().enumerate() {
            let mut body = String::new();
            if let Err(problem) = write_geometry(&mut body, geometry) {
                warnings.push(format!(
                    "layer '{}' feature {row}: not written: {problem}",
                    layer.name
                ));
                continue;
            }
            out.push_str("<Placemark>\n");
            let name = match layer.attributes.get(row, "name") {
                ValueRef::Text(t) => Some(t),
                _ => label_field.and_then(|f| match layer.attributes.get(row, f) {
                    ValueRef::Text(t) => Some(t),
                    _ => None,
                }),
            };
            if let Some(name) = name {
                let _ = writeln!(out, "<name>{}</name>", escape(xml_chars(name)));
            }
            if let ValueRef::Text(d) = layer.attributes.get(row, "description") {
                let _ = writeln!(out, "<description>{}</description>", escape(xml_chars(d)));
            }
            write_extended_data(&mut out, layer, row, columns, layer_index);
            out.push_str(&body);
            out.push_str("</Placemark>\n");
        }
        out.push_str("</Folder>\n");
    }
    out.push_str("</Document>\n</kml>\n");
    out
}

/// Each column with the type it is written as; `name`/`description` text columns are the
/// placemark's own elements and are left out.
fn column_plan(layer: &Layer) -> Vec<(String, ColumnType)> {
    let table = &layer.attributes;
    table
        .field_names()
        .enumerate()
        .filter_map(|(field, name)| {
            let mut kind: Option<ColumnType> = None;
            for row in 0..table.len() {
                let this = match table.value(row, field) {
                    ValueRef::Null => continue,
                    ValueRef::Text(_) => ColumnType::String,
                    ValueRef::Number(_) => ColumnType::Double,
                    ValueRef::Bool(_) => ColumnType::Bool,
                    ValueRef::Json(_) => ColumnType::Untyped,
                };
                kind = match kind {
                    None => Some(this),
                    Some(k) if k == this => Some(k),
                    Some(_) => Some(ColumnType::Untyped),
                };
            }
            let kind = kind.unwrap_or(ColumnType::String);
            let own_element =
                (name == "name" || name == "description") && kind == ColumnType::String;
            (!own_element).then(|| (name.to_owned(), kind))
        })
        .collect()
}

fn value_text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Number(n) => format!("{n}"),
        other => xml_chars(&other.to_string()).into_owned(),
    }
}

/// Text without the control characters XML 1.0 forbids (they would make the file unreadable).
fn xml_chars(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| !c.is_control() || matches!(c, '\t' | '\n' | '\r') || c > '\u{9f}';
    if text.chars().all(allowed) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|c| allowed(*c)).collect())
    }
}

fn write_extended_data(
    out: &mut String,
    layer: &Layer,
    row: usize,
    columns: &[(String, ColumnType)],
    layer_index: usize,
) {
    let values: Vec<(&str, ColumnType, ValueRef<'_>)> = columns
        .iter()
        .map(|(name, kind)| (name.as_str(), *kind, layer.attributes.get(row, name)))
        .filter(|(_, _, v)| !v.is_null())
        .collect();
    if values.is_empty() {
        return;
    }
    out.push_str("<ExtendedData>\n");
    for (name, _, value) in values.iter().filter(|(_, k, _)| *k == ColumnType::Untyped) {
        let _ = writeln!(
            out,
            "<Data name=\"{}\"><value>{}</value></Data>",
            escape(xml_chars(name)),
            escape(value_text(*value).as_str())
        );
    }
    let typed: Vec<_> = values
        .iter()
        .filter(|(_, k, _)| *k != ColumnType::Untyped)
        .collect();
    if !typed.is_empty() {
        let _ = writeln!(out, "<SchemaData schemaUrl=\"#layer{layer_index}\">");
        for (name, _, value) in typed {
            let _ = writeln!(
                out,
                "<SimpleData name=\"{}\">{}</SimpleData>",
                escape(xml_chars(name)),
                escape(value_text(*value).as_str())
            );
        }
        out.push_str("</SchemaData>\n");
    }
    out.push_str("</ExtendedData>\n");
}

fn write_coords(out: &mut String, coords: impl Iterator<Item = Coord<f64>>) -> Result<(), String> {
    out.push_str("<coordinates>");
    let mut first = true;
    for c in coords {
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err(format!("coordinate ({}, {}) is not a number", c.x, c.y));
        }
        if !first {
            out.push(' ');
        }
        first = false;
        let _ = write!(out, "{},{}", c.x, c.y);
    }
    out.push_str("</coordinates>");
    Ok(())
}

fn write_line(out: &mut String, line: &LineString<f64>) -> Result<(), String> {
    if line.0.len() < 2 {
        return Err(format!("a line with {} position(s)", line.0.len()));
    }
    out.push_str("<LineString>");
    write_coords(out, line.coords().copied())?;
    out.push_str("</LineString>\n");
    Ok(())
}

fn write_ring(out: &mut String, ring: &LineString<f64>) -> Result<(), String> {
    out.push_str("<LinearRing>");
    write_coords(out, ring.coords().copied())?;
    out.push_str("</LinearRing>");
    Ok(())
}

fn write_polygon(out: &mut String, polygon: &Polygon<f64>) -> Result<(), String> {
    if polygon.exterior().0.len() < 4 {
        return Err("a polygon without an outer ring".to_owned());
    }
    out.push_str("<Polygon><outerBoundaryIs>");
    write_ring(out, polygon.exterior())?;
    out.push_str("</outerBoundaryIs>");
    for inner in polygon.interiors() {
        out.push_str("<innerBoundaryIs>");
        write_ring(out, inner)?;
        out.push_str("</innerBoundaryIs>");
    }
    out.push_str("</Polygon>\n");
    Ok(())
}

/// Writes one geometry; a Line, Rect or Triangle is written as the LineString or Polygon it is.
fn write_geometry(out: &mut String, geometry: &Geometry<f64>) -> Result<(), String> {
    match geometry {
        Geometry::Point(p) => {
            out.push_str("<Point>");
            write_coords(out, std::iter::once(p.0))?;
            out.push_str("</Point>\n");
            Ok(())
        }
        Geometry::Line(l) => write_line(out, &LineString::from(vec![l.start, l.end])),
        Geometry::LineString(l) => write_line(out, l),
        Geometry::Polygon(p) => write_polygon(out, p),
        Geometry::Rect(r) => write_polygon(out, &r.to_polygon()),
        Geometry::Triangle(t) => write_polygon(out, &t.to_polygon()),
        Geometry::MultiPoint(m) => write_multi(
            out,
            m.0.iter()
                .map(|p| Geometry::Point(*p))
                .collect::<Vec<_>>()
                .iter(),
        ),
        Geometry::MultiLineString(m) => write_multi(
            out,
            m.0.iter()
                .map(|l| Geometry::LineString(l.clone()))
                .collect::<Vec<_>>()
                .iter(),
        ),
        Geometry::MultiPolygon(m) => write_multi(
            out,
            m.0.iter()
                .map(|p| Geometry::Polygon(p.clone()))
                .collect::<Vec<_>>()
                .iter(),
        ),
        Geometry::GeometryCollection(c) => write_multi(out, c.0.iter()),
    }
}

fn write_multi<'a>(
    out: &mut String,
    parts: impl Iterator<Item = &'a Geometry<f64>>,
) -> Result<(), String> {
    let mut body = String::new();
    let mut count = 0;
    for part in parts {
        write_geometry(&mut body, part)?;
        count += 1;
    }
    if count == 0 {
        return Err("an empty multi-geometry".to_owned());
    }
    out.push_str("<MultiGeometry>\n");
    out.push_str(&body);
    out.push_str("</MultiGeometry>\n");
    Ok(())
}
