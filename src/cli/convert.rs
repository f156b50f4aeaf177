//! `onemap convert IN OUT`: reads any readable file (every layer) and writes it in the format
//! OUT's extension names, in WGS84 unless `--to-crs` says otherwise. Messages go to stderr;
//! the exit code is 0 on success, 1 when reading or writing failed, 2 for bad options.
//!
//! `--encoding` is the input's when the input has attribute bytes to decode (Shapefile,
//! CSV), else the output's (Shapefile, CSV); `--out-encoding` always names the output's.

use std::io::Write;
use std::path::PathBuf;

use super::inspect::{parse_crs_choice, parse_encoding_choice};
use crate::crs::Crs;
use crate::io::write::{CsvGeometry, WriteFormat, WriteOptions, write_path};
use crate::io::{self, Format, Progress, ReadOptions};

/// Arguments of `onemap convert`.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "convert")]
pub struct ConvertArgs {
    /// File to read (GeoJSON, Shapefile, CSV, ...).
    pub input: PathBuf,
    /// File to write; its extension picks the format (.geojson/.json, .csv, .shp).
    pub output: PathBuf,
    /// Coordinate system of the input: auto (detect; tables without CRS information are read
    /// as WGS 84 degrees), EPSG:NNNN, wgs84, gcj02 or bd09.
    #[arg(long, value_name = "CRS", default_value = "auto")]
    pub from_crs: String,
    /// Coordinate system of the output: wgs84 (default), gcj02, bd09 (for overlay on Amap or
    /// Baidu based systems) or EPSG:NNNN (projected: Shapefile or CSV only).
    #[arg(long, value_name = "CRS", default_value = "wgs84")]
    pub to_crs: String,
    /// Text encoding: the input's for Shapefile/CSV input, else the output's (auto, utf-8, gbk).
    #[arg(long, value_name = "ENCODING", default_value = "auto")]
    pub encoding: String,
    /// Text encoding of the output (.dbf or CSV): utf-8 (default) or gbk.
    #[arg(long, value_name = "ENCODING")]
    pub out_encoding: Option<String>,
    /// Column holding longitude/easting in a table input, by header.
    #[arg(long, value_name = "HEADER")]
    pub x_col: Option<String>,
    /// Column holding latitude/northing in a table input, by header.
    #[arg(long, value_name = "HEADER")]
    pub y_col: Option<String>,
    /// Excel input: the sheet to read, by name (the first when not given).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// CSV output geometry: auto (lon/lat for point layers, else WKT), wkt or lonlat.
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = parse_csv_geometry)]
    pub csv_geometry: CsvGeometry,
    /// Start a UTF-8 CSV with a byte-order mark so Excel shows Chinese text correctly.
    #[arg(long)]
    pub bom: bool,
}

fn parse_csv_geometry(text: &str) -> Result<CsvGeometry, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "auto" => Ok(CsvGeometry::Auto),
        "wkt" => Ok(CsvGeometry::Wkt),
        "lonlat" | "lon-lat" | "xy" => Ok(CsvGeometry::LonLat),
        other => Err(format!("expected auto, wkt or lonlat, not \"{other}\"")),
    }
}

/// The read and write options the arguments ask for, or what is wrong with them.
pub fn plan(args: &ConvertArgs) -> Result<(ReadOptions, WriteOptions), String> {
    let input_has_encoded_text = matches!(
        Format::from_path(&args.input),
        Format::Shapefile | Format::Csv
    );
    let encoding = parse_encoding_choice(&args.encoding)?;
    let (input_encoding, mut output_encoding) = if input_has_encoded_text {
        (encoding, None)
    } else {
        (None, encoding)
    };
    if let Some(label) = &args.out_encoding {
        output_encoding = parse_encoding_choice(label)?;
    }
    let target = parse_crs_choice(&args.to_crs)?.unwrap_or(Crs::Wgs84);
    let read = ReadOptions {
        crs: parse_crs_choice(&args.from_crs)?,
        encoding: input_encoding,
        x_col: args.x_col.clone(),
        y_col: args.y_col.clone(),
        sheet: args.sheet.clone(),
        ..ReadOptions::default()
    };
    let write = WriteOptions {
        crs: target,
        encoding: output_encoding,
        csv_geometry: args.csv_geometry,
        csv_bom: args.bom,
    };
    Ok((read, write))
}

/// Runs `convert` with messages on stderr; returns the process exit code.
pub fn run_convert(args: &ConvertArgs) -> i32 {
    convert_to(args, &mut std::io::stderr().lock())
}

/// [`run_convert`] writing its messages to `err` (for tests).
pub fn convert_to(args: &ConvertArgs, err: &mut impl Write) -> i32 {
    let (read_options, write_options) = match plan(args) {
        Ok(p) => p,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return 2;
        }
    };
    if WriteFormat::from_path(&args.output).is_none() {
        let _ = writeln!(
            err,
            "error: {}: unknown output format: use .geojson, .json, .csv or .shp",
            args.output.display()
        );
        return 2;
    }
    let result = match io::read_path(&args.input, &read_options, &Progress::default()) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    let info = &result.info;
    let crs = info
        .crs
        .map_or_else(|| "unknown".to_string(), |c| c.to_string());
    let _ = writeln!(
        err,
        "read {} ({}): coordinates in {crs} ({}){}",
        args.input.display(),
        info.format,
        info.crs_reason,
        info.encoding
            .as_ref()
            .map(|e| format!("; text in {e} ({})", info.encoding_reason))
            .unwrap_or_default()
    );
    for loaded in &result.layers {
        for warning in &loaded.warnings {
            let _ = writeln!(err, "warning: {warning}");
        }
    }
    let layers: Vec<&crate::model::Layer> = result.layers.iter().map(|l| &l.layer).collect();
    if layers.is_empty() {
        let _ = writeln!(
            err,
            "error: {}: the file holds no layer to convert",
            args.input.display()
        );
        return 1;
    }
    match write_path(&args.output, &layers, &write_options) {
        Ok(report) => {
            for warning in &report.warnings {
                let _ = writeln!(err, "warning: {warning}");
            }
            for file in &report.files {
                let _ = writeln!(err, "wrote {}", file.display());
            }
            let features: usize = layers.iter().map(|l| l.len()).sum();
            let _ = writeln!(
                err,
                "converted {features} feature(s) in {} layer(s) to {}",
                layers.len(),
                write_options.crs
            );
            0
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(list: &[&str]) -> ConvertArgs {
        ConvertArgs::try_parse_from(std::iter::once("convert").chain(list.iter().copied())).unwrap()
    }

    #[test]
    fn encoding_goes_to_the_input_only_when_it_has_encoded_text() {
        let (read, write) = plan(&args(&["a.shp", "b.geojson", "--encoding", "gbk"])).unwrap();
        assert_eq!(read.encoding.as_deref(), Some("gbk"));
        assert_eq!(write.encoding, None);
        let (read, write) = plan(&args(&["a.geojson", "b.shp", "--encoding", "gbk"])).unwrap();
        assert_eq!(read.encoding, None);
        assert_eq!(write.encoding.as_deref(), Some("gbk"));
        let (read, write) = plan(&args(&[
            "a.csv",
            "b.shp",
            "--encoding",
            "gbk",
            "--out-encoding",
            "utf-8",
            "--from-crs",
            "gcj02",
        ]))
        .unwrap();
        assert_eq!(read.encoding.as_deref(), Some("gbk"));
        assert_eq!(read.crs, Some(Crs::Gcj02));
        assert_eq!(write.encoding.as_deref(), Some("utf-8"));
        assert_eq!(write.crs, Crs::Wgs84);
    }

    #[test]
    fn bad_options_exit_2_with_a_message() {
        let mut err = Vec::new();
        assert_eq!(convert_to(&args(&["a.shp", "b.dxf"]), &mut err), 2);
        assert!(String::from_utf8_lossy(&err).contains("unknown output format"));
        err.clear();
        assert_eq!(
            convert_to(&args(&["a.shp", "b.shp", "--to-crs", "mars2"]), &mut err),
            2
        );
        assert!(String::from_utf8_lossy(&err).contains("mars2"));
        assert!(ConvertArgs::try_parse_from(["convert", "a", "b", "--csv-geometry", "x"]).is_err());
    }
}
