//! The commander's and planner's work in the window: incidents and evacuation zones edited
//! through the undo history, the incident analysis kept up to date, and the project file
//! (save, open, autosave).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use geo::Coord;

use super::{AppState, Notice, SavedLayer, ViewRequest, first_of_kind};
use crate::analysis::incident::{
    IncidentInputs, IncidentOptions, IncidentReport, NearbyLayer, Roads, analyse_incident,
};
use crate::analysis::reach::{Station, stations_from_layer};
use crate::map::symbology::LayerStyle;
use crate::model::{IncidentKind, Layer, LayerKind};
use crate::scenario::document::{Incident, IncidentFields, LonLat, Zone, ZoneShape, ZoneStatus};
use crate::scenario::edit::Edit;
use crate::scenario::project::{self, AnalysisSettings, LayerRef, Project, View};

/// The current time as ISO 8601 in UTC, for a new incident (the core reads no clock).
pub fn now_iso8601() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Layer kinds the "what is around" search skips: the network, the base geography and the
/// analysis inputs that have their own lines in the incident panel.
fn searched_around(kind: LayerKind) -> bool {
    !matches!(
        kind,
        LayerKind::Road
            | LayerKind::Population
            | LayerKind::BuiltUp
            | LayerKind::DistrictBorder
            | LayerKind::NeighbourBorder
            | LayerKind::Division
            | LayerKind::Shelter
            | LayerKind::FireStation
    )
}

impl AppState {
    /// Applies one edit to the incidents and zones through the undo history; `merging`
    /// joins the frames of one drag into one undo step.
    pub fn apply_edit(&mut self, edit: Edit, merging: bool) {
        let result = if merging {
            self.history.apply_merging(&mut self.scenario, &edit)
        } else {
            self.history.apply(&mut self.scenario, &edit)
        };
        match result {
            Ok(_) => self.scenario_changed(),
            Err(e) => self.notices.push(Notice {
                text: e.to_string(),
                is_error: true,
            }),
        }
    }

    pub fn undo(&mut self) {
        match self.history.undo(&mut self.scenario) {
            Ok(true) => self.scenario_changed(),
            Ok(false) => {}
            Err(e) => self.notices.push(Notice {
                text: e.to_string(),
                is_error: true,
            }),
        }
    }

    pub fn redo(&mut self) {
        match self.history.redo(&mut self.scenario) {
            Ok(true) => self.scenario_changed(),
            Ok(false) => {}
            Err(e) => self.notices.push(Notice {
                text: e.to_string(),
                is_error: true,
            }),
        }
    }

    /// After any change of the document: drop selections of deleted items and refresh the
    /// analyses that depend on it.
    fn scenario_changed(&mut self) {
        if let Some(id) = self.selected_incident
            && self.scenario.incident(id).is_none()
        {
            self.selected_incident = None;
        }
        if let Some(id) = self.selected_zone
            && self.scenario.zone(id).is_none()
        {
            self.selected_zone = None;
        }
        self.scenario_revision = self.scenario_revision.wrapping_add(1);
        self.refresh_incident_report();
        self.refresh_zone_report();
    }

    /// Places a new incident of `kind` at lon/lat, now, and selects it.
    pub fn place_incident(&mut self, kind: IncidentKind, lon: f64, lat: f64) {
        let id = self.scenario.unused_incident_id();
        let incident = Incident {
            id,
            position: LonLat::new(lon, lat),
            fields: IncidentFields {
                kind,
                time: now_iso8601(),
                note: String::new(),
                closed: false,
                radius_m: None,
            },
        };
        self.selected_incident = Some(id);
        self.apply_edit(Edit::AddIncident(incident), false);
    }

    /// Adds an evacuation zone of this shape, named in order, and selects it.
    pub fn add_zone(&mut self, shape: ZoneShape, name: Option<String>) {
        let id = self.scenario.unused_zone_id();
        let lang = self.lang();
        let name = name.unwrap_or_else(|| {
            format!(
                "{} {}",
                lang.pick("疏散区", "Zone"),
                self.scenario.zones.len() + 1
            )
        });
        let zone = Zone {
            id,
            name,
            status: ZoneStatus::Planned,
            shape,
        };
        self.selected_zone = Some(id);
        self.apply_edit(Edit::AddZone(zone), false);
    }

    /// Stations of every fire-station layer.
    fn all_stations(&self) -> Vec<Station> {
        self.layers
            .iter()
            .filter(|l| l.layer.kind == LayerKind::FireStation)
            .flat_map(|l| stations_from_layer(&l.layer).into_iter().map(|(_, s)| s))
            .collect()
    }

    /// Recomputes the selected incident's panel: stations by ETA, what is around, shelters,
    /// people within the radius.
    pub fn refresh_incident_report(&mut self) {
        let Some(incident) = self
            .selected_incident
            .and_then(|id| self.scenario.incident(id))
            .cloned()
        else {
            self.incident_report = None;
            return;
        };
        let stations = self.all_stations();
        let network = super::response::network_of(
            &self.layers,
            &mut self.road_network,
            &self.response.speeds,
        )
        .ok();
        let busy: HashSet<String> = self.response.busy.iter().cloned().collect();
        let nearby: Vec<NearbyLayer<'_>> = self
            .layers
            .iter()
            .filter(|l| {
                l.visible && Some(l.id) != self.response_layer && searched_around(l.layer.kind)
            })
            .map(|l| NearbyLayer {
                name: &l.layer.name,
                layer: &l.layer,
                index: &l.index,
            })
            .collect();
        let shelters = first_of_kind(&self.layers, LayerKind::Shelter);
        let population = self
            .layers
            .iter()
            .find(|l| l.layer.kind == LayerKind::Population)
            .map(|l| (&l.layer, "population"));
        let inputs = IncidentInputs {
            roads: network.map(|n| Roads {
                graph: &n.graph,
                index: &n.snap_index,
            }),
            stations: &stations,
            busy: Some(&busy),
            layers: &nearby,
            shelters,
            population,
        };
        let mut options = IncidentOptions::for_kind(incident.fields.kind);
        options.radius_m = incident.radius_m();
        options.turnout_s = self.response.options.turnout_s;
        options.m2_per_person = self.m2_per_person;
        let at = Coord {
            x: incident.position.lon,
            y: incident.position.lat,
        };
        let report: IncidentReport = analyse_incident(at, &inputs, &options);
        self.incident_report = Some((incident.id, report));
    }

    /// The project as it stands: layers, styles, basemap, view, incidents, zones, settings.
    pub fn project(&self) -> Project {
        let layers = self
            .saved_layers()
            .into_iter()
            .zip(self.layers.iter().filter(|l| l.layer.path.is_some()))
            .map(|(saved, l)| LayerRef {
                path: saved.path,
                name: l.layer.name.clone(),
                visible: saved.visible,
                kind: saved.kind.key().to_owned(),
                style: serde_json::to_value(&saved.style).unwrap_or_default(),
            })
            .collect();
        let mut basemap = self.settings.basemap.clone();
        // API keys stay on this machine: projects get shared.
        basemap.tianditu_key.clear();
        let view = match (self.settings.view_center, self.settings.view_zoom) {
            (Some((lon, lat)), Some(zoom)) => Some(View { lon, lat, zoom }),
            _ => None,
        };
        Project {
            layers,
            basemap: serde_json::to_value(&basemap).unwrap_or_default(),
            view,
            scenario: self.scenario.clone(),
            analysis: AnalysisSettings {
                bands_min: self.response.options.bands_min.clone(),
                turnout_s: self.response.options.turnout_s,
                busy_stations: self.response.busy.iter().cloned().collect(),
                speed_table: serde_json::from_str(&self.response.speeds.to_json()).ok(),
                m2_per_person: self.m2_per_person,
                needs_profile: serde_json::to_value(&self.needs).ok(),
                other: serde_json::Map::new(),
            },
        }
    }

    /// Saves the project atomically (the previous version is kept as `.prev`).
    pub fn save_project(&mut self, path: &Path) -> bool {
        let lang = self.lang();
        match project::save(&self.project(), path) {
            Ok(_) => {
                self.project_path = Some(path.to_path_buf());
                self.autosave.mark_saved();
                self.notices.push(Notice {
                    text: format!(
                        "{}: {}",
                        lang.pick("已保存项目", "Project saved"),
                        path.display()
                    ),
                    is_error: false,
                });
                true
            }
            Err(e) => {
                self.notices.push(Notice {
                    text: format!("{}: {e}", lang.pick("项目保存失败", "Project not saved")),
                    is_error: true,
                });
                false
            }
        }
    }

    /// Opens a project: replaces layers, styles, basemap, view, incidents, zones and
    /// settings (the layers load in the background). Falls back to `.prev` when the file is
    /// damaged, and says so.
    pub fn open_project(&mut self, path: &Path) {
        let lang = self.lang();
        let loaded = match project::load_with_fallback(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                self.notices.push(Notice {
                    text: format!(
                        "{}: {e}",
                        lang.pick("无法打开项目", "Cannot open the project")
                    ),
                    is_error: true,
                });
                return;
            }
        };
        if let Some(problem) = &loaded.recovered_from {
            self.notices.push(Notice {
                text: format!(
                    "{}: {problem}; {} {}",
                    lang.pick("项目文件损坏", "The project file is damaged"),
                    lang.pick("已打开上一版本", "opened the previous version"),
                    loaded.from.display()
                ),
                is_error: true,
            });
        }
        let p = loaded.project;
        self.layers.clear();
        self.identified.clear();
        self.highlighted = None;
        self.response_layer = None;
        self.coverage = None;
        self.road_network = None;
        let saved: Vec<SavedLayer> = p
            .layers
            .iter()
            .map(|l| SavedLayer {
                path: l.path.clone(),
                kind: LayerKind::from_key(&l.kind)
                    .unwrap_or_else(|| LayerKind::guess_from_name(&l.name)),
                style: serde_json::from_value::<LayerStyle>(l.style.clone())
                    .unwrap_or_else(|_| LayerStyle::preset(LayerKind::guess_from_name(&l.name))),
                visible: l.visible,
            })
            .collect();
        self.settings.layers = Some(saved);
        self.restore_layers(None);
        if let Ok(mut basemap) =
            serde_json::from_value::<crate::map::basemap::BasemapSettings>(p.basemap)
        {
            basemap.tianditu_key = self.settings.basemap.tianditu_key.clone();
            self.settings.basemap = basemap;
        }
        if let Some(view) = p.view {
            self.settings.view_center = Some((view.lon, view.lat));
            self.settings.view_zoom = Some(view.zoom);
            self.view_request = Some(ViewRequest::Center {
                lon: view.lon,
                lat: view.lat,
                zoom: view.zoom,
            });
        }
        let a = p.analysis;
        if !a.bands_min.is_empty() {
            self.response.options.bands_min = a.bands_min;
        }
        self.response.options.turnout_s = a.turnout_s;
        self.response.busy = a.busy_stations.into_iter().collect();
        if let Some(table) = a.speed_table
            && let Ok(speeds) =
                crate::analysis::road_graph::SpeedTable::from_json(&table.to_string())
        {
            self.response.speeds = speeds;
        }
        self.m2_per_person = a.m2_per_person;
        if let Some(needs) = a.needs_profile.and_then(|v| serde_json::from_value(v).ok()) {
            self.needs = needs;
        }
        self.scenario = p.scenario;
        self.history = crate::scenario::edit::History::new();
        self.selected_incident = None;
        self.selected_zone = None;
        self.incident_report = None;
        self.zone_report = None;
        self.project_path = Some(path.to_path_buf());
        self.autosave.mark_saved();
        // Pick up where the work was: the latest open incident and the latest zone; their
        // reports fill in once the layers have loaded.
        self.selected_incident = self
            .scenario
            .incidents
            .iter()
            .rev()
            .find(|i| !i.fields.closed)
            .map(|i| i.id);
        self.selected_zone = self.scenario.zones.last().map(|z| z.id);
    }

    /// Saves the project when the autosave policy says so (`now_s`: seconds on any
    /// monotonic clock the caller keeps): to the project file, or, before the work has
    /// one, to `recovery_path` (when set) once there are incidents or zones.
    pub fn autosave_tick(&mut self, now_s: f64) {
        if self.scenario_revision != self.autosave_seen_revision {
            self.autosave_seen_revision = self.scenario_revision;
            self.autosave.note_change(now_s);
        }
        // Work not yet saved as a project still goes somewhere safe: the recovery file.
        let has_work = !(self.scenario.incidents.is_empty() && self.scenario.zones.is_empty());
        let Some(path) = self
            .project_path
            .clone()
            .or_else(|| self.recovery_path.clone().filter(|_| has_work))
        else {
            return;
        };
        if let Some(generation) = self.autosave.due(now_s) {
            self.autosave.save_started(generation);
            let ok = project::save(&self.project(), &path).is_ok();
            self.autosave.save_finished(ok, now_s);
            if !ok {
                let lang = self.lang();
                self.notices.push(Notice {
                    text: format!(
                        "{}: {}",
                        lang.pick("自动保存失败", "Autosave failed"),
                        path.display()
                    ),
                    is_error: true,
                });
            }
        }
    }

    /// Where the project would be saved without asking.
    pub fn project_file(&self) -> Option<&PathBuf> {
        self.project_path.as_ref()
    }
}

impl AppState {
    /// Recomputes the selected zone's report: people inside, features inside, shelters,
    /// the allocation, shelter flags and needs.
    pub fn refresh_zone_report(&mut self) {
        use crate::analysis::shelters::{HazardKind, HazardLayer};
        use crate::analysis::zone_report::{ZoneReportInput, ZoneReportOptions, zone_report};
        let Some(zone) = self
            .selected_zone
            .and_then(|id| self.scenario.zone(id))
            .cloned()
        else {
            self.zone_report = None;
            return;
        };
        let area = zone.to_multi_polygon();
        let network = super::response::network_of(
            &self.layers,
            &mut self.road_network,
            &self.response.speeds,
        )
        .ok();
        let population = first_of_kind(&self.layers, LayerKind::Population);
        let shelters = first_of_kind(&self.layers, LayerKind::Shelter);
        let listed: Vec<&Layer> = self
            .layers
            .iter()
            .filter(|l| {
                l.visible && Some(l.id) != self.response_layer && searched_around(l.layer.kind)
            })
            .map(|l| &l.layer)
            .collect();
        let hazards: Vec<HazardLayer<'_>> = self
            .layers
            .iter()
            .filter_map(|l| {
                HazardKind::for_layer_kind(l.layer.kind).map(|kind| HazardLayer {
                    kind,
                    layer: &l.layer,
                })
            })
            .collect();
        let input = ZoneReportInput {
            zone: &area,
            population,
            shelters,
            roads: network.map(|n| (&n.graph, &n.snap_index)),
            layers: &listed,
            hazards: &hazards,
            needs: &self.needs,
        };
        let options = ZoneReportOptions {
            m2_per_person: self.m2_per_person,
            ..ZoneReportOptions::default()
        };
        let report = zone_report(&input, &options);
        self.zone_report = Some((zone.id, report));
    }
}

impl AppState {
    /// Incidents and zones as one layer (points and polygons), for GeoJSON export and the
    /// map sheet: `type` says which, with id, name or kind, status, time and note.
    pub fn scenario_layer(&self) -> Layer {
        use crate::model::ValueRef;
        let lang = self.lang();
        let mut layer = Layer {
            name: lang.pick("事件与疏散区", "Incidents and zones").to_owned(),
            kind: LayerKind::Generic,
            ..Layer::default()
        };
        for (i, zone) in self.scenario.zones.iter().enumerate() {
            let area = zone.to_multi_polygon();
            let area_km2 = crate::analysis::measure::multipolygon_area_m2(&area) / 1e6;
            layer.geometries.push(geo::Geometry::MultiPolygon(area));
            layer.source_index.push(i as u32);
            let id = format!("Z{}", zone.id.0);
            layer.attributes.push_row([
                ("type", ValueRef::Text("zone")),
                ("id", ValueRef::Text(&id)),
                ("name", ValueRef::Text(&zone.name)),
                ("status", ValueRef::Text(zone.status.key())),
                ("status_label", ValueRef::Text(zone.status.label(lang))),
                ("area_km2", ValueRef::Number((area_km2 * 1e4).round() / 1e4)),
            ]);
        }
        let offset = self.scenario.zones.len();
        for (i, incident) in self.scenario.incidents.iter().enumerate() {
            layer
                .geometries
                .push(geo::Geometry::Point(incident.position.point()));
            layer.source_index.push((offset + i) as u32);
            let id = format!("I{}", incident.id.0);
            let label = incident.fields.kind.label(lang);
            layer.attributes.push_row([
                ("type", ValueRef::Text("incident")),
                ("id", ValueRef::Text(&id)),
                ("name", ValueRef::Text(label)),
                ("kind", ValueRef::Text(incident.fields.kind.key())),
                ("time", ValueRef::Text(&incident.fields.time)),
                ("note", ValueRef::Text(&incident.fields.note)),
                ("closed", ValueRef::Bool(incident.fields.closed)),
                ("radius_m", ValueRef::Number(incident.radius_m())),
            ]);
        }
        layer
    }
}

/// New station sites proposed by the siting run, for the coverage panel and the map.
#[derive(Debug, Clone, PartialEq)]
pub struct SitingSummary {
    pub minutes: f64,
    /// Proposed sites in order of choice: lon, lat, people newly covered (marginal).
    pub sites: Vec<(f64, f64, f64)>,
    pub before: f64,
    pub after: f64,
    pub total: f64,
    /// The choice is proven optimal; else `gap` bounds how far from optimal it can be.
    pub optimal: bool,
    pub gap: f64,
    pub candidates: usize,
}

impl AppState {
    /// Chooses `k` new station sites among road nodes on a grid of `spacing_m` over the
    /// population layer, to cover the most people within `minutes` (maximal covering
    /// location, existing available stations fixed).
    pub fn compute_siting(&mut self, k: usize, spacing_m: f64, minutes: f64) {
        use crate::analysis::coverage::demand_points;
        use crate::analysis::siting::{SitingOptions, grid_candidates, site};
        let lang = self.lang();
        let fail = |state: &mut AppState, text: &str| {
            state.notices.push(Notice {
                text: format!("{}: {text}", lang.pick("无法选址", "No siting")),
                is_error: true,
            });
        };
        let Some(population) = self
            .layers
            .iter()
            .find(|l| l.layer.kind == LayerKind::Population)
            .map(|l| l.layer.clone())
        else {
            fail(
                self,
                lang.pick("未加载人口图层", "no population layer is loaded"),
            );
            return;
        };
        let Some(extent) = population.bbox() else {
            fail(
                self,
                lang.pick("人口图层为空", "the population layer is empty"),
            );
            return;
        };
        let stations: Vec<Station> = self
            .all_stations()
            .into_iter()
            .filter(|s| !self.response.busy.contains(&s.id))
            .collect();
        let network = match super::response::network_of(
            &self.layers,
            &mut self.road_network,
            &self.response.speeds,
        ) {
            Ok(n) => n,
            Err(e) => {
                let text = e.to_string();
                fail(self, &text);
                return;
            }
        };
        let graph = &network.graph;
        let Some(candidates) = grid_candidates(graph, extent, spacing_m, 20_000) else {
            fail(self, lang.pick("网格过密", "the grid is too fine"));
            return;
        };
        let (existing, _) =
            network
                .snap_index
                .snap_stations(graph, &stations, self.response.max_snap_m);
        let (demand, _) = demand_points(&population, "population");
        let options = SitingOptions {
            k,
            minutes,
            turnout_s: self.response.options.turnout_s,
            access_m: self.response.options.access_m,
            max_snap_m: self.response.max_snap_m,
            ..SitingOptions::default()
        };
        let result = site(
            graph,
            &network.snap_index,
            &existing,
            &candidates,
            &[],
            &demand,
            &options,
        );
        let sites = result
            .sites
            .iter()
            .filter_map(|s| {
                let c = candidates.get(s.candidate)?;
                Some((c.position.x, c.position.y, s.gain))
            })
            .collect();
        self.siting = Some(SitingSummary {
            minutes,
            sites,
            before: result.before.covered,
            after: result.after.covered,
            total: result.before.total,
            optimal: result.optimal,
            gap: result.gap,
            candidates: candidates.len(),
        });
    }
}
