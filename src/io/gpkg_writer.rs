//! GeoPackage out: a valid GeoPackage 1.3 file with one feature table per layer, coordinates
//! converted from WGS84 to the CRS asked for, written in one transaction into a temporary file
//! that replaces the target only when everything succeeded.
//!
//! Attribute columns get the narrowest GeoPackage type that holds every value (INTEGER,
//! REAL, BOOLEAN, else TEXT). No spatial index (an optional extension) is written.

use std::path::Path;

use geo::{
    BoundingRect, Coord, Geometry, LineString, MapCoords, MultiLineString, MultiPoint,
    MultiPolygon, Point, Polygon, Rect,
};
use rusqlite::Connection;

use super::gpkg_reader::{ONEMAP_BD09_ID, ONEMAP_GCJ02_ID, ONEMAP_ORGANIZATION, quote_identifier};
use crate::crs::{Crs, CrsTransform, GkDatum};
use crate::model::{Layer, ValueRef};

/// `PRAGMA application_id` of a GeoPackage: "GPKG" in ASCII.
const APPLICATION_ID: i32 = 0x4750_4B47;
/// `PRAGMA user_version` of GeoPackage 1.3.0.
const USER_VERSION: i32 = 10_300;
/// First `srs_id` used for systems with no EPSG code.
const CUSTOM_SRS_ID: i64 = 990_000;
const FID_COLUMN: &str = "fid";
const GEOMETRY_COLUMN: &str = "geom";

const WGS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],AUTHORITY[\"EPSG\",\"4326\"]]";

const SCHEMA: &str = "
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined Cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
";

/// Writes `layers` (WGS84, as OneMap holds them) to a new GeoPackage at `path`, coordinates
/// converted to `crs`. Replaces an existing file. Returns warnings (renamed columns or tables,
/// features that could not be converted and were left out).
pub fn write_geopackage(path: &Path, layers: &[&Layer], crs: &Crs) -> Result<Vec<String>, String> {
    let temp = crate::io::staged::partial_path(path);
    // A leftover from an earlier failed write would make SQLite open it instead of a new file.
    remove_if_exists(&temp)?;
    let written = write_into(&temp, layers, crs);
    let warnings = match written {
        Ok(warnings) => warnings,
        Err(message) => {
            let _ = std::fs::remove_file(&temp);
            return Err(format!("{}: {message}", path.display()));
        }
    };
    if path.is_dir() {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("{}: is a directory", path.display()));
    }
    // Windows refuses to rename over an existing file (Unix replaces it atomically).
    #[cfg(windows)]
    remove_if_exists(path)?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!(
            "{}: cannot move the written file into place: {e}",
            path.display()
        )
    })?;
    Ok(warnings)
}

fn remove_if_exists(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: cannot replace: {e}", path.display())),
    }
}

fn write_into(path: &Path, layers: &[&Layer], crs: &Crs) -> Result<Vec<String>, String> {
    let sql = |e: rusqlite::Error| e.to_string();
    let mut warnings: Vec<String> = crs.datum_warning().into_iter().collect();
    let transform = CrsTransform::new(Crs::Wgs84, *crs)
        .map_err(|e| format!("cannot convert to {}: {e}", crs.name()))?;
    let mut connection = Connection::open(path).map_err(sql)?;
    connection
        .execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
        ))
        .map_err(sql)?;
    let transaction = connection.transaction().map_err(sql)?;
    transaction.execute_batch(SCHEMA).map_err(sql)?;
    let srs_id = insert_srs(&transaction, crs)?;

    let mut used_tables: Vec<String> = Vec::new();
    for layer in layers {
        let table = unique_table_name(&layer.name, &mut used_tables);
        if table != layer.name {
            warnings.push(format!("layer {:?} written as table {table:?}", layer.name));
        }
        write_layer(
            &transaction,
            layer,
            &table,
            srs_id,
            &transform,
            &mut warnings,
        )?;
    }
    transaction.commit().map_err(sql)?;
    Ok(warnings)
}

/// Adds the WGS84 row and the target's row to `gpkg_spatial_ref_sys`; returns the target's id.
fn insert_srs(connection: &Connection, crs: &Crs) -> Result<i64, String> {
    let insert = |name: &str, id: i64, organization: &str, code: i64, definition: &str| {
        connection
            .execute(
                "INSERT OR IGNORE INTO gpkg_spatial_ref_sys \
                 (srs_name, srs_id, organization, organization_coordsys_id, definition, description) \
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                rusqlite::params![name, id, organization, code, definition],
            )
            .map_err(|e| e.to_string())
    };
    insert("WGS 84 geodetic", 4326, "EPSG", 4326, WGS84_WKT)?;
    match *crs {
        Crs::Wgs84 => Ok(4326),
        Crs::Gcj02 | Crs::Bd09 => {
            let code = if *crs == Crs::Gcj02 {
                ONEMAP_GCJ02_ID
            } else {
                ONEMAP_BD09_ID
            };
            let id = CUSTOM_SRS_ID + code;
            // The definition is WGS84's: other GIS place the shifted degrees as they are, which
            // is what overlaying on an Amap or Baidu basemap needs. The name says what they are.
            let name = format!("{} - not WGS 84", crs.name());
            insert(&name, id, ONEMAP_ORGANIZATION, code, WGS84_WKT)?;
            Ok(id)
        }
        _ => {
            let definition = projected_wkt(crs);
            match crs.epsg() {
                Some(code) => {
                    insert(
                        &crs.name(),
                        i64::from(code),
                        "EPSG",
                        i64::from(code),
                        &definition,
                    )?;
                    Ok(i64::from(code))
                }
                None => {
                    let id = CUSTOM_SRS_ID + 100;
                    insert(&crs.name(), id, "NONE", id, &definition)?;
                    Ok(id)
                }
            }
        }
    }
}

/// WKT 1 (the form GDAL writes into GeoPackages) of a projected system.
fn projected_wkt(crs: &Crs) -> String {
    let authority = crs
        .epsg()
        .map(|code| format!(",AUTHORITY[\"EPSG\",\"{code}\"]"))
        .unwrap_or_default();
    let tm = |geogcs: &str, lon0: f64, k: f64, fe: f64, fn_: f64| {
        format!(
            "PROJCS[\"{}\",{geogcs},PROJECTION[\"Transverse_Mercator\"],\
             PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",{lon0}],\
             PARAMETER[\"scale_factor\",{k}],PARAMETER[\"false_easting\",{fe}],\
             PARAMETER[\"false_northing\",{fn_}],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],\
             AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH]{authority}]",
            crs.name()
        )
    };
    match *crs {
        Crs::WebMercator => format!(
            "PROJCS[\"WGS 84 / Pseudo-Mercator\",{WGS84_WKT},PROJECTION[\"Mercator_1SP\"],\
             PARAMETER[\"central_meridian\",0],PARAMETER[\"scale_factor\",1],\
             PARAMETER[\"false_easting\",0],PARAMETER[\"false_northing\",0],\
             UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],AXIS[\"Easting\",EAST],\
             AXIS[\"Northing\",NORTH],EXTENSION[\"PROJ4\",\"+proj=merc +a=6378137 +b=6378137 \
             +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs\"]{authority}]"
        ),
        Crs::Utm { zone, north } => tm(
            WGS84_WKT,
            6.0 * f64::from(zone) - 183.0,
            0.9996,
            500_000.0,
            if north { 0.0 } else { 10_000_000.0 },
        ),
        Crs::GaussKruger {
            datum,
            central_meridian_deg,
            false_easting_m,
            ..
        } => tm(
            &geographic_wkt(datum),
            central_meridian_deg,
            1.0,
            false_easting_m,
            0.0,
        ),
        Crs::Wgs84 | Crs::Gcj02 | Crs::Bd09 => WGS84_WKT.to_string(),
    }
}

fn geographic_wkt(datum: GkDatum) -> String {
    let (name, datum_name, spheroid, a, inverse_f, code) = match datum {
        GkDatum::Cgcs2000 => (
            "China Geodetic Coordinate System 2000",
            "China_2000",
            "CGCS2000",
            6_378_137.0,
            298.257_222_101,
            4490,
        ),
        GkDatum::Xian80 => (
            "Xian 1980",
            "Xian_1980",
            "IAG 1975",
            6_378_140.0,
            298.257,
            4610,
        ),
        GkDatum::Beijing54 => (
            "Beijing 1954",
            "Beijing_1954",
            "Krassowsky 1940",
            6_378_245.0,
            298.3,
            4214,
        ),
    };
    format!(
        "GEOGCS[\"{name}\",DATUM[\"{datum_name}\",SPHEROID[\"{spheroid}\",{a},{inverse_f}]],\
         PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"{code}\"]]"
    )
}

/// A table name no earlier layer took (SQLite compares names without case) and outside the
/// prefixes GeoPackage and SQLite reserve.
fn unique_table_name(name: &str, used: &mut Vec<String>) -> String {
    let mut base = name.trim().to_string();
    if base.is_empty() {
        base = "layer".to_string();
    }
    let lower = base.to_lowercase();
    if ["gpkg_", "rtree_", "sqlite_"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        base = format!("layer_{base}");
    }
    let mut candidate = base.clone();
    let mut n = 1;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&candidate)) {
        n += 1;
        candidate = format!("{base}_{n}");
    }
    used.push(candidate.clone());
    candidate
}

/// The GeoPackage column type that holds every value of one attribute field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ColumnType {
    Integer,
    Real,
    Boolean,
    Text,
}

impl ColumnType {
    fn sql(self) -> &'static str {
        match self {
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Text => "TEXT",
        }
    }
}

/// Integers beyond this lose precision as f64, so such columns stay REAL.
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

fn column_type(layer: &Layer, field: usize) -> ColumnType {
    let (mut numbers, mut integral, mut bools, mut texts) = (false, true, false, false);
    for row in 0..layer.attributes.len() {
        match layer.attributes.value(row, field) {
            ValueRef::Null => {}
            ValueRef::Number(n) => {
                numbers = true;
                integral &= n.fract() == 0.0 && n.abs() <= MAX_EXACT_INTEGER;
            }
            ValueRef::Bool(_) => bools = true,
            ValueRef::Text(_) | ValueRef::Json(_) => texts = true,
        }
    }
    match (numbers, bools, texts) {
        (true, false, false) if integral => ColumnType::Integer,
        (true, false, false) => ColumnType::Real,
        (false, true, false) => ColumnType::Boolean,
        _ => ColumnType::Text,
    }
}

/// The GeoPackage geometry type name that every geometry of the layer conforms to.
fn geometry_type_name(layer: &Layer) -> &'static str {
    let name = |g: &Geometry<f64>| match g {
        Geometry::Point(_) => "POINT",
        Geometry::Line(_) | Geometry::LineString(_) => "LINESTRING",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "POLYGON",
        Geometry::MultiPoint(_) => "MULTIPOINT",
        Geometry::MultiLineString(_) => "MULTILINESTRING",
        Geometry::MultiPolygon(_) => "MULTIPOLYGON",
        Geometry::GeometryCollection(_) => "GEOMETRYCOLLECTION",
    };
    let mut names = layer.geometries.iter().map(name);
    let Some(first) = names.next() else {
        return "GEOMETRY";
    };
    if names.all(|n| n == first) {
        first
    } else {
        "GEOMETRY"
    }
}

fn write_layer(
    connection: &Connection,
    layer: &Layer,
    table: &str,
    srs_id: i64,
    transform: &CrsTransform,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let sql = |e: rusqlite::Error| format!("table {table:?}: {e}");
    let field_names: Vec<&str> = layer.attributes.field_names().collect();
    let mut column_names: Vec<String> = vec![FID_COLUMN.to_string(), GEOMETRY_COLUMN.to_string()];
    let mut columns = Vec::with_capacity(field_names.len());
    for (field, name) in field_names.iter().enumerate() {
        let mut column = if name.trim().is_empty() {
            format!("field_{}", field + 1)
        } else {
            (*name).to_string()
        };
        let base = column.clone();
        let mut n = 1;
        while column_names.iter().any(|c| c.eq_ignore_ascii_case(&column)) {
            n += 1;
            column = format!("{base}_{n}");
        }
        if column != *name {
            warnings.push(format!(
                "layer {:?}: field {name:?} written as column {column:?}",
                layer.name
            ));
        }
        column_names.push(column.clone());
        columns.push((column, column_type(layer, field)));
    }
    let geometry_type = geometry_type_name(layer);

    let mut create = format!(
        "CREATE TABLE {} ({FID_COLUMN} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {GEOMETRY_COLUMN} {geometry_type}",
        quote_identifier(table)
    );
    for (column, kind) in &columns {
        create.push_str(&format!(", {} {}", quote_identifier(column), kind.sql()));
    }
    create.push(')');
    connection.execute_batch(&create).map_err(sql)?;

    let placeholders: Vec<String> = (0..columns.len() + 1)
        .map(|i| format!("?{}", i + 1))
        .collect();
    let mut insert_sql = format!("INSERT INTO {} ({GEOMETRY_COLUMN}", quote_identifier(table));
    for (column, _) in &columns {
        insert_sql.push_str(", ");
        insert_sql.push_str(&quote_identifier(column));
    }
    insert_sql.push_str(&format!(") VALUES ({})", placeholders.join(", ")));
    let mut insert = connection.prepare(&insert_sql).map_err(sql)?;

    let mut blob = Vec::new();
    let mut extent: Option<Rect<f64>> = None;
    let mut skipped = 0usize;
    for (row, geometry) in layer.geometries.iter().enumerate() {
        let converted =
            geometry.try_map_coords(|c| transform.apply(c.x, c.y).map(|(x, y)| Coord { x, y }));
        let converted = match converted {
            Ok(g) => g,
            Err(e) => {
                skipped += 1;
                if skipped <= 20 {
                    warnings.push(format!(
                        "layer {:?}: feature {row} left out: {e}",
                        layer.name
                    ));
                }
                continue;
            }
        };
        let bounds = converted.bounding_rect();
        if let Some(b) = bounds {
            extent = Some(match extent {
                None => b,
                Some(e) => Rect::new(
                    Coord {
                        x: e.min().x.min(b.min().x),
                        y: e.min().y.min(b.min().y),
                    },
                    Coord {
                        x: e.max().x.max(b.max().x),
                        y: e.max().y.max(b.max().y),
                    },
                ),
            });
        }
        blob.clear();
        encode_geometry_blob(&converted, srs_id as i32, bounds, &mut blob);
        insert.raw_bind_parameter(1, blob.as_slice()).map_err(sql)?;
        for (k, (_, kind)) in columns.iter().enumerate() {
            let index = k + 2;
            let value = layer.attributes.value(row, k);
            match (value, kind) {
                (ValueRef::Null, _) => insert.raw_bind_parameter(index, rusqlite::types::Null),
                (ValueRef::Number(n), ColumnType::Integer) => {
                    insert.raw_bind_parameter(index, n as i64)
                }
                (ValueRef::Number(n), _) => insert.raw_bind_parameter(index, n),
                (ValueRef::Bool(b), ColumnType::Boolean) => {
                    insert.raw_bind_parameter(index, i64::from(b))
                }
                (ValueRef::Text(s) | ValueRef::Json(s), _) => insert.raw_bind_parameter(index, s),
                (other, _) => insert.raw_bind_parameter(index, other.to_string()),
            }
            .map_err(sql)?;
        }
        insert.raw_execute().map_err(sql)?;
    }
    if skipped > 20 {
        warnings.push(format!(
            "layer {:?}: {skipped} features left out in all",
            layer.name
        ));
    }
    drop(insert);

    let (min_x, min_y, max_x, max_y) = match extent {
        Some(e) => (
            Some(e.min().x),
            Some(e.min().y),
            Some(e.max().x),
            Some(e.max().y),
        ),
        None => (None, None, None, None),
    };
    connection
        .execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, \
             min_x, min_y, max_x, max_y, srs_id) \
             VALUES (?1, 'features', ?2, '', ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![table, table, min_x, min_y, max_x, max_y, srs_id],
        )
        .map_err(sql)?;
    connection
        .execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, 0, 0)",
            rusqlite::params![table, GEOMETRY_COLUMN, geometry_type, srs_id],
        )
        .map_err(sql)?;
    Ok(())
}

/// Appends the GeoPackage binary form of `geometry`: header (little-endian, XY envelope except
/// for points; the empty flag when there are no coordinates) then ISO WKB.
pub fn encode_geometry_blob(
    geometry: &Geometry<f64>,
    srs_id: i32,
    bounds: Option<Rect<f64>>,
    out: &mut Vec<u8>,
) {
    let point = matches!(geometry, Geometry::Point(_));
    let (envelope_code, empty) = match bounds {
        None => (0u8, true),
        Some(_) if point => (0, false),
        Some(_) => (1, false),
    };
    let flags = (u8::from(empty) << 4) | (envelope_code << 1) | 1;
    out.extend_from_slice(&[b'G', b'P', 0, flags]);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let (1, Some(b)) = (envelope_code, bounds) {
        for v in [b.min().x, b.max().x, b.min().y, b.max().y] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    write_wkb(geometry, out);
}

fn wkb_header(kind: u32, out: &mut Vec<u8>) {
    out.push(1);
    out.extend_from_slice(&kind.to_le_bytes());
}

fn wkb_count(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn wkb_coords(coords: &[Coord<f64>], out: &mut Vec<u8>) {
    wkb_count(coords.len(), out);
    out.reserve(coords.len() * 16);
    for c in coords {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

fn wkb_point(p: &Point<f64>, out: &mut Vec<u8>) {
    wkb_header(1, out);
    out.extend_from_slice(&p.x().to_le_bytes());
    out.extend_from_slice(&p.y().to_le_bytes());
}

fn wkb_line(l: &LineString<f64>, out: &mut Vec<u8>) {
    wkb_header(2, out);
    wkb_coords(&l.0, out);
}

fn wkb_polygon(p: &Polygon<f64>, out: &mut Vec<u8>) {
    wkb_header(3, out);
    if p.exterior().0.is_empty() {
        wkb_count(0, out);
        return;
    }
    wkb_count(1 + p.interiors().len(), out);
    wkb_coords(&p.exterior().0, out);
    for ring in p.interiors() {
        wkb_coords(&ring.0, out);
    }
}

/// Writes ISO WKB, little-endian, 2D. `Line`, `Rect` and `Triangle` become a line string or
/// polygon, the GeoPackage types they stand for.
fn write_wkb(geometry: &Geometry<f64>, out: &mut Vec<u8>) {
    match geometry {
        Geometry::Point(p) => wkb_point(p, out),
        Geometry::Line(l) => wkb_line(&LineString(vec![l.start, l.end]), out),
        Geometry::LineString(l) => wkb_line(l, out),
        Geometry::Polygon(p) => wkb_polygon(p, out),
        Geometry::Rect(r) => wkb_polygon(&r.to_polygon(), out),
        Geometry::Triangle(t) => wkb_polygon(&t.to_polygon(), out),
        Geometry::MultiPoint(MultiPoint(points)) => {
            wkb_header(4, out);
            wkb_count(points.len(), out);
            points.iter().for_each(|p| wkb_point(p, out));
        }
        Geometry::MultiLineString(MultiLineString(lines)) => {
            wkb_header(5, out);
            wkb_count(lines.len(), out);
            lines.iter().for_each(|l| wkb_line(l, out));
        }
        Geometry::MultiPolygon(MultiPolygon(polygons)) => {
            wkb_header(6, out);
            wkb_count(polygons.len(), out);
            polygons.iter().for_each(|p| wkb_polygon(p, out));
        }
        Geometry::GeometryCollection(collection) => {
            wkb_header(7, out);
            wkb_count(collection.0.len(), out);
            collection.0.iter().for_each(|g| write_wkb(g, out));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::io::gpkg_reader::parse_geometry_blob;

    #[test]
    fn blobs_round_trip_through_the_reader() {
        let square = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 0.0)]),
            vec![LineString::from(vec![
                (0.5, 0.5),
                (1.0, 0.5),
                (1.0, 1.0),
                (0.5, 0.5),
            ])],
        );
        let geometries = [
            Geometry::Point(Point::new(117.9, 36.8)),
            Geometry::LineString(LineString::from(vec![(1.0, 2.0), (3.0, 4.0)])),
            Geometry::Polygon(square.clone()),
            Geometry::MultiPoint(MultiPoint(vec![Point::new(1.0, 2.0), Point::new(3.0, 4.0)])),
            Geometry::MultiPolygon(MultiPolygon(vec![square.clone(), square])),
            Geometry::GeometryCollection(geo::GeometryCollection(vec![Geometry::Point(
                Point::new(5.0, 6.0),
            )])),
        ];
        for g in geometries {
            let mut out = Vec::new();
            encode_geometry_blob(&g, 4326, g.bounding_rect(), &mut out);
            assert_eq!(parse_geometry_blob(&out).unwrap(), Some(g));
        }
    }

    #[test]
    fn table_names_avoid_reserved_prefixes_and_duplicates() {
        let mut used = Vec::new();
        assert_eq!(unique_table_name("roads", &mut used), "roads");
        assert_eq!(unique_table_name("Roads", &mut used), "Roads_2");
        assert_eq!(unique_table_name("gpkg_x", &mut used), "layer_gpkg_x");
        assert_eq!(unique_table_name("  ", &mut used), "layer");
    }
}
