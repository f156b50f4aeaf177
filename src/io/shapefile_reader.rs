//! Shapefile in (.shp with its .dbf, .prj and .cpg): geometry to WGS84, attributes decoded
//! from UTF-8 or GBK/GB18030, and the chosen encoding and CRS reported with the reason.
//!
//! The reader parses the bytes itself from one in-memory copy of each file, so every count a
//! file claims is checked against the bytes really there before anything is allocated.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use encoding_rs::Encoding;
use geo::{
    Contains, Coord, Geometry, LineString, MapCoordsInPlace, MultiLineString, MultiPoint,
    MultiPolygon,
};
use geo::{Point, Polygon};

use super::encoding_for_label;
use super::{LoadError, LoadWarning, Loaded, Progress};
use crate::crs::detect::{detect_from_prj, detect_from_samples};
use crate::crs::{Crs, CrsTransform};
use crate::model::{AttributeTable, Layer, LayerKind, ValueRef};

/// Choices the user can force instead of letting the reader detect them.
#[derive(Debug, Clone, Default)]
pub struct ShapefileOptions {
    /// Attribute text encoding: "utf-8", "gbk", "gb18030" or any label encoding_rs knows;
    /// `None` reads the `.cpg`, else detects.
    pub encoding: Option<String>,
    /// The CRS of the coordinates; `None` reads the `.prj`, else detects from the values.
    pub crs: Option<Crs>,
}

/// What the reader decided, and why, for the import dialog and `onemap inspect`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapefileInfo {
    /// Name of the encoding used for attribute text (e.g. "UTF-8", "gb18030").
    pub encoding: String,
    /// Why that encoding.
    pub encoding_reason: String,
    /// The CRS the coordinates were read in (before conversion to WGS84).
    pub crs: Option<Crs>,
    /// Why that CRS.
    pub crs_reason: String,
}

const SHP_HEADER_LEN: usize = 100;
const SHP_FILE_CODE: i32 = 9994;
/// How many records' first points feed value-range CRS detection.
const CRS_SAMPLE_RECORDS: usize = 200;
/// Progress is published every this many records.
const PROGRESS_EVERY: usize = 1024;

/// Reads a Shapefile into a WGS84 layer.
pub fn read_shapefile(
    path: &Path,
    options: &ShapefileOptions,
    progress: &Progress,
) -> Result<Loaded, LoadError> {
    read_shapefile_with_info(path, options, progress).map(|(loaded, _)| loaded)
}

/// Reads a Shapefile into a WGS84 layer and says which encoding and CRS were used and why.
pub fn read_shapefile_with_info(
    path: &Path,
    options: &ShapefileOptions,
    progress: &Progress,
) -> Result<(Loaded, ShapefileInfo), LoadError> {
    let shp = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    progress
        .bytes_total
        .store(shp.len() as u64, Ordering::Relaxed);
    let mut warnings = Warnings {
        file: path.to_owned(),
        list: Vec::new(),
    };

    let records = parse_shp(path, &shp, &mut warnings, progress)?;
    let attributes = read_attributes(path, options, records.len(), &mut warnings)?;
    let (crs, crs_reason) = decide_crs(path, options, &records, &mut warnings)?;
    let transform = CrsTransform::new(crs, Crs::Wgs84).map_err(|e| LoadError::Format {
        path: path.to_owned(),
        message: format!("cannot convert {} to WGS84: {e}", crs.name()),
    })?;

    let (table_rows, encoding, encoding_reason) = match attributes {
        Some(a) => (Some(a.table), a.encoding, a.encoding_reason),
        None => (None, "none".to_string(), "no .dbf file".to_string()),
    };
    let row_count = table_rows.as_ref().map_or(0, |t| t.record_count);
    let mut layer = Layer {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: Some(path.to_owned()),
        kind: LayerKind::Generic,
        geometries: Vec::with_capacity(records.len()),
        attributes: AttributeTable::new(),
        source_index: Vec::with_capacity(records.len()),
    };
    layer.kind = LayerKind::guess_from_name(&layer.name);
    let kept_records = match &table_rows {
        Some(_) => records.len().min(row_count),
        None => records.len(),
    };
    for (index, record) in records.into_iter().take(kept_records).enumerate() {
        let mut geometry = match record {
            ShpRecord::Geometry(g) => g,
            ShpRecord::Skipped => continue,
        };
        // In place: a 100k-polygon file would otherwise be copied once more.
        let converted = convert_in_place(&mut geometry, &transform);
        if let Err(e) = converted {
            warnings.push(
                Some(index),
                format!("skipped: coordinates cannot be converted: {e}"),
            );
            continue;
        }
        layer.geometries.push(geometry);
        layer.source_index.push(index as u32);
        match &table_rows {
            Some(table) => {
                let row = table.row(index);
                layer.attributes.push_row(
                    table
                        .field_names
                        .iter()
                        .zip(row.iter())
                        .map(|(name, value)| (name.as_str(), value.as_value_ref())),
                );
            }
            None => layer.attributes.push_row(std::iter::empty()),
        }
    }
    progress
        .bytes_done
        .store(shp.len() as u64, Ordering::Relaxed);
    let info = ShapefileInfo {
        encoding,
        encoding_reason,
        crs: Some(crs),
        crs_reason,
    };
    Ok((
        Loaded {
            layer,
            warnings: warnings.list,
        },
        info,
    ))
}

/// Converts every coordinate; per concrete type because geo's `Geometry` version does not
/// compile here (its recursion through collections hits the instantiation limit).
fn convert_in_place(
    geometry: &mut Geometry<f64>,
    transform: &CrsTransform,
) -> Result<(), crate::crs::CrsError> {
    let f = |c: Coord<f64>| transform.apply(c.x, c.y).map(|(x, y)| Coord { x, y });
    match geometry {
        Geometry::Point(g) => g.try_map_coords_in_place(f),
        Geometry::MultiPoint(g) => g.try_map_coords_in_place(f),
        Geometry::LineString(g) => g.try_map_coords_in_place(f),
        Geometry::MultiLineString(g) => g.try_map_coords_in_place(f),
        Geometry::Polygon(g) => g.try_map_coords_in_place(f),
        Geometry::MultiPolygon(g) => g.try_map_coords_in_place(f),
        other => {
            *other = transform.transform_geometry(other)?;
            Ok(())
        }
    }
}

struct Warnings {
    file: PathBuf,
    list: Vec<LoadWarning>,
}

impl Warnings {
    fn push(&mut self, feature: Option<usize>, message: String) {
        self.list.push(LoadWarning {
            file: self.file.clone(),
            feature,
            message,
        });
    }
}

/// One .shp record: a geometry in the file's CRS, or a record that was skipped (and warned of)
/// but still occupies its index so attributes stay aligned.
enum ShpRecord {
    Geometry(Geometry<f64>),
    Skipped,
}

fn be_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le_f64(bytes: &[u8], at: usize) -> Option<f64> {
    Some(f64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn parse_shp(
    path: &Path,
    shp: &[u8],
    warnings: &mut Warnings,
    progress: &Progress,
) -> Result<Vec<ShpRecord>, LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    if shp.len() < SHP_HEADER_LEN {
        return Err(format_error(format!(
            "not a Shapefile: {} bytes, shorter than the 100-byte header",
            shp.len()
        )));
    }
    if be_i32(shp, 0) != Some(SHP_FILE_CODE) {
        return Err(format_error(
            "not a Shapefile: the file does not start with the code 9994".to_string(),
        ));
    }
    let declared_len = be_i32(shp, 24).map_or(0, |words| (words.max(0) as usize) * 2);
    if declared_len > shp.len() {
        warnings.push(
            None,
            format!(
                "the header says {declared_len} bytes but the file has {}: it is truncated",
                shp.len()
            ),
        );
    }
    let mut records = Vec::new();
    let mut at = SHP_HEADER_LEN;
    while at < shp.len() {
        let index = records.len();
        if index % PROGRESS_EVERY == 0 {
            if progress.is_cancelled() {
                return Err(LoadError::Cancelled {
                    path: path.to_owned(),
                });
            }
            progress.bytes_done.store(at as u64, Ordering::Relaxed);
        }
        let Some(words) = be_i32(shp, at + 4) else {
            warnings.push(
                Some(index),
                format!(
                    "the file ends inside the header of record {index}; kept the {index} records before it"
                ),
            );
            break;
        };
        let content_len = (words.max(0) as usize).saturating_mul(2);
        let start = at + 8;
        let Some(content) = start
            .checked_add(content_len)
            .and_then(|end| shp.get(start..end))
        else {
            warnings.push(
                Some(index),
                format!(
                    "record {index} claims {content_len} bytes but the file ends first; kept the {index} records before it"
                ),
            );
            break;
        };
        at = start + content_len;
        match parse_shape(content) {
            Ok(Some(geometry)) => records.push(ShpRecord::Geometry(geometry)),
            Ok(None) => {
                warnings.push(
                    Some(index),
                    "skipped: a null shape (no geometry)".to_string(),
                );
                records.push(ShpRecord::Skipped);
            }
            Err(problem) => {
                warnings.push(Some(index), format!("skipped record {index}: {problem}"));
                records.push(ShpRecord::Skipped);
            }
        }
    }
    Ok(records)
}

/// Parses one record's content. `Ok(None)` is a null shape.
fn parse_shape(content: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    let too_short = || format!("the record is too short ({} bytes)", content.len());
    let shape_type = le_i32(content, 0).ok_or_else(too_short)?;
    match shape_type {
        0 => Ok(None),
        1 | 11 | 21 => {
            let x = le_f64(content, 4).ok_or_else(too_short)?;
            let y = le_f64(content, 12).ok_or_else(too_short)?;
            if !(x.is_finite() && y.is_finite()) {
                return Err(format!(
                    "the point's coordinates are not numbers ({x}, {y})"
                ));
            }
            Ok(Some(Geometry::Point(Point::new(x, y))))
        }
        8 | 18 | 28 => {
            let count = le_i32(content, 36).ok_or_else(too_short)?;
            let points = read_points(content, 40, count)?;
            Ok(Some(Geometry::MultiPoint(MultiPoint::from(points))))
        }
        3 | 13 | 23 | 5 | 15 | 25 => {
            let parts = read_parts(content)?;
            if shape_type % 10 == 3 {
                let lines: Vec<LineString<f64>> = parts.into_iter().map(LineString::new).collect();
                Ok(Some(if lines.len() == 1 {
                    let mut lines = lines;
                    Geometry::LineString(lines.remove(0))
                } else {
                    Geometry::MultiLineString(MultiLineString::new(lines))
                }))
            } else {
                Ok(Some(assemble_polygons(parts)))
            }
        }
        31 => Err("a MultiPatch (3-D surface), which OneMap does not read".to_string()),
        other => Err(format!("unknown shape type {other}")),
    }
}

fn read_points(content: &[u8], at: usize, count: i32) -> Result<Vec<Coord<f64>>, String> {
    let count = usize::try_from(count).map_err(|_| format!("negative point count {count}"))?;
    let needed = count
        .checked_mul(16)
        .and_then(|n| n.checked_add(at))
        .filter(|&end| end <= content.len())
        .ok_or_else(|| {
            format!(
                "claims {count} points but the record holds {} bytes",
                content.len()
            )
        })?;
    let bytes = &content[at..needed];
    let points: Vec<Coord<f64>> = bytes
        .chunks_exact(16)
        .map(|c| Coord {
            x: le_f64(c, 0).unwrap_or(f64::NAN),
            y: le_f64(c, 8).unwrap_or(f64::NAN),
        })
        .collect();
    // NaN or infinite x/y is a broken record, not a shape: geometry operations (hole
    // assignment, indexing) cannot order such points. Found by the shapefile fuzz target.
    if let Some(i) = points
        .iter()
        .position(|c| !(c.x.is_finite() && c.y.is_finite()))
    {
        return Err(format!(
            "point {i} has coordinates that are not numbers ({}, {})",
            points[i].x, points[i].y
        ));
    }
    Ok(points)
}

/// Reads the parts of a polyline or polygon record as coordinate lists.
fn read_parts(content: &[u8]) -> Result<Vec<Vec<Coord<f64>>>, String> {
    let too_short = || format!("the record is too short ({} bytes)", content.len());
    let num_parts = le_i32(content, 36).ok_or_else(too_short)?;
    let num_points = le_i32(content, 40).ok_or_else(too_short)?;
    let num_parts =
        usize::try_from(num_parts).map_err(|_| format!("negative part count {num_parts}"))?;
    let parts_end = num_parts
        .checked_mul(4)
        .and_then(|n| n.checked_add(44))
        .filter(|&end| end <= content.len())
        .ok_or_else(|| format!("claims {num_parts} parts but the record is too short"))?;
    let points = read_points(content, parts_end, num_points)?;
    let mut starts: Vec<usize> = Vec::with_capacity(num_parts);
    for i in 0..num_parts {
        let start = le_i32(content, 44 + 4 * i).ok_or_else(too_short)?;
        let start = usize::try_from(start)
            .ok()
            .filter(|&s| s <= points.len() && starts.last().is_none_or(|&prev| prev <= s))
            .ok_or_else(|| format!("part {i} starts at {start}, outside the points"))?;
        starts.push(start);
    }
    if starts.is_empty() {
        return Err("a line or polygon with no parts".to_string());
    }
    // Split from the back so each point moves once and the common one-part case not at all.
    let mut points = points;
    let mut parts = Vec::with_capacity(starts.len());
    for &start in starts.iter().rev() {
        let part = points.split_off(start);
        if !part.is_empty() {
            parts.push(part);
        }
    }
    parts.reverse();
    Ok(parts)
}

/// Twice the signed area; negative for clockwise rings (with y up).
fn signed_area2(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

/// Shapefile rings: clockwise outer rings, counter-clockwise holes. Each hole goes to the
/// outer ring that contains it; a hole no outer ring contains becomes a polygon of its own,
/// as do all rings when none is clockwise (files written with the wrong winding).
fn assemble_polygons(rings: Vec<Vec<Coord<f64>>>) -> Geometry<f64> {
    let mut outers: Vec<Polygon<f64>> = Vec::new();
    let mut holes: Vec<LineString<f64>> = Vec::new();
    for ring in rings {
        if signed_area2(&ring) < 0.0 {
            outers.push(Polygon::new(LineString::new(ring), Vec::new()));
        } else {
            holes.push(LineString::new(ring));
        }
    }
    if outers.is_empty() {
        outers = holes
            .drain(..)
            .map(|ring| Polygon::new(ring, Vec::new()))
            .collect();
    }
    let mut interiors: Vec<Vec<LineString<f64>>> = vec![Vec::new(); outers.len()];
    for hole in holes {
        let owner = hole.0.first().and_then(|first| {
            outers
                .iter()
                .position(|outer| outer.contains(&Point::from(*first)) || outer.contains(&hole))
        });
        match owner {
            Some(i) => interiors[i].push(hole),
            None => {
                outers.push(Polygon::new(hole, Vec::new()));
                interiors.push(Vec::new());
            }
        }
    }
    let mut polygons: Vec<Polygon<f64>> = outers
        .into_iter()
        .zip(interiors)
        .map(|(outer, holes)| Polygon::new(outer.exterior().clone(), holes))
        .collect();
    if polygons.len() == 1 {
        Geometry::Polygon(polygons.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon::new(polygons))
    }
}

/// The companion file with the same stem and another extension, in either letter case.
fn sibling(path: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.is_file())
}

fn decide_crs(
    path: &Path,
    options: &ShapefileOptions,
    records: &[ShpRecord],
    warnings: &mut Warnings,
) -> Result<(Crs, String), LoadError> {
    if let Some(crs) = options.crs {
        if let Some(w) = crs.datum_warning() {
            warnings.push(None, w);
        }
        return Ok((crs, "chosen by the user".to_string()));
    }
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let detection = if let Some(prj) = sibling(path, "prj") {
        let bytes = std::fs::read(&prj).map_err(|source| LoadError::Io {
            path: prj.clone(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let mut d = detect_from_prj(&text);
        d.reason = format!("from {}: {}", prj.display(), d.reason);
        d
    } else {
        let samples: Vec<(f64, f64)> = records
            .iter()
            .filter_map(|r| match r {
                ShpRecord::Geometry(g) => first_coord(g),
                ShpRecord::Skipped => None,
            })
            .take(CRS_SAMPLE_RECORDS)
            .collect();
        let mut d = detect_from_samples(&samples);
        d.reason = format!("no .prj file; from the coordinate values: {}", d.reason);
        if d.crs == Some(Crs::Wgs84) {
            d.warnings.push(
                "read as WGS84 degrees: GCJ-02 (Amap) or BD-09 (Baidu) coordinates cannot be told \
                 apart from WGS84 by their values; choose the system if the data came from them"
                    .to_string(),
            );
        }
        if d.axis_swapped {
            d.warnings.push(
                "the values look like northing before easting, which a Shapefile never stores; \
                 choose the coordinate system"
                    .to_string(),
            );
            d.crs = None;
        }
        d
    };
    let Some(crs) = detection.crs else {
        let candidates: Vec<String> = detection.candidates.iter().map(|c| c.name()).collect();
        let listed = if candidates.is_empty() {
            String::new()
        } else {
            format!("; candidates: {}", candidates.join(", "))
        };
        return Err(format_error(format!(
            "cannot tell the coordinate system ({}){listed}; choose one",
            detection.reason
        )));
    };
    for w in detection.warnings {
        warnings.push(None, w);
    }
    Ok((crs, detection.reason))
}

fn first_coord(geometry: &Geometry<f64>) -> Option<(f64, f64)> {
    use geo::CoordsIter;
    geometry.coords_iter().next().map(|c| (c.x, c.y))
}

/// A decoded attribute value, owned until the layer's table copies it.
enum Cell<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(Cow<'a, str>),
}

impl Cell<'_> {
    fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Cell::Null => ValueRef::Null,
            Cell::Bool(b) => ValueRef::Bool(*b),
            Cell::Number(n) => ValueRef::Number(*n),
            Cell::Text(t) => ValueRef::Text(t),
        }
    }
}

/// The .dbf bytes, decoded a row at a time as the layer is filled, so UTF-8 text is never
/// copied twice.
struct DbfTable {
    field_names: Vec<String>,
    fields: Vec<DbfField>,
    bytes: Vec<u8>,
    header_len: usize,
    record_len: usize,
    /// Complete records in `bytes`, capped at the .shp's record count.
    record_count: usize,
    encoding: &'static Encoding,
}

impl DbfTable {
    /// The decoded cells of record `index`; empty past the last complete record.
    fn row(&self, index: usize) -> Vec<Cell<'_>> {
        if index >= self.record_count {
            return Vec::new();
        }
        let start = self.header_len + index * self.record_len;
        let Some(record) = self.bytes.get(start..start + self.record_len) else {
            return Vec::new();
        };
        self.fields
            .iter()
            .map(|f| decode_cell(f, &record[f.offset..f.offset + f.len], self.encoding))
            .collect()
    }
}

struct Attributes {
    table: DbfTable,
    encoding: String,
    encoding_reason: String,
}

struct DbfField {
    name: Vec<u8>,
    kind: u8,
    offset: usize,
    len: usize,
}

fn read_attributes(
    shp_path: &Path,
    options: &ShapefileOptions,
    shape_count: usize,
    warnings: &mut Warnings,
) -> Result<Option<Attributes>, LoadError> {
    let Some(dbf_path) = sibling(shp_path, "dbf") else {
        warnings.push(
            None,
            "no .dbf file next to it: the shapes are loaded without attributes".to_string(),
        );
        return Ok(None);
    };
    let bytes = std::fs::read(&dbf_path).map_err(|source| LoadError::Io {
        path: dbf_path.clone(),
        source,
    })?;
    let (fields, header_len, record_len, declared) = match parse_dbf_header(&bytes) {
        Ok(h) => h,
        Err(problem) => {
            warnings.push(
                None,
                format!(
                    "{}: {problem}; the shapes are loaded without attributes",
                    dbf_path.display()
                ),
            );
            return Ok(None);
        }
    };
    let available = bytes.len().saturating_sub(header_len) / record_len.max(1);
    let mut record_count = declared;
    if available < declared {
        warnings.push(
            None,
            format!(
                "{}: the header says {declared} records but only {available} are complete: it is truncated",
                dbf_path.display()
            ),
        );
        record_count = available;
    }
    if record_count != shape_count {
        let common = record_count.min(shape_count);
        warnings.push(
            None,
            format!(
                "the .shp has {shape_count} records but the .dbf has {record_count}: loaded the first {common}"
            ),
        );
    }
    let record_count = record_count.min(shape_count);
    let record_at = |i: usize| {
        let start = header_len + i * record_len;
        &bytes[start..start + record_len]
    };

    let (encoding, encoding_reason) = choose_encoding(
        shp_path,
        options,
        &fields,
        (0..record_count).map(record_at),
        warnings,
    );
    let field_names: Vec<String> = fields
        .iter()
        .map(|f| {
            encoding
                .decode_without_bom_handling(&f.name)
                .0
                .trim()
                .to_string()
        })
        .collect();
    Ok(Some(Attributes {
        table: DbfTable {
            field_names,
            fields,
            bytes,
            header_len,
            record_len,
            record_count,
            encoding,
        },
        encoding: encoding.name().to_string(),
        encoding_reason,
    }))
}

type DbfHeader = (Vec<DbfField>, usize, usize, usize);

fn parse_dbf_header(bytes: &[u8]) -> Result<DbfHeader, String> {
    if bytes.len() < 33 {
        return Err(format!(
            "too short for a dBASE header ({} bytes)",
            bytes.len()
        ));
    }
    let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let record_len = u16::from_le_bytes([bytes[10], bytes[11]]) as usize;
    if record_len == 0 || header_len < 33 || header_len > bytes.len() {
        return Err(format!(
            "not a dBASE file (header length {header_len}, record length {record_len})"
        ));
    }
    let mut fields = Vec::new();
    // Byte 0 of each record is the deletion flag.
    let mut offset = 1;
    let mut at = 32;
    while at + 32 <= header_len && bytes[at] != 0x0D {
        let descriptor = &bytes[at..at + 32];
        let name_end = descriptor[..11].iter().position(|&b| b == 0).unwrap_or(11);
        let len = descriptor[16] as usize;
        if offset + len > record_len {
            return Err(format!(
                "field {} runs past the {record_len}-byte record",
                fields.len()
            ));
        }
        fields.push(DbfField {
            name: descriptor[..name_end].to_vec(),
            kind: descriptor[11].to_ascii_uppercase(),
            offset,
            len,
        });
        offset += len;
        at += 32;
    }
    Ok((fields, header_len, record_len, declared))
}

fn choose_encoding<'a>(
    shp_path: &Path,
    options: &ShapefileOptions,
    fields: &[DbfField],
    records: impl Iterator<Item = &'a [u8]>,
    warnings: &mut Warnings,
) -> (&'static Encoding, String) {
    if let Some(label) = &options.encoding {
        match encoding_for_label(label) {
            Some(e) => return (e, format!("chosen by the user (\"{label}\")")),
            None => warnings.push(
                None,
                format!("unknown encoding \"{label}\"; detecting it instead"),
            ),
        }
    }
    if let Some(cpg) = sibling(shp_path, "cpg")
        && let Ok(bytes) = std::fs::read(&cpg)
    {
        let label = String::from_utf8_lossy(&bytes).trim().to_string();
        match encoding_for_label(&label) {
            Some(e) => return (e, format!("from {} (\"{label}\")", cpg.display())),
            None => warnings.push(
                None,
                format!(
                    "{}: unknown encoding \"{label}\"; detecting it instead",
                    cpg.display()
                ),
            ),
        }
    }
    let text_fields: Vec<&DbfField> = fields.iter().filter(|f| f.kind == b'C').collect();
    let names_utf8 = fields.iter().all(|f| std::str::from_utf8(&f.name).is_ok());
    let mut values_utf8 = true;
    let mut any_non_ascii = !fields.iter().all(|f| f.name.is_ascii());
    for record in records {
        for f in &text_fields {
            let raw = &record[f.offset..f.offset + f.len];
            if !raw.is_ascii() {
                any_non_ascii = true;
                if std::str::from_utf8(trim_text(raw)).is_err() {
                    values_utf8 = false;
                }
            }
        }
        if !values_utf8 {
            break;
        }
    }
    if names_utf8 && values_utf8 {
        let why = if any_non_ascii {
            "no .cpg file; every text value is valid UTF-8"
        } else {
            "no .cpg file; the text is plain ASCII"
        };
        (encoding_rs::UTF_8, why.to_string())
    } else {
        (
            encoding_rs::GB18030,
            "no .cpg file; the text is not valid UTF-8, so it is read as GB18030 (a superset of GBK)"
                .to_string(),
        )
    }
}

/// dBASE pads text with spaces (and some writers with NULs).
fn trim_text(raw: &[u8]) -> &[u8] {
    let is_pad = |b: &u8| *b == b' ' || *b == 0;
    let start = raw.iter().position(|b| !is_pad(b)).unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|b| !is_pad(b))
        .map_or(start, |e| e + 1);
    &raw[start..end]
}

fn decode_cell<'a>(field: &DbfField, raw: &'a [u8], encoding: &'static Encoding) -> Cell<'a> {
    let text = trim_text(raw);
    match field.kind {
        b'N' | b'F' => {
            if text.is_empty() || text.iter().all(|&b| b == b'*') {
                return Cell::Null;
            }
            std::str::from_utf8(text)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map_or(Cell::Null, Cell::Number)
        }
        b'L' => match text.first().map(u8::to_ascii_uppercase) {
            Some(b'T' | b'Y') => Cell::Bool(true),
            Some(b'F' | b'N') => Cell::Bool(false),
            _ => Cell::Null,
        },
        b'D' => {
            if text.len() == 8 && text.iter().all(u8::is_ascii_digit) {
                let s = String::from_utf8_lossy(text);
                Cell::Text(Cow::Owned(format!(
                    "{}-{}-{}",
                    &s[0..4],
                    &s[4..6],
                    &s[6..8]
                )))
            } else {
                Cell::Null
            }
        }
        _ => {
            if text.is_empty() {
                Cell::Null
            } else {
                Cell::Text(match encoding.decode_without_bom_handling(text).0 {
                    Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
                    Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
                })
            }
        }
    }
}
