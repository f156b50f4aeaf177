//! `onemap isochrones`: drive-time response areas from stations over a road network,
//! written as GeoJSON (one feature per band, and per station in split/per-station modes).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use geo::{Geometry, MultiPolygon, Polygon};
use serde_json::{Value as Json, json};

use crate::analysis::isochrone::{AreaMode, AreaOptions, response_areas};
use crate::analysis::reach::{NO_STATION, SnapIndex, Station, label, station_id, station_position};
use crate::analysis::road_graph::{Closures, RoadGraph, SpeedTable};
use crate::io::{self, Progress};
use crate::model::Layer;

/// Options of `onemap isochrones`.
#[derive(Debug, Clone, clap::Args)]
pub struct IsochroneArgs {
    /// Road network: LineString/MultiLineString features with `highway`, optional `oneway`
    /// and `speed_kmh`.
    #[arg(long)]
    pub roads: PathBuf,
    /// Stations (points); ids from `id`, else `name`, else the feature index.
    #[arg(long)]
    pub stations: PathBuf,
    /// Band limits in minutes, turnout included.
    #[arg(long, value_delimiter = ',', default_value = "3,5,8,10")]
    pub minutes: Vec<f64>,
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
    /// dissolve (one area per band), split (each place to its fastest station) or
    /// per-station (overlapping areas).
    #[arg(long, default_value = "dissolve")]
    pub mode: String,
    /// Closed roads: a GeoJSON file whose polygons close every road touching them and whose
    /// features with a `road_id` property close the road with that `id`; or a JSON array
    /// of road ids.
    #[arg(long)]
    pub closures: Option<PathBuf>,
    /// Also write every graph node reached within the largest band, with `time_s` and
    /// `station`.
    #[arg(long)]
    pub reached_out: Option<PathBuf>,
    /// Output GeoJSON file.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// Runs the command; returns the process exit code (0 on success). Messages go to stderr.
pub fn run_isochrones(args: &IsochroneArgs) -> i32 {
    match run(args) {
        Ok(warnings) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            0
        }
        Err(message) => {
            eprintln!("onemap isochrones: {message}");
            1
        }
    }
}

fn load(path: &Path, warnings: &mut Vec<String>) -> Result<Layer, String> {
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

fn ring_json(ls: &geo::LineString<f64>) -> Json {
    Json::Array(ls.0.iter().map(|c| json!([c.x, c.y])).collect())
}

fn polygon_json(p: &Polygon<f64>) -> Json {
    let mut rings = vec![ring_json(p.exterior())];
    rings.extend(p.interiors().iter().map(ring_json));
    Json::Array(rings)
}

fn multipolygon_json(mp: &MultiPolygon<f64>) -> Json {
    json!({
        "type": "MultiPolygon",
        "coordinates": mp.0.iter().map(polygon_json).collect::<Vec<_>>(),
    })
}

fn write_json(path: &Path, value: &Json) -> Result<(), String> {
    let text = serde_json::to_string(value).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

fn run(args: &IsochroneArgs) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let mode = AreaMode::from_key(&args.mode).ok_or_else(|| {
        format!(
            "--mode {}: expected dissolve, split or per-station",
            args.mode
        )
    })?;
    if args.minutes.is_empty() || args.minutes.iter().any(|m| !(m.is_finite() && *m > 0.0)) {
        return Err("--minutes: expected positive numbers such as 3,5,8,10".into());
    }
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
    let roads = load(&args.roads, &mut warnings)?;
    let (mut graph, graph_warnings) = RoadGraph::build(&[&roads], &speeds)
        .map_err(|e| format!("{}: {e}", args.roads.display()))?;
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
            None => closures_from(&load(path, &mut warnings)?, &roads),
        };
        let closed = graph.set_closures(&closures);
        if closed == 0 {
            warnings.push(format!("{}: closes no road", path.display()));
        }
    }

    let station_layer = load(&args.stations, &mut warnings)?;
    let mut stations = Vec::new();
    for (row, g) in station_layer.geometries.iter().enumerate() {
        let id = station_id(&station_layer, row);
        match station_position(g) {
            Some(position) => stations.push(Station { id, position }),
            None => warnings.push(format!(
                "{}: feature {row}: station {id} has no position; skipped",
                args.stations.display()
            )),
        }
    }
    if stations.is_empty() {
        return Err(format!("{}: no stations", args.stations.display()));
    }
    let index = SnapIndex::new(&graph);
    let (snaps, snap_warnings) = index.snap_stations(&graph, &stations, args.max_snap_m);
    warnings.extend(snap_warnings);
    if snaps.iter().all(Option::is_none) {
        return Err(format!(
            "no station is within {} m of an open road",
            args.max_snap_m
        ));
    }

    let options = AreaOptions {
        bands_min: args.minutes.clone(),
        access_m: args.access_m,
        cell_m: args.cell_m,
        mode,
        turnout_s: args.turnout_s,
    };
    let (areas, all) = response_areas(&graph, &snaps, &options);
    let features: Vec<Json> = areas
        .iter()
        .map(|band| {
            let mut props = serde_json::Map::new();
            props.insert("minutes".into(), json!(band.minutes));
            props.insert("mode".into(), json!(mode.key()));
            if let Some(s) = band.station {
                props.insert("station".into(), json!(stations[s as usize].id));
            }
            props.insert("area_km2".into(), json!(band.area_km2));
            json!({
                "type": "Feature",
                "properties": props,
                "geometry": multipolygon_json(&band.area),
            })
        })
        .collect();
    write_json(
        &args.out,
        &json!({"type": "FeatureCollection", "features": features}),
    )?;

    if let Some(path) = &args.reached_out {
        let nodes: Vec<Json> = all
            .reached_nodes
            .iter()
            .filter_map(|&n| {
                let s = all.node_station[n as usize];
                if s == NO_STATION {
                    return None;
                }
                let c = graph.nodes[n as usize];
                Some(json!({
                    "type": "Feature",
                    "properties": {
                        "time_s": all.node_time_s[n as usize],
                        "station": stations[s as usize].id,
                    },
                    "geometry": {"type": "Point", "coordinates": [c.x, c.y]},
                }))
            })
            .collect();
        write_json(
            path,
            &json!({"type": "FeatureCollection", "features": nodes}),
        )?;
    }
    Ok(warnings)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(dir: &Path, roads: &str, stations: &str) -> IsochroneArgs {
        let r = dir.join("roads.geojson");
        let s = dir.join("stations.geojson");
        std::fs::write(&r, roads).unwrap();
        std::fs::write(&s, stations).unwrap();
        IsochroneArgs {
            roads: r,
            stations: s,
            minutes: vec![3.0, 5.0],
            turnout_s: 60.0,
            speeds: None,
            access_m: 100.0,
            cell_m: 25.0,
            max_snap_m: 500.0,
            mode: "dissolve".into(),
            closures: None,
            reached_out: Some(dir.join("nodes.geojson")),
            out: dir.join("out.geojson"),
        }
    }

    const ROADS: &str = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"id":"R1","highway":"secondary"},
         "geometry":{"type":"LineString","coordinates":[[117.90,36.80],[117.91,36.80],[117.92,36.80]]}},
        {"type":"Feature","properties":{"id":"R2","highway":"residential"},
         "geometry":{"type":"LineString","coordinates":[[117.91,36.79],[117.91,36.80],[117.91,36.81]]}}]}"#;
    const STATIONS: &str = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"name":"East"},"geometry":{"type":"Point","coordinates":[117.905,36.8002]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[117.95,36.9]}}]}"#;

    #[test]
    fn writes_bands_and_reached_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path(), ROADS, STATIONS);
        assert_eq!(run_isochrones(&a), 0);
        let out: Json = serde_json::from_str(&std::fs::read_to_string(&a.out).unwrap()).unwrap();
        let features = out["features"].as_array().unwrap();
        assert_eq!(features.len(), 2);
        assert_eq!(features[0]["properties"]["minutes"], json!(3.0));
        assert_eq!(features[1]["properties"]["mode"], json!("dissolve"));
        let a3 = features[0]["properties"]["area_km2"].as_f64().unwrap();
        let a5 = features[1]["properties"]["area_km2"].as_f64().unwrap();
        assert!(a3 > 0.1 && a5 > a3, "{a3} {a5}");
        assert_eq!(features[1]["geometry"]["type"], json!("MultiPolygon"));
        let nodes: Json = serde_json::from_str(
            &std::fs::read_to_string(a.reached_out.as_ref().unwrap()).unwrap(),
        )
        .unwrap();
        let nodes = nodes["features"].as_array().unwrap();
        // Four line ends and the junction. The farthest, the east end, is 1335 m at
        // 35 km/h from the station: 60 + 137 s, within 5 minutes.
        assert_eq!(nodes.len(), 5);
        assert!(
            nodes
                .iter()
                .all(|n| n["properties"]["station"] == json!("East"))
        );

        a.mode = "split".into();
        assert_eq!(run_isochrones(&a), 0);
        let out: Json = serde_json::from_str(&std::fs::read_to_string(&a.out).unwrap()).unwrap();
        assert_eq!(out["features"][0]["properties"]["station"], json!("East"));

        a.mode = "sideways".into();
        assert_ne!(run_isochrones(&a), 0);
    }

    #[test]
    fn closures_by_road_id_and_polygon_are_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path(), ROADS, STATIONS);
        let closures = dir.path().join("closures.geojson");
        let count_nodes = |a: &IsochroneArgs| {
            let nodes: Json = serde_json::from_str(
                &std::fs::read_to_string(a.reached_out.as_ref().unwrap()).unwrap(),
            )
            .unwrap();
            nodes["features"].as_array().unwrap().len()
        };
        // R2 closed by id: its two far ends are no longer reached.
        std::fs::write(&closures, r#"["R2"]"#).unwrap();
        a.closures = Some(closures.clone());
        assert_eq!(run_isochrones(&a), 0);
        assert_eq!(count_nodes(&a), 3);
        // A polygon over R1 east of the junction: the east end is not reached.
        std::fs::write(
            &closures,
            r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":
            [[[117.914,36.799],[117.916,36.799],[117.916,36.801],[117.914,36.801],[117.914,36.799]]]}}]}"#,
        )
        .unwrap();
        assert_eq!(run_isochrones(&a), 0);
        assert_eq!(count_nodes(&a), 4);
        // The same by a road_id property on any feature.
        std::fs::write(
            &closures,
            r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"road_id":"R2"},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#,
        )
        .unwrap();
        assert_eq!(run_isochrones(&a), 0);
        assert_eq!(count_nodes(&a), 3);
    }

    #[test]
    fn no_roads_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = args(
            dir.path(),
            r#"{"type":"FeatureCollection","features":[]}"#,
            STATIONS,
        );
        assert_ne!(run_isochrones(&a), 0);
        assert!(!a.out.exists());
    }
}
