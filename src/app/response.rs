//! Drive-time response areas in the window: the fire stations and roads among the loaded
//! layers go through the analysis engine, and the bands come back as a layer of their own.

use std::collections::BTreeSet;

use geo::Geometry;

use crate::analysis::coverage::{
    CoverageOptions, LayerCoverage, Share, area_share, covered_area, demand_share, layer_coverage,
};
use crate::analysis::isochrone::{AreaMode, AreaOptions, BandArea, response_areas};
use crate::analysis::live::StationAreas;
use crate::analysis::reach::{Snap, SnapIndex, Station, stations_from_layer};
use crate::analysis::road_graph::{RoadGraph, SpeedTable};
use crate::map::symbology::{Category, LayerStyle};
use crate::model::{Layer, LayerKind, ValueRef};

/// Settings of the response-area panel, and which stations are busy.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseSettings {
    pub options: AreaOptions,
    /// Station ids marked busy or unavailable: they do not respond.
    pub busy: BTreeSet<String>,
    /// Stations farther than this from an open road are not used, metres.
    pub max_snap_m: f64,
    /// Road class -> km/h for fire engines; edited in the panel.
    pub speeds: SpeedTable,
}

impl Default for ResponseSettings {
    fn default() -> Self {
        ResponseSettings {
            options: AreaOptions::default(),
            busy: BTreeSet::new(),
            max_snap_m: 500.0,
            speeds: SpeedTable::emergency_default(),
        }
    }
}

/// The ids of a layer's stations, in file order.
pub fn stations_of(layer: &Layer) -> Vec<String> {
    stations_from_layer(layer)
        .into_iter()
        .map(|(_, s)| s.id)
        .collect()
}

/// A computed set of response areas, ready to become a layer.
#[derive(Debug, Clone)]
pub struct ResponseResult {
    pub layer: Layer,
    pub bands: Vec<BandArea>,
    /// Stations that responded (busy ones and those too far from a road are not here).
    pub responding: Vec<String>,
    pub warnings: Vec<String>,
    /// True when no road layer is loaded and the bands are straight-line circles: an
    /// estimate that overstates reach across rivers, rail and expressways.
    pub estimate: bool,
}

/// Why no area could be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResponseError {
    #[error("no road layer (kind: road) is loaded")]
    NoRoads,
    #[error("no fire-station layer (kind: fire_station) is loaded")]
    NoStations,
    #[error("every station is busy or too far from an open road")]
    NoAvailableStation,
    #[error("road network: {0}")]
    Graph(String),
}

/// What a built road network depends on: which road layers (id and size) and the speeds.
#[derive(Debug, Clone, PartialEq)]
struct NetworkKey {
    roads: Vec<(u64, usize)>,
    speeds: SpeedTable,
}

/// The road graph and its snapping index, built once and reused while the road layers and
/// the speed table stay the same: dragging a station or toggling a busy one then costs only
/// the reach and the polygons.
pub struct RoadNetwork {
    key: NetworkKey,
    pub graph: RoadGraph,
    pub snap_index: SnapIndex,
    /// Warnings from building the graph (disconnected parts...), shown once per build.
    pub warnings: Vec<String>,
}

impl RoadNetwork {
    /// The cached network when it matches the road layers (id, layer) and speeds, else a
    /// fresh build stored in the cache. The bool says whether it was built now.
    pub fn get_or_build<'a>(
        cache: &'a mut Option<RoadNetwork>,
        roads: &[(u64, &Layer)],
        speeds: &SpeedTable,
    ) -> Result<(&'a RoadNetwork, bool), ResponseError> {
        if roads.is_empty() {
            return Err(ResponseError::NoRoads);
        }
        let key = NetworkKey {
            roads: roads.iter().map(|(id, l)| (*id, l.len())).collect(),
            speeds: speeds.clone(),
        };
        let fresh = !cache.as_ref().is_some_and(|n| n.key == key);
        if fresh {
            let layers: Vec<&Layer> = roads.iter().map(|(_, l)| *l).collect();
            let (graph, warnings) = RoadGraph::build(&layers, speeds)
                .map_err(|e| ResponseError::Graph(e.to_string()))?;
            let snap_index = SnapIndex::new(&graph);
            *cache = Some(RoadNetwork {
                key,
                graph,
                snap_index,
                warnings,
            });
        }
        match cache.as_ref() {
            Some(network) => Ok((network, fresh)),
            None => Err(ResponseError::NoRoads),
        }
    }
}

/// The road network of the window's road layers (kind `road`), from the cache when the
/// layers and speeds are unchanged.
pub fn network_of<'a>(
    layers: &[super::MapLayer],
    cache: &'a mut Option<RoadNetwork>,
    speeds: &SpeedTable,
) -> Result<&'a RoadNetwork, ResponseError> {
    let roads: Vec<(u64, &Layer)> = layers
        .iter()
        .filter(|l| l.layer.kind == LayerKind::Road)
        .map(|l| (l.id, &l.layer))
        .collect();
    RoadNetwork::get_or_build(cache, &roads, speeds).map(|(network, _)| network)
}

/// The stations of every station layer that are not busy, and their snaps to the network.
fn available_snaps(
    network: &RoadNetwork,
    station_layers: &[&Layer],
    settings: &ResponseSettings,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Station>, Vec<Option<Snap>>), ResponseError> {
    let stations: Vec<Station> = station_layers
        .iter()
        .flat_map(|l| stations_from_layer(l).into_iter().map(|(_, s)| s))
        .collect();
    if stations.is_empty() {
        return Err(ResponseError::NoStations);
    }
    let available: Vec<Station> = stations
        .into_iter()
        .filter(|s| !settings.busy.contains(&s.id))
        .collect();
    let (snaps, snap_warnings) =
        network
            .snap_index
            .snap_stations(&network.graph, &available, settings.max_snap_m);
    warnings.extend(snap_warnings);
    if snaps.iter().all(Option::is_none) {
        return Err(ResponseError::NoAvailableStation);
    }
    Ok((available, snaps))
}

/// Computes the areas from the road layers (with their app ids, for the cache) and every
/// fire-station layer given.
pub fn compute(
    roads: &[(u64, &Layer)],
    station_layers: &[&Layer],
    settings: &ResponseSettings,
    cache: &mut Option<RoadNetwork>,
) -> Result<ResponseResult, ResponseError> {
    if roads.is_empty() {
        return straight_line_estimate(station_layers, settings);
    }
    let (network, fresh) = RoadNetwork::get_or_build(cache, roads, &settings.speeds)?;
    let mut warnings = if fresh {
        network.warnings.clone()
    } else {
        Vec::new()
    };
    let (available, snaps) = available_snaps(network, station_layers, settings, &mut warnings)?;
    let responding = available
        .iter()
        .zip(&snaps)
        .filter(|(_, snap)| snap.is_some())
        .map(|(s, _)| s.id.clone())
        .collect();
    let (bands, _) = response_areas(&network.graph, &snaps, &settings.options);
    let mut layer = bands_layer(&bands, &available, settings.options.mode);
    layer.name = "响应区 Response areas".to_owned();
    Ok(ResponseResult {
        layer,
        bands,
        responding,
        warnings,
        estimate: false,
    })
}

/// Response areas kept per station while stations are dragged: moving one recomputes only
/// its own reach and grid (see `analysis::live`).
pub struct LiveAreas {
    /// The settings the areas were made with; other settings need a full compute.
    settings: ResponseSettings,
    stations: Vec<Station>,
    areas: StationAreas,
}

impl LiveAreas {
    /// Per-station grids for the available stations of the station layers.
    pub fn start(
        network: &RoadNetwork,
        station_layers: &[&Layer],
        settings: &ResponseSettings,
    ) -> Option<LiveAreas> {
        let mut warnings = Vec::new();
        let (stations, snaps) =
            available_snaps(network, station_layers, settings, &mut warnings).ok()?;
        Some(LiveAreas {
            settings: settings.clone(),
            areas: StationAreas::new(&network.graph, &snaps, &settings.options),
            stations,
        })
    }

    /// The areas after moving the station `id` to `position`; `None` when these areas
    /// cannot answer (other settings, unknown station): the caller computes in full.
    pub fn move_station(
        &mut self,
        network: &RoadNetwork,
        id: &str,
        position: geo::Coord<f64>,
        settings: &ResponseSettings,
    ) -> Option<ResponseResult> {
        if *settings != self.settings {
            return None;
        }
        let index = self.stations.iter().position(|s| s.id == id)?;
        self.stations[index].position = position;
        let snap = network
            .snap_index
            .snap(&network.graph, position, settings.max_snap_m);
        self.areas.set_station(&network.graph, index, snap);
        let bands = self.areas.areas(&network.graph);
        let mut layer = bands_layer(&bands, &self.stations, settings.options.mode);
        layer.name = "响应区 Response areas".to_owned();
        let responding = self
            .stations
            .iter()
            .zip(self.areas.snaps())
            .filter(|(_, snap)| snap.is_some())
            .map(|(s, _)| s.id.clone())
            .collect();
        Some(ResponseResult {
            layer,
            bands,
            responding,
            warnings: Vec::new(),
            estimate: false,
        })
    }
}

/// Without roads: circles at an assumed straight-line speed, labelled as an estimate in
/// the layer's name, in every feature (`method`) and in a warning.
fn straight_line_estimate(
    station_layers: &[&Layer],
    settings: &ResponseSettings,
) -> Result<ResponseResult, ResponseError> {
    use crate::analysis::straight_line::{
        METHOD, StraightLineOptions, WARNING, straight_line_areas,
    };
    let stations: Vec<Station> = station_layers
        .iter()
        .flat_map(|l| stations_from_layer(l).into_iter().map(|(_, s)| s))
        .filter(|s| !settings.busy.contains(&s.id))
        .collect();
    if stations.is_empty() {
        return Err(ResponseError::NoStations);
    }
    let options = StraightLineOptions {
        bands_min: settings.options.bands_min.clone(),
        turnout_s: settings.options.turnout_s,
        mode: settings.options.mode,
        ..StraightLineOptions::default()
    };
    let bands: Vec<BandArea> = straight_line_areas(&stations, &options)
        .into_iter()
        .map(|e| BandArea {
            minutes: e.minutes,
            station: e.station,
            area: e.area,
            area_km2: e.area_km2,
        })
        .collect();
    let mut layer = bands_layer(&bands, &stations, settings.options.mode);
    layer.name = "响应区（直线估算）Response areas (straight-line estimate)".to_owned();
    let rows = layer.len();
    let mut labelled = crate::model::AttributeTable::new();
    for row in 0..rows {
        let mut values: Vec<(String, crate::model::Value)> = layer
            .attributes
            .field_names()
            .map(|f| (f.to_owned(), layer.attributes.get(row, f).to_owned_value()))
            .collect();
        values.push((
            "method".to_owned(),
            crate::model::Value::Text(METHOD.to_owned()),
        ));
        labelled.push_row(values.iter().map(|(f, v)| (f.as_str(), v.as_ref())));
    }
    layer.attributes = labelled;
    Ok(ResponseResult {
        layer,
        bands,
        responding: stations.into_iter().map(|s| s.id).collect(),
        warnings: vec![WARNING.to_owned()],
        estimate: true,
    })
}

/// Coverage of one band, as the coverage panel shows it.
#[derive(Debug, Clone)]
pub struct CoverageSummary {
    pub minutes: f64,
    pub band_km2: f64,
    /// Covered population (from the population layer's `population` field).
    pub population: Option<Share>,
    /// Covered share of the built-up area.
    pub builtup: Option<Share>,
    /// Per chosen layer (by app id): which features the band reaches.
    pub layers: Vec<(u64, LayerCoverage)>,
    /// Per responding station: id, district km², over 7 km², over 15 km².
    pub districts: Vec<(String, f64, bool, bool)>,
    pub warnings: Vec<String>,
}

/// What the coverage report is computed over.
pub struct CoverageInputs<'a> {
    pub roads: &'a [(u64, &'a Layer)],
    pub station_layers: &'a [&'a Layer],
    pub population: Option<&'a Layer>,
    pub builtup: Option<&'a Layer>,
    /// Layers whose features are checked one by one (app id, layer).
    pub layers: &'a [(u64, &'a Layer)],
}

/// The coverage report for `minutes` with the panel's settings (busy stations excluded).
pub fn coverage(
    inputs: &CoverageInputs<'_>,
    settings: &ResponseSettings,
    minutes: f64,
    cache: &mut Option<RoadNetwork>,
) -> Result<CoverageSummary, ResponseError> {
    let (network, _) = RoadNetwork::get_or_build(cache, inputs.roads, &settings.speeds)?;
    let mut warnings = Vec::new();
    let (available, snaps) =
        available_snaps(network, inputs.station_layers, settings, &mut warnings)?;
    let options = CoverageOptions {
        minutes,
        turnout_s: settings.options.turnout_s,
        access_m: settings.options.access_m,
        cell_m: settings.options.cell_m,
    };
    let graph = &network.graph;
    let covered = covered_area(graph, &snaps, &options);
    let population = inputs.population.map(|layer| {
        let (share, demand_warnings) = demand_share(graph, &covered, layer, "population");
        warnings.extend(
            demand_warnings
                .into_iter()
                .map(|w| format!("{}: {w}", layer.name)),
        );
        share
    });
    let builtup = inputs
        .builtup
        .map(|layer| area_share(graph, &covered, layer));
    let layers = inputs
        .layers
        .iter()
        .map(|(id, layer)| (*id, layer_coverage(graph, &covered, layer)))
        .collect();
    let districts = covered
        .districts
        .iter()
        .filter_map(|d| {
            let station = available.get(d.station as usize)?;
            Some((
                station.id.clone(),
                d.area_km2,
                d.over_standard,
                d.over_limit,
            ))
        })
        .collect();
    Ok(CoverageSummary {
        minutes,
        band_km2: covered.area_km2,
        population,
        builtup,
        layers,
        districts,
        warnings,
    })
}

/// The bands as a layer: one feature per band (and station), largest band first so the
/// smaller, more urgent ones draw on top.
fn bands_layer(bands: &[BandArea], stations: &[Station], mode: AreaMode) -> Layer {
    let mut layer = Layer {
        name: "响应区 Response areas".to_owned(),
        kind: LayerKind::Generic,
        ..Layer::default()
    };
    let mut ordered: Vec<&BandArea> = bands.iter().collect();
    ordered.sort_by(|a, b| b.minutes.total_cmp(&a.minutes));
    for (i, band) in ordered.into_iter().enumerate() {
        let station = band
            .station
            .and_then(|s| stations.get(s as usize))
            .map(|s| s.id.as_str());
        layer
            .geometries
            .push(Geometry::MultiPolygon(band.area.clone()));
        layer.source_index.push(i as u32);
        let minutes = format!("{} min", band.minutes);
        let mut row = vec![
            ("band", ValueRef::Text(&minutes)),
            ("minutes", ValueRef::Number(band.minutes)),
            (
                "area_km2",
                ValueRef::Number((band.area_km2 * 100.0).round() / 100.0),
            ),
            ("mode", ValueRef::Text(mode.key())),
        ];
        if let Some(id) = station {
            row.push(("station", ValueRef::Text(id)));
        }
        layer.attributes.push_row(row);
    }
    layer
}

/// Bands coloured from red (fastest) to blue (slowest), translucent so the map shows through.
pub fn bands_style(bands_min: &[f64]) -> LayerStyle {
    const RAMP: [[u8; 4]; 6] = [
        [215, 25, 28, 150],
        [253, 140, 60, 130],
        [250, 220, 60, 115],
        [120, 200, 120, 105],
        [43, 131, 186, 95],
        [94, 60, 153, 85],
    ];
    let mut sorted: Vec<f64> = bands_min.to_vec();
    sorted.sort_by(f64::total_cmp);
    LayerStyle {
        stroke: [120, 40, 40, 200],
        stroke_width: 1.0,
        category_field: Some("band".to_owned()),
        categories: sorted
            .iter()
            .enumerate()
            .map(|(i, m)| Category {
                value: format!("{m} min"),
                color: RAMP[i.min(RAMP.len() - 1)],
            })
            .collect(),
        ..LayerStyle::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::io::{Progress, load_path};

    fn demo(name: &str) -> Layer {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("maps/zhoucun")
            .join(name);
        load_path(&path, &Progress::default()).unwrap().layer
    }

    #[test]
    fn a_busy_station_shrinks_the_covered_area_and_missing_layers_are_errors() {
        let roads = demo("roads.geojson");
        let stations = demo("fire_stations.geojson");
        let settings = ResponseSettings {
            options: AreaOptions {
                bands_min: vec![5.0],
                ..AreaOptions::default()
            },
            ..ResponseSettings::default()
        };
        let mut cache = None;
        let all = compute(&[(1, &roads)], &[&stations], &settings, &mut cache).unwrap();
        assert_eq!(all.layer.len(), 1);
        assert_eq!(all.responding.len(), 5);
        let busy_id = all.responding[0].clone();
        let mut busy = settings.clone();
        busy.busy.insert(busy_id.clone());
        let fewer = compute(&[(1, &roads)], &[&stations], &busy, &mut cache).unwrap();
        assert!(!fewer.responding.contains(&busy_id));
        assert!(fewer.bands[0].area_km2 < all.bands[0].area_km2);

        let estimate = compute(&[], &[&stations], &settings, &mut cache).unwrap();
        assert!(
            estimate.estimate,
            "no roads: a labelled straight-line estimate"
        );
        assert_eq!(
            estimate.layer.attributes.get(0, "method"),
            ValueRef::Text(crate::analysis::straight_line::METHOD)
        );
        assert!(estimate.warnings[0].contains("straight-line"));
        assert_eq!(
            compute(&[(1, &roads)], &[], &settings, &mut cache).unwrap_err(),
            ResponseError::NoStations
        );
        let mut everyone_busy = settings.clone();
        everyone_busy.busy = all.responding.iter().cloned().collect();
        assert_eq!(
            compute(&[(1, &roads)], &[&stations], &everyone_busy, &mut cache).unwrap_err(),
            ResponseError::NoAvailableStation
        );
    }
}
