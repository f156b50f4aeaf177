//! Writing layers to files: one entry point, [`write_path`], that picks the format by
//! extension, converts coordinates from WGS84 to the target system, and reports every file
//! written and every feature it had to skip or change.
//!
//! **Several layers to a single-layer format** (GeoJSON, CSV, Shapefile): one layer is
//! written to the path as given; several layers are written one file per layer, the layer
//! name appended to the stem (`out.geojson` → `out_roads.geojson`, `out_schools.geojson`),
//! so converting a GeoPackage or a KML with folders never loses a layer.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use geo::{Coord, Geometry, LineString};

use super::{csv_writer, geojson_writer, shapefile_writer};
use crate::crs::{Crs, CrsError, CrsTransform};
use crate::model::Layer;

/// How a CSV file carries geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvGeometry {
    /// `lon`/`lat` columns when every feature is a point, else a WKT column.
    #[default]
    Auto,
    /// A `WKT` column first (any geometry type).
    Wkt,
    /// `lon`/`lat` columns (`x`/`y` for projected targets); point layers only.
    LonLat,
}

/// Choices for writing.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOptions {
    /// The system coordinates are written in. Default WGS84; GCJ-02 / BD-09 are allowed for
    /// overlay on Amap/Baidu-based systems and are named in the output; projected systems
    /// (Gauss-Krüger, UTM, Web Mercator) suit Shapefile and CSV, not GeoJSON.
    pub crs: Crs,
    /// Text encoding of Shapefile `.dbf` attributes and CSV text: `None` is UTF-8; "gbk"
    /// (or "gb18030", "936") on request for old desktop GIS and Chinese Excel.
    pub encoding: Option<String>,
    /// How CSV carries geometry.
    pub csv_geometry: CsvGeometry,
    /// Start a UTF-8 CSV with a byte-order mark: Excel then opens Chinese text correctly
    /// instead of guessing the ANSI code page. Ignored for other encodings and formats.
    pub csv_bom: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            crs: Crs::Wgs84,
            encoding: None,
            csv_geometry: CsvGeometry::Auto,
            csv_bom: false,
        }
    }
}

/// What a write produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteReport {
    /// Every file written (a Shapefile counts its .shp, .shx, .dbf, .prj and .cpg).
    pub files: Vec<PathBuf>,
    /// Features skipped or changed, names truncated, and notes about the target system.
    pub warnings: Vec<String>,
}

/// Why nothing (or not everything) could be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: cannot write: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The format cannot take this data or these options (e.g. projected GeoJSON).
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    /// The target coordinate system cannot be prepared.
    #[error("{path}: {source}")]
    Crs { path: PathBuf, source: CrsError },
}

impl WriteError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        WriteError::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn unsupported(path: &Path, message: impl Into<String>) -> Self {
        WriteError::Unsupported {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// The formats [`write_path`] knows, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFormat {
    GeoJson,
    Csv,
    Shapefile,
    Kml,
    GeoPackage,
}

impl WriteFormat {
    /// The format a path's extension names; `None` for an unknown extension.
    pub fn from_path(path: &Path) -> Option<WriteFormat> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref()? {
            "geojson" | "json" => Some(WriteFormat::GeoJson),
            "csv" => Some(WriteFormat::Csv),
            "shp" => Some(WriteFormat::Shapefile),
            "kml" | "kmz" => Some(WriteFormat::Kml),
            "gpkg" => Some(WriteFormat::GeoPackage),
            _ => None,
        }
    }

    /// The name shown to users.
    pub fn name(self) -> &'static str {
        match self {
            WriteFormat::GeoJson => "GeoJSON",
            WriteFormat::Csv => "CSV",
            WriteFormat::Shapefile => "Shapefile",
            WriteFormat::Kml => "KML",
            WriteFormat::GeoPackage => "GeoPackage",
        }
    }
}

/// Writes `layers` (stored in WGS84) to `path` in the format its extension names, in the
/// target system of `options`. Several layers to a single-layer format go one file per
/// layer (see the module docs). Features that cannot be written are skipped and listed in
/// the report's warnings; the error is for when the file as a whole cannot be.
pub fn write_path(
    path: &Path,
    layers: &[&Layer],
    options: &WriteOptions,
) -> Result<WriteReport, WriteError> {
    let Some(format) = WriteFormat::from_path(path) else {
        return Err(WriteError::unsupported(
            path,
            "unknown output format: use .geojson, .json, .csv, .shp, .kml, .kmz or .gpkg",
        ));
    };
    if layers.is_empty() {
        return Err(WriteError::unsupported(path, "there is no layer to write"));
    }
    if let Some(label) = &options.encoding
        && super::encoding_for_label(label).is_none()
    {
        return Err(WriteError::unsupported(
            path,
            format!("unknown encoding \"{label}\" (try utf-8 or gbk)"),
        ));
    }
    let mut report = WriteReport::default();
    if let Some(warning) = options.crs.datum_warning() {
        report.warnings.push(warning);
    }
    match format {
        WriteFormat::Kml => {
            write_kml_layers(path, layers, options, &mut report)?;
            return Ok(report);
        }
        WriteFormat::GeoPackage => {
            let warnings = super::gpkg_writer::write_geopackage(path, layers, &options.crs)
                .map_err(|message| WriteError::unsupported(path, message))?;
            report.warnings.extend(warnings);
            report.files.push(path.to_owned());
            return Ok(report);
        }
        _ => {}
    }
    let targets = layer_paths(path, layers);
    for (layer, target) in layers.iter().zip(&targets) {
        match format {
            WriteFormat::GeoJson => {
                geojson_writer::write_geojson(target, layer, options, &mut report)?
            }
            WriteFormat::Csv => csv_writer::write_csv(target, layer, options, &mut report)?,
            WriteFormat::Shapefile => {
                shapefile_writer::write_shapefile(target, layer, options, &mut report)?
            }
            // Whole-file formats were written above.
            WriteFormat::Kml | WriteFormat::GeoPackage => {}
        }
    }
    Ok(report)
}

/// KML/KMZ: every layer into one file, a Folder each. KML is WGS 84 by definition; GCJ-02
/// or BD-09 output (for overlay in Amap- or Baidu-based tools) is allowed and named in the
/// document, projected systems are refused.
fn write_kml_layers(
    path: &Path,
    layers: &[&Layer],
    options: &WriteOptions,
    report: &mut WriteReport,
) -> Result<(), WriteError> {
    let shifted: Vec<Layer>;
    let to_write: Vec<&Layer> = match options.crs {
        Crs::Wgs84 => layers.to_vec(),
        Crs::Gcj02 | Crs::Bd09 => {
            let transform = CrsTransform::new(Crs::Wgs84, options.crs)
                .map_err(|e| WriteError::unsupported(path, e.to_string()))?;
            shifted = layers
                .iter()
                .map(|layer| {
                    let mut copy = (*layer).clone();
                    copy.name = format!("{} ({})", layer.name, options.crs.name());
                    for (i, g) in copy.geometries.iter_mut().enumerate() {
                        match transform.transform_geometry(g) {
                            Ok(converted) => *g = converted,
                            Err(e) => report
                                .warnings
                                .push(format!("{}: feature {i}: {e}", path.display())),
                        }
                    }
                    copy
                })
                .collect();
            report.warnings.push(format!(
                "{}: coordinates are {}, not WGS 84: for overlay in tools that use it only",
                path.display(),
                options.crs.name()
            ));
            shifted.iter().collect()
        }
        other => {
            return Err(WriteError::unsupported(
                path,
                format!(
                    "KML holds WGS 84 longitude/latitude only; {} output goes to Shapefile, CSV or GeoPackage",
                    other.name()
                ),
            ));
        }
    };
    let warnings = super::kml_writer::write_kml(path, &to_write)
        .map_err(|message| WriteError::unsupported(path, message))?;
    report.warnings.extend(warnings);
    report.files.push(path.to_owned());
    Ok(())
}

/// One output path per layer: the path itself for a single layer, else the stem suffixed
/// with each layer's name (made safe for file names and unique).
fn layer_paths(path: &Path, layers: &[&Layer]) -> Vec<PathBuf> {
    if layers.len() == 1 {
        return vec![path.to_owned()];
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut used = HashSet::new();
    layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let base = format!("{stem}_{}", file_safe(&layer.name, i));
            let mut name = base.clone();
            let mut n = 2;
            while !used.insert(name.to_lowercase()) {
                name = format!("{base}_{n}");
                n += 1;
            }
            path.with_file_name(format!("{name}.{extension}"))
        })
        .collect()
}

/// A layer name usable in a file name on every system (Chinese letters are kept).
pub(crate) fn file_safe(name: &str, index: usize) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if cleaned.trim_matches(['_', '.']).is_empty() {
        format!("layer{}", index + 1)
    } else {
        cleaned
    }
}

/// Converts stored (WGS84) geometries to the target system, borrowing when it is WGS84.
pub(crate) struct Reprojector {
    transform: CrsTransform,
}

impl Reprojector {
    pub(crate) fn new(path: &Path, target: Crs) -> Result<Self, WriteError> {
        CrsTransform::new(Crs::Wgs84, target)
            .map(|transform| Reprojector { transform })
            .map_err(|source| WriteError::Crs {
                path: path.to_owned(),
                source,
            })
    }

    /// The geometry in the target system (the stored one when nothing changes).
    pub(crate) fn apply<'a>(
        &self,
        geometry: &'a Geometry<f64>,
    ) -> Result<Cow<'a, Geometry<f64>>, CrsError> {
        if self.transform.is_identity() {
            // Still checked: a NaN must not reach a file.
            let bad = geo::CoordsIter::coords_iter(geometry)
                .find(|c| !c.x.is_finite() || !c.y.is_finite());
            if let Some(c) = bad {
                return Err(CrsError::OutOfDomain {
                    x: c.x,
                    y: c.y,
                    crs: "the layer".to_string(),
                    problem: "not a number",
                });
            }
            Ok(Cow::Borrowed(geometry))
        } else {
            self.transform.transform_geometry(geometry).map(Cow::Owned)
        }
    }
}

/// One warning line about feature `row` of `layer`, naming the output file and the feature
/// by its index in the source file.
pub(crate) fn feature_warning(path: &Path, layer: &Layer, row: usize, message: &str) -> String {
    let source = layer.source_index.get(row).map_or(row, |&i| i as usize);
    format!("{}: feature {source}: {message}", path.display())
}

/// Twice the signed area of a ring (shoelace); positive when counter-clockwise with y up.
pub(crate) fn signed_area2(ring: &LineString<f64>) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

/// The ring's points in the winding asked for (`clockwise` with y up), closed.
pub(crate) fn oriented(ring: &LineString<f64>, clockwise: bool) -> Vec<Coord<f64>> {
    let mut points = ring.0.clone();
    if points.first() != points.last()
        && let Some(&first) = points.first()
    {
        points.push(first);
    }
    let area = signed_area2(&LineString::new(points.clone()));
    if (area < 0.0) != clockwise && area != 0.0 {
        points.reverse();
    }
    points
}

/// A number as written in text formats: integers without ".0", the shortest text that
/// reads back to the same value otherwise; `None` for NaN and infinities.
pub(crate) fn number_text(n: f64) -> Option<String> {
    if !n.is_finite() {
        None
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        Some(format!("{}", n as i64))
    } else {
        Some(format!("{n}"))
    }
}

impl fmt::Display for CsvGeometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsvGeometry::Auto => "auto",
            CsvGeometry::Wkt => "wkt",
            CsvGeometry::LonLat => "lonlat",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn layer(name: &str) -> Layer {
        Layer {
            name: name.to_string(),
            ..Layer::default()
        }
    }

    #[test]
    fn several_layers_get_one_file_each_with_unique_safe_names() {
        let (a, b, c, d) = (
            layer("roads"),
            layer("学校/医院"),
            layer("roads"),
            layer(" "),
        );
        let paths = layer_paths(Path::new("/tmp/out.geojson"), &[&a, &b, &c, &d]);
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "out_roads.geojson",
                "out_学校_医院.geojson",
                "out_roads_2.geojson",
                "out_layer4.geojson"
            ]
        );
        assert_eq!(
            layer_paths(Path::new("/tmp/out.shp"), &[&a]),
            [PathBuf::from("/tmp/out.shp")]
        );
    }

    #[test]
    fn unknown_formats_and_bad_encodings_are_clear_errors() {
        let l = layer("x");
        let o = WriteOptions::default();
        let e = write_path(Path::new("/tmp/x.dxf"), &[&l], &o).unwrap_err();
        assert!(e.to_string().contains("unknown output format"), "{e}");
        let bad = WriteOptions {
            encoding: Some("klingon".into()),
            ..WriteOptions::default()
        };
        let e = write_path(Path::new("/tmp/x.csv"), &[&l], &bad).unwrap_err();
        assert!(e.to_string().contains("unknown encoding"), "{e}");
    }

    #[test]
    fn every_format_replaces_an_existing_file_whole_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut points = layer("stations");
        points
            .geometries
            .push(geo::Geometry::Point(geo::Point::new(117.9, 36.8)));
        points.source_index.push(0);
        points
            .attributes
            .push_row([("name", crate::model::ValueRef::Text("一中队"))]);
        for name in ["a.geojson", "a.csv", "a.kml", "a.kmz", "a.shp", "a.gpkg"] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"an older file").unwrap();
            write_path(&path, &[&points], &WriteOptions::default()).unwrap();
            let back = crate::io::read_path(
                &path,
                &crate::io::ReadOptions::default(),
                &crate::io::Progress::default(),
            )
            .unwrap();
            assert_eq!(back.layers[0].layer.len(), 1, "{name}");
        }
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".onemap-partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn orientation_and_numbers() {
        let ccw = LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]);
        assert!(signed_area2(&ccw) > 0.0);
        let cw = oriented(&ccw, true);
        assert!(signed_area2(&LineString::new(cw.clone())) < 0.0);
        assert_eq!(cw.first(), cw.last());
        let open = LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]);
        assert_eq!(oriented(&open, false).len(), 4);
        assert_eq!(number_text(3.0).unwrap(), "3");
        assert_eq!(number_text(-0.1).unwrap(), "-0.1");
        assert_eq!(number_text(117.123456789012).unwrap(), "117.123456789012");
        assert_eq!(number_text(f64::NAN), None);
    }
}
