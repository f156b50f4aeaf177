//! `onemap incident` on the Zhoucun demo data: stations by ETA with busy ones marked,
//! nearby features nearest first, shelters with room, people within the radius, zone radii;
//! and the command-line options.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use geo::{Coord, Distance, Geodesic, Point};
use onemap::cli::incident::{IncidentArgs, report};
use onemap::model::IncidentKind;
use serde_json::{Value, json};

fn demo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("maps/zhoucun")
        .join(name)
}

/// The first hazchem enterprise of the demo, where the leak is placed.
fn leak_site() -> (f64, f64) {
    let text = std::fs::read_to_string(demo("hazchem_enterprises.geojson")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["features"][0]["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

fn full_args() -> IncidentArgs {
    let mut args = IncidentArgs::new(leak_site(), IncidentKind::Hazchem);
    args.roads = Some(demo("roads.geojson"));
    args.stations = Some(demo("fire_stations.geojson"));
    args.busy = vec!["FS-02".into()];
    args.layers = vec![demo("schools.geojson"), demo("hazchem_enterprises.geojson")];
    args.shelters = Some(demo("shelters.geojson"));
    args.population = Some(demo("population.geojson"));
    args
}

fn numbers(list: &Value, key: &str) -> Vec<f64> {
    list.as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x[key].as_f64())
        .collect()
}

fn assert_sorted(values: &[f64]) {
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
}

#[test]
fn hazchem_leak_on_the_demo_data() {
    let mut warnings = Vec::new();
    let out = report(&full_args(), &mut warnings).unwrap();

    let stations = out["stations"].as_array().unwrap();
    assert_eq!(stations.len(), 5, "{out:#}");
    let etas = numbers(&out["stations"], "eta_s");
    assert_eq!(etas.len(), 5, "every demo station reaches the site");
    assert_sorted(&etas);
    assert!(etas[0] > 60.0, "turnout included");
    let busy: Vec<&Value> = stations
        .iter()
        .filter(|s| s["busy"] == json!(true))
        .collect();
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0]["id"], "FS-02");

    assert_eq!(out["incident"]["radius_m"], json!(1000.0));
    let nearby = out["nearby"].as_array().unwrap();
    assert!(!nearby.is_empty());
    assert_sorted(&numbers(&out["nearby"], "distance_m"));
    // The leak sits on its own enterprise.
    assert_eq!(nearby[0]["distance_m"].as_f64().unwrap().round(), 0.0);
    assert!(
        nearby
            .iter()
            .all(|f| f["distance_m"].as_f64().unwrap() <= 1000.0)
    );
    let by_layer = out["nearby_by_layer"].as_array().unwrap();
    assert_eq!(by_layer.len(), 2);
    let listed: usize = by_layer
        .iter()
        .map(|g| g["count"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(listed, nearby.len());

    let shelters = out["shelters"].as_array().unwrap();
    assert_eq!(shelters.len(), 5);
    assert_eq!(out["shelter_distance"], "road");
    let km = numbers(&out["shelters"], "km");
    assert_eq!(km.len(), 5);
    assert_sorted(&km);
    for s in shelters {
        assert!(s["free_capacity"].as_f64().unwrap() > 0.0);
        // A road route is never shorter than the straight line.
        assert!(s["km"].as_f64().unwrap() >= s["straight_km"].as_f64().unwrap() - 1e-9);
    }

    let people = out["population_in_radius"].as_f64().unwrap();
    assert!(people > 0.0, "{people}");
    // Against brute force over the population points.
    let text = std::fs::read_to_string(demo("population.geojson")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let (lon, lat) = leak_site();
    let at = Point(Coord { x: lon, y: lat });
    let (mut low, mut high) = (0.0, 0.0);
    for f in v["features"].as_array().unwrap() {
        let c = &f["geometry"]["coordinates"];
        let p = Point::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        let d = Geodesic.distance(at, p);
        let w = f["properties"]["population"].as_f64().unwrap_or(0.0);
        if d < 995.0 {
            low += w;
        }
        if d <= 1000.0 {
            high += w;
        }
    }
    assert!(
        people >= low && people <= high,
        "{people} not in [{low}, {high}]"
    );

    let zones = &out["zones"];
    assert_eq!(zones["isolation_m"], json!(100.0));
    assert_eq!(zones["protective_m"], json!(1000.0));
}

#[test]
fn presets_radius_and_missing_roads() {
    let mut args = IncidentArgs::new(leak_site(), IncidentKind::Hazchem);
    args.substance = Some("chlorine".into());
    args.protective_m = Some(1500.0);
    args.radius_m = Some(300.0);
    args.shelters = Some(demo("shelters.geojson"));
    args.layers = vec![demo("hazchem_enterprises.geojson")];
    let dir = tempfile::tempdir().unwrap();
    let zones_path = dir.path().join("zones.geojson");
    args.zones_out = Some(zones_path.clone());
    let mut warnings = Vec::new();
    let out = report(&args, &mut warnings).unwrap();
    assert_eq!(out["zones"]["isolation_m"], json!(60.0));
    assert_eq!(out["zones"]["protective_m"], json!(1500.0));
    assert_eq!(out["zones"]["substance"], "chlorine");
    assert_eq!(out["stations"], json!([]));
    assert_eq!(out["population_in_radius"], Value::Null);
    assert_eq!(out["shelter_distance"], "straight");
    assert_sorted(&numbers(&out["shelters"], "km"));
    assert!(
        numbers(&out["nearby"], "distance_m")
            .iter()
            .all(|&d| d <= 300.0)
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&zones_path).unwrap()).unwrap();
    let kinds: Vec<&str> = written["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["isolation", "protective", "circle"]);

    args.substance = Some("plutonium".into());
    assert!(
        report(&args, &mut warnings)
            .unwrap_err()
            .contains("--substance")
    );
    args.substance = None;
    args.radius_m = Some(-5.0);
    assert!(
        report(&args, &mut warnings)
            .unwrap_err()
            .contains("--radius-m")
    );
}

#[test]
fn pipeline_corridor_is_drawn_along_the_nearest_pipeline() {
    let text = std::fs::read_to_string(demo("pipelines.geojson")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["features"][0]["geometry"]["coordinates"][1];
    let at = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let mut args = IncidentArgs::new(at, IncidentKind::PipelineLeak);
    args.pipelines = Some(demo("pipelines.geojson"));
    args.corridor_m = Some(200.0);
    let out = report(&args, &mut Vec::new()).unwrap();
    assert_eq!(out["zones"]["corridor_m"], json!(200.0));
    assert_eq!(
        out["zones"]["pipeline"],
        v["features"][0]["properties"]["id"]
    );
    assert_eq!(out["zones"]["circle_m"], json!(800.0));
    assert!(out["zones"].get("isolation_m").is_none());
}

/// The options as the binary parses them (`onemap incident ...` flattens these). The
/// binary itself is not spawned: in a target directory shared by several worktrees its
/// file may belong to another branch's build.
#[derive(clap::Parser)]
struct Parsed {
    #[command(flatten)]
    args: IncidentArgs,
}

fn parse(argv: &[&str]) -> Result<IncidentArgs, clap::Error> {
    use clap::Parser;
    Parsed::try_parse_from(std::iter::once("incident").chain(argv.iter().copied())).map(|p| p.args)
}

#[test]
fn the_command_line_parses_into_a_report() {
    let (lon, lat) = leak_site();
    let at = format!("{lon},{lat}");
    let roads = demo("roads.geojson").display().to_string();
    let stations = demo("fire_stations.geojson").display().to_string();
    let args = parse(&[
        "--at",
        &at,
        "--type",
        "hazchem",
        "--roads",
        &roads,
        "--stations",
        &stations,
        "--busy",
        "FS-01,FS-03",
        "--radius-m",
        "800",
        "--turnout-s",
        "90",
    ])
    .unwrap();
    assert_eq!(args.kind, IncidentKind::Hazchem);
    assert_eq!(args.busy, ["FS-01", "FS-03"]);
    let out = report(&args, &mut Vec::new()).unwrap();
    let etas = numbers(&out["stations"], "eta_s");
    assert_sorted(&etas);
    assert!(etas[0] > 90.0);
    let busy: Vec<&str> = out["stations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["busy"] == json!(true))
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(busy.len(), 2);
    assert_eq!(out["incident"]["radius_m"], json!(800.0));

    let err = parse(&["--at", "117.9,36.8", "--type", "meteor"])
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown type"), "{err}");
    assert!(parse(&["--at", "117.9", "--type", "fire"]).is_err());
    assert!(
        parse(&[
            "--at",
            "117.9,36.8",
            "--type",
            "fire",
            "--stations",
            &stations
        ])
        .is_err()
    );
}
