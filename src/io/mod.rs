//! Reading and writing layers. Every reader returns what it could read plus warnings that
//! name the file, the feature and the problem; a bad feature never sinks the whole file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::crs::Crs;
use crate::model::Layer;

// CSV/TSV point lists in: columns, encodings, DMS and coordinate systems guessed.
pub mod csv_reader;
// CSV out: WKT or lon/lat columns, UTF-8 (optional BOM) or GBK.
pub mod csv_writer;
// GeoJSON in: the tolerant streaming reader.
pub mod geojson_reader;
// GeoJSON out (RFC 7946), streamed; GCJ-02/BD-09 output carries a `crs_note`.
pub mod geojson_writer;
// KML/KMZ in: placemarks, folders and ExtendedData, streamed and forgiving.
pub mod kml_reader;
// KML/KMZ out: one Folder per layer, attributes as typed ExtendedData.
pub mod kml_writer;
// GeoPackage in: every feature table as a layer, CRS from gpkg_spatial_ref_sys.
pub mod gpkg_reader;
// GeoPackage out: one feature table per layer, in the CRS asked for.
pub mod gpkg_writer;
// OpenStreetMap .osm.pbf in: roads, waterways and emergency amenities, clipped.
pub mod osm_reader;
// Shapefile in: .shp/.dbf/.prj/.cpg to a WGS84 layer.
pub mod shapefile_reader;
// Shapefile out: .shp/.shx/.dbf/.prj/.cpg, UTF-8 or GBK attributes.
pub mod shapefile_writer;
// Files written beside their target and renamed over it when whole.
pub mod staged;
// The per-layer JSON summary printed by `onemap inspect`.
pub mod summary;
// Writing any layer to any writable format by extension, in a chosen coordinate system.
pub mod write;
// Excel point lists in, through the CSV reader's table core.
pub mod xlsx_reader;

/// Maps an encoding label (a `.cpg` text or what the user typed) to an encoding; Windows
/// code pages by number too (936 is GBK), which encoding_rs alone does not know.
pub fn encoding_for_label(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let label = label.trim().trim_start_matches('\u{feff}').trim();
    let upper = label.to_ascii_uppercase();
    let mapped = match upper.as_str() {
        "936" | "CP936" | "GB2312" | "GBK" | "MS936" | "WINDOWS-936" => "gbk",
        "54936" | "GB18030" => "gb18030",
        "65001" | "UTF8" | "UTF-8" => "utf-8",
        "1252" | "CP1252" | "ANSI 1252" => "windows-1252",
        "950" | "CP950" | "BIG5" => "big5",
        _ => label,
    };
    encoding_rs::Encoding::for_label(mapped.as_bytes())
}

/// A problem with one feature (or the file as a whole) that did not stop the load.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadWarning {
    pub file: PathBuf,
    /// 0-based index of the feature in the file, when the problem is with one feature.
    pub feature: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.feature {
            Some(i) => write!(f, "{}: feature {i}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Why nothing could be read from a file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: loading cancelled")]
    Cancelled { path: PathBuf },
}

/// A layer and the warnings met while reading it.
#[derive(Debug)]
pub struct Loaded {
    pub layer: Layer,
    pub warnings: Vec<LoadWarning>,
}

/// Shared between a loader and whoever shows its progress: bytes read so far, the total,
/// and a cancel flag the loader checks as it goes.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub cancel: AtomicBool,
}

impl Progress {
    /// Fraction done in [0, 1].
    pub fn fraction(&self) -> f32 {
        let total = self.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.bytes_done.load(Ordering::Relaxed) as f64 / total as f64).min(1.0) as f32
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Choices the user (import dialog) or the command line forces for any reader; `None`/false
/// means "detect from the file". Readers ignore the fields that do not apply to them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// The system the file's coordinates are in (e.g. GCJ-02 for points picked on Amap).
    pub crs: Option<Crs>,
    /// Attribute text encoding label ("utf-8", "gbk", "gb18030", "936", ...).
    pub encoding: Option<String>,
    /// Column holding longitude/easting in tables (CSV, Excel), by header.
    pub x_col: Option<String>,
    /// Column holding latitude/northing in tables (CSV, Excel), by header.
    pub y_col: Option<String>,
    /// KML/KMZ: one layer per folder instead of one layer with a `folder` attribute.
    pub folders_as_layers: bool,
    /// Keep only features whose bounding box meets this WGS84 box (OSM extracts).
    pub clip: Option<geo::Rect<f64>>,
    /// Excel: the sheet to read, by name; the first sheet when `None`.
    pub sheet: Option<String>,
}

/// What a reader decided about a file, and why, for the import dialog and `inspect`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceInfo {
    /// Format name, e.g. "GeoJSON", "Shapefile", "CSV".
    pub format: String,
    /// The system the coordinates were read in (layers are always stored as WGS84);
    /// `None` when the format fixes it (GeoJSON is WGS84 by RFC 7946).
    pub crs: Option<Crs>,
    /// Why that system, in plain words.
    pub crs_reason: String,
    /// The attribute text encoding used, when the format has encoded attribute bytes.
    pub encoding: Option<String>,
    /// Why that encoding.
    pub encoding_reason: String,
    /// Excel: every sheet of the workbook in order (empty for other formats), so that a
    /// user can choose another one.
    pub sheets: Vec<String>,
    /// Excel: the sheet read.
    pub sheet: Option<String>,
}

/// Everything read from one file: one or more layers (GeoPackage tables, KML folders, OSM
/// themes) and what the reader decided.
#[derive(Debug)]
pub struct ReadResult {
    pub layers: Vec<Loaded>,
    pub info: SourceInfo,
}

/// The formats `read_path` knows, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    Shapefile,
    Csv,
    Kml,
    Kmz,
    Xlsx,
    GeoPackage,
    OsmPbf,
}

impl Format {
    /// The format a path's extension names; anything unknown is tried as GeoJSON.
    pub fn from_path(path: &Path) -> Format {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("shp") => Format::Shapefile,
            Some("csv" | "tsv" | "txt") => Format::Csv,
            Some("kml") => Format::Kml,
            Some("kmz") => Format::Kmz,
            Some("xlsx" | "xlsm" | "xls" | "xlsb" | "ods") => Format::Xlsx,
            Some("gpkg") => Format::GeoPackage,
            Some("pbf") => Format::OsmPbf,
            _ => Format::GeoJson,
        }
    }

    /// True when the file itself says which coordinate system it is in (GeoJSON by RFC
    /// 7946, Shapefile by .prj or unmistakable value ranges); tables and KML from Chinese
    /// apps may be WGS84, GCJ-02 or BD-09 and only the user knows.
    pub fn states_its_crs(self) -> bool {
        match self {
            Format::GeoJson | Format::Shapefile | Format::GeoPackage | Format::OsmPbf => true,
            Format::Csv | Format::Kml | Format::Kmz | Format::Xlsx => false,
        }
    }

    /// The name shown to users and in `inspect`'s JSON.
    pub fn name(self) -> &'static str {
        match self {
            Format::GeoJson => "GeoJSON",
            Format::Shapefile => "Shapefile",
            Format::Csv => "CSV",
            Format::Kml => "KML",
            Format::Kmz => "KMZ",
            Format::Xlsx => "Excel",
            Format::GeoPackage => "GeoPackage",
            Format::OsmPbf => "OpenStreetMap PBF",
        }
    }
}

/// Reads any supported file, by extension, with the caller's overrides: every layer it holds
/// and what was detected (CRS, encoding) with the reasons.
pub fn read_path(
    path: &Path,
    options: &ReadOptions,
    progress: &Progress,
) -> Result<ReadResult, LoadError> {
    let format = Format::from_path(path);
    let mut info = SourceInfo {
        format: format.name().to_string(),
        ..SourceInfo::default()
    };
    let layers = match format {
        Format::Shapefile => {
            let shp_options = shapefile_reader::ShapefileOptions {
                encoding: options.encoding.clone(),
                crs: options.crs,
            };
            let (loaded, shp_info) =
                shapefile_reader::read_shapefile_with_info(path, &shp_options, progress)?;
            info.crs = shp_info.crs;
            info.crs_reason = shp_info.crs_reason;
            info.encoding = Some(shp_info.encoding);
            info.encoding_reason = shp_info.encoding_reason;
            vec![loaded]
        }
        Format::Csv => {
            let csv_options = csv_reader::CsvOptions {
                x_col: options.x_col.clone(),
                y_col: options.y_col.clone(),
                crs: options.crs,
                encoding: options.encoding.clone(),
                delimiter: None,
            };
            let (loaded, csv_info) = csv_reader::read_csv_points(path, &csv_options, progress)?;
            info.crs = Some(csv_info.crs);
            info.crs_reason = csv_info.crs_reason;
            info.encoding = Some(csv_info.encoding);
            info.encoding_reason = if options.encoding.is_some() {
                "given by the user".to_string()
            } else {
                "detected from the bytes".to_string()
            };
            vec![loaded]
        }
        Format::Kml | Format::Kmz => {
            let kml_options = kml_reader::KmlOptions {
                crs: options.crs,
                encoding: options.encoding.clone(),
                folders_as_layers: options.folders_as_layers,
            };
            let (layers, kml_info) = kml_reader::read_kml(path, &kml_options, progress)?;
            info.crs = Some(kml_info.crs);
            info.crs_reason = kml_info.crs_reason;
            info.encoding = Some(kml_info.encoding);
            info.encoding_reason = kml_info.encoding_reason;
            layers
        }
        Format::Xlsx => {
            let xlsx_options = xlsx_reader::XlsxOptions {
                sheet: options.sheet.clone(),
                x_col: options.x_col.clone(),
                y_col: options.y_col.clone(),
                crs: options.crs,
            };
            let (loaded, xlsx_info) = xlsx_reader::read_xlsx_points(path, &xlsx_options, progress)?;
            info.crs = Some(xlsx_info.crs);
            info.crs_reason = xlsx_info.crs_reason;
            info.sheets = xlsx_info.sheets;
            info.sheet = Some(xlsx_info.sheet);
            vec![loaded]
        }
        Format::GeoPackage => {
            let result = gpkg_reader::read_geopackage(path, options, progress)?;
            info = result.info;
            result.layers
        }
        Format::OsmPbf => {
            let result = osm_reader::read_osm_pbf(path, options, progress)?;
            info = result.info;
            result.layers
        }
        Format::GeoJson => {
            let loaded = geojson_reader::read_geojson_file(path, progress)?;
            info.crs = Some(Crs::Wgs84);
            info.crs_reason = "GeoJSON is WGS 84 longitude/latitude (RFC 7946)".to_string();
            info.encoding = Some("UTF-8".to_string());
            info.encoding_reason = "GeoJSON is UTF-8 (RFC 7946)".to_string();
            vec![loaded]
        }
    };
    Ok(ReadResult { layers, info })
}

/// Reads any supported file into a single layer with default options (the first layer when
/// the file holds several). An empty multi-layer file is a format error.
pub fn load_path(path: &Path, progress: &Progress) -> Result<Loaded, LoadError> {
    let result = read_path(path, &ReadOptions::default(), progress)?;
    result
        .layers
        .into_iter()
        .next()
        .ok_or_else(|| LoadError::Format {
            path: path.to_owned(),
            message: "the file holds no layer".to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::encoding_for_label;

    #[test]
    fn encoding_labels_include_windows_code_pages() {
        assert_eq!(encoding_for_label("936"), Some(encoding_rs::GBK));
        assert_eq!(encoding_for_label(" CP936\n"), Some(encoding_rs::GBK));
        assert_eq!(
            encoding_for_label("\u{feff}UTF-8"),
            Some(encoding_rs::UTF_8)
        );
        assert_eq!(encoding_for_label("gb18030"), Some(encoding_rs::GB18030));
        assert_eq!(encoding_for_label("no-such-encoding"), None);
    }
}
