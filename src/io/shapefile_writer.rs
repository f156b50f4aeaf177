//! Shapefile out: .shp, .shx, .dbf, .prj (ESRI WKT of the target system) and .cpg, one
//! geometry type per file, attributes typed from the column values, text in UTF-8 or GBK.
//!
//! Hand-written rather than built on the `shapefile`/`dbase` crates: dbase writes field
//! names as UTF-8 bytes and validates their length in UTF-8 whatever the table encoding, so a
//! GBK `.dbf` would get mojibake field names (名称 as 6 UTF-8 bytes in a GBK header), and the
//! 10-byte name and 254-byte text limits could not be applied at GBK character boundaries.
//! The format is small and the project's reader (`shapefile_reader`) is hand-written too;
//! the two are tested against each other.
//!
//! Layout rules: points alone go to a Point (1) file; any MultiPoint makes it a MultiPoint
//! (8) file holding single points as one-point multipoints. Lines go to PolyLine (3), polygons
//! to Polygon (5) with outer rings clockwise and holes counter-clockwise. A layer mixing
//! points, lines and polygons is split into `NAME_points.shp`, `NAME_lines.shp` and
//! `NAME_polygons.shp` (the report says so). Geometry collections with members of one kind
//! are merged into that kind; mixed ones are skipped with a warning.

use crate::io::staged::StagedFile;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;
use geo::{Coord, Geometry, LineString, Polygon};

use super::write::{Reprojector, WriteError, WriteOptions, WriteReport, feature_warning};
use super::write::{number_text, oriented};
use crate::crs::{Crs, GkDatum};
use crate::model::{Layer, ValueRef};

/// Widest text field dBASE allows, in bytes.
const MAX_TEXT_BYTES: usize = 254;
/// Widest numeric field written (GDAL writes doubles as 24.15 too).
const MAX_NUMERIC_WIDTH: usize = 24;
/// Field names are at most 10 bytes (the 11th is the terminating NUL).
const MAX_NAME_BYTES: usize = 10;
/// dBASE language driver id for code page 936 (GBK); UTF-8 has none, the .cpg says it.
const LDID_GBK: u8 = 0x4D;

/// The kind of shape one output file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Points,
    Lines,
    Polygons,
}

impl Family {
    fn suffix(self) -> &'static str {
        match self {
            Family::Points => "points",
            Family::Lines => "lines",
            Family::Polygons => "polygons",
        }
    }

    fn of(geometry: &Geometry<f64>) -> Option<Family> {
        match geometry {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Some(Family::Points),
            Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                Some(Family::Lines)
            }
            Geometry::Polygon(_)
            | Geometry::MultiPolygon(_)
            | Geometry::Rect(_)
            | Geometry::Triangle(_) => Some(Family::Polygons),
            Geometry::GeometryCollection(c) => {
                let mut families = c.0.iter().map(Family::of);
                let first = families.next()??;
                families.all(|f| f == Some(first)).then_some(first)
            }
        }
    }
}

/// Writes one layer as a Shapefile (or one per geometry kind when it mixes kinds).
pub fn write_shapefile(
    path: &Path,
    layer: &Layer,
    options: &WriteOptions,
    report: &mut WriteReport,
) -> Result<(), WriteError> {
    let encoding = match &options.encoding {
        Some(label) => super::encoding_for_label(label).ok_or_else(|| {
            WriteError::unsupported(path, format!("unknown encoding \"{label}\""))
        })?,
        None => encoding_rs::UTF_8,
    };
    let reprojector = Reprojector::new(path, options.crs)?;

    let mut rows_by_family: Vec<(Family, Vec<usize>)> = Vec::new();
    for (row, geometry) in layer.geometries.iter().enumerate() {
        let Some(family) = Family::of(geometry) else {
            let problem = match geometry {
                Geometry::GeometryCollection(c) if c.0.is_empty() => {
                    "skipped: an empty geometry collection"
                }
                _ => {
                    "skipped: a geometry collection mixing points, lines and polygons, which a \
                     Shapefile cannot hold"
                }
            };
            report
                .warnings
                .push(feature_warning(path, layer, row, problem));
            continue;
        };
        match rows_by_family.iter_mut().find(|(f, _)| *f == family) {
            Some((_, rows)) => rows.push(row),
            None => rows_by_family.push((family, vec![row])),
        }
    }
    rows_by_family.sort_by_key(|(f, _)| *f);
    if rows_by_family.is_empty() {
        // An empty layer still makes a valid (empty) file; points are as good as any type.
        rows_by_family.push((Family::Points, Vec::new()));
    }

    let schema = DbfSchema::new(path, layer, encoding, report)?;
    let split = rows_by_family.len() > 1;
    if split {
        let kinds: Vec<&str> = rows_by_family.iter().map(|(f, _)| f.suffix()).collect();
        report.warnings.push(format!(
            "{}: the layer mixes {}; a Shapefile holds one kind, so each kind goes to its own \
             file (_{})",
            path.display(),
            kinds.join(", "),
            kinds.join(", _")
        ));
    }
    for (family, rows) in &rows_by_family {
        let target = if split {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            path.with_file_name(format!("{stem}_{}.shp", family.suffix()))
        } else {
            path.to_owned()
        };
        let shape_type = match family {
            Family::Points => {
                let all_single = rows
                    .iter()
                    .all(|&r| matches!(layer.geometries[r], Geometry::Point(_)));
                if all_single { 1 } else { 8 }
            }
            Family::Lines => 3,
            Family::Polygons => 5,
        };
        let writer = FamilyWriter {
            path: &target,
            layer,
            rows,
            shape_type,
            schema: &schema,
            encoding,
            reprojector: &reprojector,
        };
        writer.write(report)?;
        write_sidecars(&target, options.crs, encoding, report)?;
    }
    Ok(())
}

/// The .prj and .cpg next to a .shp.
fn write_sidecars(
    shp: &Path,
    crs: Crs,
    encoding: &'static Encoding,
    report: &mut WriteReport,
) -> Result<(), WriteError> {
    let prj = shp.with_extension("prj");
    crate::io::staged::write_all(&prj, esri_wkt(crs).as_bytes())
        .map_err(|e| WriteError::io(&prj, e))?;
    report.files.push(prj);
    if matches!(crs, Crs::Gcj02 | Crs::Bd09) {
        report.warnings.push(format!(
            "{}: written in {}; the .prj names it (\"{}\"), and other GIS will read it as WGS 84 \
             degrees, about 500 m off",
            shp.display(),
            crs.name(),
            if crs == Crs::Gcj02 { "GCJ_02" } else { "BD_09" }
        ));
    }
    let cpg = shp.with_extension("cpg");
    crate::io::staged::write_all(&cpg, encoding.name().to_ascii_uppercase().as_bytes())
        .map_err(|e| WriteError::io(&cpg, e))?;
    report.files.push(cpg);
    Ok(())
}

const WGS84_GEOGCS: &str = "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",\
     6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]";

/// The ESRI WKT of a system, as ArcGIS writes it in a `.prj` and as
/// [`detect_from_prj`](crate::crs::detect::detect_from_prj) reads it back. GCJ-02 and BD-09
/// have no official WKT: they get a geographic system named "GCJ_02" / "BD_09" on the
/// WGS 84 datum, so a reader sees the name instead of taking them for WGS 84.
pub fn esri_wkt(crs: Crs) -> String {
    let geographic_named = |name: &str| {
        format!(
            "GEOGCS[\"{name}\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,\
             298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]"
        )
    };
    let tm = |name: &str, geogcs: &str, projection: &str, cm: f64, fe: f64, fnorth: f64, k: f64| {
        format!(
            "PROJCS[\"{name}\",{geogcs},PROJECTION[\"{projection}\"],\
             PARAMETER[\"False_Easting\",{fe:.1}],PARAMETER[\"False_Northing\",{fnorth:.1}],\
             PARAMETER[\"Central_Meridian\",{}],PARAMETER[\"Scale_Factor\",{}],\
             PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]",
            wkt_number(cm),
            wkt_number(k)
        )
    };
    match crs {
        Crs::Wgs84 => WGS84_GEOGCS.to_string(),
        Crs::Gcj02 => geographic_named("GCJ_02"),
        Crs::Bd09 => geographic_named("BD_09"),
        Crs::WebMercator => format!(
            "PROJCS[\"WGS_1984_Web_Mercator_Auxiliary_Sphere\",{WGS84_GEOGCS},\
             PROJECTION[\"Mercator_Auxiliary_Sphere\"],PARAMETER[\"False_Easting\",0.0],\
             PARAMETER[\"False_Northing\",0.0],PARAMETER[\"Central_Meridian\",0.0],\
             PARAMETER[\"Standard_Parallel_1\",0.0],PARAMETER[\"Auxiliary_Sphere_Type\",0.0],\
             UNIT[\"Meter\",1.0]]"
        ),
        Crs::Utm { zone, north } => tm(
            &format!("WGS_1984_UTM_Zone_{zone}{}", if north { 'N' } else { 'S' }),
            WGS84_GEOGCS,
            "Transverse_Mercator",
            6.0 * f64::from(zone) - 183.0,
            500_000.0,
            if north { 0.0 } else { 10_000_000.0 },
            0.9996,
        ),
        Crs::GaussKruger {
            datum,
            zone_width_deg,
            central_meridian_deg,
            false_easting_m,
            zone_prefix,
        } => {
            let (prefix, geogcs) = match datum {
                GkDatum::Cgcs2000 => (
                    "CGCS2000",
                    "GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",DATUM[\"D_China_2000\",\
                     SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],\
                     UNIT[\"Degree\",0.0174532925199433]]",
                ),
                GkDatum::Xian80 => (
                    "Xian_1980",
                    "GEOGCS[\"GCS_Xian_1980\",DATUM[\"D_Xian_1980\",SPHEROID[\"Xian_1980\",\
                     6378140.0,298.257]],PRIMEM[\"Greenwich\",0.0],\
                     UNIT[\"Degree\",0.0174532925199433]]",
                ),
                GkDatum::Beijing54 => (
                    "Beijing_1954",
                    "GEOGCS[\"GCS_Beijing_1954\",DATUM[\"D_Beijing_1954\",\
                     SPHEROID[\"Krasovsky_1940\",6378245.0,298.3]],PRIMEM[\"Greenwich\",0.0],\
                     UNIT[\"Degree\",0.0174532925199433]]",
                ),
            };
            let width = if zone_width_deg == 3 { "3_Degree_" } else { "" };
            // The standard names only when they mean exactly these parameters; anything else
            // is described by its parameters alone.
            let standard_zone = zone_prefix
                .and_then(|zone| Crs::gauss_kruger_zone(datum, zone_width_deg, zone))
                .filter(|standard| *standard == crs);
            let name = match (zone_prefix, standard_zone) {
                (Some(zone), Some(_)) => format!("{prefix}_{width}GK_Zone_{zone}"),
                (None, _)
                    if central_meridian_deg.fract() == 0.0 && false_easting_m == 500_000.0 =>
                {
                    format!("{prefix}_{width}GK_CM_{}E", central_meridian_deg as i64)
                }
                _ => format!("{prefix}_Transverse_Mercator"),
            };
            tm(
                &name,
                geogcs,
                "Gauss_Kruger",
                central_meridian_deg,
                false_easting_m,
                0.0,
                1.0,
            )
        }
    }
}

fn wkt_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

// ---------------------------------------------------------------------------------------------
// .dbf
// ---------------------------------------------------------------------------------------------

/// How one attribute field is stored.
#[derive(Debug, Clone, PartialEq)]
enum FieldType {
    /// C: text, `width` bytes in the file encoding.
    Text,
    /// N with no decimals.
    Integer,
    /// F with `decimals` digits after the point.
    Float { decimals: usize },
    /// L: T, F or ? for null.
    Logical,
}

#[derive(Debug, Clone)]
struct DbfField {
    /// Position of the field in the layer's attribute table.
    source: usize,
    name: Vec<u8>,
    kind: FieldType,
    width: usize,
}

impl DbfField {
    fn type_byte(&self) -> u8 {
        match self.kind {
            FieldType::Text => b'C',
            FieldType::Integer => b'N',
            FieldType::Float { .. } => b'F',
            FieldType::Logical => b'L',
        }
    }

    fn decimals(&self) -> usize {
        match self.kind {
            FieldType::Float { decimals } => decimals,
            _ => 0,
        }
    }
}

/// The .dbf fields of a layer, decided once from every row so that split files agree.
struct DbfSchema {
    fields: Vec<DbfField>,
    record_len: usize,
}

/// The longest prefix of `text` that encodes to at most `max` bytes, cut at a character
/// boundary; `true` when something was cut.
fn encode_within(encoding: &'static Encoding, text: &str, max: usize) -> (Vec<u8>, bool) {
    let (bytes, _, _) = encoding.encode(text);
    if bytes.len() <= max {
        return (bytes.into_owned(), false);
    }
    // Every character takes at least one byte: start from the first `max` characters.
    let mut end = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    loop {
        let (bytes, _, _) = encoding.encode(&text[..end]);
        if bytes.len() <= max {
            return (bytes.into_owned(), true);
        }
        end = text[..end].char_indices().last().map_or(0, |(i, _)| i);
    }
}

/// The text a value takes in a C field.
fn text_of(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Bool(b) => Some(if b { "T" } else { "F" }.to_string()),
        ValueRef::Number(n) => number_text(n),
        ValueRef::Text(t) | ValueRef::Json(t) => Some(t.to_string()),
    }
}

/// Integer part width and decimals of a number's shortest text ("-12.345" -> (3, 3)).
fn number_shape(n: f64) -> (usize, usize) {
    let text = format!("{n}");
    match text.split_once('.') {
        Some((int, frac)) => (int.len(), frac.len()),
        None => (text.len(), 0),
    }
}

impl DbfSchema {
    fn new(
        path: &Path,
        layer: &Layer,
        encoding: &'static Encoding,
        report: &mut WriteReport,
    ) -> Result<Self, WriteError> {
        let table = &layer.attributes;
        let mut fields = Vec::new();
        let mut used_names: Vec<String> = Vec::new();
        for (source, name) in table.field_names().enumerate() {
            let rows = layer.geometries.len().min(table.len());
            let (mut numbers, mut bools, mut texts) = (0usize, 0usize, 0usize);
            let (mut all_integer, mut int_width, mut decimals) = (true, 1usize, 0usize);
            for row in 0..rows {
                match table.value(row, source) {
                    ValueRef::Null => {}
                    ValueRef::Number(n) if !n.is_finite() => {}
                    ValueRef::Number(n) => {
                        numbers += 1;
                        let (int, frac) = number_shape(n);
                        int_width = int_width.max(int);
                        decimals = decimals.max(frac);
                        all_integer &= n.fract() == 0.0 && n.abs() < 1e15;
                    }
                    ValueRef::Bool(_) => bools += 1,
                    ValueRef::Text(_) | ValueRef::Json(_) => texts += 1,
                }
            }
            let mut kind = if texts > 0 || (numbers > 0 && bools > 0) {
                FieldType::Text
            } else if bools > 0 {
                FieldType::Logical
            } else if numbers > 0 && all_integer {
                FieldType::Integer
            } else if numbers > 0 && int_width + 2 <= MAX_NUMERIC_WIDTH {
                let room = MAX_NUMERIC_WIDTH - int_width - 1;
                if decimals > room {
                    report.warnings.push(format!(
                        "{}: field \"{name}\": numbers kept to {room} decimals (a .dbf number \
                         is at most {MAX_NUMERIC_WIDTH} characters)",
                        path.display()
                    ));
                }
                FieldType::Float {
                    decimals: decimals.clamp(1, room),
                }
            } else {
                FieldType::Text
            };
            let width = match kind {
                FieldType::Integer => int_width,
                FieldType::Float { decimals } => int_width + 1 + decimals,
                FieldType::Logical => 1,
                FieldType::Text => {
                    let widest = (0..rows)
                        .filter_map(|row| text_of(table.value(row, source)))
                        .map(|t| encoding.encode(&t).0.len())
                        .max()
                        .unwrap_or(1);
                    widest.clamp(1, MAX_TEXT_BYTES)
                }
            };
            if width > MAX_NUMERIC_WIDTH && kind == FieldType::Integer {
                kind = FieldType::Text;
            }
            let field_name = unique_name(name, encoding, &mut used_names);
            if encoding.decode_without_bom_handling(&field_name).0 != name {
                report.warnings.push(format!(
                    "{}: field \"{name}\" is written as \"{}\" (a .dbf field name is at most \
                     {MAX_NAME_BYTES} bytes and unique)",
                    path.display(),
                    encoding.decode_without_bom_handling(&field_name).0
                ));
            }
            fields.push(DbfField {
                source,
                name: field_name,
                kind,
                width,
            });
        }
        let record_len = 1 + fields.iter().map(|f| f.width).sum::<usize>();
        let header_len = 32 + 32 * fields.len() + 1;
        if record_len > usize::from(u16::MAX) || header_len > usize::from(u16::MAX) {
            return Err(WriteError::unsupported(
                path,
                format!(
                    "{} fields of {record_len} bytes in all do not fit a .dbf record (65 535 \
                     bytes at most)",
                    fields.len()
                ),
            ));
        }
        Ok(DbfSchema { fields, record_len })
    }

    fn header(&self, record_count: u32, encoding: &'static Encoding) -> Vec<u8> {
        let header_len = 32 + 32 * self.fields.len() + 1;
        let mut h = Vec::with_capacity(header_len);
        h.push(0x03);
        // Date of last update: the core never reads the clock, so a fixed 2000-01-01.
        h.extend_from_slice(&[100, 1, 1]);
        h.extend_from_slice(&record_count.to_le_bytes());
        h.extend_from_slice(&(header_len as u16).to_le_bytes());
        h.extend_from_slice(&(self.record_len as u16).to_le_bytes());
        h.extend_from_slice(&[0; 17]);
        h.push(if encoding == encoding_rs::UTF_8 {
            0
        } else {
            LDID_GBK
        });
        h.extend_from_slice(&[0; 2]);
        for field in &self.fields {
            let mut name = [0u8; 11];
            name[..field.name.len()].copy_from_slice(&field.name);
            h.extend_from_slice(&name);
            h.push(field.type_byte());
            h.extend_from_slice(&[0; 4]);
            h.push(field.width as u8);
            h.push(field.decimals() as u8);
            h.extend_from_slice(&[0; 14]);
        }
        h.push(0x0D);
        h
    }
}

/// A field name of at most 10 bytes in `encoding`, cut at a character boundary, and unique
/// (case-insensitively, as dBASE compares) among `used`.
fn unique_name(name: &str, encoding: &'static Encoding, used: &mut Vec<String>) -> Vec<u8> {
    let cleaned: String = name.trim().chars().filter(|c| *c != '\0').collect();
    let base = if cleaned.is_empty() {
        "FIELD".to_string()
    } else {
        cleaned
    };
    let taken = |bytes: &[u8], used: &[String]| {
        let text = encoding.decode_without_bom_handling(bytes).0.to_lowercase();
        used.contains(&text)
    };
    let (mut bytes, _) = encode_within(encoding, &base, MAX_NAME_BYTES);
    let mut n = 1;
    while taken(&bytes, used) {
        let suffix = format!("_{n}");
        let (mut short, _) = encode_within(encoding, &base, MAX_NAME_BYTES - suffix.len());
        short.extend_from_slice(suffix.as_bytes());
        bytes = short;
        n += 1;
    }
    used.push(
        encoding
            .decode_without_bom_handling(&bytes)
            .0
            .to_lowercase(),
    );
    bytes
}

// ---------------------------------------------------------------------------------------------
// .shp / .shx
// ---------------------------------------------------------------------------------------------

/// One output file set for one geometry kind.
struct FamilyWriter<'a> {
    path: &'a Path,
    layer: &'a Layer,
    rows: &'a [usize],
    shape_type: i32,
    schema: &'a DbfSchema,
    encoding: &'static Encoding,
    reprojector: &'a Reprojector,
}

/// Bounding box accumulator.
struct Bounds([f64; 4]);

impl Bounds {
    fn new() -> Self {
        Bounds([
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ])
    }

    fn add(&mut self, c: Coord<f64>) {
        let b = &mut self.0;
        *b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
    }

    fn merge(&mut self, other: &Bounds) {
        let (b, o) = (&mut self.0, &other.0);
        *b = [
            b[0].min(o[0]),
            b[1].min(o[1]),
            b[2].max(o[2]),
            b[3].max(o[3]),
        ];
    }

    fn finite(&self) -> [f64; 4] {
        if self.0[0].is_finite() {
            self.0
        } else {
            [0.0; 4]
        }
    }
}

fn push_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn push_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The parts of a line or polygon shape: polygons' outer rings clockwise, holes
/// counter-clockwise (the Shapefile rule, with y up).
fn parts_of(geometry: &Geometry<f64>, parts: &mut Vec<Vec<Coord<f64>>>) {
    let polygon = |p: &Polygon<f64>, parts: &mut Vec<Vec<Coord<f64>>>| {
        if p.exterior().0.is_empty() {
            return;
        }
        parts.push(oriented(p.exterior(), true));
        for hole in p.interiors() {
            if !hole.0.is_empty() {
                parts.push(oriented(hole, false));
            }
        }
    };
    let line = |l: &LineString<f64>, parts: &mut Vec<Vec<Coord<f64>>>| {
        if !l.0.is_empty() {
            parts.push(l.0.clone());
        }
    };
    match geometry {
        Geometry::Point(p) => parts.push(vec![p.0]),
        Geometry::MultiPoint(m) => parts.push(m.0.iter().map(|p| p.0).collect()),
        Geometry::Line(l) => parts.push(vec![l.start, l.end]),
        Geometry::LineString(l) => line(l, parts),
        Geometry::MultiLineString(m) => m.0.iter().for_each(|l| line(l, parts)),
        Geometry::Polygon(p) => polygon(p, parts),
        Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| polygon(p, parts)),
        Geometry::Rect(r) => polygon(&r.to_polygon(), parts),
        Geometry::Triangle(t) => polygon(&t.to_polygon(), parts),
        Geometry::GeometryCollection(c) => c.0.iter().for_each(|g| parts_of(g, parts)),
    }
}

/// The record content of one shape (little-endian part), and its bounds; a null shape
/// when the geometry is empty.
fn shape_content(shape_type: i32, geometry: &Geometry<f64>) -> (Vec<u8>, Bounds) {
    let mut parts = Vec::new();
    parts_of(geometry, &mut parts);
    let mut bounds = Bounds::new();
    let points: usize = parts.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    if points == 0 {
        push_i32(&mut out, 0);
        return (out, bounds);
    }
    for c in parts.iter().flatten() {
        bounds.add(*c);
    }
    push_i32(&mut out, shape_type);
    match shape_type {
        1 => {
            let c = parts[0][0];
            push_f64(&mut out, c.x);
            push_f64(&mut out, c.y);
        }
        8 => {
            out.reserve(36 + 16 * points);
            bounds.finite().iter().for_each(|v| push_f64(&mut out, *v));
            push_i32(&mut out, points as i32);
            for c in parts.iter().flatten() {
                push_f64(&mut out, c.x);
                push_f64(&mut out, c.y);
            }
        }
        _ => {
            out.reserve(40 + 4 * parts.len() + 16 * points);
            bounds.finite().iter().for_each(|v| push_f64(&mut out, *v));
            push_i32(&mut out, parts.len() as i32);
            push_i32(&mut out, points as i32);
            let mut start = 0;
            for part in &parts {
                push_i32(&mut out, start as i32);
                start += part.len();
            }
            for c in parts.iter().flatten() {
                push_f64(&mut out, c.x);
                push_f64(&mut out, c.y);
            }
        }
    }
    (out, bounds)
}

/// The 100-byte header shared by .shp and .shx.
fn main_header(shape_type: i32, file_len_bytes: u64, bounds: &Bounds) -> Vec<u8> {
    let mut h = Vec::with_capacity(100);
    h.extend_from_slice(&9994i32.to_be_bytes());
    h.extend_from_slice(&[0; 20]);
    h.extend_from_slice(&((file_len_bytes / 2) as i32).to_be_bytes());
    push_i32(&mut h, 1000);
    push_i32(&mut h, shape_type);
    bounds.finite().iter().for_each(|v| push_f64(&mut h, *v));
    h.extend_from_slice(&[0; 32]);
    h
}

/// A .shp is addressed in 16-bit words by signed 32-bit offsets: 4 GiB at most.
const MAX_SHP_BYTES: u64 = (i32::MAX as u64) * 2;

/// One file of the family, written beside its target until the whole family is written.
struct Sink {
    path: PathBuf,
    out: StagedFile,
}

impl Sink {
    fn create(path: PathBuf) -> Result<Self, WriteError> {
        let out = StagedFile::create(&path).map_err(|e| WriteError::io(&path, e))?;
        Ok(Sink { path, out })
    }

    /// Moves the written file into place.
    fn finish(self) -> Result<PathBuf, WriteError> {
        let Sink { path, out } = self;
        out.finish().map_err(|e| WriteError::io(&path, e))?;
        Ok(path)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        self.out
            .write_all(bytes)
            .map_err(|e| WriteError::io(&self.path, e))
    }

    /// Rewrites the start of the file (headers whose counts are known only at the end).
    fn patch_start(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let path = self.path.clone();
        let io = |e| WriteError::io(&path, e);
        self.out.seek(SeekFrom::Start(0)).map_err(io)?;
        self.out.write_all(bytes).map_err(io)?;
        self.out.flush().map_err(io)
    }
}

impl FamilyWriter<'_> {
    fn write(&self, report: &mut WriteReport) -> Result<(), WriteError> {
        let path = self.path;
        let mut shp = Sink::create(path.with_extension("shp"))?;
        let mut shx = Sink::create(path.with_extension("shx"))?;
        let mut dbf = Sink::create(path.with_extension("dbf"))?;
        let empty = Bounds::new();
        shp.write(&main_header(self.shape_type, 100, &empty))?;
        shx.write(&main_header(self.shape_type, 100, &empty))?;
        dbf.write(&self.schema.header(0, self.encoding))?;

        let mut bounds = Bounds::new();
        let mut shp_len: u64 = 100;
        let mut count: u32 = 0;
        let mut record = Vec::with_capacity(self.schema.record_len);
        let mut truncated: Vec<(usize, usize)> = vec![(0, 0); self.schema.fields.len()];
        let mut unmappable = 0usize;
        for &row in self.rows {
            let geometry = match self.reprojector.apply(&self.layer.geometries[row]) {
                Ok(g) => g,
                Err(e) => {
                    report.warnings.push(feature_warning(
                        path,
                        self.layer,
                        row,
                        &format!("skipped: {e}"),
                    ));
                    continue;
                }
            };
            let (content, shape_bounds) = shape_content(self.shape_type, &geometry);
            let record_len = 8 + content.len() as u64;
            if shp_len + record_len > MAX_SHP_BYTES {
                return Err(WriteError::unsupported(
                    path,
                    "the .shp would pass 4 GiB, the format's limit: write a GeoPackage instead",
                ));
            }
            count += 1;
            let mut head = Vec::with_capacity(8);
            head.extend_from_slice(&(count as i32).to_be_bytes());
            head.extend_from_slice(&((content.len() / 2) as i32).to_be_bytes());
            shp.write(&head)?;
            shp.write(&content)?;
            let mut index = Vec::with_capacity(8);
            index.extend_from_slice(&((shp_len / 2) as i32).to_be_bytes());
            index.extend_from_slice(&((content.len() / 2) as i32).to_be_bytes());
            shx.write(&index)?;
            shp_len += record_len;
            bounds.merge(&shape_bounds);

            record.clear();
            record.push(b' ');
            for (i, field) in self.schema.fields.iter().enumerate() {
                let value = self.layer.attributes.value(row, field.source);
                let cut = self.push_cell(&mut record, field, value, &mut unmappable);
                if cut {
                    let entry = &mut truncated[i];
                    if entry.0 == 0 {
                        entry.1 = row;
                    }
                    entry.0 += 1;
                }
            }
            dbf.write(&record)?;
        }
        dbf.write(&[0x1A])?;
        shp.patch_start(&main_header(self.shape_type, shp_len, &bounds))?;
        shx.patch_start(&main_header(
            self.shape_type,
            100 + 8 * u64::from(count),
            &bounds,
        ))?;
        dbf.patch_start(&self.schema.header(count, self.encoding))?;

        for (field, (cut, first_row)) in self.schema.fields.iter().zip(truncated) {
            if cut > 0 {
                let name = self.encoding.decode_without_bom_handling(&field.name).0;
                report.warnings.push(format!(
                    "{}: field \"{name}\": {cut} value(s) longer than {MAX_TEXT_BYTES} bytes \
                     were cut at a character boundary (the first in feature {})",
                    path.display(),
                    self.layer
                        .source_index
                        .get(first_row)
                        .map_or(first_row, |&i| i as usize)
                ));
            }
        }
        if unmappable > 0 {
            report.warnings.push(format!(
                "{}: {unmappable} text value(s) have characters {} cannot hold; they were \
                 written as &#NNNN; references",
                path.display(),
                self.encoding.name()
            ));
        }
        // Only now, with all three whole, do they replace the files at their paths.
        for sink in [shp, shx, dbf] {
            report.files.push(sink.finish()?);
        }
        Ok(())
    }

    /// Appends one cell; `true` when its text had to be cut.
    fn push_cell(
        &self,
        record: &mut Vec<u8>,
        field: &DbfField,
        value: ValueRef<'_>,
        unmappable: &mut usize,
    ) -> bool {
        let width = field.width;
        let pad_left = |record: &mut Vec<u8>, text: &str| {
            let bytes = text.as_bytes();
            let take = bytes.len().min(width);
            record.extend(std::iter::repeat_n(b' ', width - take));
            record.extend_from_slice(&bytes[..take]);
        };
        match (&field.kind, value) {
            (FieldType::Logical, ValueRef::Bool(b)) => record.push(if b { b'T' } else { b'F' }),
            (FieldType::Logical, _) => record.push(b'?'),
            (FieldType::Integer, ValueRef::Number(n)) if n.is_finite() => {
                pad_left(record, &format!("{}", n as i64));
            }
            (FieldType::Float { decimals }, ValueRef::Number(n)) if n.is_finite() => {
                pad_left(record, &format!("{n:.decimals$}"));
            }
            (FieldType::Integer | FieldType::Float { .. }, _) => {
                record.extend(std::iter::repeat_n(b' ', width));
            }
            (FieldType::Text, value) => {
                let text = text_of(value).unwrap_or_default();
                let (bytes, _, had_errors) = self.encoding.encode(&text);
                if had_errors {
                    *unmappable += 1;
                }
                let (bytes, cut) = if bytes.len() <= width {
                    (bytes, false)
                } else {
                    let (cut_bytes, cut) = encode_within(self.encoding, &text, width);
                    (std::borrow::Cow::Owned(cut_bytes), cut)
                };
                record.extend_from_slice(&bytes);
                record.extend(std::iter::repeat_n(b' ', width - bytes.len()));
                return cut;
            }
        }
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crs::detect::detect_from_prj;

    #[test]
    fn every_written_prj_reads_back_as_the_same_system() {
        let mut systems = vec![
            Crs::Wgs84,
            Crs::WebMercator,
            Crs::Utm {
                zone: 50,
                north: true,
            },
            Crs::Utm {
                zone: 51,
                north: false,
            },
        ];
        let ranges = [
            4491..=4554u32,
            2327..=2390,
            2401..=2442,
            21413..=21423,
            21453..=21463,
        ];
        for code in ranges.into_iter().flatten() {
            systems.push(Crs::from_epsg(code).unwrap());
        }
        assert_eq!(systems.len(), 4 + 192);
        for crs in systems {
            let wkt = esri_wkt(crs);
            let detection = detect_from_prj(&wkt);
            assert_eq!(detection.crs, Some(crs), "{wkt}\n{}", detection.reason);
        }
        let wkt = esri_wkt(Crs::from_epsg(4527).unwrap());
        assert!(
            wkt.starts_with("PROJCS[\"CGCS2000_3_Degree_GK_Zone_39\""),
            "{wkt}"
        );
        assert!(
            wkt.contains("PARAMETER[\"False_Easting\",39500000.0]"),
            "{wkt}"
        );
        assert!(esri_wkt(Crs::Gcj02).contains("GCJ_02"));
    }

    #[test]
    fn non_standard_gauss_kruger_is_described_by_parameters() {
        let crs = Crs::GaussKruger {
            datum: GkDatum::Cgcs2000,
            zone_width_deg: 3,
            central_meridian_deg: 117.5,
            false_easting_m: 500_000.0,
            zone_prefix: None,
        };
        let wkt = esri_wkt(crs);
        assert!(wkt.contains("CGCS2000_Transverse_Mercator"), "{wkt}");
        let detection = detect_from_prj(&wkt);
        let Some(Crs::GaussKruger {
            central_meridian_deg,
            false_easting_m,
            ..
        }) = detection.crs
        else {
            panic!("{:?}", detection)
        };
        assert_eq!((central_meridian_deg, false_easting_m), (117.5, 500_000.0));
    }

    #[test]
    fn names_are_cut_at_character_boundaries_and_unique() {
        let mut used = Vec::new();
        let gbk = encoding_rs::GBK;
        // Six Chinese characters are 12 GBK bytes: five fit.
        let a = unique_name("应急避难场所", gbk, &mut used);
        assert_eq!(gbk.decode(&a).0, "应急避难场");
        let b = unique_name("应急避难场地", gbk, &mut used);
        assert_eq!(gbk.decode(&b).0, "应急避难_1");
        let c = unique_name("SHELTER_CAPACITY", encoding_rs::UTF_8, &mut used);
        assert_eq!(c, b"SHELTER_CA");
        let d = unique_name("shelter_cat", encoding_rs::UTF_8, &mut used);
        assert_eq!(d, b"shelter__1");
        // UTF-8 Chinese is three bytes a character: three fit in ten.
        let e = unique_name("名称名称", encoding_rs::UTF_8, &mut used);
        assert_eq!(std::str::from_utf8(&e).unwrap(), "名称名");
        assert_eq!(unique_name(" ", gbk, &mut used), b"FIELD");
        let (bytes, cut) = encode_within(gbk, "a名b", 2);
        assert_eq!((bytes, cut), (b"a".to_vec(), true));
    }

    #[test]
    fn polygon_rings_are_written_clockwise_with_counter_clockwise_holes() {
        let outer = LineString::from(vec![(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)]);
        let hole = LineString::from(vec![(1., 1.), (1., 2.), (2., 2.), (2., 1.), (1., 1.)]);
        let mut parts = Vec::new();
        parts_of(
            &Geometry::Polygon(Polygon::new(outer, vec![hole])),
            &mut parts,
        );
        let area =
            |p: &Vec<Coord<f64>>| super::super::write::signed_area2(&LineString::new(p.clone()));
        assert!(area(&parts[0]) < 0.0 && area(&parts[1]) > 0.0);
    }
}
