//! Excel point lists (.xlsx, also .xlsm/.xls/.xlsb/.ods through calamine) read into a point
//! layer by the same table core as CSV: coordinate columns by header, DMS text, Gauss-Krüger
//! metres, axis order and coordinate system are decided the same way, and rows that fail are
//! listed by their Excel row number.
//!
//! Cells keep their type: a numeric cell stays a number and a text cell stays text (codes
//! such as "0531" typed as text are not turned into numbers). Sheets often carry a title row
//! or two above the header, so the header is the first of the top rows that names both
//! coordinate columns.

use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::Ordering;

use calamine::{Data, Reader};

use super::csv_reader::{
    Cell, CsvOptions, PointTableInfo, TableRow, TableSource, cell_text, header_has_coordinates,
    read_point_table,
};
use super::{LoadError, Loaded, Progress};
use crate::crs::Crs;

/// Rows looked at (from the top of the used range) for the header row.
const HEADER_SEARCH_ROWS: usize = 10;

/// Choices the caller forces; `None` means "guess from the file".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XlsxOptions {
    /// Sheet to read by name; the first sheet when `None`.
    pub sheet: Option<String>,
    /// Header of the longitude/easting column (case-insensitive).
    pub x_col: Option<String>,
    /// Header of the latitude/northing column (case-insensitive).
    pub y_col: Option<String>,
    /// The system the values are in (e.g. GCJ-02 for points picked on Amap).
    pub crs: Option<Crs>,
}

/// What was chosen while reading, for the import dialog and the CLI to show.
#[derive(Debug, Clone, PartialEq)]
pub struct XlsxInfo {
    /// The sheet read.
    pub sheet: String,
    /// Every sheet in the workbook, in order.
    pub sheets: Vec<String>,
    /// The Excel row number (1-based) of the header row.
    pub header_row: u64,
    /// Header of the column read as longitude/easting (after any swap).
    pub x_col: String,
    /// Header of the column read as latitude/northing (after any swap).
    pub y_col: String,
    /// The system the values were read in (points are stored as WGS84).
    pub crs: Crs,
    /// Why that system, in plain words.
    pub crs_reason: String,
    /// True when the columns named as longitude held latitudes (and vice versa).
    pub axis_swapped: bool,
}

/// Reads an Excel point list into a WGS84 point layer, reporting what it chose.
pub fn read_xlsx_points(
    path: &Path,
    options: &XlsxOptions,
    progress: &Progress,
) -> Result<(Loaded, XlsxInfo), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let total = bytes.len() as u64;
    progress.bytes_total.store(total, Ordering::Relaxed);
    let result = read_xlsx_bytes(path, &bytes, options, progress);
    progress.bytes_done.store(total, Ordering::Relaxed);
    result
}

/// Reads a workbook held in memory; `path` names it in the layer and in messages.
pub fn read_xlsx_bytes(
    path: &Path,
    bytes: &[u8],
    options: &XlsxOptions,
    progress: &Progress,
) -> Result<(Loaded, XlsxInfo), LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        format_error(format!(
            "not a readable Excel workbook (.xlsx/.xls/.xlsb/.ods): {e}"
        ))
    })?;
    let sheets = workbook.sheet_names();
    if sheets.is_empty() {
        return Err(format_error("the workbook has no sheet".to_owned()));
    }
    let (sheet, read) = match &options.sheet {
        Some(wanted) => {
            let sheet = sheets
                .iter()
                .find(|s| s.trim().eq_ignore_ascii_case(wanted.trim()))
                .cloned()
                .ok_or_else(|| {
                    format_error(format!(
                        "no sheet named '{wanted}' (sheets: {})",
                        sheets.join(", ")
                    ))
                })?;
            let read = read_sheet(path, &mut workbook, &sheet, options, progress)?;
            (sheet, read)
        }
        // Workbooks often open with a cover or notes sheet: the first sheet that reads as a
        // point list is taken, and the ones passed over are named.
        None => {
            let mut first_error = None;
            let mut found = None;
            for sheet in &sheets {
                match read_sheet(path, &mut workbook, sheet, options, progress) {
                    Ok(read) => {
                        found = Some((sheet.clone(), read));
                        break;
                    }
                    Err(e @ LoadError::Cancelled { .. }) => return Err(e),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            match (found, first_error) {
                (Some(found), _) => found,
                (None, Some(e)) if sheets.len() == 1 => return Err(e),
                (None, Some(e)) => {
                    let first_says = match e {
                        LoadError::Format { message, .. } => message,
                        other => other.to_string(),
                    };
                    return Err(format_error(format!(
                        "no sheet of {} ({}) reads as a point list; the first says: {first_says}",
                        sheets.len(),
                        sheets.join(", "),
                    )));
                }
                (None, None) => return Err(format_error("the workbook has no sheet".to_owned())),
            }
        }
    };
    let (mut loaded, table, header_row) = read;
    if sheets.len() > 1 {
        let passed_over: Vec<&str> = sheets
            .iter()
            .take_while(|s| **s != sheet)
            .map(String::as_str)
            .collect();
        let mut message = format!(
            "the workbook has {} sheets ({}); read '{sheet}'",
            sheets.len(),
            sheets.join(", ")
        );
        if options.sheet.is_none() && !passed_over.is_empty() {
            message.push_str(&format!(
                ", the first with coordinate columns ({} before it has none)",
                passed_over.join(", ")
            ));
        }
        loaded.warnings.insert(
            0,
            super::LoadWarning {
                file: path.to_owned(),
                feature: None,
                message,
            },
        );
    }
    let info = XlsxInfo {
        sheet,
        sheets,
        header_row,
        x_col: table.x_col,
        y_col: table.y_col,
        crs: table.crs,
        crs_reason: table.crs_reason,
        axis_swapped: table.axis_swapped,
    };
    Ok((loaded, info))
}

/// Reads one sheet as a point list: the layer, what the table core decided, and the Excel
/// row number of the header.
fn read_sheet<RS: std::io::Read + std::io::Seek>(
    path: &Path,
    workbook: &mut calamine::Sheets<RS>,
    sheet: &str,
    options: &XlsxOptions,
    progress: &Progress,
) -> Result<(Loaded, PointTableInfo, u64), LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let range = workbook
        .worksheet_range(sheet)
        .map_err(|e| format_error(format!("cannot read sheet '{sheet}': {e}")))?;
    // Excel numbers rows from 1 at the top of the sheet; the used range may start lower.
    let first_row = u64::from(range.start().map_or(0, |(row, _)| row)) + 1;
    let mut rows = range.rows().enumerate();

    let csv_options = CsvOptions {
        x_col: options.x_col.clone(),
        y_col: options.y_col.clone(),
        crs: options.crs,
        encoding: None,
        delimiter: None,
    };
    let mut header: Option<(u64, Vec<String>)> = None;
    let mut first_nonblank: Option<(u64, Vec<String>)> = None;
    for (index, row) in rows.by_ref() {
        let texts: Vec<String> = row.iter().map(|d| cell_text(&cell(d))).collect();
        let line = first_row + index as u64;
        if texts.iter().all(|t| t.trim().is_empty()) {
            continue;
        }
        if header_has_coordinates(&texts, &csv_options) {
            header = Some((line, texts));
            break;
        }
        if first_nonblank.is_none() {
            first_nonblank = Some((line, texts));
        }
        if index + 1 >= HEADER_SEARCH_ROWS {
            break;
        }
    }
    let (header_row, header) = match (header, first_nonblank) {
        (Some(h), _) => h,
        // No row names the columns: let the core say which columns it looked for.
        (None, Some(h)) => h,
        (None, None) => return Err(format_error(format!("sheet '{sheet}' is empty"))),
    };
    let data_rows = range
        .rows()
        .enumerate()
        .skip_while(move |(index, _)| first_row + (*index as u64) <= header_row)
        .map(|(index, row)| {
            Ok(TableRow {
                line: first_row + index as u64,
                cells: row.iter().map(cell).collect(),
            })
        });
    let source = TableSource {
        path,
        line_word: "row",
        allow_grouping: true,
    };
    let (loaded, table) = read_point_table(&source, &header, data_rows, &csv_options, progress)?;
    Ok((loaded, table, header_row))
}

/// One spreadsheet cell as a table cell: numbers stay numbers, text stays text, dates
/// become ISO text, error cells (#N/A, #DIV/0!) are empty.
fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (year, month, day, hour, minute, second, _) = dt.to_ymd_hms_milli();
            Cell::Text(if (hour, minute, second) == (0, 0, 0) {
                format!("{year:04}-{month:02}-{day:02}")
            } else {
                format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
            })
        }
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
    }
}
