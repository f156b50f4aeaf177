//! `onemap incident`: what the incident panel shows, headless: stations by ETA, features
//! within the radius, the nearest open shelters with room, the people within the radius,
//! and the hazard zone radii; printed as one JSON object on stdout.

use std::collections::HashSet;
use std::path::PathBuf;

use geo::{Coord, Geometry, MultiLineString};
use serde_json::{Value as Json, json};

use super::graph_args::load;
use crate::analysis::hazard_zones::{self, HazardZone, HazchemRings, substance_preset};
use crate::analysis::incident::{
    IncidentInputs, IncidentOptions, IncidentReport, NearbyLayer, Roads, analyse_incident,
};
use crate::analysis::reach::{SnapIndex, Station, stations_from_layer};
use crate::analysis::road_graph::{RoadGraph, SpeedTable};
use crate::model::{IncidentKind, Layer};
use crate::spatial::LayerIndex;

/// Options of `onemap incident`.
#[derive(Debug, Clone, clap::Args)]
pub struct IncidentArgs {
    /// Where the incident is: LON,LAT (WGS 84 degrees).
    #[arg(long, value_parser = parse_lon_lat)]
    pub at: (f64, f64),
    /// Kind of incident: fire, hazchem, flood, landslide, subsidence, pipeline_leak,
    /// earthquake, other.
    #[arg(long = "type", value_parser = parse_kind)]
    pub kind: IncidentKind,
    /// Road network (LineStrings with `highway`, optional `oneway`, `speed_kmh`): drive
    /// times for stations, road km for shelters.
    #[arg(long)]
    pub roads: Option<PathBuf>,
    /// Fire stations (points; ids from `id`, else `name`, else the feature index). Needs
    /// --roads.
    #[arg(long, requires = "roads")]
    pub stations: Option<PathBuf>,
    /// Ids of stations out on other calls (comma-separated): listed and marked busy.
    #[arg(long, value_delimiter = ',')]
    pub busy: Vec<String>,
    /// A layer whose features within the radius are listed (repeatable).
    #[arg(long = "layer")]
    pub layers: Vec<PathBuf>,
    /// Shelters (`capacity` or `area_m2`, optional `status`, `occupied`/`occupancy`).
    #[arg(long)]
    pub shelters: Option<PathBuf>,
    /// Population: points, or polygons / grid cells counted by the share of area inside.
    #[arg(long)]
    pub population: Option<PathBuf>,
    /// The population's weight field.
    #[arg(long, default_value = "population")]
    pub weight: String,
    /// Search radius, metres (default by type: hazchem 1000, fire 500, ...).
    #[arg(long)]
    pub radius_m: Option<f64>,
    /// Turnout time, seconds.
    #[arg(long, default_value_t = 60.0)]
    pub turnout_s: f64,
    /// Speed table: JSON object of road class -> km/h with `default` (default: the
    /// shipped emergency-vehicle table).
    #[arg(long)]
    pub speeds: Option<PathBuf>,
    /// Stations, shelters and the incident farther than this from every road are not
    /// routed, metres.
    #[arg(long, default_value_t = 500.0)]
    pub max_snap_m: f64,
    /// How many shelters to list.
    #[arg(long, default_value_t = 5)]
    pub shelter_count: usize,
    /// Shelter area per person where `capacity` is missing, m².
    #[arg(long, default_value_t = 2.5)]
    pub m2_per_person: f64,
    /// Hazchem substance preset for the rings: chlorine, ammonia, lpg, gasoline.
    #[arg(long)]
    pub substance: Option<String>,
    /// Hazchem isolation radius, metres (overrides the preset; default 100).
    #[arg(long)]
    pub isolation_m: Option<f64>,
    /// Hazchem protective radius, metres (overrides the preset; default the search
    /// radius).
    #[arg(long)]
    pub protective_m: Option<f64>,
    /// Pipelines: with --corridor-m, a corridor along the pipeline nearest the incident.
    #[arg(long)]
    pub pipelines: Option<PathBuf>,
    /// Half-width of the pipeline corridor, metres.
    #[arg(long, requires = "pipelines")]
    pub corridor_m: Option<f64>,
    /// Write the hazard zones (or the search circle) as a GeoJSON FeatureCollection here.
    #[arg(long)]
    pub zones_out: Option<PathBuf>,
}

impl IncidentArgs {
    /// An incident of `kind` at (lon, lat) with no optional inputs.
    pub fn new(at: (f64, f64), kind: IncidentKind) -> IncidentArgs {
        IncidentArgs {
            at,
            kind,
            roads: None,
            stations: None,
            busy: Vec::new(),
            layers: Vec::new(),
            shelters: None,
            population: None,
            weight: "population".into(),
            radius_m: None,
            turnout_s: 60.0,
            speeds: None,
            max_snap_m: 500.0,
            shelter_count: 5,
            m2_per_person: 2.5,
            substance: None,
            isolation_m: None,
            protective_m: None,
            pipelines: None,
            corridor_m: None,
            zones_out: None,
        }
    }
}

/// Parses `LON,LAT` in degrees.
pub fn parse_lon_lat(text: &str) -> Result<(f64, f64), String> {
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("expected LON,LAT: {e}"))?;
    match parts.as_slice() {
        [lon, lat] if (-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat) => {
            Ok((*lon, *lat))
        }
        _ => Err("expected LON,LAT with lon in [-180, 180] and lat in [-90, 90]".into()),
    }
}

/// Parses an incident kind key.
pub fn parse_kind(text: &str) -> Result<IncidentKind, String> {
    IncidentKind::from_key(text).ok_or_else(|| {
        let keys: Vec<&str> = IncidentKind::ALL.iter().map(|k| k.key()).collect();
        format!("unknown type {text:?}; expected one of {}", keys.join(", "))
    })
}

/// Runs the command; returns the process exit code (0 on success). The report goes to
/// stdout, warnings and errors to stderr.
pub fn run_incident(args: &IncidentArgs) -> i32 {
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
            eprintln!("onemap incident: {message}");
            1
        }
    }
}

fn check_non_negative(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(format!("{name}: expected a number >= 0, got {v}"))
    }
}

fn check_positive(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(format!("{name}: expected a number > 0, got {v}"))
    }
}

/// The hazard zones of this incident, and their radii as JSON.
fn zones(
    args: &IncidentArgs,
    at: Coord<f64>,
    radius_m: f64,
    warnings: &mut Vec<String>,
) -> Result<(Vec<HazardZone>, Json), String> {
    let mut zones = Vec::new();
    let mut summary = serde_json::Map::new();
    if args.kind == IncidentKind::Hazchem || args.substance.is_some() {
        let mut rings = match &args.substance {
            Some(key) => {
                let preset = substance_preset(key).ok_or_else(|| {
                    let keys: Vec<&str> = hazard_zones::SUBSTANCE_PRESETS
                        .iter()
                        .map(|p| p.key)
                        .collect();
                    format!(
                        "--substance: unknown {key:?}; expected one of {}",
                        keys.join(", ")
                    )
                })?;
                HazchemRings::from_preset(preset)
            }
            None => HazchemRings::unidentified(radius_m),
        };
        if let Some(m) = args.isolation_m {
            rings.isolation_m = m;
            rings.source = "user".into();
        }
        if let Some(m) = args.protective_m {
            rings.protective_m = m;
            rings.source = "user".into();
        }
        let [isolation, protective] =
            hazard_zones::hazchem_rings(at, &rings).map_err(|e| format!("hazchem rings: {e}"))?;
        summary.insert("isolation_m".into(), json!(rings.isolation_m));
        summary.insert("protective_m".into(), json!(rings.protective_m));
        summary.insert("substance".into(), json!(rings.substance));
        summary.insert("source".into(), json!(rings.source));
        zones.push(isolation);
        zones.push(protective);
    }
    if let (Some(path), Some(half_width)) = (&args.pipelines, args.corridor_m) {
        let layer = load(path, warnings)?;
        match nearest_line(&layer, at) {
            Some((row, line)) => {
                let mut corridor = hazard_zones::corridor(&line, half_width)
                    .map_err(|e| format!("--corridor-m: {e}"))?;
                let id = crate::analysis::reach::station_id(&layer, row);
                corridor.properties.insert("pipeline".into(), json!(id));
                summary.insert("corridor_m".into(), json!(half_width));
                summary.insert("pipeline".into(), json!(id));
                zones.push(corridor);
            }
            None => warnings.push(format!("{}: no line features", path.display())),
        }
    }
    let circle = hazard_zones::circle(at, radius_m).map_err(|e| format!("--radius-m: {e}"))?;
    summary.insert("circle_m".into(), json!(radius_m));
    zones.push(circle);
    Ok((zones, Json::Object(summary)))
}

/// The line feature nearest `at`, as a MultiLineString.
fn nearest_line(layer: &Layer, at: Coord<f64>) -> Option<(usize, MultiLineString<f64>)> {
    let index = LayerIndex::build(&layer.geometries);
    let lines = |g: &Geometry<f64>| match g {
        Geometry::LineString(ls) => Some(MultiLineString::new(vec![ls.clone()])),
        Geometry::MultiLineString(mls) => Some(mls.clone()),
        _ => None,
    };
    index
        .nearest(&layer.geometries, geo::Point(at), layer.len())
        .into_iter()
        .find_map(|(row, _)| layer.geometries.get(row).and_then(lines).map(|l| (row, l)))
}

fn loaded_roads(
    args: &IncidentArgs,
    warnings: &mut Vec<String>,
) -> Result<Option<RoadGraph>, String> {
    let Some(path) = &args.roads else {
        return Ok(None);
    };
    let speeds = match &args.speeds {
        Some(speeds) => {
            let text = std::fs::read_to_string(speeds)
                .map_err(|e| format!("{}: cannot read: {e}", speeds.display()))?;
            SpeedTable::from_json(&text).map_err(|e| format!("{}: {e}", speeds.display()))?
        }
        None => SpeedTable::emergency_default(),
    };
    let layer = load(path, warnings)?;
    let (graph, graph_warnings) =
        RoadGraph::build(&[&layer], &speeds).map_err(|e| format!("{}: {e}", path.display()))?;
    warnings.extend(graph_warnings);
    Ok(Some(graph))
}

fn report_json(
    args: &IncidentArgs,
    report: &IncidentReport,
    radius_m: f64,
    zones: Json,
    with_roads: bool,
) -> Json {
    let stations: Vec<Json> = report
        .stations
        .iter()
        .map(|s| json!({"id": s.id, "eta_s": s.eta_s, "drive_s": s.drive_s, "busy": s.busy}))
        .collect();
    let mut nearby: Vec<(f64, usize, Json)> = Vec::new();
    let mut by_layer = Vec::new();
    for (g, group) in report.nearby.iter().enumerate() {
        for f in &group.features {
            nearby.push((
                f.distance_m,
                g,
                json!({"layer": group.layer, "id": f.id, "distance_m": f.distance_m}),
            ));
        }
        by_layer.push(json!({
            "layer": group.layer,
            "count": group.features.len(),
            "ids": group.features.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        }));
    }
    // One list nearest first; equal distances keep layer order, then row order.
    nearby.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let shelters: Vec<Json> = report
        .shelters
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "free_capacity": s.free_capacity,
                "capacity": s.capacity,
                "occupied": s.occupied,
                "km": s.km(with_roads),
                "road_km": s.road_km,
                "straight_km": s.straight_km,
                "within_radius": s.within_radius,
            })
        })
        .collect();
    json!({
        "incident": {
            "at": [args.at.0, args.at.1],
            "type": args.kind.key(),
            "radius_m": radius_m,
            "turnout_s": args.turnout_s,
            "road_snap_m": report.incident_snap_m,
        },
        "stations": stations,
        "nearby": nearby.into_iter().map(|(_, _, j)| j).collect::<Vec<_>>(),
        "nearby_by_layer": by_layer,
        "shelters": shelters,
        "shelter_distance": if with_roads { "road" } else { "straight" },
        "population_in_radius": report.population.as_ref().map(|p| p.total),
        "zones": zones,
    })
}

/// The report as JSON (`incident`, `stations`, `nearby`, `nearby_by_layer`, `shelters`,
/// `population_in_radius`, `zones`); warnings are added to `warnings`.
pub fn report(args: &IncidentArgs, warnings: &mut Vec<String>) -> Result<Json, String> {
    let kind = args.kind;
    let radius_m = args.radius_m.unwrap_or(kind.default_radius_m());
    check_positive("--radius-m", radius_m)?;
    check_non_negative("--turnout-s", args.turnout_s)?;
    check_non_negative("--max-snap-m", args.max_snap_m)?;
    check_positive("--m2-per-person", args.m2_per_person)?;
    let at = Coord {
        x: args.at.0,
        y: args.at.1,
    };
    let options = IncidentOptions {
        radius_m,
        turnout_s: args.turnout_s,
        max_snap_m: args.max_snap_m,
        shelter_count: args.shelter_count,
        m2_per_person: args.m2_per_person,
    };
    let (zone_list, zone_json) = zones(args, at, radius_m, warnings)?;

    let graph = loaded_roads(args, warnings)?;
    let snap_index = graph.as_ref().map(SnapIndex::new);
    let roads = graph
        .as_ref()
        .zip(snap_index.as_ref())
        .map(|(graph, index)| Roads { graph, index });
    let stations: Vec<Station> = match &args.stations {
        Some(path) => {
            let layer = load(path, warnings)?;
            let stations: Vec<Station> = stations_from_layer(&layer)
                .into_iter()
                .map(|(_, s)| s)
                .collect();
            if stations.is_empty() {
                return Err(format!("{}: no stations", path.display()));
            }
            stations
        }
        None => Vec::new(),
    };
    let busy: HashSet<String> = args.busy.iter().map(|s| s.trim().to_string()).collect();
    for id in &busy {
        if !stations.iter().any(|s| &s.id == id) {
            warnings.push(format!("--busy: no station with id {id:?}"));
        }
    }
    let layers: Vec<Layer> = args
        .layers
        .iter()
        .map(|path| load(path, warnings))
        .collect::<Result<_, _>>()?;
    let indices: Vec<LayerIndex> = layers
        .iter()
        .map(|l| LayerIndex::build(&l.geometries))
        .collect();
    let nearby: Vec<NearbyLayer<'_>> = layers
        .iter()
        .zip(&indices)
        .map(|(layer, index)| NearbyLayer {
            name: &layer.name,
            layer,
            index,
        })
        .collect();
    let shelters = args
        .shelters
        .as_ref()
        .map(|p| load(p, warnings))
        .transpose()?;
    let population = args
        .population
        .as_ref()
        .map(|p| load(p, warnings))
        .transpose()?;
    if let Some(layer) = &population
        && layer.attributes.field_index(&args.weight).is_none()
    {
        warnings.push(format!(
            "{}: no field {:?}; population counts as 0",
            args.population
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            args.weight
        ));
    }
    let inputs = IncidentInputs {
        roads,
        stations: &stations,
        busy: Some(&busy),
        layers: &nearby,
        shelters: shelters.as_ref(),
        population: population.as_ref().map(|l| (l, args.weight.as_str())),
    };
    let result = analyse_incident(at, &inputs, &options);
    warnings.extend(result.warnings.iter().cloned());

    if let Some(path) = &args.zones_out {
        let collection = geojson::FeatureCollection {
            bbox: None,
            features: zone_list.iter().map(HazardZone::to_feature).collect(),
            foreign_members: None,
        };
        std::fs::write(path, collection.to_string())
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }
    Ok(report_json(
        args,
        &result,
        radius_m,
        zone_json,
        roads.is_some(),
    ))
}
