//! `onemap inspect PATH... [--crs ..] [--encoding ..] [--x-col ..] [--y-col ..]`: reads each
//! file through `io::read_path` with the given overrides and prints one JSON summary per
//! layer on stdout (with the detected or given CRS and encoding, and why), and each warning
//! or error as one line on stderr.

use std::io::Write;
use std::path::PathBuf;

use crate::crs::Crs;
use crate::io::{self, Loaded, Progress, ReadOptions, summary::summarize_with_source};

/// The overrides `inspect` and `convert` take for reading, as typed on the command line.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct ReadArgs {
    /// Coordinate system of the input: auto (detect), EPSG:NNNN, wgs84, gcj02 or bd09.
    /// Tables with no CRS information are read as WGS 84 degrees unless told.
    #[arg(long = "crs", value_name = "CRS", default_value = "auto")]
    pub crs: String,
    /// Attribute text encoding of the input: auto, utf-8 or gbk (also gb18030, 936).
    #[arg(long, value_name = "ENCODING", default_value = "auto")]
    pub encoding: String,
    /// Column holding longitude/easting in a table, by header.
    #[arg(long, value_name = "HEADER")]
    pub x_col: Option<String>,
    /// Column holding latitude/northing in a table, by header.
    #[arg(long, value_name = "HEADER")]
    pub y_col: Option<String>,
    /// Excel: the sheet to read, by name (the first when not given).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
}

/// "auto" (or nothing) means detect; anything else must name a system.
pub fn parse_crs_choice(text: &str) -> Result<Option<Crs>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    Crs::parse(text).map(Some).map_err(|e| e.to_string())
}

/// "auto" (or nothing) means detect; anything else must be an encoding label.
pub fn parse_encoding_choice(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    match io::encoding_for_label(text) {
        Some(_) => Ok(Some(text.to_string())),
        None => Err(format!(
            "unknown encoding \"{text}\" (try auto, utf-8 or gbk)"
        )),
    }
}

impl ReadArgs {
    /// The reader options these arguments ask for, or what is wrong with them.
    pub fn to_read_options(&self) -> Result<ReadOptions, String> {
        Ok(ReadOptions {
            crs: parse_crs_choice(&self.crs)?,
            encoding: parse_encoding_choice(&self.encoding)?,
            x_col: self.x_col.clone(),
            y_col: self.y_col.clone(),
            sheet: self.sheet.clone(),
            ..ReadOptions::default()
        })
    }
}

/// Runs `inspect` over `paths` on stdout/stderr; returns the process exit code: 0 when at
/// least one layer loaded, 1 when none did, 2 when the options are invalid.
pub fn run_inspect(paths: &[PathBuf], args: &ReadArgs) -> i32 {
    let mut err = std::io::stderr().lock();
    let options = match args.to_read_options() {
        Ok(o) => o,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return 2;
        }
    };
    inspect_to(paths, &options, &mut std::io::stdout().lock(), &mut err)
}

/// [`run_inspect`] with parsed options, writing to the given streams (for tests).
pub fn inspect_to(
    paths: &[PathBuf],
    options: &ReadOptions,
    out: &mut impl Write,
    err: &mut impl Write,
) -> i32 {
    let mut loaded_any = false;
    for path in paths {
        match io::read_path(path, options, &Progress::default()) {
            Ok(result) => {
                if result.layers.is_empty() {
                    let _ = writeln!(err, "warning: {}: the file holds no layer", path.display());
                }
                for loaded in &result.layers {
                    loaded_any |= counts_as_loaded(loaded);
                    for warning in &loaded.warnings {
                        // A closed stderr (e.g. `2>&-`) must not stop the summaries.
                        let _ = writeln!(err, "warning: {warning}");
                    }
                    let _ = writeln!(out, "{}", summarize_with_source(loaded, &result.info));
                }
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
            }
        }
    }
    let _ = out.flush();
    if loaded_any { 0 } else { 1 }
}

/// A layer counts unless every feature it had was dropped: a valid empty collection
/// loaded fine, a file of only bad features did not.
fn counts_as_loaded(loaded: &Loaded) -> bool {
    !loaded.layer.is_empty() || loaded.warnings.iter().all(|w| w.feature.is_none())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_or_say_why_not() {
        assert_eq!(parse_crs_choice("auto").unwrap(), None);
        assert_eq!(parse_crs_choice("GCJ02").unwrap(), Some(Crs::Gcj02));
        assert_eq!(
            parse_crs_choice("EPSG:4527").unwrap(),
            Crs::from_epsg(4527).ok()
        );
        assert!(parse_crs_choice("EPSG:1").unwrap_err().contains("EPSG:1"));
        assert_eq!(parse_encoding_choice("AUTO").unwrap(), None);
        assert_eq!(
            parse_encoding_choice("gbk").unwrap().as_deref(),
            Some("gbk")
        );
        assert!(parse_encoding_choice("ebcdic-x").is_err());
    }
}
