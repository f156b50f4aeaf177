//! Coverage report for one response band: covered area and per-station districts, covered
//! share of a built-up area, of weighted demand, and of each chosen layer's features.
//!
//! Every test is made in the graph's local metric projection against the band's polygons
//! (the same cells the isochrone output draws), so the report agrees with the map exactly.
//! A point (or a demand cell's centroid) counts when it intersects the covered polygons;
//! a line or polygon feature counts when any part of it does.

use geo::{
    Area, BooleanOps, Centroid, Coord, Geometry, Intersects, MapCoords, MultiPolygon, Polygon,
};

use crate::analysis::isochrone::TimeGrid;
use crate::analysis::reach::{Snap, reach, station_id};
use crate::analysis::road_graph::RoadGraph;
use crate::model::Layer;

/// GB 51080: a station's district should not exceed 7 km² (standard stations).
pub const DISTRICT_STANDARD_KM2: f64 = 7.0;
/// GB 51080: the upper limit of a district where the terrain allows larger ones, km².
pub const DISTRICT_LIMIT_KM2: f64 = 15.0;

/// Options of a coverage report.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageOptions {
    /// The band, minutes, turnout included (default 5).
    pub minutes: f64,
    /// Turnout time, seconds (default 60).
    pub turnout_s: f64,
    /// How far from a reached road a place counts as covered, metres (default 100).
    pub access_m: f64,
    /// Grid cell size, metres (default 25).
    pub cell_m: f64,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            minutes: 5.0,
            turnout_s: 60.0,
            access_m: 100.0,
            cell_m: 25.0,
        }
    }
}

/// One station's district: the covered cells it reaches first (split mode).
#[derive(Debug, Clone, PartialEq)]
pub struct StationDistrict {
    /// Station index (into the snaps given).
    pub station: u32,
    pub area_km2: f64,
    /// Larger than 7 km² (the GB 51080 standard).
    pub over_standard: bool,
    /// Larger than 15 km² (the GB 51080 upper limit).
    pub over_limit: bool,
}

/// The covered area of one band, in projected metres and in lon/lat.
#[derive(Debug, Clone)]
pub struct CoveredArea {
    pub minutes: f64,
    /// The dissolved band in the graph's local projection (metres).
    pub projected: MultiPolygon<f64>,
    /// The same polygons in lon/lat.
    pub lonlat: MultiPolygon<f64>,
    /// Covered cells times the cell area, km².
    pub area_km2: f64,
    /// One district per snapped station, in station order; districts of stations that reach
    /// no cell first have zero area. They sum to `area_km2` exactly.
    pub districts: Vec<StationDistrict>,
}

/// A covered share: `covered` of `total`; `share` is None when `total` is zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    pub covered: f64,
    pub total: f64,
    pub share: Option<f64>,
}

impl Share {
    fn new(covered: f64, total: f64) -> Share {
        let share = (total > 0.0).then(|| (covered / total).clamp(0.0, 1.0));
        Share {
            covered,
            total,
            share,
        }
    }
}

/// Feature coverage of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerCoverage {
    pub name: String,
    pub covered: usize,
    /// Features with a geometry.
    pub total: usize,
    /// Ids of the uncovered features: `id`, else `name`, else the feature index (as
    /// `reach::station_id`).
    pub uncovered: Vec<String>,
}

/// The covered area of the band `options.minutes` for the snapped stations, and each
/// station's district (each cell assigned to its fastest station).
pub fn covered_area(
    graph: &RoadGraph,
    snaps: &[Option<Snap>],
    options: &CoverageOptions,
) -> CoveredArea {
    let limit_s = if options.minutes.is_finite() {
        options.minutes.max(0.0) * 60.0
    } else {
        0.0
    };
    let reached = reach(graph, snaps, options.turnout_s, limit_s);
    let grid = TimeGrid::from_pieces(
        graph,
        &reached.pieces(graph),
        options.access_m,
        options.cell_m,
    );
    let (projected, cells) = grid.band_polygons(limit_s, None);
    let cell_km2 = grid.cell_m * grid.cell_m / 1e6;
    let mut per_station = vec![0usize; snaps.len()];
    for (t, s) in grid.time_s.iter().zip(&grid.station) {
        if f64::from(*t) <= limit_s
            && let Some(count) = per_station.get_mut(*s as usize)
        {
            *count += 1;
        }
    }
    let districts = snaps
        .iter()
        .enumerate()
        .filter(|(_, snap)| snap.is_some())
        .map(|(s, _)| {
            let area_km2 = per_station[s] as f64 * cell_km2;
            StationDistrict {
                station: s as u32,
                area_km2,
                over_standard: area_km2 > DISTRICT_STANDARD_KM2,
                over_limit: area_km2 > DISTRICT_LIMIT_KM2,
            }
        })
        .collect();
    let lonlat = to_lonlat(graph, &projected);
    CoveredArea {
        minutes: options.minutes,
        projected,
        lonlat,
        area_km2: cells as f64 * cell_km2,
        districts,
    }
}

fn to_lonlat(graph: &RoadGraph, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.map_coords(|c| graph.projection.inverse([c.x, c.y]))
}

fn project(graph: &RoadGraph, g: &Geometry<f64>) -> Geometry<f64> {
    g.map_coords(|c| {
        let [x, y] = graph.projection.forward(c);
        Coord { x, y }
    })
}

/// Covered share of the polygons of `layer` (built-up area), in km² of the local
/// projection. Overlapping polygons are merged first so no place counts twice; other
/// geometry types are ignored.
pub fn area_share(graph: &RoadGraph, covered: &CoveredArea, layer: &Layer) -> Share {
    let mut polygons: Vec<Polygon<f64>> = Vec::new();
    for g in &layer.geometries {
        match project(graph, g) {
            Geometry::Polygon(p) => polygons.push(p),
            Geometry::MultiPolygon(mp) => polygons.extend(mp.0),
            _ => {}
        }
    }
    let merged = polygons
        .into_iter()
        .fold(MultiPolygon::<f64>(Vec::new()), |acc, p| {
            acc.union(&MultiPolygon(vec![p]))
        });
    let total = merged.unsigned_area() / 1e6;
    let inside = merged.intersection(&covered.projected).unsigned_area() / 1e6;
    Share::new(inside.min(total), total)
}

/// Covered share of demand: each feature's `weight_field` counts when its position (a
/// point, or the centroid of a line or polygon cell) lies in the covered area. Features
/// with no numeric weight count as 0 and are returned as warnings (feature indexes).
pub fn demand_share(
    graph: &RoadGraph,
    covered: &CoveredArea,
    layer: &Layer,
    weight_field: &str,
) -> (Share, Vec<String>) {
    let mut warnings = Vec::new();
    let (mut inside, mut total) = (0.0, 0.0);
    for (row, g) in layer.geometries.iter().enumerate() {
        let index = layer.source_index.get(row).copied().unwrap_or(row as u32);
        let Some(weight) = layer
            .attributes
            .get(row, weight_field)
            .as_f64()
            .filter(|w| w.is_finite())
        else {
            warnings.push(format!(
                "feature {index}: no numeric `{weight_field}`; counted as 0"
            ));
            continue;
        };
        let position = match g {
            Geometry::Point(p) => Some(p.0),
            other => other.centroid().map(|p| p.0),
        };
        let Some(position) = position else {
            warnings.push(format!("feature {index}: no position; not counted"));
            continue;
        };
        total += weight;
        let [x, y] = graph.projection.forward(position);
        if covered.projected.intersects(&geo::Point::new(x, y)) {
            inside += weight;
        }
    }
    (Share::new(inside, total), warnings)
}

/// Which features of `layer` the covered area reaches: a point when it lies in the area,
/// a line or polygon when any part of it does.
pub fn layer_coverage(graph: &RoadGraph, covered: &CoveredArea, layer: &Layer) -> LayerCoverage {
    let mut result = LayerCoverage {
        name: layer.name.clone(),
        covered: 0,
        total: layer.len(),
        uncovered: Vec::new(),
    };
    for (row, g) in layer.geometries.iter().enumerate() {
        if project(graph, g).intersects(&covered.projected) {
            result.covered += 1;
        } else {
            result.uncovered.push(station_id(layer, row));
        }
    }
    result
}
