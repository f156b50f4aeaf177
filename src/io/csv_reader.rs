//! CSV/TSV point lists (one point per row, longitude and latitude or easting and northing in
//! two columns) read into a point layer, guessing what Chinese spreadsheets leave unsaid.
//!
//! Tables from the field rarely say how they are written, so every choice is made from the
//! data and reported in [`CsvInfo`], and each can be forced through [`CsvOptions`]:
//! the encoding (UTF-8 with or without BOM, else GB18030, a superset of GBK), the delimiter
//! (`,` `;` tab `|` or the full-width `，`), the coordinate columns (by header, Chinese or
//! English), the value format (decimal or DMS degrees, hemisphere letters, Gauss-Krüger
//! metres), the axis order and the coordinate system. Degrees never say whether they are
//! GCJ-02 or BD-09, so they are read as WGS84 with a warning unless the options say otherwise.
//! A row that cannot be read is reported by its line number and the rest still load.
//!
//! Once the text is split into cells, the rest is the table core (`read_point_table`, rows
//! of typed cells), which the Excel reader shares: it keeps numeric cells as numbers.

use std::path::Path;
use std::sync::atomic::Ordering;

use geo::{Geometry, Point};

use crate::crs::{Crs, CrsTransform, detect::detect_from_samples};
use crate::model::{Layer, LayerKind, ValueRef};

use super::{LoadError, LoadWarning, Loaded, Progress};

/// Rows between two checks of the cancel flag.
const CANCEL_CHECK_EVERY: usize = 1024;
/// Row warnings listed one by one; the rest are counted in one line.
const MAX_LISTED_WARNINGS: usize = 200;
/// Lines looked at when guessing the delimiter.
const SNIFF_LINES: usize = 50;
/// 2^53: integers beyond this lose precision as f64, so they stay text.
const MAX_EXACT_INT: f64 = 9_007_199_254_740_992.0;
/// Stands in for the full-width comma, which the `csv` crate cannot take as a delimiter
/// (it is three bytes in UTF-8). The ASCII unit separator never appears in real tables.
const FULL_WIDTH_STAND_IN: u8 = 0x1F;

/// Header names of longitude / easting columns, lower case, most specific first.
const LON_NAMES: &[&str] = &[
    "经度",
    "东经",
    "longitude",
    "lon",
    "lng",
    "long",
    "x",
    "横坐标",
    "e",
    "easting",
    "东坐标",
];
/// Header names of latitude / northing columns, lower case, most specific first.
const LAT_NAMES: &[&str] = &[
    "纬度",
    "北纬",
    "latitude",
    "lat",
    "y",
    "纵坐标",
    "n",
    "northing",
    "北坐标",
];

/// Choices the caller forces; `None` means "guess from the file".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvOptions {
    /// Header of the longitude/easting column (case-insensitive).
    pub x_col: Option<String>,
    /// Header of the latitude/northing column (case-insensitive).
    pub y_col: Option<String>,
    /// The system the values are in (e.g. GCJ-02 for points picked on Amap).
    pub crs: Option<Crs>,
    /// An encoding label such as "utf-8", "gbk" or "gb18030".
    pub encoding: Option<String>,
    /// The field delimiter byte.
    pub delimiter: Option<u8>,
}

/// What was chosen while reading, for the import dialog and the CLI to show.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvInfo {
    /// Header of the column read as longitude/easting (after any swap).
    pub x_col: String,
    /// Header of the column read as latitude/northing (after any swap).
    pub y_col: String,
    /// The system the values were read in (points are stored as WGS84).
    pub crs: Crs,
    /// Why that system, in plain words.
    pub crs_reason: String,
    /// The text encoding used, e.g. "UTF-8", "UTF-8 (BOM)", "GB18030".
    pub encoding: String,
    /// The field delimiter.
    pub delimiter: char,
    /// True when the columns named as longitude held latitudes (and vice versa).
    pub axis_swapped: bool,
}

/// Which axis a hemisphere letter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Lon,
    Lat,
}

/// Reads a CSV/TSV point list into a WGS84 point layer, reporting what it guessed.
pub fn read_csv_points(
    path: &Path,
    options: &CsvOptions,
    progress: &Progress,
) -> Result<(Loaded, CsvInfo), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let total = bytes.len() as u64;
    progress.bytes_total.store(total, Ordering::Relaxed);
    let result = read_csv_bytes(path, &bytes, options, progress);
    progress.bytes_done.store(total, Ordering::Relaxed);
    result
}

/// Reads a point list held in memory; `path` names it in the layer and in messages.
pub fn read_csv_bytes(
    path: &Path,
    bytes: &[u8],
    options: &CsvOptions,
    progress: &Progress,
) -> Result<(Loaded, CsvInfo), LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let (text, encoding) = decode(bytes, options.encoding.as_deref()).map_err(format_error)?;
    let (delimiter, delimiter_char) = match options.delimiter {
        Some(d) => (d, char::from(d)),
        None => sniff_delimiter(&text),
    };
    let full_width = delimiter_char == '，';
    let text = if full_width {
        std::borrow::Cow::Owned(text.replace('，', "\u{1F}"))
    } else {
        text
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(str::to_owned).collect(),
        Some(Err(e)) => return Err(format_error(format!("cannot read the header line: {e}"))),
        None => return Err(format_error("the file is empty".to_owned())),
    };
    let rows = records.map(|record| match record {
        Ok(record) => Ok(TableRow {
            line: record.position().map_or(0, |p| p.line()),
            cells: record
                .iter()
                .map(|text| {
                    // A quoted full-width comma was swapped for the stand-in too: put it back.
                    Cell::Guess(if full_width {
                        text.replace(char::from(FULL_WIDTH_STAND_IN), "，")
                    } else {
                        text.to_owned()
                    })
                })
                .collect(),
        }),
        Err(e) => Err((
            e.position().map_or(0, |p| p.line()),
            format!("cannot read the row: {e}"),
        )),
    });
    let source = TableSource {
        path,
        line_word: "line",
        allow_grouping: delimiter_char != ',',
    };
    let (loaded, table) = read_point_table(&source, &header, rows, options, progress)?;
    let info = CsvInfo {
        x_col: table.x_col,
        y_col: table.y_col,
        crs: table.crs,
        crs_reason: table.crs_reason,
        encoding,
        delimiter: delimiter_char,
        axis_swapped: table.axis_swapped,
    };
    Ok((loaded, info))
}

// ---------------------------------------------------------------------------------------
// The table core shared by CSV and Excel

/// One cell of a point table, typed as far as its source types it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    /// Untyped text (CSV): numbers in it are read as numbers.
    Guess(String),
    /// Text the source typed as text (an Excel string cell): it stays text.
    Text(String),
    Number(f64),
    Bool(bool),
}

/// One data row of a table with the number users know it by (CSV line, Excel row).
pub(crate) struct TableRow {
    pub line: u64,
    pub cells: Vec<Cell>,
}

/// How a table source names its rows and writes its numbers.
pub(crate) struct TableSource<'p> {
    pub path: &'p Path,
    /// "line" (CSV) or "row" (Excel), in front of row numbers in warnings.
    pub line_word: &'static str,
    /// Whether "1,234" in untyped text is a grouped number (not when commas delimit).
    pub allow_grouping: bool,
}

/// What the table core chose.
pub(crate) struct PointTableInfo {
    pub x_col: String,
    pub y_col: String,
    pub crs: Crs,
    pub crs_reason: String,
    pub axis_swapped: bool,
}

/// Header cells as text, for column matching (numbers as written, e.g. "2024").
pub(crate) fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Guess(t) | Cell::Text(t) => t.clone(),
        Cell::Number(n) => ValueRef::Number(*n).to_string(),
        Cell::Bool(b) => b.to_string(),
    }
}

/// Whether a header row names both coordinate columns (or the forced ones).
pub(crate) fn header_has_coordinates(header: &[String], options: &CsvOptions) -> bool {
    let headers = column_names(header.iter().map(String::as_str));
    let x = pick_column(&headers, options.x_col.as_deref(), LON_NAMES, "x");
    let y = pick_column(&headers, options.y_col.as_deref(), LAT_NAMES, "y");
    matches!((x, y), (Ok(x), Ok(y)) if x != y)
}

/// The row-processing core of every point table: finds the coordinate columns, parses the
/// values, settles axis order and coordinate system, and builds the WGS84 point layer. Rows
/// that fail are listed by their number; the rest load.
pub(crate) fn read_point_table(
    source: &TableSource<'_>,
    header: &[String],
    rows_in: impl Iterator<Item = Result<TableRow, (u64, String)>>,
    options: &CsvOptions,
    progress: &Progress,
) -> Result<(Loaded, PointTableInfo), LoadError> {
    let path = source.path;
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let headers = column_names(header.iter().map(String::as_str));
    let x_index = pick_column(&headers, options.x_col.as_deref(), LON_NAMES, "longitude/x")
        .map_err(format_error)?;
    let y_index = pick_column(&headers, options.y_col.as_deref(), LAT_NAMES, "latitude/y")
        .map_err(format_error)?;
    if x_index == y_index {
        return Err(format_error(format!(
            "the same column '{}' was chosen for x and y",
            headers[x_index]
        )));
    }

    let mut sink = WarningSink::new(path, source.line_word);
    let mut rows: Vec<RawRow> = Vec::new();
    let mut hemisphere_votes = [0usize; 2]; // [as named, swapped]
    for (row_index, record) in rows_in.enumerate() {
        if row_index % CANCEL_CHECK_EVERY == 0 && progress.is_cancelled() {
            return Err(LoadError::Cancelled {
                path: path.to_owned(),
            });
        }
        let TableRow { line, mut cells } = match record {
            Ok(r) => r,
            Err((line, message)) => {
                sink.row(line, message);
                continue;
            }
        };
        if cells.iter().all(cell_is_blank) {
            continue;
        }
        let cell = |i: usize| cells.get(i).unwrap_or(&Cell::Empty);
        let parsed = (
            coordinate_cell(cell(x_index)),
            coordinate_cell(cell(y_index)),
        );
        let ((x, x_axis), (y, y_axis)) = match parsed {
            (CoordinateCell::Value(x), CoordinateCell::Value(y)) => (x, y),
            (CoordinateCell::Blank, _) | (_, CoordinateCell::Blank) => {
                let missing = if matches!(parsed.0, CoordinateCell::Blank) {
                    &headers[x_index]
                } else {
                    &headers[y_index]
                };
                sink.row(line, format!("'{missing}' is empty; row skipped"));
                continue;
            }
            (CoordinateCell::Bad(text), _) => {
                sink.row(line, unreadable(&headers[x_index], &text));
                continue;
            }
            (_, CoordinateCell::Bad(text)) => {
                sink.row(line, unreadable(&headers[y_index], &text));
                continue;
            }
        };
        match (x_axis, y_axis) {
            (Some(Axis::Lat), _) | (_, Some(Axis::Lon)) => hemisphere_votes[1] += 1,
            (Some(Axis::Lon), _) | (_, Some(Axis::Lat)) => hemisphere_votes[0] += 1,
            _ => {}
        }
        let width = cells.len().max(headers.len());
        cells.resize(width, Cell::Empty);
        let attributes = cells
            .into_iter()
            .enumerate()
            .filter(|&(i, _)| i != x_index && i != y_index)
            .collect();
        rows.push(RawRow {
            line,
            row_index,
            x,
            y,
            attributes,
        });
    }

    let letters_swap = hemisphere_votes[1] > hemisphere_votes[0];
    let plan = plan_crs(&rows, options, letters_swap).map_err(format_error)?;
    if plan.warn_gcj {
        sink.file(format!(
            "no coordinate system given: degrees read as WGS 84. {}",
            "GCJ-02 (Amap, Tencent) and BD-09 (Baidu) cannot be told from the values: if the \
             points were picked on those maps, choose that system (read as WGS 84 they are off \
             by about 500 m)"
        ));
    }
    for w in &plan.warnings {
        sink.file(w.clone());
    }
    let transform = CrsTransform::new(plan.crs, Crs::Wgs84)
        .map_err(|e| format_error(format!("cannot use {}: {e}", plan.crs)))?;

    let widest = rows
        .iter()
        .filter_map(|r| r.attributes.last().map(|(i, _)| i + 1))
        .max()
        .unwrap_or(0);
    let column_names: Vec<String> = headers
        .iter()
        .cloned()
        .chain((headers.len()..widest).map(|i| format!("column {}", i + 1)))
        .collect();

    let mut layer = Layer {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: Some(path.to_owned()),
        ..Layer::default()
    };
    layer.kind = LayerKind::guess_from_name(&layer.name);
    for row in &rows {
        let (first, second) = if plan.swapped {
            (row.y, row.x)
        } else {
            (row.x, row.y)
        };
        let (lon, lat) = match transform.apply(first, second) {
            Ok(p) if valid_degrees(p) => p,
            Ok(_) | Err(_) => {
                sink.row(
                    row.line,
                    format!(
                        "({first}, {second}) is out of range for {}; row skipped",
                        plan.crs
                    ),
                );
                continue;
            }
        };
        layer.geometries.push(Geometry::Point(Point::new(lon, lat)));
        layer
            .source_index
            .push(u32::try_from(row.row_index).unwrap_or(u32::MAX));
        layer
            .attributes
            .push_row(row.attributes.iter().map(|(i, cell)| {
                let name = column_names.get(*i).map_or("", String::as_str);
                (name, cell_value(cell, source.allow_grouping))
            }));
    }

    let (x_col, y_col) = if plan.swapped {
        (headers[y_index].clone(), headers[x_index].clone())
    } else {
        (headers[x_index].clone(), headers[y_index].clone())
    };
    let info = PointTableInfo {
        x_col,
        y_col,
        crs: plan.crs,
        crs_reason: plan.reason,
        axis_swapped: plan.swapped,
    };
    Ok((
        Loaded {
            layer,
            warnings: sink.finish(),
        },
        info,
    ))
}

fn cell_is_blank(cell: &Cell) -> bool {
    match cell {
        Cell::Empty => true,
        Cell::Guess(t) | Cell::Text(t) => t.trim().is_empty(),
        Cell::Number(_) | Cell::Bool(_) => false,
    }
}

/// A coordinate cell read: a value (with the axis its hemisphere letter names), blank, or
/// unreadable (with the text to quote).
enum CoordinateCell {
    Value((f64, Option<Axis>)),
    Blank,
    Bad(String),
}

fn coordinate_cell(cell: &Cell) -> CoordinateCell {
    match cell {
        Cell::Empty => CoordinateCell::Blank,
        Cell::Number(n) if n.is_finite() => CoordinateCell::Value((*n, None)),
        Cell::Number(n) => CoordinateCell::Bad(n.to_string()),
        Cell::Bool(b) => CoordinateCell::Bad(b.to_string()),
        Cell::Guess(t) | Cell::Text(t) => {
            let t = t.trim();
            if t.is_empty() {
                CoordinateCell::Blank
            } else {
                parse_coordinate(t)
                    .map_or_else(|| CoordinateCell::Bad(t.to_owned()), CoordinateCell::Value)
            }
        }
    }
}

/// An attribute cell as a value: untyped text is guessed, typed cells keep their type; a
/// non-finite number (which no spreadsheet means) is null.
fn cell_value(cell: &Cell, allow_grouping: bool) -> ValueRef<'_> {
    match cell {
        Cell::Empty => ValueRef::Null,
        Cell::Guess(t) => attribute_value(t, allow_grouping),
        Cell::Text(t) if t.trim().is_empty() => ValueRef::Null,
        Cell::Text(t) => ValueRef::Text(t),
        Cell::Number(n) if n.is_finite() => ValueRef::Number(*n),
        Cell::Number(_) => ValueRef::Null,
        Cell::Bool(b) => ValueRef::Bool(*b),
    }
}

/// A data row whose coordinates parsed, before the coordinate system is settled.
struct RawRow {
    /// 1-based line (CSV) or row (Excel) number in the file (the header counts).
    line: u64,
    /// 0-based index among data rows.
    row_index: usize,
    x: f64,
    y: f64,
    /// Every other cell with its column index, in column order.
    attributes: Vec<(usize, Cell)>,
}

fn unreadable(column: &str, text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    format!("'{column}' value '{shown}' is not a coordinate; row skipped")
}

fn valid_degrees((lon, lat): (f64, f64)) -> bool {
    lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0
}

/// Collects warnings; row warnings are listed in line order, capped.
struct WarningSink<'p> {
    path: &'p Path,
    line_word: &'static str,
    warnings: Vec<LoadWarning>,
    rows: Vec<(u64, String)>,
}

impl<'p> WarningSink<'p> {
    fn new(path: &'p Path, line_word: &'static str) -> Self {
        Self {
            path,
            line_word,
            warnings: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn file(&mut self, message: String) {
        self.warnings.push(LoadWarning {
            file: self.path.to_owned(),
            feature: None,
            message,
        });
    }

    fn row(&mut self, line: u64, message: String) {
        self.rows.push((line, message));
    }

    fn finish(mut self) -> Vec<LoadWarning> {
        // Rows fail in two passes (parsing, then the coordinate system): sort them back.
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by_key(|(line, _)| *line);
        let unlisted = rows.len().saturating_sub(MAX_LISTED_WARNINGS);
        for (line, message) in rows.into_iter().take(MAX_LISTED_WARNINGS) {
            self.file(format!("{} {line}: {message}", self.line_word));
        }
        if unlisted > 0 {
            self.file(format!("{unlisted} more rows skipped (not listed)"));
        }
        self.warnings
    }
}

// ---------------------------------------------------------------------------------------
// Encoding and delimiter

/// Decodes the file: a forced label, else UTF-8 (BOM stripped), else GB18030.
fn decode<'a>(
    bytes: &'a [u8],
    forced: Option<&str>,
) -> Result<(std::borrow::Cow<'a, str>, String), String> {
    if let Some(label) = forced {
        let encoding = super::encoding_for_label(label)
            .ok_or_else(|| format!("unknown text encoding '{label}'"))?;
        let (text, used, _) = encoding.decode(bytes);
        return Ok((text, used.name().to_owned()));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        let (text, _) = encoding_rs::UTF_8.decode_without_bom_handling(rest);
        return Ok((text, "UTF-8 (BOM)".to_owned()));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((std::borrow::Cow::Borrowed(text), "UTF-8".to_owned()));
    }
    let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    Ok((text, "GB18030".to_owned()))
}

/// Picks the delimiter that splits the first lines into the same, largest number of fields.
fn sniff_delimiter(text: &str) -> (u8, char) {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(SNIFF_LINES)
        .collect();
    let candidates = [',', '\t', ';', '|', '，'];
    let mut best = (',', (0usize, 0usize));
    for candidate in candidates {
        let counts: Vec<usize> = lines
            .iter()
            .map(|l| count_outside_quotes(l, candidate))
            .collect();
        let Some(&header_count) = counts.first() else {
            break;
        };
        if header_count == 0 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == header_count).count();
        let score = (consistent, header_count);
        if score > best.1 {
            best = (candidate, score);
        }
    }
    match best.0 {
        '，' => (FULL_WIDTH_STAND_IN, '，'),
        c => (u8::try_from(c).unwrap_or(b','), c),
    }
}

fn count_outside_quotes(line: &str, delimiter: char) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if c == delimiter && !quoted {
            count += 1;
        }
    }
    count
}

// ---------------------------------------------------------------------------------------
// Columns

/// Header names, trimmed; empty or repeated ones made unique.
fn column_names<'a>(header: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, raw) in header.enumerate() {
        let raw = raw.trim().trim_start_matches('\u{FEFF}').trim();
        let mut name = if raw.is_empty() {
            format!("column {}", i + 1)
        } else {
            raw.to_owned()
        };
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{raw}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// The column index for one coordinate: the forced name, else an exact header match, else a
/// header that starts with (or, for Chinese names, contains) a known name.
fn pick_column(
    headers: &[String],
    forced: Option<&str>,
    known: &[&str],
    what: &str,
) -> Result<usize, String> {
    let lower: Vec<String> = headers.iter().map(|h| h.to_lowercase()).collect();
    if let Some(name) = forced {
        let wanted = name.trim().to_lowercase();
        return lower
            .iter()
            .position(|h| *h == wanted)
            .ok_or_else(|| format!("no column named '{name}' (columns: {})", headers.join(", ")));
    }
    for name in known {
        if let Some(i) = lower.iter().position(|h| h == name) {
            return Ok(i);
        }
    }
    for name in known {
        let fits = |h: &String| {
            if !name.is_ascii() {
                return h.contains(name);
            }
            h.strip_prefix(name)
                .and_then(|rest| rest.chars().next())
                .is_some_and(|next| !next.is_ascii_alphanumeric())
        };
        if let Some(i) = lower.iter().position(fits) {
            return Ok(i);
        }
    }
    Err(format!(
        "no {what} column found among: {} (name it, e.g. 经度/纬度 or lon/lat)",
        headers.join(", ")
    ))
}

// ---------------------------------------------------------------------------------------
// Coordinate values

/// Parses one coordinate: decimal degrees or metres, DMS text, with an optional hemisphere
/// letter (E/W/N/S, or 东经/西经/北纬/南纬) in front or behind. The axis is that of the letter.
fn parse_coordinate(text: &str) -> Option<(f64, Option<Axis>)> {
    let mut body = text.trim();
    let mut hemisphere: Option<(Axis, f64)> = None;
    const PREFIXES: [(&str, Axis, f64); 12] = [
        ("东经", Axis::Lon, 1.0),
        ("西经", Axis::Lon, -1.0),
        ("北纬", Axis::Lat, 1.0),
        ("南纬", Axis::Lat, -1.0),
        ("E", Axis::Lon, 1.0),
        ("W", Axis::Lon, -1.0),
        ("N", Axis::Lat, 1.0),
        ("S", Axis::Lat, -1.0),
        ("e", Axis::Lon, 1.0),
        ("w", Axis::Lon, -1.0),
        ("n", Axis::Lat, 1.0),
        ("s", Axis::Lat, -1.0),
    ];
    for (word, axis, sign) in PREFIXES {
        if let Some(rest) = body.strip_prefix(word) {
            body = rest.trim_start();
            hemisphere = Some((axis, sign));
            break;
        }
        if let Some(rest) = body.strip_suffix(word) {
            body = rest.trim_end();
            hemisphere = Some((axis, sign));
            break;
        }
    }
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, body.strip_prefix('+').unwrap_or(body).trim_start()),
    };
    if negative && hemisphere.is_some() {
        return None;
    }
    let magnitude = parse_plain(body).or_else(|| parse_dms(body))?;
    let sign = match hemisphere {
        Some((_, s)) => s,
        None if negative => -1.0,
        None => 1.0,
    };
    let value = sign * magnitude;
    value
        .is_finite()
        .then_some((value, hemisphere.map(|(a, _)| a)))
}

/// A plain unsigned decimal number (no "inf"/"nan", which `f64::from_str` would accept).
fn parse_plain(text: &str) -> Option<f64> {
    let first = text.chars().next()?;
    if !(first.is_ascii_digit() || first == '.')
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Degrees, minutes, seconds with any of the usual marks: `117°52'30.5"`, `117°52′30.5″`,
/// `117度52分30.5秒`, `117:52:30.5`, `117 52 30.5`.
fn parse_dms(text: &str) -> Option<f64> {
    let mut parts: Vec<f64> = Vec::with_capacity(3);
    let mut current = String::new();
    let push = |current: &mut String, parts: &mut Vec<f64>| -> Option<()> {
        if !current.is_empty() {
            if parts.len() == 3 {
                return None;
            }
            parts.push(parse_plain(current)?);
            current.clear();
        }
        Some(())
    };
    for c in text.chars() {
        if c.is_ascii_digit() || c == '.' {
            current.push(c);
        } else if matches!(
            c,
            '°' | 'º'
                | '˚'
                | '度'
                | '\''
                | '′'
                | '’'
                | '分'
                | '"'
                | '″'
                | '”'
                | '秒'
                | ':'
                | '：'
        ) || c.is_whitespace()
        {
            push(&mut current, &mut parts)?;
        } else {
            return None;
        }
    }
    push(&mut current, &mut parts)?;
    let (degrees, minutes, seconds) = match parts[..] {
        [d] => (d, 0.0, 0.0),
        [d, m] => (d, m, 0.0),
        [d, m, s] => (d, m, s),
        _ => return None,
    };
    let whole = |v: f64| v.fract() == 0.0;
    let ordered = match parts.len() {
        2 => whole(degrees),
        3 => whole(degrees) && whole(minutes),
        _ => true,
    };
    (ordered && minutes < 60.0 && seconds < 60.0)
        .then(|| degrees + minutes / 60.0 + seconds / 3600.0)
}

// ---------------------------------------------------------------------------------------
// Coordinate system

/// The system, axis order and reason settled for a file.
struct CrsPlan {
    crs: Crs,
    swapped: bool,
    reason: String,
    /// Degrees were assumed WGS84 with nothing to say so.
    warn_gcj: bool,
    warnings: Vec<String>,
}

fn fits_degrees(x: f64, y: f64) -> bool {
    x.abs() <= 180.0 && y.abs() <= 90.0
}

/// Settles the system from the values (by the rows' majority kind: degrees or metres),
/// unless the options name it; the axis order always comes from the values.
fn plan_crs(rows: &[RawRow], options: &CsvOptions, letters_swap: bool) -> Result<CrsPlan, String> {
    let degree_like = |r: &&RawRow| fits_degrees(r.x, r.y) || fits_degrees(r.y, r.x);
    let degree_count = rows.iter().filter(degree_like).count();
    let degrees = match options.crs {
        Some(crs) => crs.is_geographic(),
        None => degree_count * 2 >= rows.len(),
    };
    let samples: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| degree_like(r) == degrees)
        .map(|r| if letters_swap { (r.y, r.x) } else { (r.x, r.y) })
        .collect();
    let detection = detect_from_samples(&samples);
    let mut warnings = detection.warnings.clone();
    let mut swapped = detection.axis_swapped;
    if degrees && !swapped && detection.crs.is_none_or(|c| !c.is_geographic()) {
        // Outside China the detector does not look at order: the majority decides.
        let normal = samples.iter().filter(|s| fits_degrees(s.0, s.1)).count();
        let reversed = samples.iter().filter(|s| fits_degrees(s.1, s.0)).count();
        swapped = reversed > normal;
    }
    swapped ^= letters_swap;
    if letters_swap {
        warnings.push(
            "hemisphere letters (N/S in the longitude column, E/W in the latitude column) show \
             the columns are swapped: read the other way round"
                .to_owned(),
        );
    } else if swapped && degrees {
        warnings.push(
            "the longitude column holds latitudes and the latitude column longitudes (by value \
             range): read the other way round"
                .to_owned(),
        );
    }
    if let Some(crs) = options.crs {
        return Ok(CrsPlan {
            crs,
            swapped,
            reason: format!("{crs} was chosen by the user"),
            warn_gcj: false,
            warnings: crs.datum_warning().into_iter().collect(),
        });
    }
    if rows.is_empty() {
        return Ok(CrsPlan {
            crs: Crs::Wgs84,
            swapped: false,
            reason: "no readable coordinates: WGS 84 assumed".to_owned(),
            warn_gcj: false,
            warnings,
        });
    }
    if degrees {
        let mut reason = match detection.crs {
            Some(Crs::Wgs84) => detection.reason,
            _ => "values are longitude/latitude degrees: read as WGS 84".to_owned(),
        };
        if !reason.contains("GCJ-02") {
            reason.push_str(
                "; GCJ-02 (Amap, Tencent) and BD-09 (Baidu) cannot be told from the values",
            );
        }
        warnings.retain(|w| !w.contains("GCJ-02"));
        return Ok(CrsPlan {
            crs: Crs::Wgs84,
            swapped,
            reason,
            warn_gcj: true,
            warnings,
        });
    }
    match detection.crs {
        Some(crs) => Ok(CrsPlan {
            crs,
            swapped,
            reason: detection.reason,
            warn_gcj: false,
            warnings,
        }),
        None => {
            let names: Vec<String> = detection
                .candidates
                .iter()
                .map(ToString::to_string)
                .collect();
            let list = if names.is_empty() {
                String::new()
            } else {
                format!("; candidates: {}", names.join(", "))
            };
            Err(format!(
                "{}{list} (pass the coordinate system explicitly)",
                detection.reason
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Attributes

/// An attribute cell: empty -> null; a number (also "1,234" when commas are not the
/// delimiter) -> Number, except codes with leading zeros and integers too long for f64;
/// anything else -> Text.
pub(crate) fn attribute_value(text: &str, allow_grouping: bool) -> ValueRef<'_> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return ValueRef::Null;
    }
    match parse_number(trimmed, allow_grouping) {
        Some(n) => ValueRef::Number(n),
        None => ValueRef::Text(text),
    }
}

fn parse_number(text: &str, allow_grouping: bool) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    if int_part.is_empty() || frac_part.is_some_and(|f| f.is_empty()) {
        return None;
    }
    if !frac_part.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let digits: String = if int_part.contains(',') {
        let groups: Vec<&str> = int_part.split(',').collect();
        let well_grouped = allow_grouping
            && groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
            && groups[1..].iter().all(|g| g.len() == 3);
        if !well_grouped {
            return None;
        }
        groups.concat()
    } else {
        int_part.to_owned()
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "007", "0531": codes and phone numbers, not quantities.
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    let number_text = match frac_part {
        Some(f) => format!("{digits}.{f}"),
        None => digits,
    };
    let value: f64 = number_text.parse().ok()?;
    if frac_part.is_none() && value.abs() > MAX_EXACT_INT {
        return None;
    }
    let signed = if unsigned.len() < text.len() {
        -value
    } else {
        value
    };
    Some(signed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn coordinate_formats() {
        let v = |t: &str| parse_coordinate(t).map(|(v, _)| v);
        let expected = 117.0 + 52.0 / 60.0 + 30.5 / 3600.0;
        for t in [
            "117°52'30.5\"",
            "117°52′30.5″",
            "117度52分30.5秒",
            "117:52:30.5",
            "E117°52'30.5\"",
            "117 52 30.5",
        ] {
            assert!((v(t).unwrap() - expected).abs() < 1e-12, "{t}");
        }
        assert_eq!(
            parse_coordinate("E117.875"),
            Some((117.875, Some(Axis::Lon)))
        );
        assert_eq!(
            parse_coordinate("117.875E"),
            Some((117.875, Some(Axis::Lon)))
        );
        assert_eq!(parse_coordinate("N36.8"), Some((36.8, Some(Axis::Lat))));
        assert_eq!(parse_coordinate("S36.8"), Some((-36.8, Some(Axis::Lat))));
        assert_eq!(parse_coordinate("W1.5"), Some((-1.5, Some(Axis::Lon))));
        assert_eq!(parse_coordinate("-1.5"), Some((-1.5, None)));
        assert_eq!(parse_coordinate("北纬36.8"), Some((36.8, Some(Axis::Lat))));
        for bad in [
            "", "NaN", "inf", "abc", "117°75'", "1.5°30'", "-W1", "1:2:3:4",
        ] {
            assert_eq!(v(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_in_attributes() {
        assert_eq!(attribute_value("12", false), ValueRef::Number(12.0));
        assert_eq!(attribute_value("-3.5", false), ValueRef::Number(-3.5));
        assert_eq!(attribute_value("1,234", true), ValueRef::Number(1234.0));
        assert_eq!(attribute_value("1,234", false), ValueRef::Text("1,234"));
        assert_eq!(attribute_value("12,34", true), ValueRef::Text("12,34"));
        assert_eq!(attribute_value("0531", false), ValueRef::Text("0531"));
        assert_eq!(attribute_value("0.5", false), ValueRef::Number(0.5));
        assert_eq!(attribute_value("  ", false), ValueRef::Null);
        assert_eq!(attribute_value("NaN", false), ValueRef::Text("NaN"));
    }

    #[test]
    fn column_names_are_found() {
        let h = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let headers = h(&["名称", "经度(E)", "纬度(N)"]);
        assert_eq!(pick_column(&headers, None, LON_NAMES, "x"), Ok(1));
        assert_eq!(pick_column(&headers, None, LAT_NAMES, "y"), Ok(2));
        let headers = h(&["name", "lon_wgs84", "lat_wgs84", "x"]);
        assert_eq!(pick_column(&headers, None, LON_NAMES, "x"), Ok(3));
        assert_eq!(pick_column(&headers, None, LAT_NAMES, "y"), Ok(2));
        let headers = h(&["xzqh", "Longitude", "LAT"]);
        assert_eq!(pick_column(&headers, None, LON_NAMES, "x"), Ok(1));
        assert!(pick_column(&headers, Some("nope"), LON_NAMES, "x").is_err());
    }
}
