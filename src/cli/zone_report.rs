//! `onemap zone-report`: who is inside an evacuation zone, what else is inside, and where
//! the evacuees go (optimal shelter allocation), with shelter siting flags and minimum
//! needs; printed as JSON (default), Markdown or CSV on stdout.

use std::path::PathBuf;

use geo::{BooleanOps, Geometry, MultiPolygon};
use serde_json::{Value as Json, json};

use super::graph_args::load;
use crate::analysis::allocation::RoadDistanceOptions;
use crate::analysis::needs::NeedsProfile;
use crate::analysis::reach::SnapIndex;
use crate::analysis::road_graph::{RoadGraph, SpeedTable};
use crate::analysis::shelters::{HazardKind, HazardLayer, SitingOptions};
use crate::analysis::zone_report::{ZoneReport, ZoneReportInput, ZoneReportOptions, zone_report};
use crate::i18n::Lang;
use crate::model::Layer;

/// Output format of `onemap zone-report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Json,
    Markdown,
    Csv,
}

/// Language of reasons, Markdown and CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportLang {
    En,
    Zh,
}

/// Options of `onemap zone-report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ZoneReportArgs {
    /// The zone: every polygon of the file, merged.
    #[arg(long)]
    pub zone: PathBuf,
    /// Population points, polygons or grid cells with a weight field.
    #[arg(long)]
    pub population: PathBuf,
    /// Shelters (`capacity` or `area_m2`, optional `status`).
    #[arg(long)]
    pub shelters: PathBuf,
    /// Roads: distances are road km (oneway respected) when given, geodesic km otherwise.
    #[arg(long)]
    pub roads: Option<PathBuf>,
    /// A layer whose features inside are listed (repeatable). Pipelines, waterlogging
    /// spots, geological hazards and hazchem sites also feed the shelter siting checks.
    #[arg(long = "layer")]
    pub layers: Vec<PathBuf>,
    /// A hazard layer for the siting checks only (repeatable; kind from the file).
    #[arg(long = "hazard")]
    pub hazards: Vec<PathBuf>,
    /// Shelter area per person when `capacity` is missing, m².
    #[arg(long, default_value_t = 2.5)]
    pub m2_per_person: f64,
    /// The population's weight field.
    #[arg(long, default_value = "population")]
    pub weight: String,
    /// Origins and shelters farther than this from an open road cannot be routed, m.
    #[arg(long, default_value_t = 3000.0)]
    pub max_snap_m: f64,
    /// Days of minimum needs to report.
    #[arg(long, default_value_t = 1.0)]
    pub needs_days: f64,
    /// Radius of a hazchem site's siting check, m.
    #[arg(long, default_value_t = 200.0)]
    pub hazchem_radius_m: f64,
    /// Radius of a geological-hazard point's siting check, m.
    #[arg(long, default_value_t = 200.0)]
    pub geohazard_radius_m: f64,
    /// Leave shelters that fail a siting check out of the allocation.
    #[arg(long)]
    pub exclude_flagged: bool,
    /// Output: JSON (default), Markdown or CSV.
    #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
    pub format: ReportFormat,
    /// Language of siting reasons and of the Markdown and CSV reports.
    #[arg(long, value_enum, default_value_t = ReportLang::En)]
    pub lang: ReportLang,
}

impl ZoneReportArgs {
    /// A report with default options for the three required inputs.
    pub fn new(zone: PathBuf, population: PathBuf, shelters: PathBuf) -> ZoneReportArgs {
        ZoneReportArgs {
            zone,
            population,
            shelters,
            roads: None,
            layers: Vec::new(),
            hazards: Vec::new(),
            m2_per_person: 2.5,
            weight: "population".into(),
            max_snap_m: 3000.0,
            needs_days: 1.0,
            hazchem_radius_m: 200.0,
            geohazard_radius_m: 200.0,
            exclude_flagged: false,
            format: ReportFormat::Json,
            lang: ReportLang::En,
        }
    }
}

/// Runs the command; returns the process exit code (0 on success). The report goes to
/// stdout, warnings and errors to stderr.
pub fn run_zone_report(args: &ZoneReportArgs) -> i32 {
    let mut warnings = Vec::new();
    let result = render(args, &mut warnings);
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    match result {
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(message) => {
            eprintln!("onemap zone-report: {message}");
            1
        }
    }
}

/// The report in the chosen format.
pub fn render(args: &ZoneReportArgs, warnings: &mut Vec<String>) -> Result<String, String> {
    let lang = match args.lang {
        ReportLang::En => Lang::En,
        ReportLang::Zh => Lang::Zh,
    };
    let report = build(args, warnings)?;
    Ok(match args.format {
        ReportFormat::Json => format!("{:#}", to_json(&report, lang)),
        ReportFormat::Markdown => report.to_markdown(lang),
        ReportFormat::Csv => report.to_csv(lang),
    })
}

/// The report as JSON.
pub fn report(args: &ZoneReportArgs, warnings: &mut Vec<String>) -> Result<Json, String> {
    let lang = match args.lang {
        ReportLang::En => Lang::En,
        ReportLang::Zh => Lang::Zh,
    };
    Ok(to_json(&build(args, warnings)?, lang))
}

/// The zone of a layer: every polygon, merged (so overlapping parts count once).
pub fn zone_polygons(layer: &Layer) -> Option<MultiPolygon<f64>> {
    let mut parts = layer.geometries.iter().filter_map(|g| match g {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(mp) => Some(mp.clone()),
        Geometry::Rect(r) => Some(MultiPolygon(vec![r.to_polygon()])),
        _ => None,
    });
    let first = parts.next()?;
    let merged = parts.fold(first, |acc, p| acc.union(&p));
    (!merged.0.is_empty()).then_some(merged)
}

fn build(args: &ZoneReportArgs, warnings: &mut Vec<String>) -> Result<ZoneReport, String> {
    if !(args.m2_per_person.is_finite() && args.m2_per_person > 0.0) {
        return Err(format!(
            "--m2-per-person: expected a positive number, got {}",
            args.m2_per_person
        ));
    }
    for (name, v, min) in [
        ("--max-snap-m", args.max_snap_m, 0.0),
        ("--needs-days", args.needs_days, 0.0),
        ("--hazchem-radius-m", args.hazchem_radius_m, 0.0),
        ("--geohazard-radius-m", args.geohazard_radius_m, 0.0),
    ] {
        if !(v.is_finite() && v >= min) {
            return Err(format!("{name}: expected a non-negative number, got {v}"));
        }
    }
    let zone_layer = load(&args.zone, warnings)?;
    let zone =
        zone_polygons(&zone_layer).ok_or_else(|| format!("{}: no polygon", args.zone.display()))?;
    let population = load(&args.population, warnings)?;
    if population.attributes.field_index(&args.weight).is_none() {
        warnings.push(format!(
            "{}: no field `{}`; population counts as 0",
            args.population.display(),
            args.weight
        ));
    }
    let shelters = load(&args.shelters, warnings)?;
    let layers = args
        .layers
        .iter()
        .map(|path| load(path, warnings))
        .collect::<Result<Vec<_>, _>>()?;
    let hazard_only = args
        .hazards
        .iter()
        .map(|path| load(path, warnings))
        .collect::<Result<Vec<_>, _>>()?;
    for (path, layer) in args.hazards.iter().zip(&hazard_only) {
        if HazardKind::for_layer_kind(layer.kind).is_none() {
            warnings.push(format!(
                "{}: kind `{}` feeds no siting check",
                path.display(),
                layer.kind.key()
            ));
        }
    }
    let hazards: Vec<HazardLayer<'_>> = layers
        .iter()
        .chain(&hazard_only)
        .filter_map(|layer| {
            HazardKind::for_layer_kind(layer.kind).map(|kind| HazardLayer { kind, layer })
        })
        .collect();
    let roads = match &args.roads {
        Some(path) => {
            let layer = load(path, warnings)?;
            let (graph, graph_warnings) =
                RoadGraph::build(&[&layer], &SpeedTable::emergency_default())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            warnings.extend(graph_warnings);
            let index = SnapIndex::new(&graph);
            Some((graph, index))
        }
        None => None,
    };
    let layer_refs: Vec<&Layer> = layers.iter().collect();
    let needs = NeedsProfile::default();
    let input = ZoneReportInput {
        zone: &zone,
        population: Some(&population),
        shelters: Some(&shelters),
        roads: roads.as_ref().map(|(g, i)| (g, i)),
        layers: &layer_refs,
        hazards: &hazards,
        needs: &needs,
    };
    let options = ZoneReportOptions {
        weight_field: args.weight.clone(),
        m2_per_person: args.m2_per_person,
        siting: SitingOptions {
            hazchem_radius_m: args.hazchem_radius_m,
            geohazard_radius_m: args.geohazard_radius_m,
            ..SitingOptions::default()
        },
        road: RoadDistanceOptions {
            max_snap_m: args.max_snap_m,
        },
        needs_days: args.needs_days,
        exclude_flagged: args.exclude_flagged,
    };
    let report = zone_report(&input, &options);
    warnings.extend(report.warnings.iter().cloned());
    Ok(report)
}

fn to_json(report: &ZoneReport, lang: Lang) -> Json {
    let plan = &report.allocation;
    let allocation: Vec<Json> = plan
        .assignments
        .iter()
        .map(|a| {
            json!({
                "origin": report.origins[a.origin].id,
                "shelter": report.shelters_usable[a.shelter].id,
                "people": a.people,
                "km": a.km,
            })
        })
        .collect();
    let unplaced_by_origin: Vec<Json> = report
        .origins
        .iter()
        .zip(&plan.origin_unplaced)
        .filter(|(_, n)| **n > 0)
        .map(|(o, n)| json!({ "origin": o.id, "people": n }))
        .collect();
    let origins: Vec<Json> = report
        .origins
        .iter()
        .zip(&plan.origin_placed)
        .map(|(o, placed)| json!({ "id": o.id, "people": o.people, "placed": placed }))
        .collect();
    let shelters: Vec<Json> = report
        .shelter_uses()
        .into_iter()
        .map(|u| {
            json!({
                "id": u.id,
                "capacity": u.capacity,
                "assigned": u.assigned,
                "free": u.capacity - u.assigned,
            })
        })
        .collect();
    let layers: Vec<Json> = report
        .layers
        .iter()
        .map(|l| json!({ "name": l.name, "inside": l.rows.len(), "ids": l.ids }))
        .collect();
    let flags: Vec<Json> = report
        .shelter_flags
        .iter()
        .map(|f| {
            json!({
                "shelter": f.id,
                "reasons": f.reasons.iter().map(|r| r.text(lang)).collect::<Vec<_>>(),
                "details": f.reasons,
            })
        })
        .collect();
    json!({
        "population_inside": report.population.total,
        "evacuees": report.evacuees,
        "distance": report.distance_mode,
        "layers": layers,
        "shelters_inside": report.shelters_inside,
        "shelters_closed": report.shelters_closed,
        "origins": origins,
        "allocation": allocation,
        "placed": plan.placed,
        "unplaced": plan.unplaced,
        "unplaced_by_origin": unplaced_by_origin,
        "total_person_km": plan.total_person_km,
        "shelters": shelters,
        "shelter_flags": flags,
        "needs": {
            "people": report.evacuees,
            "days": report.needs_days,
            "items": report.needs,
        },
        "warnings": report.warnings,
    })
}
