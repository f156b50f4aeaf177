//! `onemap isochrones`: drive-time response areas from stations over a road network,
//! written as GeoJSON (one feature per band, and per station in split/per-station modes).
//! Without `--roads` it writes the straight-line estimate instead, labelled as such in
//! every feature (`method`) and with a warning on stderr.

use std::path::{Path, PathBuf};

use geo::{MultiPolygon, Polygon};
use serde_json::{Value as Json, json};

use super::graph_args::{GraphArgs, LoadedGraph, load_graph, load_stations};
use crate::analysis::isochrone::{AreaMode, AreaOptions, response_areas};
use crate::analysis::reach::NO_STATION;
use crate::analysis::straight_line::{
    METHOD, ROAD_METHOD, StraightLineOptions, WARNING, straight_line_areas,
};

/// Options of `onemap isochrones`.
#[derive(Debug, Clone, clap::Args)]
pub struct IsochroneArgs {
    #[command(flatten)]
    pub graph: GraphArgs,
    /// Band limits in minutes, turnout included.
    #[arg(long, value_delimiter = ',', default_value = "3,5,8,10")]
    pub minutes: Vec<f64>,
    /// dissolve (one area per band), split (each place to its fastest station) or
    /// per-station (overlapping areas).
    #[arg(long, default_value = "dissolve")]
    pub mode: String,
    /// Also write every graph node reached within the largest band, with `time_s` and
    /// `station`.
    #[arg(long)]
    pub reached_out: Option<PathBuf>,
    /// Without --roads: the assumed driving speed of the straight-line estimate, km/h.
    #[arg(long, default_value_t = 30.0)]
    pub estimate_speed_kmh: f64,
    /// Without --roads: road distance ÷ straight-line distance in the estimate.
    #[arg(long, default_value_t = 1.4)]
    pub detour: f64,
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
    if args.graph.roads.is_none() {
        return estimate(args, mode, warnings);
    }
    let LoadedGraph {
        graph,
        stations,
        snaps,
    } = load_graph(&args.graph, &mut warnings)?;

    let options = AreaOptions {
        bands_min: args.minutes.clone(),
        access_m: args.graph.access_m,
        cell_m: args.graph.cell_m,
        mode,
        turnout_s: args.graph.turnout_s,
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
            props.insert("method".into(), json!(ROAD_METHOD));
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

/// The straight-line estimate: circles at the assumed speed and detour factor.
fn estimate(
    args: &IsochroneArgs,
    mode: AreaMode,
    mut warnings: Vec<String>,
) -> Result<Vec<String>, String> {
    for (name, v, least) in [
        ("--turnout-s", args.graph.turnout_s, 0.0),
        (
            "--estimate-speed-kmh",
            args.estimate_speed_kmh,
            f64::MIN_POSITIVE,
        ),
        ("--detour", args.detour, 1.0),
    ] {
        if !(v.is_finite() && v >= least) {
            return Err(format!("{name}: expected a number >= {least}, got {v}"));
        }
    }
    let stations = load_stations(&args.graph.stations, &mut warnings)?;
    let options = StraightLineOptions {
        bands_min: args.minutes.clone(),
        turnout_s: args.graph.turnout_s,
        speed_kmh: args.estimate_speed_kmh,
        detour: args.detour,
        mode,
        ..StraightLineOptions::default()
    };
    let features: Vec<Json> = straight_line_areas(&stations, &options)
        .iter()
        .map(|band| {
            let mut props = serde_json::Map::new();
            props.insert("minutes".into(), json!(band.minutes));
            props.insert("mode".into(), json!(mode.key()));
            if let Some(s) = band.station {
                props.insert("station".into(), json!(stations[s as usize].id));
            }
            props.insert("area_km2".into(), json!(band.area_km2));
            props.insert("method".into(), json!(METHOD));
            props.insert("radius_m".into(), json!(band.radius_m));
            props.insert("speed_kmh".into(), json!(options.speed_kmh));
            props.insert("detour".into(), json!(options.detour));
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
    if args.reached_out.is_some() {
        warnings.push("--reached-out needs a road network; not written".into());
    }
    warnings.insert(0, WARNING.to_string());
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
            graph: GraphArgs::new(r, s),
            minutes: vec![3.0, 5.0],
            mode: "dissolve".into(),
            reached_out: Some(dir.join("nodes.geojson")),
            estimate_speed_kmh: 30.0,
            detour: 1.4,
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
        assert_eq!(features[1]["properties"]["method"], json!("road network"));
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
        a.graph.closures = Some(closures.clone());
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

    #[test]
    fn without_roads_the_estimate_is_written_and_labelled() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path(), ROADS, STATIONS);
        a.graph.roads = None;
        a.reached_out = None;
        a.mode = "per-station".into();
        let warnings = run(&a).unwrap();
        assert!(warnings[0].contains("straight-line estimate"));
        let out: Json = serde_json::from_str(&std::fs::read_to_string(&a.out).unwrap()).unwrap();
        let features = out["features"].as_array().unwrap();
        // Two bands, two stations.
        assert_eq!(features.len(), 4);
        for f in features {
            let p = &f["properties"];
            assert_eq!(p["method"], json!("straight-line estimate"));
            let minutes = p["minutes"].as_f64().unwrap();
            let radius = p["radius_m"].as_f64().unwrap();
            assert!((radius - (minutes * 60.0 - 60.0) * (30.0 / 3.6) / 1.4).abs() < 1e-6);
            let km2 = p["area_km2"].as_f64().unwrap();
            let circle = std::f64::consts::PI * radius * radius / 1e6;
            assert!((km2 - circle).abs() / circle < 0.01, "{km2} {circle}");
        }
        assert_eq!(run_isochrones(&a), 0);
        a.detour = 0.5;
        assert_ne!(run_isochrones(&a), 0);
    }
}
