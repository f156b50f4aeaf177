//! CSV out: geometry as a WKT column or as lon/lat columns (point layers), then every
//! attribute; RFC 4180 quoting by the csv crate.
//!
//! Text is UTF-8 unless the options name another encoding (GBK suits Chinese Excel, which
//! opens a CSV in the ANSI code page). For UTF-8, `csv_bom` puts a byte-order mark first:
//! Excel needs it to recognise UTF-8 instead of showing mojibake.

use crate::io::staged::StagedFile;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use encoding_rs::Encoding;
use geo::{Coord, Geometry, LineString, Polygon};

use super::write::{
    CsvGeometry, Reprojector, WriteError, WriteOptions, WriteReport, feature_warning, number_text,
    oriented,
};
use crate::model::{Layer, ValueRef};

/// Writes one layer as CSV at `path`.
pub fn write_csv(
    path: &Path,
    layer: &Layer,
    options: &WriteOptions,
    report: &mut WriteReport,
) -> Result<(), WriteError> {
    let all_points = layer
        .geometries
        .iter()
        .all(|g| matches!(g, Geometry::Point(_)));
    let lon_lat = match options.csv_geometry {
        CsvGeometry::Auto => all_points,
        CsvGeometry::Wkt => false,
        CsvGeometry::LonLat if all_points => true,
        CsvGeometry::LonLat => {
            return Err(WriteError::unsupported(
                path,
                "lon/lat columns hold points only and this layer has lines, polygons or \
                 multi-points: write WKT instead",
            ));
        }
    };
    let encoding = match &options.encoding {
        Some(label) => super::encoding_for_label(label).ok_or_else(|| {
            WriteError::unsupported(path, format!("unknown encoding \"{label}\""))
        })?,
        None => encoding_rs::UTF_8,
    };
    let reprojector = Reprojector::new(path, options.crs)?;
    let names: Vec<&str> = layer.attributes.field_names().collect();
    let taken: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let free = |candidates: &[&'static str]| {
        candidates
            .iter()
            .copied()
            .find(|c| !taken.contains(&c.to_lowercase()))
            .unwrap_or(candidates[candidates.len() - 1])
    };
    let geographic = options.crs.is_geographic();
    let mut header: Vec<String> = if lon_lat {
        if geographic {
            vec![
                free(&["lon", "longitude", "_lon"]).to_string(),
                free(&["lat", "latitude", "_lat"]).to_string(),
            ]
        } else {
            vec![
                free(&["x", "easting", "_x"]).to_string(),
                free(&["y", "northing", "_y"]).to_string(),
            ]
        }
    } else {
        vec![free(&["WKT", "geometry_wkt", "_wkt"]).to_string()]
    };
    header.extend(names.iter().map(|n| (*n).to_string()));

    let mut buffered = StagedFile::create(path).map_err(|e| WriteError::io(path, e))?;
    if options.csv_bom && encoding == encoding_rs::UTF_8 {
        buffered
            .write_all(b"\xEF\xBB\xBF")
            .map_err(|e| WriteError::io(path, e))?;
    }
    let mut writer = csv::WriterBuilder::new().from_writer(buffered);
    let csv_error = |e: csv::Error| {
        WriteError::io(
            path,
            match e.into_kind() {
                csv::ErrorKind::Io(io) => io,
                other => std::io::Error::other(format!("{other:?}")),
            },
        )
    };
    let mut unmappable = 0usize;
    let mut record: Vec<Vec<u8>> = Vec::with_capacity(header.len());
    let encode =
        |text: &str, unmappable: &mut usize| -> Vec<u8> { encode_text(encoding, text, unmappable) };
    let head: Vec<Vec<u8>> = header.iter().map(|h| encode(h, &mut unmappable)).collect();
    writer.write_record(&head).map_err(csv_error)?;

    let mut text = String::new();
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
        record.clear();
        if lon_lat {
            let Geometry::Point(p) = geometry.as_ref() else {
                continue;
            };
            record.push(coordinate_text(p.x()).into_bytes());
            record.push(coordinate_text(p.y()).into_bytes());
        } else {
            text.clear();
            push_wkt(&mut text, &geometry);
            record.push(text.as_bytes().to_vec());
        }
        for field in 0..names.len() {
            let value = cell_text(layer.attributes.value(row, field));
            record.push(encode(&value, &mut unmappable));
        }
        writer.write_record(&record).map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| WriteError::io(path, e.into_error()))?
        .finish()
        .map_err(|e| WriteError::io(path, e))?;
    if unmappable > 0 {
        report.warnings.push(format!(
            "{}: {unmappable} text value(s) have characters {} cannot hold; they were written \
             as &#NNNN; references",
            path.display(),
            encoding.name()
        ));
    }
    if matches!(options.crs, crate::crs::Crs::Gcj02 | crate::crs::Crs::Bd09) {
        report.warnings.push(format!(
            "{}: coordinates written in {}, not WGS 84; a CSV cannot say so, so name the file \
             for it (e.g. ..._gcj02.csv) and choose {} when reading it back",
            path.display(),
            options.crs.name(),
            if options.crs == crate::crs::Crs::Gcj02 {
                "gcj02"
            } else {
                "bd09"
            }
        ));
    }
    report.files.push(path.to_owned());
    Ok(())
}

/// `text` in `encoding`, counting values with characters the encoding cannot hold.
pub(crate) fn encode_text<'a>(
    encoding: &'static Encoding,
    text: &'a str,
    unmappable: &mut usize,
) -> Vec<u8> {
    let (bytes, _, had_errors): (Cow<'a, [u8]>, _, bool) = encoding.encode(text);
    if had_errors {
        *unmappable += 1;
    }
    bytes.into_owned()
}

fn cell_text(value: ValueRef<'_>) -> Cow<'_, str> {
    match value {
        ValueRef::Null => Cow::Borrowed(""),
        ValueRef::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
        ValueRef::Number(n) => Cow::Owned(number_text(n).unwrap_or_default()),
        ValueRef::Text(t) | ValueRef::Json(t) => Cow::Borrowed(t),
    }
}

/// Shortest text that reads back to the same coordinate.
fn coordinate_text(v: f64) -> String {
    format!("{v}")
}

fn push_coord(out: &mut String, c: Coord<f64>) {
    let _ = write!(out, "{} {}", c.x, c.y);
}

fn push_coord_list(out: &mut String, coords: impl IntoIterator<Item = Coord<f64>>) {
    out.push('(');
    for (i, c) in coords.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_coord(out, c);
    }
    out.push(')');
}

fn push_line(out: &mut String, line: &LineString<f64>) {
    push_coord_list(out, line.0.iter().copied());
}

/// OGC simple features do not fix a winding; RFC 7946's (exterior counter-clockwise) is
/// used so that CSV and GeoJSON output agree.
fn push_polygon(out: &mut String, polygon: &Polygon<f64>) {
    out.push('(');
    push_coord_list(out, oriented(polygon.exterior(), false));
    for hole in polygon.interiors() {
        out.push_str(", ");
        push_coord_list(out, oriented(hole, true));
    }
    out.push(')');
}

/// Well-known text of a geometry ("POINT (117.1 36.8)"); empty geometries as "... EMPTY".
pub fn push_wkt(out: &mut String, geometry: &Geometry<f64>) {
    match geometry {
        Geometry::Point(p) => {
            out.push_str("POINT ");
            push_coord_list(out, [p.0]);
        }
        Geometry::MultiPoint(m) if m.0.is_empty() => out.push_str("MULTIPOINT EMPTY"),
        Geometry::MultiPoint(m) => {
            out.push_str("MULTIPOINT ");
            out.push('(');
            for (i, p) in m.0.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_coord_list(out, [p.0]);
            }
            out.push(')');
        }
        Geometry::Line(l) => {
            out.push_str("LINESTRING ");
            push_coord_list(out, [l.start, l.end]);
        }
        Geometry::LineString(l) if l.0.is_empty() => out.push_str("LINESTRING EMPTY"),
        Geometry::LineString(l) => {
            out.push_str("LINESTRING ");
            push_line(out, l);
        }
        Geometry::MultiLineString(m) if m.0.is_empty() => out.push_str("MULTILINESTRING EMPTY"),
        Geometry::MultiLineString(m) => {
            out.push_str("MULTILINESTRING (");
            for (i, l) in m.0.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_line(out, l);
            }
            out.push(')');
        }
        Geometry::Polygon(p) if p.exterior().0.is_empty() => out.push_str("POLYGON EMPTY"),
        Geometry::Polygon(p) => {
            out.push_str("POLYGON ");
            push_polygon(out, p);
        }
        Geometry::Rect(r) => push_wkt(out, &Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => push_wkt(out, &Geometry::Polygon(t.to_polygon())),
        Geometry::MultiPolygon(m) if m.0.is_empty() => out.push_str("MULTIPOLYGON EMPTY"),
        Geometry::MultiPolygon(m) => {
            out.push_str("MULTIPOLYGON (");
            for (i, p) in m.0.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_polygon(out, p);
            }
            out.push(')');
        }
        Geometry::GeometryCollection(c) if c.0.is_empty() => {
            out.push_str("GEOMETRYCOLLECTION EMPTY");
        }
        Geometry::GeometryCollection(c) => {
            out.push_str("GEOMETRYCOLLECTION (");
            for (i, g) in c.0.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_wkt(out, g);
            }
            out.push(')');
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crs::Crs;
    use crate::io::Progress;
    use crate::io::csv_reader::{CsvOptions, read_csv_points};
    use geo::{Point, line_string, polygon};

    fn points() -> Layer {
        let mut layer = Layer {
            name: "pts".into(),
            ..Layer::default()
        };
        for (i, (x, y, name)) in [
            (117.87, 36.8, "周村, \"东\"站"),
            (117.9, 36.78, "多行\n文本"),
        ]
        .into_iter()
        .enumerate()
        {
            layer.geometries.push(Geometry::Point(Point::new(x, y)));
            layer.attributes.push_row([
                ("名称", ValueRef::Text(name)),
                ("n", ValueRef::Number(i as f64 + 0.5)),
                ("ok", ValueRef::Bool(i == 0)),
            ]);
        }
        layer.source_index = vec![0, 1];
        layer
    }

    #[test]
    fn point_layers_get_lon_lat_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pts.csv");
        let mut report = WriteReport::default();
        let options = WriteOptions {
            csv_bom: true,
            ..WriteOptions::default()
        };
        write_csv(&path, &points(), &options, &mut report).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFlon,lat,"));
        let (back, info) =
            read_csv_points(&path, &CsvOptions::default(), &Progress::default()).unwrap();
        assert_eq!(info.crs, Crs::Wgs84);
        assert_eq!(back.layer.len(), 2);
        assert_eq!(
            back.layer.attributes.get(0, "名称"),
            ValueRef::Text("周村, \"东\"站")
        );
        assert_eq!(
            back.layer.attributes.get(1, "名称"),
            ValueRef::Text("多行\n文本")
        );
        let Geometry::Point(p) = back.layer.geometries[0] else {
            panic!("not a point")
        };
        assert_eq!((p.x(), p.y()), (117.87, 36.8));
    }

    #[test]
    fn gbk_and_projected_lon_lat() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gk.csv");
        let mut report = WriteReport::default();
        let options = WriteOptions {
            crs: Crs::from_epsg(4527).unwrap(),
            encoding: Some("gbk".into()),
            ..WriteOptions::default()
        };
        write_csv(&path, &points(), &options, &mut report).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (text, _, errors) = encoding_rs::GBK.decode(&bytes);
        assert!(!errors);
        assert!(text.starts_with("x,y,名称,n,ok\n"), "{text}");
        let (back, info) = read_csv_points(
            &path,
            &CsvOptions {
                encoding: Some("gbk".into()),
                crs: Some(Crs::from_epsg(4527).unwrap()),
                ..CsvOptions::default()
            },
            &Progress::default(),
        )
        .unwrap();
        assert_eq!(info.x_col, "x");
        let Geometry::Point(p) = back.layer.geometries[1] else {
            panic!("not a point")
        };
        assert!((p.x() - 117.9).abs() < 1e-9 && (p.y() - 36.78).abs() < 1e-9);
    }

    #[test]
    fn wkt_for_lines_and_polygons() {
        let mut out = String::new();
        push_wkt(
            &mut out,
            &Geometry::Polygon(polygon![(x: 0., y: 0.), (x: 0., y: 1.), (x: 1., y: 1.)]),
        );
        assert_eq!(out, "POLYGON ((0 0, 1 1, 0 1, 0 0))");
        out.clear();
        push_wkt(
            &mut out,
            &Geometry::LineString(line_string![(x: 117.5, y: 36.25), (x: 1., y: 2.)]),
        );
        assert_eq!(out, "LINESTRING (117.5 36.25, 1 2)");

        let mut layer = points();
        layer.geometries[1] = Geometry::LineString(line_string![(x: 1., y: 2.), (x: 3., y: 4.)]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.csv");
        let mut report = WriteReport::default();
        write_csv(&path, &layer, &WriteOptions::default(), &mut report).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("WKT,名称,n,ok\nPOINT (117.87 36.8),"),
            "{text}"
        );
        assert!(
            text.contains("\"LINESTRING (1 2, 3 4)\",\"多行\n文本\",1.5,false"),
            "{text}"
        );
        let lonlat = WriteOptions {
            csv_geometry: CsvGeometry::LonLat,
            ..WriteOptions::default()
        };
        assert!(write_csv(&path, &layer, &lonlat, &mut report).is_err());
    }
}
