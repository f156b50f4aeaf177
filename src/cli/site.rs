//! `onemap site`: choose k new station sites from candidates (a point layer, or road nodes
//! on a grid) to cover the most demand within a band, existing stations fixed; with the
//! GB 51080 siting checks of the existing stations and of every chosen site. Prints one
//! JSON object on stdout.

use std::path::PathBuf;

use geo::{Coord, Rect};
use serde_json::{Value as Json, json};

use super::graph_args::{GraphArgs, LoadedGraph, load, load_graph};
use crate::analysis::coverage::{Share, demand_points};
use crate::analysis::reach::{SnapIndex, Station, stations_from_layer};
use crate::analysis::siting::{DEFAULT_MAX_NODES, SitingOptions, grid_candidates, site};
use crate::analysis::station_checks::{
    CheckOptions, DEFAULT_MAIN_ROAD_CLASSES, SiteChecker, SiteReport,
};

/// Largest number of grid points `--candidate-spacing-m` may generate.
const MAX_GRID_POINTS: usize = 1_000_000;

/// Options of `onemap site`.
#[derive(Debug, Clone, clap::Args)]
pub struct SiteArgs {
    #[command(flatten)]
    pub graph: GraphArgs,
    /// How many new stations to choose.
    #[arg(long, default_value_t = 1)]
    pub k: usize,
    /// Candidate sites (points; ids from `id`, else `name`, else the feature index).
    #[arg(long, conflicts_with = "candidate_spacing_m")]
    pub candidates: Option<PathBuf>,
    /// Instead of a candidate file: road nodes nearest to a grid of this spacing (metres)
    /// over the demand's extent.
    #[arg(long)]
    pub candidate_spacing_m: Option<f64>,
    /// Demand: points (or polygon cells, counted at their centroid) with a weight field.
    #[arg(long)]
    pub demand: PathBuf,
    /// The demand's weight field.
    #[arg(long, default_value = "population")]
    pub weight: String,
    /// The band, minutes, turnout included.
    #[arg(long, default_value_t = 5.0)]
    pub minutes: f64,
    /// Hazardous-chemical sites, for the GB 51080 distance check.
    #[arg(long)]
    pub hazchem: Option<PathBuf>,
    /// Hospitals, for the 50 m check.
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// Schools, for the 50 m check.
    #[arg(long)]
    pub schools: Option<PathBuf>,
    /// Least distance to a hazardous-chemical site, metres.
    #[arg(long, default_value_t = 200.0)]
    pub hazchem_min_m: f64,
    /// Least distance to a hospital or school, metres.
    #[arg(long, default_value_t = 50.0)]
    pub sensitive_min_m: f64,
    /// Road classes that count as main or secondary roads.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_MAIN_ROAD_CLASSES.iter().map(|c| c.to_string()))]
    pub main_roads: Vec<String>,
    /// A site is on a main road when one passes within this distance, metres.
    #[arg(long, default_value_t = 50.0)]
    pub road_snap_m: f64,
    /// Leave out candidates that fail a siting check.
    #[arg(long)]
    pub exclude_failing: bool,
    /// Branch-and-bound nodes before settling for the best found with a proven gap.
    #[arg(long, default_value_t = DEFAULT_MAX_NODES)]
    pub max_nodes: u64,
}

impl SiteArgs {
    /// One site on a 500 m candidate grid, with the defaults.
    pub fn new(graph: GraphArgs, demand: PathBuf) -> SiteArgs {
        SiteArgs {
            graph,
            k: 1,
            candidates: None,
            candidate_spacing_m: Some(500.0),
            demand,
            weight: "population".into(),
            minutes: 5.0,
            hazchem: None,
            hospitals: None,
            schools: None,
            hazchem_min_m: 200.0,
            sensitive_min_m: 50.0,
            main_roads: DEFAULT_MAIN_ROAD_CLASSES
                .iter()
                .map(|c| c.to_string())
                .collect(),
            road_snap_m: 50.0,
            exclude_failing: false,
            max_nodes: DEFAULT_MAX_NODES,
        }
    }
}

/// Runs the command; returns the process exit code (0 on success). The report goes to
/// stdout, warnings and errors to stderr.
pub fn run_site(args: &SiteArgs) -> i32 {
    let mut warnings = Vec::new();
    let result = report(args, &mut warnings);
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    match result {
        Ok(value) => {
            println!("{value:#}");
            0
        }
        Err(message) => {
            eprintln!("onemap site: {message}");
            1
        }
    }
}

fn share_json(s: &Share) -> Json {
    json!({ "covered": s.covered, "total": s.total, "share": s.share })
}

fn checks_json(r: &SiteReport) -> Json {
    let checks: Vec<Json> = r
        .checks
        .iter()
        .map(|c| {
            json!({
                "rule": c.rule,
                "passed": c.passed,
                "distance_m": c.distance_m,
                "nearest": c.nearest,
                "reason": c.reason,
            })
        })
        .collect();
    json!({ "passed": r.passed, "failures": r.failures(), "checks": checks })
}

fn check_numbers(args: &SiteArgs) -> Result<(), String> {
    if !(args.minutes.is_finite() && args.minutes > 0.0) {
        return Err(format!(
            "--minutes: expected a positive number, got {}",
            args.minutes
        ));
    }
    for (name, v) in [
        ("--hazchem-min-m", args.hazchem_min_m),
        ("--sensitive-min-m", args.sensitive_min_m),
        ("--road-snap-m", args.road_snap_m),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!("{name}: expected a number >= 0, got {v}"));
        }
    }
    match (&args.candidates, args.candidate_spacing_m) {
        (None, None) => Err("give --candidates C.geojson or --candidate-spacing-m M".into()),
        (_, Some(m)) if !(m.is_finite() && m > 0.0) => Err(format!(
            "--candidate-spacing-m: expected a positive number, got {m}"
        )),
        _ => Ok(()),
    }
}

/// The report as JSON: `before`, `after`, `optimal`, `gap`, `upper_bound`, `sites`,
/// `station_checks` and `candidates`.
pub fn report(args: &SiteArgs, warnings: &mut Vec<String>) -> Result<Json, String> {
    check_numbers(args)?;
    let demand_layer = load(&args.demand, warnings)?;
    let optional = |path: &Option<PathBuf>, warnings: &mut Vec<String>| match path {
        Some(p) => load(p, warnings).map(Some),
        None => Ok(None),
    };
    let hazchem = optional(&args.hazchem, warnings)?;
    let hospitals = optional(&args.hospitals, warnings)?;
    let schools = optional(&args.schools, warnings)?;
    let candidate_layer = optional(&args.candidates, warnings)?;
    let (demand, demand_warnings) = demand_points(&demand_layer, &args.weight);
    let file = args.demand.display().to_string();
    warnings.extend(demand_warnings.into_iter().map(|w| format!("{file}: {w}")));
    if demand.is_empty() {
        return Err(format!(
            "{file}: no demand points with a numeric `{}`",
            args.weight
        ));
    }
    if demand.iter().any(|d| d.weight < 0.0) {
        warnings.push(format!("{file}: negative `{}` counted as 0", args.weight));
    }
    let LoadedGraph {
        graph,
        stations,
        snaps,
    } = load_graph(&args.graph, warnings)?;

    let candidates: Vec<Station> = match (&candidate_layer, args.candidate_spacing_m) {
        (Some(layer), _) => stations_from_layer(layer)
            .into_iter()
            .map(|(_, s)| s)
            .collect(),
        (None, Some(spacing)) => {
            let extent = demand.iter().fold(None::<Rect<f64>>, |acc, d| {
                let c = d.position;
                Some(match acc {
                    None => Rect::new(c, c),
                    Some(r) => Rect::new(
                        Coord {
                            x: r.min().x.min(c.x),
                            y: r.min().y.min(c.y),
                        },
                        Coord {
                            x: r.max().x.max(c.x),
                            y: r.max().y.max(c.y),
                        },
                    ),
                })
            });
            let extent = extent.ok_or("no demand extent")?;
            grid_candidates(&graph, extent, spacing, MAX_GRID_POINTS).ok_or_else(|| {
                format!("--candidate-spacing-m {spacing}: more than {MAX_GRID_POINTS} grid points over the demand's extent")
            })?
        }
        (None, None) => Vec::new(),
    };
    if candidates.is_empty() {
        return Err("no candidate sites".into());
    }

    let checker = SiteChecker::new(
        Some(&graph),
        graph.projection,
        hazchem.as_ref(),
        hospitals.as_ref(),
        schools.as_ref(),
        CheckOptions {
            hazchem_min_m: args.hazchem_min_m,
            main_road_classes: args.main_roads.clone(),
            road_snap_m: args.road_snap_m,
            sensitive_min_m: args.sensitive_min_m,
        },
    );
    let station_checks: Vec<Json> = stations
        .iter()
        .map(|s| {
            let r = checker.check(&s.id, s.position);
            let mut j = checks_json(&r);
            j["id"] = json!(s.id);
            j["lon"] = json!(s.position.x);
            j["lat"] = json!(s.position.y);
            j
        })
        .collect();
    let candidate_checks: Vec<SiteReport> = candidates
        .iter()
        .map(|c| checker.check(&c.id, c.position))
        .collect();
    let allowed: Vec<bool> = candidate_checks
        .iter()
        .map(|r| r.passed || !args.exclude_failing)
        .collect();
    let excluded = allowed.iter().filter(|a| !**a).count();

    let options = SitingOptions {
        k: args.k,
        minutes: args.minutes,
        turnout_s: args.graph.turnout_s,
        access_m: args.graph.access_m,
        max_snap_m: args.graph.max_snap_m,
        max_nodes: args.max_nodes,
    };
    let snap_index = SnapIndex::new(&graph);
    let result = site(
        &graph,
        &snap_index,
        &snaps,
        &candidates,
        &allowed,
        &demand,
        &options,
    );
    warnings.extend(result.warnings.iter().cloned());
    let from_file = candidate_layer.is_some();
    let sites: Vec<Json> = result
        .sites
        .iter()
        .map(|s| {
            let c = &candidates[s.candidate];
            json!({
                "lon": c.position.x,
                "lat": c.position.y,
                "gain": s.gain,
                "candidate": if from_file { json!(c.id) } else { json!(s.candidate) },
                "candidate_index": s.candidate,
                "checks": checks_json(&candidate_checks[s.candidate]),
            })
        })
        .collect();
    Ok(json!({
        "minutes": args.minutes,
        "k": args.k,
        "method": "road network",
        "before": share_json(&result.before),
        "after": share_json(&result.after),
        "optimal": result.optimal,
        "gap": result.gap,
        "upper_bound_gain": result.upper_bound,
        "nodes": result.nodes,
        "candidates": {
            "total": candidates.len(),
            "excluded_failing": excluded,
            "source": if from_file { "file" } else { "grid" },
        },
        "sites": sites,
        "station_checks": station_checks,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn command_line_parses_with_defaults() {
        use clap::{Args, FromArgMatches};
        let command = SiteArgs::augment_args(clap::Command::new("site"));
        command.clone().debug_assert();
        let matches = command
            .try_get_matches_from([
                "site",
                "--roads",
                "r.geojson",
                "--stations",
                "s.geojson",
                "--demand",
                "p.geojson",
                "--k",
                "3",
                "--candidate-spacing-m",
                "400",
                "--main-roads",
                "primary,secondary",
            ])
            .unwrap();
        let args = SiteArgs::from_arg_matches(&matches).unwrap();
        assert_eq!(args.k, 3);
        assert_eq!(args.candidate_spacing_m, Some(400.0));
        assert_eq!(args.main_roads, vec!["primary", "secondary"]);
        assert_eq!(args.hazchem_min_m, 200.0);
        assert!(!args.exclude_failing);
        let both = SiteArgs::augment_args(clap::Command::new("site")).try_get_matches_from([
            "site",
            "--stations",
            "s",
            "--demand",
            "p",
            "--candidates",
            "c",
            "--candidate-spacing-m",
            "5",
        ]);
        assert!(both.is_err());
    }

    #[test]
    fn bad_numbers_and_missing_candidates_fail_before_loading() {
        let mut args = SiteArgs::new(
            GraphArgs::new("r.geojson".into(), "s.geojson".into()),
            "p.geojson".into(),
        );
        args.candidate_spacing_m = None;
        assert!(check_numbers(&args).unwrap_err().contains("--candidates"));
        args.candidate_spacing_m = Some(-1.0);
        assert!(check_numbers(&args).is_err());
        args.candidate_spacing_m = Some(500.0);
        args.minutes = 0.0;
        assert!(check_numbers(&args).is_err());
        args.minutes = 5.0;
        assert!(check_numbers(&args).is_ok());
        assert_ne!(run_site(&args), 0);
    }
}
