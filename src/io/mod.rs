//! Reading and writing layers. Every reader returns what it could read plus warnings that
//! name the file, the feature and the problem; a bad feature never sinks the whole file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::model::Layer;

// CSV/TSV point lists in: columns, encodings, DMS and coordinate systems guessed.
pub mod csv_reader;
// GeoJSON in: the tolerant streaming reader.
pub mod geojson_reader;
// Shapefile in: .shp/.dbf/.prj/.cpg to a WGS84 layer.
pub mod shapefile_reader;
// The per-layer JSON summary printed by `onemap inspect`.
pub mod summary;

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

/// Reads any supported file into a layer, by extension: Shapefile (`.shp`), CSV point lists
/// (`.csv`, `.tsv`, `.txt`), GeoJSON (anything else, e.g. `.geojson`, `.json`). Encodings and
/// coordinate systems are detected with default options.
pub fn load_path(path: &Path, progress: &Progress) -> Result<Loaded, LoadError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("shp") => shapefile_reader::read_shapefile(
            path,
            &shapefile_reader::ShapefileOptions::default(),
            progress,
        ),
        Some("csv" | "tsv" | "txt") => {
            csv_reader::read_csv_points(path, &csv_reader::CsvOptions::default(), progress)
                .map(|(loaded, _)| loaded)
        }
        _ => geojson_reader::read_geojson_file(path, progress),
    }
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
