//! `onemap coverage`: for one drive-time band, the covered share of a built-up area, of
//! weighted demand and of chosen layers' features, and each station's district area
//! against the GB 51080 guideline; printed as one JSON object on stdout.

use std::path::PathBuf;

use serde_json::{Value as Json, json};

use super::graph_args::{GraphArgs, LoadedGraph, load, load_graph};
use crate::analysis::coverage::{
    CoverageOptions, Share, area_share, covered_area, demand_share, layer_coverage,
};

/// Options of `onemap coverage`.
#[derive(Debug, Clone, clap::Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub graph: GraphArgs,
    /// The band, minutes, turnout included.
    #[arg(long, default_value_t = 5.0)]
    pub minutes: f64,
    /// Demand: points (or polygon cells, counted at their centroid) with a weight field.
    #[arg(long)]
    pub demand: Option<PathBuf>,
    /// The demand's weight field.
    #[arg(long, default_value = "population")]
    pub weight: String,
    /// Built-up area polygons.
    #[arg(long)]
    pub area: Option<PathBuf>,
    /// A layer whose features are counted as covered or not (repeatable).
    #[arg(long = "layer")]
    pub layers: Vec<PathBuf>,
}

impl CoverageArgs {
    /// A 5-minute report over the given roads and stations, with no optional inputs.
    pub fn new(graph: GraphArgs) -> CoverageArgs {
        CoverageArgs {
            graph,
            minutes: 5.0,
            demand: None,
            weight: "population".into(),
            area: None,
            layers: Vec::new(),
        }
    }
}

/// Runs the command; returns the process exit code (0 on success). The report goes to
/// stdout, warnings and errors to stderr.
pub fn run_coverage(args: &CoverageArgs) -> i32 {
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
            eprintln!("onemap coverage: {message}");
            1
        }
    }
}

fn share_json(s: &Share, covered: &str, total: &str) -> Json {
    json!({ covered: s.covered, total: s.total, "share": s.share })
}

/// The report as JSON (`minutes`, `band_km2`, `population`, `area`, `layers`, `stations`).
pub fn report(args: &CoverageArgs, warnings: &mut Vec<String>) -> Result<Json, String> {
    if !(args.minutes.is_finite() && args.minutes > 0.0) {
        return Err(format!(
            "--minutes: expected a positive number, got {}",
            args.minutes
        ));
    }
    // Read every input before the graph work so a bad path fails fast.
    let demand = match &args.demand {
        Some(path) => Some(load(path, warnings)?),
        None => None,
    };
    let area = match &args.area {
        Some(path) => Some(load(path, warnings)?),
        None => None,
    };
    let layers = args
        .layers
        .iter()
        .map(|path| load(path, warnings))
        .collect::<Result<Vec<_>, _>>()?;
    let LoadedGraph {
        graph,
        stations,
        snaps,
    } = load_graph(&args.graph, warnings)?;
    let options = CoverageOptions {
        minutes: args.minutes,
        turnout_s: args.graph.turnout_s,
        access_m: args.graph.access_m,
        cell_m: args.graph.cell_m,
    };
    let covered = covered_area(&graph, &snaps, &options);

    let population = demand.as_ref().map(|layer| {
        let (share, demand_warnings) = demand_share(&graph, &covered, layer, &args.weight);
        let file = args
            .demand
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        warnings.extend(demand_warnings.into_iter().map(|w| format!("{file}: {w}")));
        share_json(&share, "covered", "total")
    });
    let area = area.as_ref().map(|layer| {
        let share = area_share(&graph, &covered, layer);
        share_json(&share, "covered_km2", "total_km2")
    });
    let layers: Vec<Json> = layers
        .iter()
        .map(|layer| {
            let c = layer_coverage(&graph, &covered, layer);
            json!({"name": c.name, "covered": c.covered, "total": c.total, "uncovered": c.uncovered})
        })
        .collect();
    let stations: Vec<Json> = covered
        .districts
        .iter()
        .filter_map(|d| {
            let station = stations.get(d.station as usize)?;
            Some(json!({
                "id": station.id,
                "district_km2": d.area_km2,
                "over_standard": d.over_standard,
                "over_limit": d.over_limit,
            }))
        })
        .collect();
    Ok(json!({
        "minutes": args.minutes,
        "band_km2": covered.area_km2,
        "population": population,
        "area": area,
        "layers": layers,
        "stations": stations,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::reach::station_id;
    use std::path::Path;

    fn demo(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("maps/zhoucun")
            .join(name)
    }

    #[test]
    fn demo_district_report_has_the_shape_and_sane_values() {
        let mut args = CoverageArgs::new(GraphArgs::new(
            demo("roads.geojson"),
            demo("fire_stations.geojson"),
        ));
        args.demand = Some(demo("population.geojson"));
        args.area = Some(demo("builtup.geojson"));
        args.layers = vec![demo("schools.geojson"), demo("hazchem_enterprises.geojson")];
        let mut warnings = Vec::new();
        let out = report(&args, &mut warnings).unwrap();
        println!("{out:#}");
        assert_eq!(out["minutes"], json!(5.0));
        let population = &out["population"];
        assert_eq!(population["total"].as_f64().unwrap(), 384000.0);
        let share = population["share"].as_f64().unwrap();
        assert!(share > 0.0 && share <= 1.0, "{share}");
        assert!(
            (population["covered"].as_f64().unwrap() - share * 384000.0).abs() < 1e-6,
            "{population}"
        );
        let area = &out["area"];
        let (covered, total) = (
            area["covered_km2"].as_f64().unwrap(),
            area["total_km2"].as_f64().unwrap(),
        );
        // builtup.geojson says 35.51 km².
        assert!((total - 35.51).abs() < 1.0, "{total}");
        assert!(covered > 0.0 && covered <= total, "{covered} {total}");
        let share = area["share"].as_f64().unwrap();
        assert!(share > 0.0 && share <= 1.0, "{share}");

        let layers = out["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        for (entry, file) in layers.iter().zip(&args.layers) {
            let layer = load(file, &mut Vec::new()).unwrap();
            let ids: Vec<String> = (0..layer.len()).map(|r| station_id(&layer, r)).collect();
            assert_eq!(entry["name"], json!(layer.name));
            assert_eq!(entry["total"].as_u64().unwrap() as usize, layer.len());
            let uncovered = entry["uncovered"].as_array().unwrap();
            let covered = entry["covered"].as_u64().unwrap() as usize;
            assert!(covered > 0, "{entry}");
            assert_eq!(covered + uncovered.len(), layer.len());
            for id in uncovered {
                assert!(ids.contains(&id.as_str().unwrap().to_string()), "{id}");
            }
        }

        let stations = out["stations"].as_array().unwrap();
        assert!(!stations.is_empty());
        let mut district_sum = 0.0;
        for s in stations {
            assert!(s["id"].is_string());
            let km2 = s["district_km2"].as_f64().unwrap();
            district_sum += km2;
            assert_eq!(s["over_limit"], json!(km2 > 15.0));
        }
        let band = out["band_km2"].as_f64().unwrap();
        assert!((district_sum - band).abs() < 1e-6, "{district_sum} {band}");
    }

    #[test]
    fn absent_inputs_give_null_sections_and_bad_minutes_fail() {
        let mut args = CoverageArgs::new(GraphArgs::new(
            demo("roads.geojson"),
            demo("fire_stations.geojson"),
        ));
        args.minutes = 3.0;
        let out = report(&args, &mut Vec::new()).unwrap();
        assert!(out["population"].is_null());
        assert!(out["area"].is_null());
        assert_eq!(out["layers"], json!([]));
        assert!(out["band_km2"].as_f64().unwrap() > 0.0);
        args.minutes = -1.0;
        assert_ne!(run_coverage(&args), 0);
        args.minutes = 5.0;
        args.layers = vec![demo("no_such_layer.geojson")];
        assert!(report(&args, &mut Vec::new()).is_err());
    }

    #[test]
    fn command_line_parses_with_defaults_and_repeated_layers() {
        use clap::{Args, FromArgMatches};
        let command = CoverageArgs::augment_args(clap::Command::new("coverage"));
        command.clone().debug_assert();
        let matches = command
            .try_get_matches_from([
                "coverage",
                "--roads",
                "r.geojson",
                "--stations",
                "s.geojson",
                "--layer",
                "a.geojson",
                "--layer",
                "b.geojson",
                "--demand",
                "p.geojson",
            ])
            .unwrap();
        let args = CoverageArgs::from_arg_matches(&matches).unwrap();
        assert_eq!(args.minutes, 5.0);
        assert_eq!(args.weight, "population");
        assert_eq!(args.layers.len(), 2);
        assert_eq!(args.graph.turnout_s, 60.0);
        assert_eq!(args.graph.max_snap_m, 500.0);
        assert!(args.area.is_none());
    }
}
