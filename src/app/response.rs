//! Drive-time response areas in the window: the fire stations and roads among the loaded
//! layers go through the analysis engine, and the bands come back as a layer of their own.

use std::collections::BTreeSet;

use geo::Geometry;

use crate::analysis::isochrone::{AreaMode, AreaOptions, BandArea, response_areas};
use crate::analysis::reach::{SnapIndex, Station, stations_from_layer};
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
}

impl Default for ResponseSettings {
    fn default() -> Self {
        ResponseSettings {
            options: AreaOptions::default(),
            busy: BTreeSet::new(),
            max_snap_m: 500.0,
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

/// Computes the areas from every road layer and every fire-station layer given.
pub fn compute(
    roads: &[&Layer],
    station_layers: &[&Layer],
    settings: &ResponseSettings,
) -> Result<ResponseResult, ResponseError> {
    if roads.is_empty() {
        return Err(ResponseError::NoRoads);
    }
    let stations: Vec<Station> = station_layers
        .iter()
        .flat_map(|l| stations_from_layer(l).into_iter().map(|(_, s)| s))
        .collect();
    if stations.is_empty() {
        return Err(ResponseError::NoStations);
    }
    let (graph, mut warnings) = RoadGraph::build(roads, &SpeedTable::emergency_default())
        .map_err(|e| ResponseError::Graph(e.to_string()))?;
    let available: Vec<Station> = stations
        .into_iter()
        .filter(|s| !settings.busy.contains(&s.id))
        .collect();
    let index = SnapIndex::new(&graph);
    let (snaps, snap_warnings) = index.snap_stations(&graph, &available, settings.max_snap_m);
    warnings.extend(snap_warnings);
    if snaps.iter().all(Option::is_none) {
        return Err(ResponseError::NoAvailableStation);
    }
    let responding = available
        .iter()
        .zip(&snaps)
        .filter(|(_, snap)| snap.is_some())
        .map(|(s, _)| s.id.clone())
        .collect();
    let (bands, _) = response_areas(&graph, &snaps, &settings.options);
    let layer = bands_layer(&bands, &available, settings.options.mode);
    Ok(ResponseResult {
        layer,
        bands,
        responding,
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
        let all = compute(&[&roads], &[&stations], &settings).unwrap();
        assert_eq!(all.layer.len(), 1);
        assert_eq!(all.responding.len(), 5);
        let busy_id = all.responding[0].clone();
        let mut busy = settings.clone();
        busy.busy.insert(busy_id.clone());
        let fewer = compute(&[&roads], &[&stations], &busy).unwrap();
        assert!(!fewer.responding.contains(&busy_id));
        assert!(fewer.bands[0].area_km2 < all.bands[0].area_km2);

        assert_eq!(
            compute(&[], &[&stations], &settings).unwrap_err(),
            ResponseError::NoRoads
        );
        assert_eq!(
            compute(&[&roads], &[], &settings).unwrap_err(),
            ResponseError::NoStations
        );
        let mut everyone_busy = settings.clone();
        everyone_busy.busy = all.responding.iter().cloned().collect();
        assert_eq!(
            compute(&[&roads], &[&stations], &everyone_busy).unwrap_err(),
            ResponseError::NoAvailableStation
        );
    }
}
