//! GeoPackage in: every feature table listed in `gpkg_contents` becomes a WGS84 layer, its CRS
//! taken from `gpkg_spatial_ref_sys` (EPSG code, else the definition WKT, else the values).
//!
//! Geometry blobs are the GeoPackage binary header followed by WKB; both are parsed here with
//! every length checked against the bytes really there, straight into `geo` types (Z and M
//! are dropped). A feature whose blob is bad is dropped with a warning naming its table and
//! fid; a file that is not a GeoPackage is a clear [`LoadError`].

use std::path::Path;
use std::sync::atomic::Ordering;

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MapCoordsInPlace, MultiLineString, MultiPoint,
    MultiPolygon, Point, Polygon,
};
use rusqlite::types::ValueRef as SqlValue;
use rusqlite::{Connection, OpenFlags};

use super::{LoadError, LoadWarning, Loaded, Progress, ReadOptions, ReadResult, SourceInfo};
use crate::crs::detect::{detect_from_prj, detect_from_samples};
use crate::crs::{Crs, CrsError, CrsTransform};
use crate::model::{AttributeTable, Layer, LayerKind, ValueRef};

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// Progress is published (and cancel checked) every this many rows.
const PROGRESS_EVERY: usize = 1024;
/// How many features' first coordinates feed value-range CRS detection.
const CRS_SAMPLE_FEATURES: usize = 200;
/// Deepest nesting of geometry collections accepted (real files nest once at most).
const MAX_WKB_DEPTH: usize = 16;
/// `gpkg_spatial_ref_sys.organization` OneMap writes for the systems without an EPSG code.
pub(crate) const ONEMAP_ORGANIZATION: &str = "ONEMAP";
/// `organization_coordsys_id` of GCJ-02 and BD-09 under [`ONEMAP_ORGANIZATION`].
pub(crate) const ONEMAP_GCJ02_ID: i64 = 1;
pub(crate) const ONEMAP_BD09_ID: i64 = 2;

/// Reads every feature table of a GeoPackage into WGS84 layers, saying which CRS each was in
/// and why.
pub fn read_geopackage(
    path: &Path,
    options: &ReadOptions,
    progress: &Progress,
) -> Result<ReadResult, LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let file_len = check_sqlite_header(path)?;
    progress.bytes_total.store(file_len, Ordering::Relaxed);
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format_error(format!("cannot open the SQLite database: {e}")))?;
    let tables = feature_tables(&connection).map_err(format_error)?;
    let estimated_rows: u64 = tables
        .iter()
        .map(|t| estimated_row_count(&connection, &t.name))
        .sum::<u64>()
        .max(1);

    let mut rows_done = 0u64;
    let mut layers = Vec::new();
    let mut reasons = Vec::new();
    let mut first_crs = None;
    let mut failures = Vec::new();
    for table in &tables {
        if progress.is_cancelled() {
            return Err(LoadError::Cancelled {
                path: path.to_owned(),
            });
        }
        let mut warnings = Warnings {
            path,
            table: &table.name,
            list: Vec::new(),
        };
        let tick = |rows: usize| {
            let done = rows_done + rows as u64;
            let fraction = (done as f64 / estimated_rows as f64).min(1.0);
            progress
                .bytes_done
                .store((fraction * file_len as f64) as u64, Ordering::Relaxed);
            !progress.is_cancelled()
        };
        // Known before reading (the user's choice, or gpkg_spatial_ref_sys): geometries are
        // converted as they are parsed, while still in cache. Otherwise the values decide.
        let upfront = match options.crs {
            Some(crs) => Ok(CrsChoice {
                crs,
                reason: "given by the user".to_string(),
                axis_swapped: false,
                notes: Vec::new(),
            }),
            None => crs_from_srs(&connection, table),
        };
        let converter = match &upfront {
            Ok(choice) => match Converter::new(choice) {
                Ok(converter) => Some(converter),
                Err(message) => {
                    failures.push(format!("table {:?}: {message}", table.name));
                    continue;
                }
            },
            Err(_) => None,
        };
        let raw = match read_table(&connection, table, converter.as_ref(), &mut warnings, tick) {
            Ok(raw) => raw,
            Err(TableError::Cancelled) => {
                return Err(LoadError::Cancelled {
                    path: path.to_owned(),
                });
            }
            Err(TableError::Unreadable(message)) => {
                failures.push(format!("table {:?}: {message}", table.name));
                continue;
            }
        };
        rows_done += raw.rows_seen as u64;
        let (choice, layer) = match upfront {
            Ok(choice) => {
                let layer = raw_layer(path, table, raw);
                (choice, layer)
            }
            Err(why_not) => {
                let choice = match crs_from_values(why_not, &raw.geometries) {
                    Ok(choice) => choice,
                    Err(message) => {
                        failures.push(format!(
                            "table {:?}: {message}; give the coordinate system (e.g. --crs EPSG:4527)",
                            table.name
                        ));
                        continue;
                    }
                };
                match to_wgs84_layer(path, table, raw, &choice, &mut warnings) {
                    Ok(layer) => (choice, layer),
                    Err(message) => {
                        failures.push(format!("table {:?}: {message}", table.name));
                        continue;
                    }
                }
            }
        };
        for note in &choice.notes {
            warnings.push(None, note.clone());
        }
        reasons.push(format!(
            "{}: {} ({})",
            table.name,
            choice.crs.name(),
            choice.reason
        ));
        first_crs.get_or_insert(choice.crs);
        layers.push(Loaded {
            layer,
            warnings: warnings.list,
        });
    }
    if layers.is_empty() {
        let message = if tables.is_empty() {
            "the GeoPackage holds no feature table (gpkg_contents lists none with data_type 'features')"
                .to_string()
        } else {
            format!("no feature table could be read: {}", failures.join("; "))
        };
        return Err(format_error(message));
    }
    // Tables that failed are still worth knowing about: report them on the first layer.
    if let Some(first) = layers.first_mut() {
        for failure in failures {
            first.warnings.push(LoadWarning {
                file: path.to_owned(),
                feature: None,
                message: format!("skipped {failure}"),
            });
        }
    }
    progress.bytes_done.store(file_len, Ordering::Relaxed);
    let info = SourceInfo {
        format: "GeoPackage".to_string(),
        crs: first_crs,
        crs_reason: reasons.join("; "),
        encoding: Some("UTF-8".to_string()),
        encoding_reason: "GeoPackage text is UTF-8".to_string(),
        ..SourceInfo::default()
    };
    Ok(ReadResult { layers, info })
}

/// Checks the file is an SQLite database before SQLite sees it, for a clear message; returns
/// its length.
fn check_sqlite_header(path: &Path) -> Result<u64, LoadError> {
    use std::io::Read;
    let io_error = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let len = file.metadata().map_err(io_error)?.len();
    let mut magic = [0u8; 16];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    if filled < magic.len() || &magic != SQLITE_MAGIC {
        return Err(LoadError::Format {
            path: path.to_owned(),
            message: "not a GeoPackage: the file is not an SQLite database".to_string(),
        });
    }
    Ok(len)
}

/// One feature table as `gpkg_contents` and `gpkg_geometry_columns` describe it.
#[derive(Debug)]
struct FeatureTable {
    name: String,
    /// `None` when `gpkg_geometry_columns` has no row for the table.
    geometry_column: Option<String>,
    srs_id: Option<i64>,
}

fn has_table(connection: &Connection, name: &str) -> Result<bool, rusqlite::Error> {
    connection.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1",
        [name],
        |row| row.get::<_, i64>(0).map(|n| n > 0),
    )
}

fn feature_tables(connection: &Connection) -> Result<Vec<FeatureTable>, String> {
    let damaged = |e: rusqlite::Error| format!("not a GeoPackage, or the file is damaged: {e}");
    if !has_table(connection, "gpkg_contents").map_err(damaged)? {
        return Err(
            "not a GeoPackage: an SQLite database without the gpkg_contents table".to_string(),
        );
    }
    let with_columns = has_table(connection, "gpkg_geometry_columns").map_err(damaged)?;
    let sql = if with_columns {
        "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c \
         LEFT JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
         WHERE lower(c.data_type) = 'features' ORDER BY c.rowid"
    } else {
        "SELECT table_name, NULL, srs_id FROM gpkg_contents \
         WHERE lower(data_type) = 'features' ORDER BY rowid"
    };
    let mut statement = connection.prepare(sql).map_err(damaged)?;
    let rows = statement
        .query_map([], |row| {
            Ok(FeatureTable {
                name: row.get(0)?,
                geometry_column: row.get(1)?,
                srs_id: row.get(2)?,
            })
        })
        .map_err(damaged)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(damaged)
}

/// A cheap row count for progress: the largest rowid (exact for GDAL's and our tables).
fn estimated_row_count(connection: &Connection, table: &str) -> u64 {
    connection
        .query_row(
            &format!("SELECT max(rowid) FROM {}", quote_identifier(table)),
            [],
            |row| row.get::<_, Option<i64>>(0),
        )
        .ok()
        .flatten()
        .map_or(0, |n| n.max(0) as u64)
}

/// An SQL identifier in double quotes, embedded quotes doubled.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct Warnings<'a> {
    path: &'a Path,
    table: &'a str,
    list: Vec<LoadWarning>,
}

impl Warnings<'_> {
    fn push(&mut self, row: Option<usize>, message: String) {
        self.list.push(LoadWarning {
            file: self.path.to_owned(),
            feature: row,
            message: format!("table {:?}: {message}", self.table),
        });
    }
}

/// How an attribute column's SQLite values become attribute values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ColumnKind {
    /// INTEGER, REAL, TEXT and anything else: by the value's own storage class.
    Plain,
    /// BOOLEAN: integers 0/1 become false/true.
    Boolean,
}

struct AttributeColumn {
    name: String,
    kind: ColumnKind,
    /// Rows whose value was a blob (stored as null).
    blob_rows: usize,
    /// Rows whose text was not UTF-8 (decoded with replacement characters).
    bad_text_rows: usize,
}

/// One attribute value of the row being read: borrowed from SQLite, or repaired text.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Value(ValueRef<'a>),
    /// Index into the row's repaired (lossily decoded) texts.
    Repaired(usize),
}

/// A table's features as stored: geometries still in the table's CRS.
struct RawTable {
    geometries: Vec<Geometry<f64>>,
    /// Feature id (primary key) of each kept geometry, for messages.
    fids: Vec<i64>,
    /// Position of each kept feature among the table's rows (0-based).
    rows: Vec<u32>,
    attributes: AttributeTable,
    /// Rows looked at, kept or not (for progress).
    rows_seen: usize,
}

enum TableError {
    Cancelled,
    Unreadable(String),
}

/// Reads one table's rows: geometry blobs parsed, attributes typed; bad rows dropped with a
/// warning. `tick(rows)` publishes progress and returns false when the user cancelled.
fn read_table(
    connection: &Connection,
    table: &FeatureTable,
    converter: Option<&Converter>,
    warnings: &mut Warnings<'_>,
    mut tick: impl FnMut(usize) -> bool,
) -> Result<RawTable, TableError> {
    let unreadable = |e: rusqlite::Error| TableError::Unreadable(e.to_string());
    if !has_table(connection, &table.name).map_err(unreadable)? {
        return Err(TableError::Unreadable(
            "listed in gpkg_contents but the table does not exist".to_string(),
        ));
    }
    let Some(geometry_column) = table.geometry_column.as_deref() else {
        return Err(TableError::Unreadable(
            "no geometry column in gpkg_geometry_columns".to_string(),
        ));
    };

    let mut primary_key = None;
    let mut columns = Vec::new();
    let mut has_geometry_column = false;
    {
        let mut statement = connection
            .prepare(&format!(
                "PRAGMA table_info({})",
                quote_identifier(&table.name)
            ))
            .map_err(unreadable)?;
        let mut rows = statement.query([]).map_err(unreadable)?;
        while let Some(row) = rows.next().map_err(unreadable)? {
            let name: String = row.get(1).map_err(unreadable)?;
            let declared: Option<String> = row.get(2).map_err(unreadable)?;
            let declared = declared.unwrap_or_default().to_ascii_uppercase();
            let pk: i64 = row.get(5).map_err(unreadable)?;
            if name.eq_ignore_ascii_case(geometry_column) {
                has_geometry_column = true;
            } else if pk == 1 && declared == "INTEGER" && primary_key.is_none() {
                primary_key = Some(name);
            } else if declared == "BLOB" {
                warnings.push(
                    None,
                    format!("column {name:?} holds binary data (BLOB) and was not loaded"),
                );
            } else {
                columns.push(AttributeColumn {
                    name,
                    kind: if declared == "BOOLEAN" {
                        ColumnKind::Boolean
                    } else {
                        ColumnKind::Plain
                    },
                    blob_rows: 0,
                    bad_text_rows: 0,
                });
            }
        }
    }
    if !has_geometry_column {
        return Err(TableError::Unreadable(format!(
            "the geometry column {geometry_column:?} is not in the table"
        )));
    }

    let mut sql = format!(
        "SELECT {}, {}",
        primary_key
            .as_deref()
            .map_or_else(|| "rowid".to_string(), quote_identifier),
        quote_identifier(geometry_column)
    );
    for column in &columns {
        sql.push_str(", ");
        sql.push_str(&quote_identifier(&column.name));
    }
    sql.push_str(" FROM ");
    sql.push_str(&quote_identifier(&table.name));
    let mut statement = connection.prepare(&sql).map_err(unreadable)?;
    let mut rows = statement.query([]).map_err(unreadable)?;

    let mut raw = RawTable {
        geometries: Vec::new(),
        fids: Vec::new(),
        rows: Vec::new(),
        attributes: AttributeTable::new(),
        rows_seen: 0,
    };
    // Text that is not UTF-8 is decoded into here, so the row's values can borrow it.
    let mut repaired: Vec<String> = Vec::new();
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                warnings.push(
                    None,
                    format!(
                        "reading stopped after {} rows, the rest is unreadable: {e}",
                        raw.rows_seen
                    ),
                );
                break;
            }
        };
        let index = raw.rows_seen;
        raw.rows_seen += 1;
        if index.is_multiple_of(PROGRESS_EVERY) && !tick(index) {
            return Err(TableError::Cancelled);
        }
        let fid = match row.get_ref(0) {
            Ok(SqlValue::Integer(fid)) => fid,
            _ => index as i64,
        };
        let geometry = match row.get_ref(1) {
            Ok(SqlValue::Blob(blob)) => parse_geometry_blob(blob),
            Ok(SqlValue::Null) => Err("the geometry is null".to_string()),
            Ok(_) => Err("the geometry is not a blob".to_string()),
            Err(e) => Err(e.to_string()),
        };
        let mut geometry = match geometry {
            Ok(Some(geometry)) => geometry,
            Ok(None) => {
                warnings.push(
                    Some(index),
                    format!("fid {fid}: the geometry is empty; dropped the feature"),
                );
                continue;
            }
            Err(problem) => {
                warnings.push(
                    Some(index),
                    format!("fid {fid}: {problem}; dropped the feature"),
                );
                continue;
            }
        };
        // Geometry operations downstream cannot order NaN; GeoPackage writes an empty
        // point as NaN, and a damaged blob can hold any bits.
        {
            use geo::CoordsIter;
            if geometry
                .coords_iter()
                .any(|c| !(c.x.is_finite() && c.y.is_finite()))
            {
                warnings.push(
                    Some(index),
                    format!(
                        "fid {fid}: coordinates that are not numbers (NaN or infinite); dropped the feature"
                    ),
                );
                continue;
            }
        }
        if let Some(converter) = converter
            && let Err(e) = converter.convert(&mut geometry)
        {
            warnings.push(
                Some(index),
                format!("fid {fid}: coordinates cannot be converted: {e}; dropped the feature"),
            );
            continue;
        }

        // One pass over the columns; text that is not UTF-8 is repaired into `repaired` and
        // referred to by position, so the row's values can borrow it afterwards.
        repaired.clear();
        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(columns.len());
        for (k, column) in columns.iter_mut().enumerate() {
            let cell = match row.get_ref(k + 2) {
                Ok(SqlValue::Integer(i)) => Cell::Value(match column.kind {
                    ColumnKind::Boolean => ValueRef::Bool(i != 0),
                    ColumnKind::Plain => ValueRef::Number(i as f64),
                }),
                Ok(SqlValue::Real(x)) if x.is_finite() => Cell::Value(ValueRef::Number(x)),
                Ok(SqlValue::Text(bytes)) => match std::str::from_utf8(bytes) {
                    Ok(text) => Cell::Value(ValueRef::Text(text)),
                    Err(_) => {
                        column.bad_text_rows += 1;
                        repaired.push(String::from_utf8_lossy(bytes).into_owned());
                        Cell::Repaired(repaired.len() - 1)
                    }
                },
                Ok(SqlValue::Blob(_)) => {
                    column.blob_rows += 1;
                    Cell::Value(ValueRef::Null)
                }
                _ => Cell::Value(ValueRef::Null),
            };
            cells.push(cell);
        }
        let values = columns.iter().zip(&cells).map(|(column, cell)| {
            let value = match *cell {
                Cell::Value(v) => v,
                Cell::Repaired(i) => repaired
                    .get(i)
                    .map_or(ValueRef::Null, |s| ValueRef::Text(s.as_str())),
            };
            (column.name.as_str(), value)
        });
        raw.attributes.push_row(values);
        raw.geometries.push(geometry);
        raw.fids.push(fid);
        raw.rows.push(u32::try_from(index).unwrap_or(u32::MAX));
    }
    for column in &columns {
        if column.blob_rows > 0 {
            warnings.push(
                None,
                format!(
                    "column {:?}: {} binary (BLOB) values stored as null",
                    column.name, column.blob_rows
                ),
            );
        }
        if column.bad_text_rows > 0 {
            warnings.push(
                None,
                format!(
                    "column {:?}: {} text values were not UTF-8; invalid bytes replaced",
                    column.name, column.bad_text_rows
                ),
            );
        }
    }
    Ok(raw)
}

/// The CRS a table's coordinates are in, why, and anything the user should know.
struct CrsChoice {
    crs: Crs,
    reason: String,
    /// Values are northing first (found by value ranges): swap before converting.
    axis_swapped: bool,
    notes: Vec<String>,
}

/// A table's CRS from `gpkg_spatial_ref_sys`: the EPSG code when the organization is EPSG and
/// OneMap knows the code, else the definition WKT. `Err` says why not, for [`crs_from_values`].
fn crs_from_srs(connection: &Connection, table: &FeatureTable) -> Result<CrsChoice, String> {
    let found = |crs: Crs, reason: String| CrsChoice {
        crs,
        reason,
        axis_swapped: false,
        notes: crs.datum_warning().into_iter().collect(),
    };
    let srs_id = table.srs_id.unwrap_or(-1);
    let why_not = match srs_id {
        0 => {
            return Ok(found(
                Crs::Wgs84,
                "srs_id 0 (undefined geographic) in gpkg_geometry_columns: read as WGS 84"
                    .to_string(),
            ));
        }
        -1 => "srs_id -1 (undefined Cartesian)".to_string(),
        _ => {
            let row = connection.query_row(
                "SELECT organization, organization_coordsys_id, definition, srs_name \
                 FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
                [srs_id],
                |row| {
                    Ok((
                        row.get::<_, Option<String>>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, Option<String>>(3)?,
                    ))
                },
            );
            match row {
                Ok((organization, code, definition, srs_name)) => {
                    let organization = organization.unwrap_or_default();
                    let srs_name = srs_name.unwrap_or_default();
                    let code = code.unwrap_or(-1);
                    if organization.eq_ignore_ascii_case("EPSG")
                        && let Ok(code32) = u32::try_from(code)
                        && let Ok(crs) = Crs::from_epsg(code32)
                    {
                        return Ok(found(
                            crs,
                            format!("gpkg_spatial_ref_sys gives EPSG:{code} ({srs_name})"),
                        ));
                    }
                    if organization.eq_ignore_ascii_case(ONEMAP_ORGANIZATION) {
                        let crs = match code {
                            ONEMAP_GCJ02_ID => Some(Crs::Gcj02),
                            ONEMAP_BD09_ID => Some(Crs::Bd09),
                            _ => None,
                        };
                        if let Some(crs) = crs {
                            return Ok(found(
                                crs,
                                format!(
                                    "gpkg_spatial_ref_sys names {srs_name} (written by OneMap)"
                                ),
                            ));
                        }
                    }
                    let detection = detect_from_prj(definition.as_deref().unwrap_or(""));
                    if let Some(crs) = detection.crs {
                        let mut choice = found(
                            crs,
                            format!(
                                "from the definition in gpkg_spatial_ref_sys (srs_id {srs_id}): {}",
                                detection.reason
                            ),
                        );
                        choice.notes = detection.warnings;
                        return Ok(choice);
                    }
                    format!(
                        "srs_id {srs_id} ({organization}:{code}, {srs_name}) is not a system OneMap knows: {}",
                        detection.reason
                    )
                }
                Err(rusqlite::Error::QueryReturnedNoRows) => {
                    format!("srs_id {srs_id} is missing from gpkg_spatial_ref_sys")
                }
                Err(e) => format!("gpkg_spatial_ref_sys is unreadable: {e}"),
            }
        }
    };
    Err(why_not)
}

/// A table's CRS from its coordinate values, when `gpkg_spatial_ref_sys` did not tell
/// (`why_not` says why, for the reason shown to the user).
fn crs_from_values(mut why_not: String, geometries: &[Geometry<f64>]) -> Result<CrsChoice, String> {
    let found = |crs: Crs, reason: String| CrsChoice {
        crs,
        reason,
        axis_swapped: false,
        notes: crs.datum_warning().into_iter().collect(),
    };
    let samples: Vec<(f64, f64)> = geometries
        .iter()
        .filter_map(first_coord)
        .take(CRS_SAMPLE_FEATURES)
        .map(|c| (c.x, c.y))
        .collect();
    if samples.is_empty() {
        return Ok(found(
            Crs::Wgs84,
            format!("{why_not} and no features: assumed WGS 84"),
        ));
    }
    let detection = detect_from_samples(&samples);
    match detection.crs {
        Some(crs) => Ok(CrsChoice {
            crs,
            reason: format!("{why_not}; from the values: {}", detection.reason),
            axis_swapped: detection.axis_swapped,
            notes: detection.warnings,
        }),
        None => {
            why_not.push_str(&format!(
                " and the values do not tell: {}",
                detection.reason
            ));
            Err(why_not)
        }
    }
}

fn first_coord(geometry: &Geometry<f64>) -> Option<Coord<f64>> {
    match geometry {
        Geometry::Point(p) => Some(p.0),
        Geometry::LineString(l) => l.0.first().copied(),
        Geometry::Polygon(p) => p.exterior().0.first().copied(),
        Geometry::MultiPoint(m) => m.0.first().map(|p| p.0),
        Geometry::MultiLineString(m) => m.0.iter().find_map(|l| l.0.first().copied()),
        Geometry::MultiPolygon(m) => m.0.iter().find_map(|p| p.exterior().0.first().copied()),
        Geometry::GeometryCollection(c) => c.0.iter().find_map(first_coord),
        Geometry::Line(l) => Some(l.start),
        Geometry::Rect(r) => Some(r.min()),
        Geometry::Triangle(t) => Some(t.v1()),
    }
}

/// Converts one table's geometries to WGS84, built once per table.
struct Converter {
    transform: CrsTransform,
    /// WGS84 in, WGS84 out: only the range check is needed.
    degrees_as_they_are: bool,
    swap: bool,
}

impl Converter {
    fn new(choice: &CrsChoice) -> Result<Converter, String> {
        let transform = CrsTransform::new(choice.crs, Crs::Wgs84)
            .map_err(|e| format!("cannot convert {} to WGS 84: {e}", choice.crs.name()))?;
        Ok(Converter {
            degrees_as_they_are: transform.is_identity()
                && choice.crs.is_geographic()
                && !choice.axis_swapped,
            transform,
            swap: choice.axis_swapped,
        })
    }

    /// Converts in place; a geometry failing the quick range check goes through the
    /// transform for the precise message.
    fn convert(&self, geometry: &mut Geometry<f64>) -> Result<(), CrsError> {
        if self.degrees_as_they_are && within_degrees(geometry) {
            return Ok(());
        }
        convert_in_place(geometry, &self.transform, self.swap)
    }
}

/// The layer of a table whose geometries were converted as they were read.
fn raw_layer(path: &Path, table: &FeatureTable, raw: RawTable) -> Layer {
    Layer {
        name: table.name.clone(),
        path: Some(path.to_owned()),
        kind: LayerKind::guess_from_name(&table.name),
        geometries: raw.geometries,
        attributes: raw.attributes,
        source_index: raw.rows,
    }
}

/// Converts a table's geometries to WGS84 in place and builds its layer.
fn to_wgs84_layer(
    path: &Path,
    table: &FeatureTable,
    raw: RawTable,
    choice: &CrsChoice,
    warnings: &mut Warnings<'_>,
) -> Result<Layer, String> {
    let converter = Converter::new(choice)?;
    let RawTable {
        geometries,
        fids,
        rows,
        attributes,
        ..
    } = raw;
    let mut layer = Layer {
        name: table.name.clone(),
        path: Some(path.to_owned()),
        kind: LayerKind::guess_from_name(&table.name),
        geometries: Vec::with_capacity(geometries.len()),
        attributes: AttributeTable::new(),
        source_index: Vec::with_capacity(geometries.len()),
    };
    let mut failed = Vec::new();
    for (k, mut geometry) in geometries.into_iter().enumerate() {
        match converter.convert(&mut geometry) {
            Ok(()) => {
                layer.geometries.push(geometry);
                layer.source_index.push(rows.get(k).copied().unwrap_or(0));
            }
            Err(e) => {
                let row = rows.get(k).map(|&r| r as usize);
                let fid = fids.get(k).copied().unwrap_or(-1);
                warnings.push(
                    row,
                    format!("fid {fid}: coordinates cannot be converted: {e}; dropped the feature"),
                );
                failed.push(k);
            }
        }
    }
    layer.attributes = if failed.is_empty() {
        attributes
    } else {
        // Rare: rebuild the table without the dropped rows so rows stay aligned.
        let mut kept = AttributeTable::new();
        let mut failed = failed.into_iter().peekable();
        for row in 0..attributes.len() {
            if failed.peek() == Some(&row) {
                failed.next();
                continue;
            }
            let names: Vec<&str> = attributes.field_names().collect();
            kept.push_row(
                names
                    .iter()
                    .enumerate()
                    .map(|(f, name)| (*name, attributes.value(row, f))),
            );
        }
        kept
    };
    Ok(layer)
}

/// True when every coordinate is finite longitude/latitude (NaN fails every comparison).
fn within_degrees(geometry: &Geometry<f64>) -> bool {
    fn ok(coords: &[Coord<f64>]) -> bool {
        coords
            .iter()
            .all(|c| c.x.abs() <= 180.0 && c.y.abs() <= 90.0)
    }
    fn polygon_ok(p: &Polygon<f64>) -> bool {
        ok(&p.exterior().0) && p.interiors().iter().all(|r| ok(&r.0))
    }
    match geometry {
        Geometry::Point(p) => ok(&[p.0]),
        Geometry::LineString(l) => ok(&l.0),
        Geometry::Polygon(p) => polygon_ok(p),
        Geometry::MultiPoint(m) => m.0.iter().all(|p| ok(&[p.0])),
        Geometry::MultiLineString(m) => m.0.iter().all(|l| ok(&l.0)),
        Geometry::MultiPolygon(m) => m.0.iter().all(polygon_ok),
        Geometry::GeometryCollection(c) => c.0.iter().all(within_degrees),
        // Never produced by the WKB parser.
        Geometry::Line(_) | Geometry::Rect(_) | Geometry::Triangle(_) => false,
    }
}

/// Converts every coordinate (swapping x and y first when the values are northing first);
/// per concrete type because geo's `Geometry` version hits the instantiation limit.
fn convert_in_place(
    geometry: &mut Geometry<f64>,
    transform: &CrsTransform,
    swap: bool,
) -> Result<(), CrsError> {
    let f = |c: Coord<f64>| {
        let (x, y) = if swap { (c.y, c.x) } else { (c.x, c.y) };
        transform.apply(x, y).map(|(x, y)| Coord { x, y })
    };
    match geometry {
        Geometry::Point(g) => g.try_map_coords_in_place(f),
        Geometry::MultiPoint(g) => g.try_map_coords_in_place(f),
        Geometry::LineString(g) => g.try_map_coords_in_place(f),
        Geometry::MultiLineString(g) => g.try_map_coords_in_place(f),
        Geometry::Polygon(g) => g.try_map_coords_in_place(f),
        Geometry::MultiPolygon(g) => g.try_map_coords_in_place(f),
        Geometry::GeometryCollection(collection) => {
            for part in &mut collection.0 {
                convert_in_place(part, transform, swap)?;
            }
            Ok(())
        }
        other => {
            *other = transform.transform_geometry(other)?;
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GeoPackage binary geometry
// ---------------------------------------------------------------------------------------------

/// Parses a GeoPackage geometry blob (header + WKB). `Ok(None)` for an empty geometry.
pub fn parse_geometry_blob(blob: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    if blob.len() < 8 {
        return Err(format!(
            "the geometry blob is {} bytes, shorter than its header",
            blob.len()
        ));
    }
    if &blob[..2] != b"GP" {
        return Err(
            "the geometry blob does not start with the GeoPackage magic \"GP\"".to_string(),
        );
    }
    if blob[2] != 0 {
        return Err(format!(
            "GeoPackage geometry version {} is not supported",
            blob[2]
        ));
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("extended GeoPackage geometries are not supported".to_string());
    }
    let envelope_len = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        code => {
            return Err(format!(
                "invalid envelope code {code} in the geometry header"
            ));
        }
    };
    let wkb_start = 8 + envelope_len;
    if blob.len() < wkb_start {
        return Err(format!(
            "the geometry blob is {} bytes, shorter than its {wkb_start}-byte header",
            blob.len()
        ));
    }
    let empty = flags & 0b0001_0000 != 0;
    if empty {
        return Ok(None);
    }
    let mut reader = WkbReader {
        bytes: &blob[wkb_start..],
        pos: 0,
    };
    let geometry = reader.geometry(0)?;
    Ok(geometry.filter(|g| !is_empty(g)))
}

fn is_empty(geometry: &Geometry<f64>) -> bool {
    match geometry {
        Geometry::LineString(l) => l.0.is_empty(),
        Geometry::Polygon(p) => p.exterior().0.is_empty(),
        Geometry::MultiPoint(m) => m.0.is_empty(),
        Geometry::MultiLineString(m) => m.0.is_empty(),
        Geometry::MultiPolygon(m) => m.0.is_empty(),
        Geometry::GeometryCollection(c) => c.0.is_empty(),
        _ => false,
    }
}

/// A cursor over WKB bytes that checks every read.
struct WkbReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// What one WKB geometry header says.
struct WkbHeader {
    little_endian: bool,
    kind: u32,
    /// Bytes per coordinate: 16 (XY), 24 (XYZ or XYM) or 32 (XYZM).
    stride: usize,
}

impl WkbReader<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.remaining() < n {
            return Err(format!(
                "the WKB ends early (byte {} of {}, {n} more needed)",
                self.pos,
                self.bytes.len()
            ));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn u32(&mut self, little_endian: bool) -> Result<u32, String> {
        let b = self.take(4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if little_endian {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    /// Reads a count and checks that `count` items of at least `min_size` bytes each fit in
    /// what is left, so a corrupt count never allocates.
    fn count(&mut self, little_endian: bool, min_size: usize, what: &str) -> Result<usize, String> {
        let count = self.u32(little_endian)? as usize;
        if count.saturating_mul(min_size) > self.remaining() {
            return Err(format!(
                "the WKB claims {count} {what} but only {} bytes remain",
                self.remaining()
            ));
        }
        Ok(count)
    }

    fn header(&mut self) -> Result<WkbHeader, String> {
        let little_endian = match self.take(1)?[0] {
            0 => false,
            1 => true,
            other => return Err(format!("invalid WKB byte order {other}")),
        };
        let code = self.u32(little_endian)?;
        // EWKB (PostGIS) flags in the high bits, ISO WKB thousands for Z/M/ZM.
        let (ewkb_z, ewkb_m, ewkb_srid) = (
            code & 0x8000_0000 != 0,
            code & 0x4000_0000 != 0,
            code & 0x2000_0000 != 0,
        );
        let iso = code & 0x0FFF_FFFF;
        let (kind, iso_dims) = (iso % 1000, iso / 1000);
        let (z, m) = match iso_dims {
            0 => (ewkb_z, ewkb_m),
            1 => (true, false),
            2 => (false, true),
            3 => (true, true),
            _ => return Err(format!("unknown WKB geometry type {code}")),
        };
        if ewkb_srid {
            self.take(4)?;
        }
        let stride = 16 + 8 * usize::from(z) + 8 * usize::from(m);
        Ok(WkbHeader {
            little_endian,
            kind,
            stride,
        })
    }

    fn coords(&mut self, header: &WkbHeader) -> Result<Vec<Coord<f64>>, String> {
        let n = self.count(header.little_endian, header.stride, "points")?;
        let bytes = self.take(n * header.stride)?;
        let read = if header.little_endian {
            f64::from_le_bytes
        } else {
            f64::from_be_bytes
        };
        let mut coords = Vec::with_capacity(n);
        for chunk in bytes.chunks_exact(header.stride) {
            let mut x = [0u8; 8];
            let mut y = [0u8; 8];
            x.copy_from_slice(&chunk[..8]);
            y.copy_from_slice(&chunk[8..16]);
            coords.push(Coord {
                x: read(x),
                y: read(y),
            });
        }
        Ok(coords)
    }

    fn point(&mut self, header: &WkbHeader) -> Result<Option<Point<f64>>, String> {
        let bytes = self.take(header.stride)?;
        let mut x = [0u8; 8];
        let mut y = [0u8; 8];
        x.copy_from_slice(&bytes[..8]);
        y.copy_from_slice(&bytes[8..16]);
        let (x, y) = if header.little_endian {
            (f64::from_le_bytes(x), f64::from_le_bytes(y))
        } else {
            (f64::from_be_bytes(x), f64::from_be_bytes(y))
        };
        // WKB has no empty point: NaN coordinates stand for one.
        Ok((!x.is_nan() || !y.is_nan()).then(|| Point::new(x, y)))
    }

    fn polygon(&mut self, header: &WkbHeader) -> Result<Option<Polygon<f64>>, String> {
        let ring_count = self.count(header.little_endian, 4, "rings")?;
        if ring_count == 0 {
            return Ok(None);
        }
        let exterior = LineString(self.coords(header)?);
        // Sized exactly: most polygons have no hole and then allocate nothing here.
        let mut holes = Vec::with_capacity(ring_count - 1);
        for _ in 1..ring_count {
            holes.push(LineString(self.coords(header)?));
        }
        Ok(Some(Polygon::new(exterior, holes)))
    }

    /// Reads a part of a multi-geometry and checks it has the expected type.
    fn part(&mut self, expected: u32) -> Result<WkbHeader, String> {
        let header = self.header()?;
        if header.kind != expected {
            return Err(format!(
                "a multi-geometry part has WKB type {}, expected {expected}",
                header.kind
            ));
        }
        Ok(header)
    }

    fn geometry(&mut self, depth: usize) -> Result<Option<Geometry<f64>>, String> {
        if depth > MAX_WKB_DEPTH {
            return Err("geometry collections nested too deeply".to_string());
        }
        let header = self.header()?;
        let little_endian = header.little_endian;
        // The smallest valid part: byte order, type and a count (or two coordinates).
        const MIN_PART: usize = 9;
        let geometry = match header.kind {
            1 => self.point(&header)?.map(Geometry::Point),
            2 => Some(Geometry::LineString(LineString(self.coords(&header)?))),
            3 => self.polygon(&header)?.map(Geometry::Polygon),
            4 => {
                let n = self.count(little_endian, MIN_PART + 12, "points")?;
                let mut points = Vec::with_capacity(n);
                for _ in 0..n {
                    let part = self.part(1)?;
                    points.extend(self.point(&part)?);
                }
                Some(Geometry::MultiPoint(MultiPoint(points)))
            }
            5 => {
                let n = self.count(little_endian, MIN_PART, "lines")?;
                let mut lines = Vec::with_capacity(n);
                for _ in 0..n {
                    let part = self.part(2)?;
                    let coords = self.coords(&part)?;
                    if !coords.is_empty() {
                        lines.push(LineString(coords));
                    }
                }
                Some(Geometry::MultiLineString(MultiLineString(lines)))
            }
            6 => {
                let n = self.count(little_endian, MIN_PART, "polygons")?;
                let mut polygons = Vec::with_capacity(n);
                for _ in 0..n {
                    let part = self.part(3)?;
                    polygons.extend(self.polygon(&part)?);
                }
                Some(Geometry::MultiPolygon(MultiPolygon(polygons)))
            }
            7 => {
                let n = self.count(little_endian, MIN_PART, "geometries")?;
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    parts.extend(self.geometry(depth + 1)?);
                }
                Some(Geometry::GeometryCollection(GeometryCollection(parts)))
            }
            other => {
                return Err(format!(
                    "WKB geometry type {other} (curves, surfaces, TINs) is not supported"
                ));
            }
        };
        Ok(geometry)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn blob(flags: u8, envelope: &[f64], wkb: &[u8]) -> Vec<u8> {
        let mut out = vec![b'G', b'P', 0, flags];
        out.extend_from_slice(&4326i32.to_le_bytes());
        for v in envelope {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(wkb);
        out
    }

    fn wkb_point_be_z(x: f64, y: f64, z: f64) -> Vec<u8> {
        let mut w = vec![0u8];
        w.extend_from_slice(&1001u32.to_be_bytes());
        for v in [x, y, z] {
            w.extend_from_slice(&v.to_be_bytes());
        }
        w
    }

    #[test]
    fn big_endian_z_point_drops_z() {
        let b = blob(0b0000_0001, &[], &wkb_point_be_z(117.9, 36.8, 50.0));
        let g = parse_geometry_blob(&b).unwrap().unwrap();
        assert_eq!(g, Geometry::Point(Point::new(117.9, 36.8)));
    }

    #[test]
    fn envelope_is_skipped_and_polygon_read() {
        let mut w = vec![1u8];
        w.extend_from_slice(&3u32.to_le_bytes());
        w.extend_from_slice(&1u32.to_le_bytes());
        w.extend_from_slice(&4u32.to_le_bytes());
        for (x, y) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)] {
            w.extend_from_slice(&f64::to_le_bytes(x));
            w.extend_from_slice(&f64::to_le_bytes(y));
        }
        let b = blob(0b0000_0011, &[0.0, 1.0, 0.0, 1.0], &w);
        match parse_geometry_blob(&b).unwrap().unwrap() {
            Geometry::Polygon(p) => assert_eq!(p.exterior().0.len(), 4),
            other => panic!("expected a polygon, got {other:?}"),
        }
    }

    #[test]
    fn lying_counts_and_truncation_are_errors_not_panics() {
        let mut w = vec![1u8];
        w.extend_from_slice(&2u32.to_le_bytes());
        w.extend_from_slice(&u32::MAX.to_le_bytes());
        let b = blob(1, &[], &w);
        let e = parse_geometry_blob(&b).unwrap_err();
        assert!(e.contains("claims"), "{e}");
        for cut in 0..b.len() {
            assert!(parse_geometry_blob(&b[..cut]).is_err());
        }
        let empty = blob(0b0001_0001, &[], &[]);
        assert_eq!(parse_geometry_blob(&empty).unwrap(), None);
        assert!(parse_geometry_blob(b"XP\0\x01\0\0\0\0").is_err());
    }

    #[test]
    fn nested_collections_stop_at_the_depth_limit() {
        let mut w = Vec::new();
        for _ in 0..100 {
            w.push(1u8);
            w.extend_from_slice(&7u32.to_le_bytes());
            w.extend_from_slice(&1u32.to_le_bytes());
        }
        // The innermost count claims one part; the bytes end before it (or the limit hits).
        let e = parse_geometry_blob(&blob(1, &[], &w)).unwrap_err();
        assert!(e.contains("nested") || e.contains("claims"), "{e}");
    }
}
