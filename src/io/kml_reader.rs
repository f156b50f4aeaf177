//! KML and KMZ in: placemarks (Point, LineString, LinearRing, Polygon, MultiGeometry, gx:Track)
//! with their name, description and ExtendedData as attributes, and the Folder/Document
//! nesting kept as a `folder` attribute or as one layer per folder.
//!
//! The reader streams the XML (quick-xml) and is forgiving the way the files in the field
//! need: end tags that do not match are closed by name, HTML left unescaped in descriptions
//! is kept as text, coordinate tuples with stray spaces or junk are read around, and when the
//! XML breaks off, the placemarks read before the break are kept with a warning that names
//! the file and the placemark. KML is WGS84 by specification, but exports from Chinese apps
//! (Ovital/奥维, Amap) are often GCJ-02: coordinates are read as WGS84 unless the caller names
//! another system, and the reason and a warning say so; nothing is shifted silently.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::Ordering;

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;

use super::csv_reader::attribute_value;
use super::{LoadError, LoadWarning, Loaded, Progress};
use crate::crs::{Crs, CrsTransform, gcj02::in_china_bbox};
use crate::model::{Layer, LayerKind, Value};

/// Events between two progress updates and cancel checks.
const PROGRESS_EVERY: usize = 4096;
/// Placemark warnings listed one by one; the rest are counted in one line.
const MAX_LISTED_WARNINGS: usize = 200;
/// The largest .kml inside a KMZ that is unpacked (guards against zip bombs).
const MAX_KML_IN_KMZ: u64 = 2 << 30;
/// The attribute holding the folder path when folders are not split into layers.
pub const FOLDER_FIELD: &str = "folder";

/// Choices the caller forces; `None`/false means "read as the file says".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KmlOptions {
    /// The system the coordinates are in (e.g. GCJ-02 for Ovital or Amap exports).
    pub crs: Option<Crs>,
    /// Text encoding label, for files whose declaration lies.
    pub encoding: Option<String>,
    /// One layer per folder instead of one layer with a `folder` attribute.
    pub folders_as_layers: bool,
}

/// What the reader decided, and why, for the import dialog and `onemap inspect`.
#[derive(Debug, Clone, PartialEq)]
pub struct KmlInfo {
    /// The system the coordinates were read in (layers are stored as WGS84).
    pub crs: Crs,
    /// Why that system.
    pub crs_reason: String,
    /// The text encoding used.
    pub encoding: String,
    /// Why that encoding.
    pub encoding_reason: String,
    /// For a KMZ, the name of the KML entry read.
    pub kmz_entry: Option<String>,
    /// Placemarks seen in the file (read or skipped).
    pub placemarks: usize,
}

/// Reads a .kml or .kmz file (told apart by content, not by extension).
pub fn read_kml(
    path: &Path,
    options: &KmlOptions,
    progress: &Progress,
) -> Result<(Vec<Loaded>, KmlInfo), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let total = bytes.len() as u64;
    progress.bytes_total.store(total, Ordering::Relaxed);
    let result = read_kml_bytes(path, &bytes, options, progress);
    progress.bytes_done.store(total, Ordering::Relaxed);
    result
}

/// Reads KML or KMZ bytes; `path` names the source in layers and messages.
pub fn read_kml_bytes(
    path: &Path,
    bytes: &[u8],
    options: &KmlOptions,
    progress: &Progress,
) -> Result<(Vec<Loaded>, KmlInfo), LoadError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let (kml, entry) = unpack_kmz(path, bytes)?;
        let (layers, mut info) = read_kml_text(path, &kml, options, progress)?;
        info.kmz_entry = Some(entry);
        return Ok((layers, info));
    }
    read_kml_text(path, bytes, options, progress)
}

/// The first .kml entry of a KMZ (the KML 2.2 rule; usually `doc.kml`), unpacked.
fn unpack_kmz(path: &Path, bytes: &[u8]) -> Result<(Vec<u8>, String), LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format_error(format!("not a readable KMZ (zip) archive: {e}")))?;
    // Raw names: Chinese tools often write GBK names without the UTF-8 flag.
    let names: Vec<String> = archive
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let index = names
        .iter()
        .position(|n| n.to_ascii_lowercase().ends_with(".kml"))
        .ok_or_else(|| {
            let shown: Vec<&str> = names.iter().take(10).map(String::as_str).collect();
            format_error(format!(
                "the KMZ archive holds no .kml file (entries: {})",
                if shown.is_empty() {
                    "none".to_owned()
                } else {
                    shown.join(", ")
                }
            ))
        })?;
    let mut entry = archive
        .by_index(index)
        .map_err(|e| format_error(format!("cannot open the KML inside the KMZ: {e}")))?;
    let name = names[index].clone();
    let mut kml = Vec::with_capacity(usize::try_from(entry.size().min(1 << 28)).unwrap_or(0));
    (&mut entry)
        .take(MAX_KML_IN_KMZ + 1)
        .read_to_end(&mut kml)
        .map_err(|e| format_error(format!("cannot unpack '{name}' from the KMZ: {e}")))?;
    if kml.len() as u64 > MAX_KML_IN_KMZ {
        return Err(format_error(format!(
            "'{name}' in the KMZ unpacks to more than {} GiB",
            MAX_KML_IN_KMZ >> 30
        )));
    }
    Ok((kml, name))
}

/// Decodes the text: a forced label, else a BOM, else the XML declaration, else UTF-8 when
/// it is valid, else GB18030 (Chinese tools that write GBK without declaring it).
fn decode(bytes: &[u8], forced: Option<&str>) -> Result<(String, String, String), String> {
    if let Some(label) = forced {
        let encoding = super::encoding_for_label(label)
            .ok_or_else(|| format!("unknown text encoding '{label}'"))?;
        let (text, used, _) = encoding.decode(bytes);
        return Ok((
            text.into_owned(),
            used.name().to_owned(),
            "given by the user".to_owned(),
        ));
    }
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, used, _) = encoding.decode(bytes);
        return Ok((
            text.into_owned(),
            used.name().to_owned(),
            "byte order mark".to_owned(),
        ));
    }
    if let Some(label) = declared_encoding(bytes)
        && let Some(encoding) = super::encoding_for_label(&label)
        && encoding != encoding_rs::UTF_8
    {
        let (text, used, _) = encoding.decode(bytes);
        return Ok((
            text.into_owned(),
            used.name().to_owned(),
            format!("declared in the XML header ('{label}')"),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((
            text.to_owned(),
            "UTF-8".to_owned(),
            "KML is UTF-8 and the bytes decode as UTF-8".to_owned(),
        )),
        Err(_) => {
            let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            Ok((
                text.into_owned(),
                "GB18030".to_owned(),
                "the bytes are not UTF-8: read as GB18030 (GBK)".to_owned(),
            ))
        }
    }
}

/// The `encoding="..."` of an `<?xml ...?>` declaration at the start, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let declaration = head.trim_start().strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    Some(value[..value.find(quote)?].to_owned())
}

/// What an element is to this reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Kml,
    Document,
    Folder,
    Placemark,
    Name,
    ExtendedData,
    Data,
    Value,
    SchemaData,
    SimpleData,
    Schema,
    SimpleField,
    Point,
    LineString,
    LinearRing,
    Polygon,
    OuterBoundary,
    InnerBoundary,
    MultiGeometry,
    Coordinates,
    Track,
    MultiTrack,
    TrackCoord,
    Model,
    Other,
}

fn classify(local_name: &str) -> Tag {
    match local_name {
        "kml" => Tag::Kml,
        "Document" => Tag::Document,
        "Folder" => Tag::Folder,
        "Placemark" => Tag::Placemark,
        "name" => Tag::Name,
        "ExtendedData" => Tag::ExtendedData,
        "Data" => Tag::Data,
        "value" => Tag::Value,
        "SchemaData" => Tag::SchemaData,
        "SimpleData" => Tag::SimpleData,
        "Schema" => Tag::Schema,
        "SimpleField" => Tag::SimpleField,
        "Point" => Tag::Point,
        "LineString" => Tag::LineString,
        "LinearRing" => Tag::LinearRing,
        "Polygon" => Tag::Polygon,
        "outerBoundaryIs" => Tag::OuterBoundary,
        "innerBoundaryIs" => Tag::InnerBoundary,
        "MultiGeometry" => Tag::MultiGeometry,
        "coordinates" => Tag::Coordinates,
        "Track" => Tag::Track,
        "MultiTrack" => Tag::MultiTrack,
        "coord" => Tag::TrackCoord,
        "Model" => Tag::Model,
        _ => Tag::Other,
    }
}

/// A field type declared by a `<Schema>`'s `<SimpleField type="...">`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    Text,
    Number,
    Bool,
}

fn field_type(name: &str) -> Option<FieldType> {
    match name.trim() {
        "string" => Some(FieldType::Text),
        "int" | "uint" | "short" | "ushort" | "float" | "double" => Some(FieldType::Number),
        "bool" => Some(FieldType::Bool),
        _ => None,
    }
}

/// A Folder or Document being read.
struct Container {
    name: Option<String>,
    /// The outermost Document names the file, not a folder: it is left out of paths.
    in_path: bool,
}

/// Which ring of a polygon is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Boundary {
    None,
    Outer,
    Inner,
}

/// A geometry being read.
enum Builder {
    Point(Vec<Coord<f64>>),
    Line(Vec<Coord<f64>>),
    Ring(Vec<Coord<f64>>),
    Polygon {
        outer: Option<LineString<f64>>,
        inners: Vec<LineString<f64>>,
        boundary: Boundary,
    },
    Multi(Vec<Geometry<f64>>),
    Track(Vec<Coord<f64>>),
}

/// A placemark being read.
struct PlacemarkDraft {
    index: usize,
    folder: Option<String>,
    name: Option<String>,
    description: Option<String>,
    data: Vec<(String, Value)>,
    geometry: Option<Geometry<f64>>,
    notes: Vec<String>,
}

/// A placemark read, before layers are formed.
struct Feature {
    index: usize,
    folder: Option<String>,
    geometry: Geometry<f64>,
    attributes: Vec<(String, Value)>,
}

/// The streaming state.
struct Parser<'p> {
    path: &'p Path,
    transform: Option<CrsTransform>,
    stack: Vec<Tag>,
    containers: Vec<Container>,
    placemark: Option<PlacemarkDraft>,
    builders: Vec<Builder>,
    capturing: bool,
    text: String,
    data_name: Option<String>,
    simple_name: Option<String>,
    schema_url: Option<String>,
    schemas: HashMap<String, HashMap<String, FieldType>>,
    schema_draft: Option<(String, HashMap<String, FieldType>)>,
    placemarks_seen: usize,
    features: Vec<Feature>,
    warnings: Vec<LoadWarning>,
    listed: usize,
    unlisted: usize,
    any_in_china: bool,
    first_element: Option<Tag>,
    /// Folders of skipped placemarks, so their warnings go with their folder's layer.
    skipped_folders: Vec<(usize, Option<String>)>,
}

fn attribute(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .map(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
}

/// The value of a predefined or character entity reference, or the reference as written.
fn entity(name: &str) -> String {
    match name {
        "lt" => "<".to_owned(),
        "gt" => ">".to_owned(),
        "amp" => "&".to_owned(),
        "apos" => "'".to_owned(),
        "quot" => "\"".to_owned(),
        _ => {
            let code = name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()));
            match code.and_then(char::from_u32) {
                Some(c) => c.to_string(),
                None => format!("&{name};"),
            }
        }
    }
}

/// Raw element content as text: CDATA wrappers removed, entities resolved; markup (HTML
/// left unescaped in a description) is kept as written.
fn raw_content_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("<![CDATA[") {
        out.push_str(&unescape_loosely(&rest[..start]));
        let inner = &rest[start + "<![CDATA[".len()..];
        match inner.find("]]>") {
            Some(end) => {
                out.push_str(&inner[..end]);
                rest = &inner[end + 3..];
            }
            None => {
                out.push_str(inner);
                rest = "";
            }
        }
    }
    out.push_str(&unescape_loosely(rest));
    out.trim().to_owned()
}

fn unescape_loosely(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match after.find(';').filter(|&end| end <= 10) {
            Some(end) => {
                out.push_str(&entity(&after[..end]));
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses KML coordinate text: tuples "lon,lat[,alt]" separated by any whitespace, with
/// spaces around commas tolerated. Returns the positions and the unreadable tuples.
fn parse_coordinates(text: &str, out: &mut Vec<Coord<f64>>) -> Vec<String> {
    let mut junk = Vec::new();
    let mut fields: Vec<&str> = Vec::with_capacity(3);
    let bytes = text.as_bytes();
    let mut i = 0;
    let flush = |fields: &mut Vec<&str>, out: &mut Vec<Coord<f64>>, junk: &mut Vec<String>| {
        if fields.is_empty() {
            return;
        }
        match position(fields.iter().copied()) {
            Some(c) => out.push(c),
            None => junk.push(fields.join(",")),
        }
        fields.clear();
    };
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if bytes[i] == b',' {
            // A tuple continues after a comma, even across whitespace.
            i += 1;
            if fields.is_empty() {
                fields.push("");
            }
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b',' {
                i += 1;
            }
            fields.push(&text[start..i]);
            continue;
        }
        // A field that does not follow a comma starts a new tuple.
        flush(&mut fields, out, &mut junk);
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b',' {
            i += 1;
        }
        fields.push(&text[start..i]);
    }
    flush(&mut fields, out, &mut junk);
    junk
}

/// A position from 2 or 3 number fields (longitude, latitude, altitude ignored), in range.
fn position<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<Coord<f64>> {
    let x = plain_number(fields.next()?)?;
    let y = plain_number(fields.next()?)?;
    if let Some(altitude) = fields.next() {
        plain_number(altitude)?;
    }
    if fields.next().is_some() || x.abs() > 180.0 || y.abs() > 90.0 {
        return None;
    }
    Some(Coord { x, y })
}

/// A finite decimal number ("nan"/"inf" are not coordinates).
fn plain_number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl<'p> Parser<'p> {
    fn warn(&mut self, feature: Option<usize>, message: String) {
        if feature.is_some() {
            if self.listed >= MAX_LISTED_WARNINGS {
                self.unlisted += 1;
                return;
            }
            self.listed += 1;
        }
        self.warnings.push(LoadWarning {
            file: self.path.to_owned(),
            feature,
            message,
        });
    }

    fn folder_path(&self) -> Option<String> {
        let names: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| c.in_path)
            .map(|c| c.name.as_deref().unwrap_or("(unnamed)"))
            .collect();
        (!names.is_empty()).then(|| names.join("/"))
    }

    fn parent(&self) -> Option<Tag> {
        self.stack.last().copied()
    }

    fn start(&mut self, tag: Tag, e: &BytesStart<'_>) {
        if self.first_element.is_none() {
            self.first_element = Some(tag);
        }
        let in_placemark = self.placemark.is_some();
        match tag {
            Tag::Document | Tag::Folder => {
                let root_document = tag == Tag::Document && self.containers.is_empty();
                self.containers.push(Container {
                    name: None,
                    in_path: !root_document,
                });
            }
            Tag::Placemark => {
                if let Some(open) = self.placemark.take() {
                    self.warn(
                        Some(open.index),
                        "placemark not closed before the next one; dropped".to_owned(),
                    );
                }
                self.builders.clear();
                self.placemark = Some(PlacemarkDraft {
                    index: self.placemarks_seen,
                    folder: self.folder_path(),
                    name: None,
                    description: None,
                    data: Vec::new(),
                    geometry: None,
                    notes: Vec::new(),
                });
                self.placemarks_seen += 1;
            }
            Tag::Name | Tag::Value | Tag::SimpleData | Tag::Coordinates | Tag::TrackCoord => {
                self.capturing = true;
                self.text.clear();
                if tag == Tag::SimpleData {
                    self.simple_name = attribute(e, "name");
                }
            }
            Tag::Data => self.data_name = attribute(e, "name"),
            Tag::SchemaData => self.schema_url = attribute(e, "schemaUrl"),
            Tag::Schema => {
                let id = attribute(e, "id")
                    .or_else(|| attribute(e, "name"))
                    .unwrap_or_default();
                self.schema_draft = Some((id, HashMap::new()));
            }
            Tag::SimpleField => {
                if let (Some((_, fields)), Some(name), Some(kind)) = (
                    self.schema_draft.as_mut(),
                    attribute(e, "name"),
                    attribute(e, "type").as_deref().and_then(field_type),
                ) {
                    fields.insert(name, kind);
                }
            }
            Tag::Point if in_placemark => self.builders.push(Builder::Point(Vec::new())),
            Tag::LineString if in_placemark => self.builders.push(Builder::Line(Vec::new())),
            Tag::LinearRing if in_placemark => self.builders.push(Builder::Ring(Vec::new())),
            Tag::Polygon if in_placemark => self.builders.push(Builder::Polygon {
                outer: None,
                inners: Vec::new(),
                boundary: Boundary::None,
            }),
            Tag::MultiGeometry | Tag::MultiTrack if in_placemark => {
                self.builders.push(Builder::Multi(Vec::new()));
            }
            Tag::Track if in_placemark => self.builders.push(Builder::Track(Vec::new())),
            Tag::OuterBoundary | Tag::InnerBoundary => {
                if let Some(Builder::Polygon { boundary, .. }) = self.builders.last_mut() {
                    *boundary = if tag == Tag::OuterBoundary {
                        Boundary::Outer
                    } else {
                        Boundary::Inner
                    };
                }
            }
            Tag::Model if in_placemark => {
                if let Some(p) = self.placemark.as_mut() {
                    p.notes
                        .push("3D Model geometry is not read (only its placemark)".to_owned());
                }
            }
            _ => {}
        }
        self.stack.push(tag);
    }

    /// Closes `tag` (already popped from the stack; its parent is now on top).
    fn end(&mut self, tag: Tag) {
        let parent = self.parent();
        match tag {
            Tag::Name | Tag::Value | Tag::SimpleData | Tag::Coordinates | Tag::TrackCoord => {
                self.capturing = false;
                let text = std::mem::take(&mut self.text);
                self.end_text(tag, parent, text);
            }
            Tag::Document | Tag::Folder => {
                self.containers.pop();
            }
            Tag::Schema => {
                if let Some((id, fields)) = self.schema_draft.take() {
                    self.schemas.insert(id, fields);
                }
            }
            Tag::SchemaData => self.schema_url = None,
            Tag::Data => self.data_name = None,
            Tag::OuterBoundary | Tag::InnerBoundary => {
                if let Some(Builder::Polygon { boundary, .. }) = self.builders.last_mut() {
                    *boundary = Boundary::None;
                }
            }
            Tag::Point
            | Tag::LineString
            | Tag::LinearRing
            | Tag::Polygon
            | Tag::MultiGeometry
            | Tag::MultiTrack
            | Tag::Track
                if self.placemark.is_some() =>
            {
                if let Some(builder) = self.builders.pop() {
                    self.finish_geometry(builder);
                }
            }
            Tag::Placemark => self.finish_placemark(),
            _ => {}
        }
    }

    fn end_text(&mut self, tag: Tag, parent: Option<Tag>, text: String) {
        match (tag, parent) {
            (Tag::Name, Some(Tag::Placemark)) => {
                let name = text.trim();
                if let (Some(p), false) = (self.placemark.as_mut(), name.is_empty()) {
                    p.name = Some(name.to_owned());
                }
            }
            (Tag::Name, Some(Tag::Folder | Tag::Document)) => {
                if let Some(c) = self.containers.last_mut() {
                    let name = text.trim();
                    if !name.is_empty() {
                        c.name = Some(name.to_owned());
                    }
                }
            }
            (Tag::Value, Some(Tag::Data)) => {
                if let (Some(p), Some(name)) = (self.placemark.as_mut(), self.data_name.clone()) {
                    let value = attribute_value(text.trim(), true).to_owned_value();
                    p.data.push((name, value));
                }
            }
            (Tag::SimpleData, _) => {
                let kind = self.schema_url.as_deref().and_then(|url| {
                    let id = url.rsplit('#').next().unwrap_or(url);
                    let name = self.simple_name.as_deref()?;
                    self.schemas.get(id)?.get(name).copied()
                });
                if let (Some(p), Some(name)) = (self.placemark.as_mut(), self.simple_name.take()) {
                    p.data.push((name, typed_value(text.trim(), kind)));
                }
            }
            (Tag::Coordinates, _) => {
                let Some(builder) = self.builders.last_mut() else {
                    return;
                };
                let target = match builder {
                    Builder::Point(c) | Builder::Line(c) | Builder::Ring(c) => c,
                    _ => return,
                };
                let junk = parse_coordinates(&text, target);
                if let (false, Some(p)) = (junk.is_empty(), self.placemark.as_mut()) {
                    let shown: String = junk[0].chars().take(40).collect();
                    p.notes.push(format!(
                        "{} unreadable coordinate tuple(s) skipped (first: '{shown}')",
                        junk.len()
                    ));
                }
            }
            (Tag::TrackCoord, _) => {
                if let Some(Builder::Track(coords)) = self.builders.last_mut() {
                    match position(text.split_whitespace()) {
                        Some(c) => coords.push(c),
                        None => {
                            if let Some(p) = self.placemark.as_mut() {
                                let shown: String = text.trim().chars().take(40).collect();
                                p.notes
                                    .push(format!("unreadable gx:coord '{shown}' skipped"));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn finish_geometry(&mut self, builder: Builder) {
        // A ring inside a polygon becomes one of its boundaries, not a geometry.
        if let (
            Builder::Ring(coords),
            Some(Builder::Polygon {
                outer,
                inners,
                boundary,
            }),
        ) = (&builder, self.builders.last_mut())
        {
            if coords.len() < 3 {
                let note = format!(
                    "polygon ring with {} position(s) dropped (needs 3)",
                    coords.len()
                );
                if let Some(p) = self.placemark.as_mut() {
                    p.notes.push(note);
                }
                return;
            }
            let ring = LineString::new(coords.clone());
            match boundary {
                Boundary::Inner => inners.push(ring),
                Boundary::Outer | Boundary::None if outer.is_none() => *outer = Some(ring),
                _ => inners.push(ring),
            }
            return;
        }
        let geometry = match builder_geometry(builder) {
            Ok(g) => g,
            Err(note) => {
                if let Some(p) = self.placemark.as_mut() {
                    p.notes.push(note);
                }
                return;
            }
        };
        match self.builders.last_mut() {
            Some(Builder::Multi(children)) => children.push(geometry),
            Some(_) => {}
            None => {
                if let Some(p) = self.placemark.as_mut() {
                    p.geometry = Some(match p.geometry.take() {
                        None => geometry,
                        Some(first) => {
                            p.notes.push(
                                "more than one geometry: kept together as a collection".to_owned(),
                            );
                            Geometry::GeometryCollection(GeometryCollection::new_from(vec![
                                first, geometry,
                            ]))
                        }
                    });
                }
            }
        }
    }

    fn finish_placemark(&mut self) {
        self.builders.clear();
        let Some(draft) = self.placemark.take() else {
            return;
        };
        let index = draft.index;
        let notes = draft.notes;
        let Some(mut geometry) = draft.geometry else {
            let why = if notes.is_empty() {
                "has no geometry".to_owned()
            } else {
                notes.join("; ")
            };
            let label = draft.name.as_deref().map_or(String::new(), |n| {
                format!(" '{}'", n.chars().take(40).collect::<String>())
            });
            self.warn(Some(index), format!("placemark{label} skipped: {why}"));
            self.skipped_folders.push((index, draft.folder));
            return;
        };
        for note in notes {
            self.warn(Some(index), note);
        }
        if let Some(transform) = &self.transform {
            match transform.transform_geometry(&geometry) {
                Ok(g) => geometry = g,
                Err(e) => {
                    self.warn(Some(index), format!("placemark skipped: {e}"));
                    self.skipped_folders.push((index, draft.folder));
                    return;
                }
            }
        } else if !self.any_in_china {
            self.any_in_china = first_coord(&geometry).is_some_and(|c| in_china_bbox(c.x, c.y));
        }
        let mut attributes = Vec::with_capacity(draft.data.len() + 3);
        if let Some(name) = draft.name {
            attributes.push(("name".to_owned(), Value::Text(name)));
        }
        if let Some(description) = draft.description {
            attributes.push(("description".to_owned(), Value::Text(description)));
        }
        // A `folder` the file states (e.g. written by our own writer from a layer read with
        // folders) is kept over the structural one, so a KML -> KML round trip keeps it.
        let data_has_folder = draft.data.iter().any(|(n, _)| n == FOLDER_FIELD);
        attributes.extend(draft.data);
        if let (false, Some(folder)) = (data_has_folder, &draft.folder) {
            attributes.push((FOLDER_FIELD.to_owned(), Value::Text(folder.clone())));
        }
        self.features.push(Feature {
            index,
            folder: draft.folder,
            geometry,
            attributes,
        });
    }
}

fn typed_value(text: &str, kind: Option<FieldType>) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    match kind {
        Some(FieldType::Text) => Value::Text(text.to_owned()),
        Some(FieldType::Number) => match plain_number(text) {
            Some(n) => Value::Number(n),
            None => Value::Text(text.to_owned()),
        },
        Some(FieldType::Bool) => match text {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            _ => Value::Text(text.to_owned()),
        },
        None => attribute_value(text, true).to_owned_value(),
    }
}

fn first_coord(geometry: &Geometry<f64>) -> Option<Coord<f64>> {
    use geo::CoordsIter;
    geometry.coords_iter().next()
}

/// Turns a finished builder into a geometry, or says why it cannot be one.
fn builder_geometry(builder: Builder) -> Result<Geometry<f64>, String> {
    match builder {
        Builder::Point(coords) => match coords.first() {
            Some(c) => Ok(Geometry::Point(Point::from(*c))),
            None => Err("Point has no readable coordinates".to_owned()),
        },
        Builder::Line(coords) | Builder::Track(coords) if coords.len() >= 2 => {
            Ok(Geometry::LineString(LineString::new(coords)))
        }
        Builder::Track(coords) if coords.len() == 1 => Ok(Geometry::Point(Point::from(coords[0]))),
        Builder::Line(coords) | Builder::Track(coords) => Err(format!(
            "line with {} position(s) dropped (needs 2)",
            coords.len()
        )),
        Builder::Ring(mut coords) => {
            if coords.len() < 3 {
                return Err(format!(
                    "LinearRing with {} position(s) dropped (needs 3)",
                    coords.len()
                ));
            }
            if coords.first() != coords.last()
                && let Some(first) = coords.first().copied()
            {
                coords.push(first);
            }
            Ok(Geometry::LineString(LineString::new(coords)))
        }
        Builder::Polygon { outer, inners, .. } => match outer {
            Some(outer) => Ok(Geometry::Polygon(Polygon::new(outer, inners))),
            None => Err("Polygon has no outer boundary".to_owned()),
        },
        Builder::Multi(children) => multi_geometry(children),
    }
}

/// A MultiGeometry as the most specific geo type: all points -> MultiPoint, all lines ->
/// MultiLineString, all polygons -> MultiPolygon, else a collection (nesting kept).
fn multi_geometry(children: Vec<Geometry<f64>>) -> Result<Geometry<f64>, String> {
    if children.is_empty() {
        return Err("MultiGeometry holds no readable geometry".to_owned());
    }
    if children.iter().all(|g| matches!(g, Geometry::Point(_))) {
        let points = children
            .into_iter()
            .filter_map(|g| match g {
                Geometry::Point(p) => Some(p),
                _ => None,
            })
            .collect();
        return Ok(Geometry::MultiPoint(MultiPoint::new(points)));
    }
    if children
        .iter()
        .all(|g| matches!(g, Geometry::LineString(_)))
    {
        let lines = children
            .into_iter()
            .filter_map(|g| match g {
                Geometry::LineString(l) => Some(l),
                _ => None,
            })
            .collect();
        return Ok(Geometry::MultiLineString(MultiLineString::new(lines)));
    }
    if children.iter().all(|g| matches!(g, Geometry::Polygon(_))) {
        let polygons = children
            .into_iter()
            .filter_map(|g| match g {
                Geometry::Polygon(p) => Some(p),
                _ => None,
            })
            .collect();
        return Ok(Geometry::MultiPolygon(MultiPolygon::new(polygons)));
    }
    Ok(Geometry::GeometryCollection(GeometryCollection::new_from(
        children,
    )))
}

/// Parses decoded KML text into layers.
fn read_kml_text(
    path: &Path,
    bytes: &[u8],
    options: &KmlOptions,
    progress: &Progress,
) -> Result<(Vec<Loaded>, KmlInfo), LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let (text, encoding, encoding_reason) =
        decode(bytes, options.encoding.as_deref()).map_err(format_error)?;
    let crs = options.crs.unwrap_or(Crs::Wgs84);
    let transform = match options.crs {
        Some(c) if c != Crs::Wgs84 => Some(
            CrsTransform::new(c, Crs::Wgs84)
                .map_err(|e| format_error(format!("cannot use {c}: {e}")))?,
        ),
        _ => None,
    };
    let mut parser = Parser {
        path,
        transform,
        stack: Vec::new(),
        containers: Vec::new(),
        placemark: None,
        builders: Vec::new(),
        capturing: false,
        text: String::new(),
        data_name: None,
        simple_name: None,
        schema_url: None,
        schemas: HashMap::new(),
        schema_draft: None,
        placemarks_seen: 0,
        features: Vec::new(),
        warnings: Vec::new(),
        listed: 0,
        unlisted: 0,
        any_in_china: false,
        first_element: None,
        skipped_folders: Vec::new(),
    };
    let mut reader = quick_xml::Reader::from_str(&text);
    {
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
    }
    let total_text = text.len().max(1) as u64;
    let total_bytes = bytes.len() as u64;
    let mut events = 0usize;
    let mut xml_error: Option<String> = None;
    loop {
        events += 1;
        if events.is_multiple_of(PROGRESS_EVERY) {
            if progress.is_cancelled() {
                return Err(LoadError::Cancelled {
                    path: path.to_owned(),
                });
            }
            let done = reader.buffer_position().saturating_mul(total_bytes) / total_text;
            progress
                .bytes_done
                .store(done.min(total_bytes), Ordering::Relaxed);
        }
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let tag = classify(e.local_name().as_ref());
                if e.local_name().as_ref() == "description" {
                    // Read raw, so that unescaped HTML inside does not break the XML.
                    let end = e.name().as_ref().to_owned();
                    match reader.read_text(QName(&end)) {
                        Ok(raw) => {
                            let in_placemark = parser.parent() == Some(Tag::Placemark);
                            if let (Some(p), true) = (parser.placemark.as_mut(), in_placemark) {
                                let description = raw_content_text(&raw);
                                if !description.is_empty() {
                                    p.description = Some(description);
                                }
                            }
                        }
                        Err(e) => {
                            xml_error = Some(format!(
                                "a <description> is not closed ({e}) near byte {}",
                                reader.buffer_position()
                            ));
                            break;
                        }
                    }
                    continue;
                }
                parser.start(tag, &e);
            }
            Ok(Event::Empty(e)) => {
                // `<Point/>`, `<SimpleField .../>`: opened and closed at once.
                let tag = classify(e.local_name().as_ref());
                parser.start(tag, &e);
                if parser.stack.pop().is_some() {
                    parser.end(tag);
                }
            }
            Ok(Event::End(e)) => {
                let tag = classify(e.local_name().as_ref());
                if tag == Tag::Other && !parser.stack.contains(&Tag::Other) {
                    continue;
                }
                // Close by name: elements left open inside are closed with it.
                if let Some(depth) = parser.stack.iter().rposition(|t| *t == tag) {
                    while parser.stack.len() > depth {
                        if let Some(open) = parser.stack.pop() {
                            parser.end(open);
                        }
                    }
                }
            }
            Ok(Event::Text(t)) if parser.capturing => parser.text.push_str(&t.xml10_content()),
            Ok(Event::CData(t)) if parser.capturing => parser.text.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) if parser.capturing => {
                let resolved = entity(&r.xml10_content());
                parser.text.push_str(&resolved);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                xml_error = Some(format!(
                    "XML error near byte {}: {e}",
                    reader.error_position()
                ));
                break;
            }
        }
    }
    if let Some(draft) = parser.placemark.take() {
        let why = if xml_error.is_some() {
            "cut off by the XML error"
        } else {
            "the file ends inside it (truncated?)"
        };
        parser.warn(Some(draft.index), format!("placemark dropped: {why}"));
    }
    let read = parser.features.len();
    if let Some(message) = &xml_error {
        if read == 0 {
            return Err(format_error(format!(
                "{message}; no placemark could be read before it"
            )));
        }
        parser.warn(
            None,
            format!("{message}; kept the {read} placemark(s) read before it"),
        );
    } else if !matches!(
        parser.first_element,
        Some(Tag::Kml | Tag::Document | Tag::Folder | Tag::Placemark)
    ) && read == 0
    {
        return Err(format_error(
            "not a KML file: no <kml> root element and no placemark".to_owned(),
        ));
    }
    if parser.unlisted > 0 {
        let unlisted = parser.unlisted;
        parser.warn(
            None,
            format!("{unlisted} more placemark problems (not listed)"),
        );
    }
    if read == 0 {
        parser.warn(None, "the file holds no readable placemark".to_owned());
    }
    let crs_reason = match options.crs {
        Some(c) => format!("{c} was chosen by the user"),
        None => {
            if parser.any_in_china {
                parser.warn(
                    None,
                    "coordinates read as WGS 84 (the KML standard). Exports from Ovital (奥维), \
                     Amap or other Chinese map apps are often GCJ-02: if the features sit about \
                     500 m off the basemap, choose GCJ-02"
                        .to_owned(),
                );
            }
            "KML is WGS 84 longitude/latitude by specification; GCJ-02 exports (Ovital/奥维, \
             Amap) cannot be told from the values"
                .to_owned()
        }
    };
    if let Some(w) = crs.datum_warning() {
        parser.warn(None, w);
    }
    let info = KmlInfo {
        crs,
        crs_reason,
        encoding,
        encoding_reason,
        kmz_entry: None,
        placemarks: parser.placemarks_seen,
    };
    let layers = form_layers(
        path,
        parser.features,
        parser.warnings,
        &parser.skipped_folders,
        options,
    );
    Ok((layers, info))
}

/// Groups features into layers: one layer, or one per folder path (root placemarks in a
/// layer named after the file). File-level warnings go with the first layer; a placemark's
/// warnings go with its layer.
fn form_layers(
    path: &Path,
    features: Vec<Feature>,
    warnings: Vec<LoadWarning>,
    skipped_folders: &[(usize, Option<String>)],
    options: &KmlOptions,
) -> Vec<Loaded> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let new_layer = |name: String, kind_hint: &str| Layer {
        kind: match LayerKind::guess_from_name(kind_hint) {
            LayerKind::Generic => LayerKind::guess_from_name(&stem),
            kind => kind,
        },
        name,
        path: Some(path.to_owned()),
        ..Layer::default()
    };
    let mut order: Vec<Option<String>> = Vec::new();
    let mut layers: Vec<Loaded> = Vec::new();
    let mut placemark_layer: HashMap<usize, usize> = HashMap::new();
    if !options.folders_as_layers {
        layers.push(Loaded {
            layer: new_layer(stem.clone(), &stem),
            warnings: Vec::new(),
        });
    }
    for feature in features {
        let slot = if options.folders_as_layers {
            match order.iter().position(|f| *f == feature.folder) {
                Some(i) => i,
                None => {
                    let (name, hint) = match &feature.folder {
                        Some(f) => (f.clone(), f.rsplit('/').next().unwrap_or(f).to_owned()),
                        None => (stem.clone(), stem.clone()),
                    };
                    order.push(feature.folder.clone());
                    layers.push(Loaded {
                        layer: new_layer(name, &hint),
                        warnings: Vec::new(),
                    });
                    layers.len() - 1
                }
            }
        } else {
            0
        };
        placemark_layer.insert(feature.index, slot);
        let layer = &mut layers[slot].layer;
        layer.geometries.push(feature.geometry);
        layer
            .source_index
            .push(u32::try_from(feature.index).unwrap_or(u32::MAX));
        let skip_folder = options.folders_as_layers;
        layer.attributes.push_row(
            feature
                .attributes
                .iter()
                .filter(|(n, _)| !(skip_folder && n == FOLDER_FIELD))
                .map(|(n, v)| (n.as_str(), v.as_ref())),
        );
    }
    if layers.is_empty() {
        layers.push(Loaded {
            layer: new_layer(stem.clone(), &stem),
            warnings: Vec::new(),
        });
    }
    if options.folders_as_layers {
        for (index, folder) in skipped_folders {
            if let Some(slot) = order.iter().position(|f| f == folder) {
                placemark_layer.insert(*index, slot);
            }
        }
    }
    for warning in warnings {
        let slot = warning
            .feature
            .and_then(|i| placemark_layer.get(&i).copied())
            .unwrap_or(0);
        layers[slot].warnings.push(warning);
    }
    layers
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_tolerate_spaces_and_junk() {
        let mut out = Vec::new();
        let junk = parse_coordinates(
            " 117.1,36.2,0\n\t117.2 , 36.3 abc 1,2,3,4 nan,1 118,37 ",
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                Coord { x: 117.1, y: 36.2 },
                Coord { x: 117.2, y: 36.3 },
                Coord { x: 118.0, y: 37.0 }
            ]
        );
        assert_eq!(junk, vec!["abc", "1,2,3,4", "nan,1"]);
    }

    #[test]
    fn declared_encoding_is_found() {
        assert_eq!(
            declared_encoding(b"<?xml version=\"1.0\" encoding='GB2312'?><kml/>"),
            Some("GB2312".to_owned())
        );
        assert_eq!(declared_encoding(b"<kml/>"), None);
    }

    #[test]
    fn raw_descriptions_keep_html_and_resolve_entities() {
        assert_eq!(
            raw_content_text(" <b>a</b> &amp; <![CDATA[<i>x</i> &amp;]]> &#x4e2d; "),
            "<b>a</b> & <i>x</i> &amp; 中"
        );
    }

    #[test]
    fn schema_types_decide_values() {
        assert_eq!(
            typed_value("0531", field_type("string")),
            Value::Text("0531".into())
        );
        assert_eq!(typed_value("12", field_type("int")), Value::Number(12.0));
        assert_eq!(
            typed_value("12", field_type("nonsense")),
            Value::Number(12.0)
        );
        assert_eq!(typed_value("true", field_type("bool")), Value::Bool(true));
        assert_eq!(typed_value("", field_type("string")), Value::Null);
    }
}
