//! `onemap zone-report` end to end on the Zhoucun demo data, with a zone written by the
//! test: population and features inside against a brute-force count of the files, the
//! allocation's invariants, road km against geodesic km, and the binary's output.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use onemap::cli::zone_report::{ZoneReportArgs, report};
use serde_json::Value;

/// The zone: a rectangle over central Zhoucun (lon0, lat0, lon1, lat1), holding shelter
/// SH-08.
const ZONE: [f64; 4] = [117.86, 36.795, 117.875, 36.81];

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("maps/zhoucun")
        .join(name)
}

fn write_zone(dir: &Path) -> PathBuf {
    let [x0, y0, x1, y1] = ZONE;
    let path = dir.join("zone.geojson");
    std::fs::write(
        &path,
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"name":"zone"}},
            "geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}]}}"#
        ),
    )
    .unwrap();
    path
}

/// (id, lon, lat, properties) of every point feature of a demo file.
fn points(name: &str) -> Vec<(String, f64, f64, Value)> {
    let text = std::fs::read_to_string(demo(name)).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            (
                f["properties"]["id"].as_str().unwrap().to_string(),
                c[0].as_f64().unwrap(),
                c[1].as_f64().unwrap(),
                f["properties"].clone(),
            )
        })
        .collect()
}

fn inside(lon: f64, lat: f64) -> bool {
    let [x0, y0, x1, y1] = ZONE;
    (x0..=x1).contains(&lon) && (y0..=y1).contains(&lat)
}

fn check_plan(out: &Value, expected_people: f64) {
    let capacity: HashMap<String, f64> = points("shelters.geojson")
        .into_iter()
        .map(|(id, _, _, p)| (id, p["capacity"].as_f64().unwrap()))
        .collect();
    let mut used: HashMap<String, f64> = HashMap::new();
    let mut placed = 0.0;
    let mut person_km = 0.0;
    for a in out["allocation"].as_array().unwrap() {
        let people = a["people"].as_f64().unwrap();
        assert!(people > 0.0);
        let shelter = a["shelter"].as_str().unwrap().to_string();
        assert_ne!(shelter, "SH-08", "a shelter inside the zone is used");
        *used.entry(shelter).or_default() += people;
        placed += people;
        person_km += people * a["km"].as_f64().unwrap();
    }
    for (shelter, n) in &used {
        assert!(*n <= capacity[shelter], "{shelter} over capacity");
    }
    let unplaced = out["unplaced"].as_f64().unwrap();
    assert_eq!(placed + unplaced, expected_people.round());
    // The shelters outside hold far more than the zone's people: everyone is placed.
    assert_eq!(unplaced, 0.0);
    assert!((person_km - out["total_person_km"].as_f64().unwrap()).abs() < 1e-6);
}

#[test]
fn zone_report_on_the_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = ZoneReportArgs::new(
        write_zone(dir.path()),
        demo("population.geojson"),
        demo("shelters.geojson"),
    );
    args.layers = vec![
        demo("schools.geojson"),
        demo("hazchem_enterprises.geojson"),
        demo("pipelines.geojson"),
        demo("waterlogging_spots.geojson"),
        demo("geohazard_points.geojson"),
    ];
    let mut warnings = Vec::new();
    let geodesic = report(&args, &mut warnings).unwrap();

    let expected_people: f64 = points("population.geojson")
        .iter()
        .filter(|(_, x, y, _)| inside(*x, *y))
        .map(|(_, _, _, p)| p["population"].as_f64().unwrap())
        .sum();
    assert!(expected_people > 10_000.0);
    assert_eq!(
        geodesic["population_inside"].as_f64().unwrap(),
        expected_people
    );
    let schools: Vec<String> = points("schools.geojson")
        .into_iter()
        .filter(|(_, x, y, _)| inside(*x, *y))
        .map(|(id, ..)| id)
        .collect();
    let layers = geodesic["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 5);
    let school_layer = &layers[0];
    assert_eq!(
        school_layer["inside"].as_u64().unwrap() as usize,
        schools.len()
    );
    assert_eq!(school_layer["ids"], serde_json::to_value(&schools).unwrap());
    assert_eq!(geodesic["shelters_inside"], serde_json::json!(["SH-08"]));
    assert_eq!(geodesic["distance"], "geodesic");
    check_plan(&geodesic, expected_people);
    // The needs are for the whole evacuees: 0.4 kg rice each per day.
    let rice = &geodesic["needs"]["items"][0];
    assert_eq!(rice["name_en"], "Rice");
    assert!((rice["amount"].as_f64().unwrap() - 0.4 * expected_people).abs() < 1e-6);
    for flag in geodesic["shelter_flags"].as_array().unwrap() {
        assert!(!flag["reasons"].as_array().unwrap().is_empty());
    }

    // Road distances: never shorter than straight lines, so the optimum costs at least as
    // much as the geodesic optimum.
    args.roads = Some(demo("roads.geojson"));
    let road = report(&args, &mut warnings).unwrap();
    assert_eq!(road["distance"], "road");
    check_plan(&road, expected_people);
    let road_total = road["total_person_km"].as_f64().unwrap();
    let geo_total = geodesic["total_person_km"].as_f64().unwrap();
    assert!(road_total >= geo_total, "{road_total} < {geo_total}");
    assert!(road_total < 5.0 * geo_total, "{road_total} vs {geo_total}");
}

#[test]
fn the_binary_prints_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let zone = write_zone(dir.path());
    let run = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_onemap"))
            .arg("zone-report")
            .arg("--zone")
            .arg(&zone)
            .arg("--population")
            .arg(demo("population.geojson"))
            .arg("--shelters")
            .arg(demo("shelters.geojson"))
            .arg("--layer")
            .arg(demo("schools.geojson"))
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&run(&[])).unwrap();
    for key in [
        "population_inside",
        "layers",
        "allocation",
        "unplaced",
        "total_person_km",
        "shelter_flags",
        "needs",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let md = run(&["--format", "markdown", "--lang", "zh"]);
    assert!(md.contains("# 疏散区报告"));
    assert!(md.contains("SH-08"));

    let bad = Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args(["zone-report", "--zone"])
        .arg(dir.path().join("missing.geojson"))
        .arg("--population")
        .arg(demo("population.geojson"))
        .arg("--shelters")
        .arg(demo("shelters.geojson"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("missing.geojson"));
}
