//! `onemap site` run as a process on the demo district (maps/zhoucun): the JSON report's
//! shape and the properties it must keep (coverage only grows, gains add up, sites are
//! distinct candidates, small instances are proven optimal, failing candidates can be
//! left out).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("maps/zhoucun")
        .join(name)
}

/// Runs `onemap site` on the demo roads, stations and population with extra arguments;
/// returns the exit status, the parsed stdout (Null when not JSON) and stderr.
fn site(extra: &[&str]) -> (bool, Json, String) {
    on_demo("site", extra)
}

/// Runs `onemap COMMAND` with the demo roads, stations and population (5 minutes) and
/// extra arguments, as [`site`] does.
fn on_demo(command: &str, extra: &[&str]) -> (bool, Json, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_onemap"))
        .arg(command)
        .arg("--roads")
        .arg(demo("roads.geojson"))
        .arg("--stations")
        .arg(demo("fire_stations.geojson"))
        .arg("--demand")
        .arg(demo("population.geojson"))
        .args(["--weight", "population", "--minutes", "5"])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Json::Null);
    (
        output.status.success(),
        json,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn num(v: &Json) -> f64 {
    v.as_f64().unwrap()
}

/// The properties every report must keep.
fn check_report(out: &Json, k: usize) {
    let (before, after) = (&out["before"], &out["after"]);
    assert_eq!(num(&before["total"]), 384000.0);
    assert_eq!(num(&after["total"]), 384000.0);
    let (b, a) = (num(&before["covered"]), num(&after["covered"]));
    assert!(b > 0.0 && a >= b && a <= 384000.0, "{b} {a}");
    assert!((num(&after["share"]) - a / 384000.0).abs() < 1e-12);
    let sites = out["sites"].as_array().unwrap();
    assert_eq!(sites.len(), k);
    let gains: f64 = sites.iter().map(|s| num(&s["gain"])).sum();
    assert!((gains - (a - b)).abs() < 1e-6, "{gains} vs {}", a - b);
    // Listed in order of choice, each gain marginal to the ones before: never rising.
    for pair in sites.windows(2) {
        assert!(num(&pair[0]["gain"]) >= num(&pair[1]["gain"]));
    }
    let mut seen: Vec<u64> = Vec::new();
    for s in sites {
        let index = s["candidate_index"].as_u64().unwrap();
        assert!(!seen.contains(&index), "site {index} chosen twice");
        seen.push(index);
        let (lon, lat) = (num(&s["lon"]), num(&s["lat"]));
        assert!((117.7..118.1).contains(&lon) && (36.6..37.0).contains(&lat));
        assert!(s["checks"]["passed"].is_boolean());
    }
    let station_checks = out["station_checks"].as_array().unwrap();
    assert_eq!(station_checks.len(), 5);
    for s in station_checks {
        assert!(s["id"].as_str().unwrap().starts_with("FS-"));
        let failures = s["failures"].as_array().unwrap();
        assert_eq!(s["passed"].as_bool().unwrap(), failures.is_empty());
    }
}

#[test]
fn grid_candidates_two_sites_are_optimal_and_add_up() {
    let (ok, out, stderr) = site(&[
        "--k",
        "2",
        "--candidate-spacing-m",
        "500",
        "--hazchem",
        demo("hazchem_enterprises.geojson").to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    check_report(&out, 2);
    assert_eq!(out["optimal"], Json::Bool(true));
    assert_eq!(num(&out["gap"]), 0.0);
    assert_eq!(out["candidates"]["source"], "grid");
    // Two new stations in the uncovered half of the demand gain a real share.
    assert!(num(&out["after"]["covered"]) > num(&out["before"]["covered"]) + 10_000.0);
    // Each station is checked against the hazchem layer and the road rule.
    for s in out["station_checks"].as_array().unwrap() {
        let rules: Vec<&str> = s["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, vec!["hazchem_distance", "main_road"]);
    }
}

#[test]
fn site_and_coverage_count_the_same_covered_demand() {
    let (ok, out, stderr) = site(&["--k", "1", "--candidate-spacing-m", "1000"]);
    assert!(ok, "{stderr}");
    let (ok, report, stderr) = on_demo("coverage", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        num(&report["population"]["covered"]),
        num(&out["before"]["covered"])
    );
    assert_eq!(num(&report["population"]["total"]), 384000.0);
}

#[test]
fn excluding_failing_candidates_leaves_only_passing_sites() {
    let (ok, out, stderr) = site(&[
        "--k",
        "3",
        "--candidate-spacing-m",
        "400",
        "--hazchem",
        demo("hazchem_enterprises.geojson").to_str().unwrap(),
        "--schools",
        demo("schools.geojson").to_str().unwrap(),
        "--exclude-failing",
    ]);
    assert!(ok, "{stderr}");
    check_report(&out, 3);
    assert!(out["candidates"]["excluded_failing"].as_u64().unwrap() > 0);
    for s in out["sites"].as_array().unwrap() {
        assert_eq!(s["checks"]["passed"], Json::Bool(true), "{s}");
        for c in s["checks"]["checks"].as_array().unwrap() {
            if c["rule"] == "hazchem_distance" {
                assert!(num(&c["distance_m"]) >= 200.0);
            }
        }
    }
    // Without the exclusion the optimum can only be as good or better.
    let (_, free, _) = site(&[
        "--k",
        "3",
        "--candidate-spacing-m",
        "400",
        "--hazchem",
        demo("hazchem_enterprises.geojson").to_str().unwrap(),
    ]);
    assert!(num(&free["after"]["covered"]) >= num(&out["after"]["covered"]));
}

#[test]
fn candidate_file_ids_are_reported_and_bad_inputs_fail_cleanly() {
    // Shelters as candidate sites: ids come from the file.
    let (ok, out, stderr) = site(&[
        "--k",
        "2",
        "--candidates",
        demo("shelters.geojson").to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    check_report(&out, 2);
    assert_eq!(out["optimal"], Json::Bool(true));
    for s in out["sites"].as_array().unwrap() {
        assert!(s["candidate"].is_string(), "{s}");
    }
    let (ok, out, stderr) = site(&["--k", "2"]);
    assert!(!ok && out.is_null());
    assert!(stderr.contains("--candidate-spacing-m"), "{stderr}");
    let (ok, _, stderr) = site(&["--candidates", "/no/such/file.geojson"]);
    assert!(!ok);
    assert!(stderr.contains("/no/such/file.geojson"), "{stderr}");
}
