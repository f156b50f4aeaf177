//! Graph options shared by the drive-time commands (`isochrones`, `coverage`, `site`):
//! loading the roads, speeds, closures and stations, and snapping the stations.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use geo::Geometry;
use serde_json::Value as Json;

use crate::analysis::reach::{Snap, SnapIndex, Station, label, station_id, station_position};
use crate::analysis::road_graph::{Closures, RoadGraph, SpeedTable};
use crate::io::{self, Progress};
use crate::model::Layer;

/// Road network, stations and the options of the road graph and reach.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphArgs {
    /// Road network: LineString/MultiLineString features with `highway`, optional `oneway`
    /// and `speed_kmh`. Required, except by `isochrones`, which without it draws the
    /// labelled straight-line estimate.
    #[arg(long)]
    pub roads: Option<PathBuf>,
    /// Stations (points); ids from `id`, else `name`, else the feature index.
    #[arg(long)]
    pub stations: PathBuf,
    /// Turnout time in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub turnout_s: f64,
    /// Speed table: JSON object of road class -> km/h with `default`
    /// (default: the shipped emergency-vehicle table).
    #[arg(long)]
    pub speeds: Option<PathBuf>,
    /// Places within this distance of a reached road count as covered, metres.
    #[arg(long, default_value_t = 100.0)]
    pub access_m: f64,
    /// Grid cell size of the polygons, metres.
    #[arg(long, default_value_t = 25.0)]
    pub cell_m: f64,
    /// Stations farther than this from every open road are not used, metres.
    #[arg(long, default_value_t = 500.0)]
    pub max_snap_m: f64,
    /// Closed roads: a GeoJSON file whose polygons close every road touching them and whose
    /// features with a `road_id` property close the road with that `id`; or a JSON array
    /// of road ids.
    #[arg(long)]
    pub closures: Option<PathBuf>,
}

impl GraphArgs {
    /// The options with their defaults, for the given roads and stations.
    pub fn new(roads: PathBuf, stations: PathBuf) -> GraphArgs {
        GraphArgs {
            roads: Some(roads),
            stations,
            turnout_s: 60.0,
            speeds: None,
            access_m: 100.0,
            cell_m: 25.0,
            max_snap_m: 500.0,
            closures: None,
        }
    }
}

/// The loaded road graph (closures applied) and the snapped stations.
pub struct LoadedGraph {
    pub graph: RoadGraph,
    /// Stations with a position; `snaps[i]` is `stations[i]`'s snap (None: not used).
    pub stations: Vec<Station>,
    pub snaps: Vec<Option<Snap>>,
}

/// Reads a layer, adding its reader warnings to `warnings`.
pub fn load(path: &Path, warnings: &mut Vec<String>) -> Result<Layer, String> {
    let loaded = io::load_path(path, &Progress::default()).map_err(|e| e.to_string())?;
    warnings.extend(loaded.warnings.iter().map(|w| w.to_string()));
    Ok(loaded.layer)
}

fn closures_from(layer: &Layer, roads: &Layer) -> Closures {
    let mut closures = Closures::default();
    let mut ids = HashSet::new();
    for (row, g) in layer.geometries.iter().enumerate() {
        match g {
            Geometry::Polygon(p) => closures.areas.push(p.clone()),
            Geometry::MultiPolygon(mp) => closures.areas.extend(mp.0.iter().cloned()),
            _ => {}
        }
        if let Some(id) = label(layer.attributes.get(row, "road_id")) {
            ids.insert(id);
        }
    }
    closures_for_ids(&ids, roads, closures)
}

/// Adds the road features whose `id` is in `ids` to `closures`.
fn closures_for_ids(ids: &HashSet<String>, roads: &Layer, mut closures: Closures) -> Closures {
    for row in 0..roads.len() {
        if label(roads.attributes.get(row, "id")).is_some_and(|id| ids.contains(&id)) {
            closures.features.insert(row);
        }
    }
    closures
}

/// Reads the stations (ids from `id`, else `name`, else the feature index); features with
/// no position are skipped with a warning. Errors when none is left.
pub fn load_stations(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<Station>, String> {
    let station_layer = load(path, warnings)?;
    let mut stations = Vec::new();
    for (row, g) in station_layer.geometries.iter().enumerate() {
        let id = station_id(&station_layer, row);
        match station_position(g) {
            Some(position) => stations.push(Station { id, position }),
            None => warnings.push(format!(
                "{}: feature {row}: station {id} has no position; skipped",
                path.display()
            )),
        }
    }
    if stations.is_empty() {
        return Err(format!("{}: no stations", path.display()));
    }
    Ok(stations)
}

/// Checks the numeric options, loads roads, speeds, closures and stations, and snaps the
/// stations. Errors name the option or file at fault.
pub fn load_graph(args: &GraphArgs, warnings: &mut Vec<String>) -> Result<LoadedGraph, String> {
    for (name, v) in [
        ("--turnout-s", args.turnout_s),
        ("--access-m", args.access_m),
        ("--max-snap-m", args.max_snap_m),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!("{name}: expected a number >= 0, got {v}"));
        }
    }
    if !(args.cell_m.is_finite() && args.cell_m >= 1.0) {
        return Err(format!(
            "--cell-m: expected a number >= 1, got {}",
            args.cell_m
        ));
    }
    let speeds = match &args.speeds {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            SpeedTable::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => SpeedTable::emergency_default(),
    };
    let roads_path = args.roads.as_ref().ok_or_else(|| {
        "no road network: give --roads R.geojson (drive times need roads)".to_string()
    })?;
    let roads = load(roads_path, warnings)?;
    let (mut graph, graph_warnings) = RoadGraph::build(&[&roads], &speeds)
        .map_err(|e| format!("{}: {e}", roads_path.display()))?;
    warnings.extend(graph_warnings);
    if let Some(path) = &args.closures {
        let id_list = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str::<Vec<Json>>(&text).ok());
        let closures = match id_list {
            Some(ids) => {
                let ids: HashSet<String> = ids
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect();
                closures_for_ids(&ids, &roads, Closures::default())
            }
            None => closures_from(&load(path, warnings)?, &roads),
        };
        let closed = graph.set_closures(&closures);
        if closed == 0 {
            warnings.push(format!("{}: closes no road", path.display()));
        }
    }

    let stations = load_stations(&args.stations, warnings)?;
    let index = SnapIndex::new(&graph);
    let (snaps, snap_warnings) = index.snap_stations(&graph, &stations, args.max_snap_m);
    warnings.extend(snap_warnings);
    if snaps.iter().all(Option::is_none) {
        return Err(format!(
            "no station is within {} m of an open road",
            args.max_snap_m
        ));
    }
    Ok(LoadedGraph {
        graph,
        stations,
        snaps,
    })
}
