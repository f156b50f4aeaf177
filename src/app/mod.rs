//! Application state and the one place it changes: UI panels and map plugins read
//! [`AppState`] and return [`Command`]s, which
//! [`AppState::apply`] carries out.

pub mod loading;
pub mod response;
pub mod search;
pub mod work;

use std::path::{Path, PathBuf};

use geo::Point;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::io::LoadWarning;
use crate::map::basemap::BasemapSettings;
use crate::map::render::RenderCache;
use crate::map::symbology::LayerStyle;
use crate::model::{Layer, LayerKind};
use crate::spatial::LayerIndex;

pub use loading::{LoadJob, PreparedLayer};

/// A stable handle to a layer for the life of the app.
pub type LayerId = u64;

/// A loaded layer with what the window needs to draw and query it.
pub struct MapLayer {
    pub id: LayerId,
    pub layer: Layer,
    pub index: LayerIndex,
    pub render: RenderCache,
    pub style: LayerStyle,
    /// Category of each feature under `style`, kept in step with it by `set_style`.
    pub classes: Vec<u16>,
    pub visible: bool,
    pub warnings: Vec<LoadWarning>,
    /// Where a newly arrived layer goes in the drawing order (see `AppState::add_layer`).
    sort_key: (u8, u64),
}

impl MapLayer {
    pub fn from_prepared(id: LayerId, prepared: PreparedLayer) -> MapLayer {
        let sort_key = match prepared.saved_index {
            Some(i) => (0, i as u64),
            None => (draw_rank(prepared.layer.kind, &prepared.render), id),
        };
        let style = prepared
            .style
            .unwrap_or_else(|| LayerStyle::preset(prepared.layer.kind));
        let classes = style.feature_classes(&prepared.layer.attributes);
        MapLayer {
            classes,
            sort_key,
            id,
            layer: prepared.layer,
            index: prepared.index,
            render: prepared.render,
            style,
            visible: prepared.visible,
            warnings: prepared.warnings,
        }
    }

    /// Changes the style and the per-feature categories that depend on it.
    pub fn set_style(&mut self, style: LayerStyle) {
        self.classes = style.feature_classes(&self.layer.attributes);
        self.style = style;
    }

    /// What the layer is called in the UI: its own name.
    pub fn title(&self) -> &str {
        &self.layer.name
    }
}

/// A layer as remembered between runs: where it came from and how it was drawn.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedLayer {
    pub path: PathBuf,
    pub kind: LayerKind,
    pub style: LayerStyle,
    pub visible: bool,
}

/// Everything that persists between runs (eframe storage).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub lang: Lang,
    pub basemap: BasemapSettings,
    /// None on first run: the demo district is loaded.
    pub layers: Option<Vec<SavedLayer>>,
    pub view_center: Option<(f64, f64)>,
    pub view_zoom: Option<f64>,
    pub show_labels: bool,
    /// Folder whose borders, roads, rivers and water draw the built-in basemap; None uses
    /// the bundled demo district.
    pub basemap_data_dir: Option<PathBuf>,
    /// The basemap's map approval number (审图号) printed on exported maps.
    pub approval_number: String,
    /// The import dialog's choices, remembered per file (path as text).
    pub import_choices: std::collections::BTreeMap<String, ImportChoice>,
}

/// What the user chose in the import dialog for one file, remembered for the next time it
/// is opened (and when the layer list is restored).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ImportChoice {
    /// A CRS key `Crs::parse` reads ("EPSG:4527", "gcj02"); None detects.
    pub crs: Option<String>,
    /// An encoding label; None detects.
    pub encoding: Option<String>,
    pub x_col: Option<String>,
    pub y_col: Option<String>,
    pub folders_as_layers: bool,
    /// Excel: the sheet chosen; None reads the first.
    pub sheet: Option<String>,
}

impl ImportChoice {
    /// The reader options these choices stand for (a CRS key that no longer parses is
    /// dropped: detection then decides).
    pub fn read_options(&self) -> crate::io::ReadOptions {
        crate::io::ReadOptions {
            crs: self
                .crs
                .as_deref()
                .and_then(|k| crate::crs::Crs::parse(k).ok()),
            encoding: self.encoding.clone(),
            x_col: self.x_col.clone(),
            y_col: self.y_col.clone(),
            folders_as_layers: self.folders_as_layers,
            clip: None,
            sheet: self.sheet.clone(),
        }
    }

    /// The choices behind reader options.
    pub fn from_options(options: &crate::io::ReadOptions) -> ImportChoice {
        ImportChoice {
            crs: options.crs.as_ref().and_then(crate::crs::Crs::key),
            encoding: options.encoding.clone(),
            x_col: options.x_col.clone(),
            y_col: options.y_col.clone(),
            folders_as_layers: options.folders_as_layers,
            sheet: options.sheet.clone(),
        }
    }
}

/// A file read for the import dialog: the result (or the error) waits for the user to
/// accept it, change the choices and read again, or cancel.
pub struct PendingImport {
    pub path: PathBuf,
    pub options: crate::io::ReadOptions,
    pub outcome: loading::LoadOutcome,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lang: Lang::from_locale(sys_locale::get_locale().as_deref()),
            basemap: BasemapSettings::default(),
            layers: None,
            view_center: None,
            view_zoom: None,
            show_labels: true,
            basemap_data_dir: None,
            import_choices: std::collections::BTreeMap::new(),
            approval_number: String::new(),
        }
    }
}

/// A feature found under the cursor or by search.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRef {
    pub layer: LayerId,
    pub feature: usize,
}

/// A message for the user in the status area.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

/// What the UI asks the app to do.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Command {
    OpenFiles(Vec<PathBuf>),
    /// Reads a file for the import dialog (preview, detected CRS/encoding, overrides).
    ReviewImport(PathBuf, crate::io::ReadOptions),
    /// Adds the pending import's layers and remembers its choices for that file.
    AcceptImport,
    CancelImport,
    SetVisible(LayerId, bool),
    SetStyle(LayerId, LayerStyle),
    SetKind(LayerId, LayerKind),
    /// Moves a layer up (towards the top of the drawing order) or down.
    MoveLayer(LayerId, i32),
    RemoveLayer(LayerId),
    ZoomToLayer(LayerId),
    /// Identify at a lon/lat with a tolerance in metres.
    Identify(Point<f64>, f64),
    ClearIdentify,
    Search(String),
    FlyTo(FeatureRef),
    SetLanguage(Lang),
    SetShowLabels(bool),
    CancelLoads,
    DismissNotices,
    /// Computes drive-time response areas from the loaded fire stations over the loaded roads.
    ComputeResponseAreas,
    /// Marks a station (by id) busy or available; areas on the map follow.
    SetStationBusy(String, bool),
    SetResponseBands(Vec<f64>),
    SetResponseMode(crate::analysis::isochrone::AreaMode),
    SetTurnout(f64),
    /// Sets a road class's fire-engine speed, km/h (`default` for unnamed classes).
    SetSpeed(String, f64),
    /// Restores the shipped emergency speed table.
    ResetSpeeds,
    /// Coverage report for a band (minutes): population, built-up area, features.
    ComputeCoverage(f64),
    ClearCoverage,
    /// Lets station symbols be dragged on the map (areas follow live).
    SetDragStations(bool),
    /// Places an incident of a kind at lon/lat (now) and selects it.
    PlaceIncident {
        kind: crate::model::IncidentKind,
        lon: f64,
        lat: f64,
    },
    SelectIncident(Option<crate::scenario::document::IncidentId>),
    SelectZone(Option<crate::scenario::document::ZoneId>),
    /// An evacuation zone from a drawn ring (lon/lat).
    AddPolygonZone(Vec<[f64; 2]>),
    AddCircleZone {
        lon: f64,
        lat: f64,
        radius_m: f64,
    },
    /// A zone of any shape with a name (from an incident's hazard rings or a corridor).
    AddZone(crate::scenario::document::ZoneShape, String),
    /// Any edit of incidents and zones; `merging` joins a drag's frames into one undo step.
    Edit(crate::scenario::edit::Edit, bool),
    /// Ends a drag gesture (the next edit starts a new undo step).
    EndGesture,
    Undo,
    Redo,
    SaveProject(PathBuf),
    OpenProject(PathBuf),
    /// Shelter floor area per person where a shelter gives no capacity, m².
    SetM2PerPerson(f64),
    /// Sets the quantity of item `i` of the minimum-needs profile.
    SetNeedQuantity(usize, f64),
    /// Shows a message in the status area.
    Notify(String),
    /// The basemap's map approval number (审图号) printed on exported maps.
    SetApprovalNumber(String),
    /// Proposes `k` new station sites on a grid of `spacing_m` for a band of `minutes`.
    ComputeSiting {
        k: usize,
        spacing_m: f64,
        minutes: f64,
    },
    ClearSiting,
    /// Moves a point feature (a dragged station) to lon/lat.
    MovePoint {
        layer: LayerId,
        feature: usize,
        lon: f64,
        lat: f64,
    },
}

/// Where the map should move to, taken by the map view on its next frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ViewRequest {
    Center { lon: f64, lat: f64, zoom: f64 },
    Fit(geo::Rect<f64>),
}

/// The whole state of the window's content.
pub struct AppState {
    pub settings: Settings,
    /// Drawing order: index 0 is drawn first (bottom).
    pub layers: Vec<MapLayer>,
    /// Reference layers of the built-in vector basemap, bottom first.
    pub basemap_layers: Vec<MapLayer>,
    next_id: LayerId,
    pub loads: Vec<LoadJob>,
    /// A file read and waiting in the import dialog.
    pub pending_import: Option<PendingImport>,
    pub identified: Vec<FeatureRef>,
    pub search_query: String,
    pub search_results: Vec<FeatureRef>,
    pub highlighted: Option<FeatureRef>,
    pub notices: Vec<Notice>,
    pub view_request: Option<ViewRequest>,
    pub response: response::ResponseSettings,
    /// The layer holding the last computed response areas, and its band summary.
    pub response_layer: Option<LayerId>,
    pub response_bands: Vec<(f64, f64)>,
    /// The bands on the map are a straight-line estimate (no road layer loaded).
    pub response_estimate: bool,
    pub responding: Vec<String>,
    /// The road graph built from the loaded roads, reused until they or the speeds change.
    pub road_network: Option<response::RoadNetwork>,
    /// The last coverage report (kept up to date while on screen).
    pub coverage: Option<response::CoverageSummary>,
    /// Station symbols can be dragged on the map.
    pub drag_stations: bool,
    /// Incidents and evacuation zones, changed only through `history`.
    pub scenario: crate::scenario::document::ScenarioDocument,
    pub history: crate::scenario::edit::History,
    /// Bumped on every change of `scenario`, for autosave.
    pub scenario_revision: u64,
    autosave_seen_revision: u64,
    pub selected_incident: Option<crate::scenario::document::IncidentId>,
    pub selected_zone: Option<crate::scenario::document::ZoneId>,
    pub incident_report: Option<(
        crate::scenario::document::IncidentId,
        crate::analysis::incident::IncidentReport,
    )>,
    pub zone_report: Option<(
        crate::scenario::document::ZoneId,
        crate::analysis::zone_report::ZoneReport,
    )>,
    /// Shelter floor area per person when a shelter gives no capacity, m² (plan: 2.5).
    pub m2_per_person: f64,
    /// Per-station grids while stations are dragged, so a move recomputes one station.
    live_areas: Option<response::LiveAreas>,
    /// Shelters failing a siting check, per the shelter layer (marked red on the map).
    pub shelter_flags: Option<(LayerId, Vec<crate::analysis::shelters::ShelterFlag>)>,
    /// Proposed new station sites, shown on the map.
    pub siting: Option<work::SitingSummary>,
    /// The evacuees' daily minimum needs (InaSAFE defaults, editable).
    pub needs: crate::analysis::needs::NeedsProfile,
    /// The project file being worked on (autosave writes here).
    pub project_path: Option<PathBuf>,
    /// Where autosave keeps work that has no project file yet (the window sets it to the
    /// user's data folder; None in tests: nothing is written).
    pub recovery_path: Option<PathBuf>,
    pub autosave: crate::scenario::autosave::Autosave,
    /// The egui context, to wake the UI when a background load finishes (None in tests
    /// that drive the state directly).
    pub repaint: Option<egui::Context>,
}

impl AppState {
    pub fn new(settings: Settings, repaint: Option<egui::Context>) -> AppState {
        AppState {
            settings,
            layers: Vec::new(),
            basemap_layers: Vec::new(),
            next_id: 1,
            loads: Vec::new(),
            pending_import: None,
            identified: Vec::new(),
            search_query: String::new(),
            search_results: Vec::new(),
            highlighted: None,
            notices: Vec::new(),
            view_request: None,
            response: response::ResponseSettings::default(),
            response_layer: None,
            response_bands: Vec::new(),
            response_estimate: false,
            responding: Vec::new(),
            road_network: None,
            coverage: None,
            drag_stations: false,
            scenario: Default::default(),
            history: Default::default(),
            scenario_revision: 0,
            autosave_seen_revision: 0,
            selected_incident: None,
            selected_zone: None,
            incident_report: None,
            zone_report: None,
            m2_per_person: 2.5,
            siting: None,
            shelter_flags: None,
            live_areas: None,
            needs: Default::default(),
            project_path: None,
            recovery_path: None,
            autosave: crate::scenario::autosave::Autosave::new(Default::default()),
            repaint,
        }
    }

    pub fn lang(&self) -> Lang {
        self.settings.lang
    }

    pub fn layer(&self, id: LayerId) -> Option<&MapLayer> {
        self.layers.iter().find(|l| l.id == id)
    }

    fn position(&self, id: LayerId) -> Option<usize> {
        self.layers.iter().position(|l| l.id == id)
    }

    /// Adds a prepared layer on top and returns its id.
    pub fn add_layer(&mut self, prepared: PreparedLayer) -> LayerId {
        let id = self.next_id;
        self.next_id += 1;
        let layer = MapLayer::from_prepared(id, prepared);
        for w in &layer.warnings {
            self.notices.push(Notice {
                text: w.to_string(),
                is_error: false,
            });
        }
        // Background loads finish in any order: a saved list goes back in its saved order,
        // and fresh layers go areas under lines under points, as a map reader expects.
        let at = self
            .layers
            .iter()
            .position(|l| l.sort_key > layer.sort_key)
            .unwrap_or(self.layers.len());
        self.layers.insert(at, layer);
        id
    }

    fn add_basemap_layer(&mut self, prepared: PreparedLayer) {
        let id = self.next_id;
        self.next_id += 1;
        let mut layer = MapLayer::from_prepared(id, prepared);
        layer.set_style(LayerStyle::basemap(layer.layer.kind));
        let rank = |l: &MapLayer| {
            BASEMAP_KINDS
                .iter()
                .position(|k| *k == l.layer.kind)
                .unwrap_or(BASEMAP_KINDS.len())
        };
        let at = self
            .basemap_layers
            .iter()
            .position(|l| rank(l) > rank(&layer))
            .unwrap_or(self.basemap_layers.len());
        self.basemap_layers.insert(at, layer);
    }

    /// Starts loading files on background threads, with the choices remembered for each.
    /// A file whose coordinate system the format cannot state (a table or KML) and that
    /// has no remembered choice goes to the import dialog first: the app never decides
    /// WGS84 vs GCJ-02 vs BD-09 silently.
    pub fn open_files(&mut self, paths: Vec<PathBuf>) {
        for path in paths {
            if self.loads.iter().any(|j| j.path == path && !j.for_basemap) {
                continue;
            }
            let remembered = self.settings.import_choices.get(&path_key(&path));
            let options = remembered
                .map(ImportChoice::read_options)
                .unwrap_or_default();
            let review =
                remembered.is_none() && !crate::io::Format::from_path(&path).states_its_crs();
            let mut job = LoadJob::start(path, options, None, self.repaint.clone());
            job.review = review;
            self.loads.push(job);
        }
    }

    /// Reads a file again (in the background) for the import dialog with these choices.
    pub fn review_import(&mut self, path: PathBuf, options: crate::io::ReadOptions) {
        self.loads.retain(|j| !(j.path == path && j.review));
        let mut job = LoadJob::start(path, options, None, self.repaint.clone());
        job.review = true;
        self.loads.push(job);
    }

    fn accept_import(&mut self) {
        let Some(pending) = self.pending_import.take() else {
            return;
        };
        match pending.outcome {
            Ok((layers, _)) => {
                self.settings.import_choices.insert(
                    path_key(&pending.path),
                    ImportChoice::from_options(&pending.options),
                );
                let mut bbox = None;
                for prepared in layers {
                    if let Some(b) = prepared.layer.bbox() {
                        bbox = Some(bbox.map_or(b, |a| union_rect(a, b)));
                    }
                    self.add_layer(prepared);
                }
                if let Some(b) = bbox {
                    self.view_request = Some(ViewRequest::Fit(b));
                }
            }
            Err(message) => self.notices.push(Notice {
                text: message,
                is_error: true,
            }),
        }
    }

    /// Loads a saved layer list (or the demo district) in the background.
    pub fn restore_layers(&mut self, demo_dir: Option<&Path>) {
        match self.settings.layers.clone() {
            Some(saved) => {
                for (i, s) in saved.into_iter().enumerate() {
                    let path = s.path.clone();
                    let options = self
                        .settings
                        .import_choices
                        .get(&path_key(&path))
                        .map(ImportChoice::read_options)
                        .unwrap_or_default();
                    self.loads.push(LoadJob::start(
                        path,
                        options,
                        Some((i, s)),
                        self.repaint.clone(),
                    ));
                }
            }
            None => {
                if let Some(dir) = demo_dir {
                    self.open_files(geojson_files(dir));
                }
            }
        }
    }

    /// Loads the reference layers (borders, water, rivers, roads) the built-in basemap is
    /// drawn from, in the background.
    pub fn load_basemap_data(&mut self, default_dir: Option<&Path>) {
        let dir = self
            .settings
            .basemap_data_dir
            .clone()
            .or_else(|| default_dir.map(Path::to_path_buf));
        let Some(dir) = dir else {
            return;
        };
        if !dir.is_dir() {
            self.notices.push(Notice {
                text: format!(
                    "{}: {}",
                    dir.display(),
                    self.lang().pick(
                        "无法读取底图数据文件夹",
                        "cannot read the basemap data folder"
                    )
                ),
                is_error: true,
            });
            return;
        }
        let files = geojson_files(&dir).into_iter().filter(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default();
            BASEMAP_KINDS.contains(&LayerKind::guess_from_name(&stem))
        });
        for path in files {
            let mut job = LoadJob::start(
                path,
                crate::io::ReadOptions::default(),
                None,
                self.repaint.clone(),
            );
            job.for_basemap = true;
            self.loads.push(job);
        }
    }

    /// Keeps the status-area history bounded: the newest notices matter, and a file with
    /// thousands of bad features must not grow it without end.
    fn trim_notices(&mut self) {
        const KEEP: usize = 500;
        if self.notices.len() > KEEP {
            let excess = self.notices.len() - KEEP;
            self.notices.drain(..excess);
        }
    }

    /// Moves finished background loads into the layer list. Returns true when any finished.
    pub fn poll_loads(&mut self) -> bool {
        let mut finished = Vec::new();
        self.loads.retain_mut(|job| match job.poll() {
            Some(result) => {
                finished.push((
                    job.for_basemap,
                    job.review.then(|| (job.path.clone(), job.options.clone())),
                    result,
                ));
                false
            }
            None => true,
        });
        let any = !finished.is_empty();
        if any {
            self.live_areas = None;
        }
        for (for_basemap, review, result) in finished {
            if let Some((path, options)) = review {
                if let Ok((layers, _)) = &result
                    && let Some(bbox) = layers
                        .iter()
                        .filter_map(|l| l.layer.bbox())
                        .reduce(union_rect)
                {
                    self.view_request = Some(ViewRequest::Fit(bbox));
                }
                self.pending_import = Some(PendingImport {
                    path,
                    options,
                    outcome: result,
                });
                continue;
            }
            match result {
                Ok((layers, _)) if for_basemap => {
                    for prepared in layers {
                        self.add_basemap_layer(prepared);
                    }
                }
                Ok((layers, _)) => {
                    for prepared in layers {
                        self.add_layer(prepared);
                    }
                }
                Err(message) => self.notices.push(Notice {
                    text: message,
                    is_error: true,
                }),
            }
        }
        self.trim_notices();
        if any && self.loads.is_empty() {
            // Reports depend on the loaded layers: bring them up to date once all are in.
            self.refresh_shelter_flags();
            self.refresh_incident_report();
            self.refresh_zone_report();
        }
        if any
            && self.loads.is_empty()
            && self.view_request.is_none()
            && self.settings.view_center.is_none()
            && let Some(bbox) = self.extent()
        {
            self.view_request = Some(ViewRequest::Fit(bbox));
        }
        any
    }

    /// Blocks until every background load has finished (tests and headless use).
    pub fn wait_for_loads(&mut self) {
        while !self.loads.is_empty() {
            for job in &mut self.loads {
                job.wait();
            }
            self.poll_loads();
        }
    }

    /// Bounding box of every visible layer.
    pub fn extent(&self) -> Option<geo::Rect<f64>> {
        let boxes: Vec<geo::Rect<f64>> = self
            .layers
            .iter()
            .filter(|l| l.visible && l.layer.kind != LayerKind::NeighbourBorder)
            .filter_map(|l| l.layer.bbox())
            .collect();
        let first = *boxes.first()?;
        Some(boxes.iter().fold(first, |a, b| union_rect(a, *b)))
    }

    /// The layer list as it should be remembered.
    pub fn saved_layers(&self) -> Vec<SavedLayer> {
        self.layers
            .iter()
            .filter_map(|l| {
                Some(SavedLayer {
                    path: l.layer.path.clone()?,
                    kind: l.layer.kind,
                    style: l.style.clone(),
                    visible: l.visible,
                })
            })
            .collect()
    }

    /// Visible layers hit at a point, top layer first.
    pub fn features_at(&self, point: Point<f64>, tolerance_m: f64) -> Vec<FeatureRef> {
        let mut hits = Vec::new();
        for l in self.layers.iter().rev().filter(|l| l.visible) {
            for feature in l.index.at_point(&l.layer.geometries, point, tolerance_m) {
                hits.push(FeatureRef {
                    layer: l.id,
                    feature,
                });
            }
        }
        hits
    }

    /// Carries out one command.
    pub fn apply(&mut self, command: Command) {
        self.apply_one(command);
        self.trim_notices();
    }

    fn apply_one(&mut self, command: Command) {
        match command {
            Command::OpenFiles(paths) => self.open_files(paths),
            Command::ReviewImport(path, options) => self.review_import(path, options),
            Command::AcceptImport => self.accept_import(),
            Command::CancelImport => self.pending_import = None,
            Command::SetVisible(id, visible) => {
                if let Some(i) = self.position(id) {
                    self.layers[i].visible = visible;
                    self.identified.retain(|f| f.layer != id || visible);
                }
            }
            Command::SetStyle(id, style) => {
                if let Some(i) = self.position(id) {
                    self.layers[i].set_style(style);
                }
            }
            Command::SetKind(id, kind) => {
                if let Some(i) = self.position(id) {
                    self.layers[i].layer.kind = kind;
                    self.layers[i].set_style(LayerStyle::preset(kind));
                }
            }
            Command::MoveLayer(id, delta) => {
                if let Some(i) = self.position(id) {
                    let j = (i as i64 + i64::from(delta)).clamp(0, self.layers.len() as i64 - 1);
                    let layer = self.layers.remove(i);
                    self.layers.insert(j as usize, layer);
                }
            }
            Command::RemoveLayer(id) => {
                self.live_areas = None;
                self.layers.retain(|l| l.id != id);
                self.refresh_shelter_flags();
                self.identified.retain(|f| f.layer != id);
                self.search_results.retain(|f| f.layer != id);
                if self.highlighted.as_ref().is_some_and(|h| h.layer == id) {
                    self.highlighted = None;
                }
            }
            Command::ZoomToLayer(id) => {
                if let Some(bbox) = self.layer(id).and_then(|l| l.layer.bbox()) {
                    self.view_request = Some(ViewRequest::Fit(bbox));
                }
            }
            Command::Identify(point, tolerance_m) => {
                self.identified = self.features_at(point, tolerance_m);
                self.highlighted = self.identified.first().cloned();
            }
            Command::ClearIdentify => {
                self.identified.clear();
                self.highlighted = None;
            }
            Command::Search(query) => {
                self.search_results = search::search(&self.layers, &query, 200);
                self.search_query = query;
            }
            Command::FlyTo(feature) => {
                if let Some(l) = self.layer(feature.layer)
                    && let Some(g) = l.layer.geometries.get(feature.feature)
                {
                    use geo::BoundingRect;
                    if let Some(r) = g.bounding_rect() {
                        let c = r.center();
                        let extent_deg = r.width().max(r.height());
                        let zoom = if extent_deg < 0.002 {
                            16.0
                        } else {
                            (16.0 - (extent_deg / 0.002).log2()).clamp(8.0, 16.0)
                        };
                        self.view_request = Some(ViewRequest::Center {
                            lon: c.x,
                            lat: c.y,
                            zoom,
                        });
                    }
                    self.highlighted = Some(feature);
                }
            }
            Command::SetLanguage(lang) => self.settings.lang = lang,
            Command::SetShowLabels(show) => self.settings.show_labels = show,
            Command::CancelLoads => {
                for job in &self.loads {
                    job.cancel();
                }
            }
            Command::DismissNotices => self.notices.clear(),
            Command::ComputeResponseAreas => self.compute_response_areas(),
            Command::SetStationBusy(id, busy) => {
                if busy {
                    self.response.busy.insert(id);
                } else {
                    self.response.busy.remove(&id);
                }
                self.refresh_response_areas();
            }
            Command::SetResponseBands(bands) => {
                if !bands.is_empty() {
                    self.response.options.bands_min = bands;
                    self.refresh_response_areas();
                }
            }
            Command::SetResponseMode(mode) => {
                self.response.options.mode = mode;
                self.refresh_response_areas();
            }
            Command::SetTurnout(seconds) => {
                if seconds.is_finite() && seconds >= 0.0 {
                    self.response.options.turnout_s = seconds;
                    self.refresh_response_areas();
                }
            }
            Command::SetSpeed(class, kmh) => {
                if let Err(e) = self.response.speeds.set(&class, kmh) {
                    self.notices.push(Notice {
                        text: e.to_string(),
                        is_error: true,
                    });
                } else {
                    self.refresh_response_areas();
                }
            }
            Command::ResetSpeeds => {
                self.response.speeds = crate::analysis::road_graph::SpeedTable::emergency_default();
                self.refresh_response_areas();
            }
            Command::ComputeCoverage(minutes) => self.compute_coverage(minutes),
            Command::ClearCoverage => self.coverage = None,
            Command::SetDragStations(on) => self.drag_stations = on,
            Command::MovePoint {
                layer,
                feature,
                lon,
                lat,
            } => self.move_point(layer, feature, lon, lat),
            Command::PlaceIncident { kind, lon, lat } => self.place_incident(kind, lon, lat),
            Command::SelectIncident(id) => {
                self.selected_incident = id;
                self.refresh_incident_report();
            }
            Command::SelectZone(id) => {
                self.selected_zone = id;
                self.refresh_zone_report();
            }
            Command::AddPolygonZone(ring) => {
                let ring = ring
                    .into_iter()
                    .map(|[lon, lat]| crate::scenario::document::LonLat::new(lon, lat))
                    .collect();
                self.add_zone(crate::scenario::document::ZoneShape::polygon(ring), None);
            }
            Command::AddCircleZone { lon, lat, radius_m } => self.add_zone(
                crate::scenario::document::ZoneShape::Circle {
                    centre: crate::scenario::document::LonLat::new(lon, lat),
                    radius_m,
                },
                None,
            ),
            Command::AddZone(shape, name) => self.add_zone(shape, Some(name)),
            Command::Edit(edit, merging) => self.apply_edit(edit, merging),
            Command::EndGesture => self.history.end_gesture(),
            Command::Undo => self.undo(),
            Command::Redo => self.redo(),
            Command::SaveProject(path) => {
                self.save_project(&path);
            }
            Command::OpenProject(path) => self.open_project(&path),
            Command::ComputeSiting {
                k,
                spacing_m,
                minutes,
            } => {
                if k > 0 && spacing_m.is_finite() && spacing_m >= 50.0 && minutes > 0.0 {
                    self.compute_siting(k, spacing_m, minutes);
                }
            }
            Command::ClearSiting => self.siting = None,
            Command::SetNeedQuantity(i, quantity) => {
                if quantity.is_finite()
                    && quantity >= 0.0
                    && let Some(item) = self.needs.items.get_mut(i)
                {
                    item.quantity = quantity;
                    self.refresh_zone_report();
                }
            }
            Command::SetApprovalNumber(number) => self.settings.approval_number = number,
            Command::Notify(text) => self.notices.push(Notice {
                text,
                is_error: true,
            }),
            Command::SetM2PerPerson(m2) => {
                if m2.is_finite() && m2 > 0.0 {
                    self.m2_per_person = m2;
                    self.refresh_incident_report();
                    self.refresh_zone_report();
                }
            }
        }
    }

    /// Features of a layer to mark as problems: those the coverage report found uncovered,
    /// and shelters failing a siting check (pipeline, waterlogging, geohazard, hazchem).
    pub fn flagged_features(&self, layer: LayerId) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .coverage
            .as_ref()
            .and_then(|c| c.layers.iter().find(|(id, _)| *id == layer))
            .map(|(_, c)| c.uncovered_rows.clone())
            .unwrap_or_default();
        if let Some((id, flagged)) = &self.shelter_flags
            && *id == layer
        {
            rows.extend(flagged.iter().map(|f| f.row));
            rows.sort_unstable();
            rows.dedup();
        }
        rows
    }

    /// Runs the shelter siting checks over the loaded shelter layer against the loaded
    /// hazard layers, so failing shelters are marked on the map.
    pub fn refresh_shelter_flags(&mut self) {
        use crate::analysis::shelters::{HazardKind, HazardLayer, SitingOptions, siting_flags};
        let Some(shelters) = self
            .layers
            .iter()
            .find(|l| l.layer.kind == LayerKind::Shelter)
        else {
            self.shelter_flags = None;
            return;
        };
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
        let flags = siting_flags(&shelters.layer, &hazards, &SitingOptions::default());
        self.shelter_flags = Some((shelters.id, flags));
    }

    /// Moves one point feature and refreshes what depends on it (index, drawing, areas).
    fn move_point(&mut self, layer: LayerId, feature: usize, lon: f64, lat: f64) {
        if !(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0) {
            return;
        }
        let Some(i) = self.position(layer) else {
            return;
        };
        let map_layer = &mut self.layers[i];
        let Some(geo::Geometry::Point(p)) = map_layer.layer.geometries.get_mut(feature) else {
            return;
        };
        *p = Point::new(lon, lat);
        map_layer.index = LayerIndex::build(&map_layer.layer.geometries);
        map_layer.render = RenderCache::build(&map_layer.layer);
        if map_layer.layer.kind != LayerKind::FireStation {
            return;
        }
        let id = crate::analysis::reach::station_id(&map_layer.layer, feature);
        if self.response_layer.is_some() && self.move_live_station(&id, lon, lat) {
            return;
        }
        self.refresh_response_areas();
    }

    /// Follows a dragged station with the per-station grids (one reach, one grid merge);
    /// false when they cannot answer and a full compute is needed.
    fn move_live_station(&mut self, id: &str, lon: f64, lat: f64) -> bool {
        let Ok(network) =
            response::network_of(&self.layers, &mut self.road_network, &self.response.speeds)
        else {
            return false;
        };
        if self.live_areas.is_none() {
            let stations: Vec<&Layer> = self
                .layers
                .iter()
                .filter(|l| l.layer.kind == LayerKind::FireStation)
                .map(|l| &l.layer)
                .collect();
            self.live_areas = response::LiveAreas::start(network, &stations, &self.response);
        }
        let Some(live) = self.live_areas.as_mut() else {
            return false;
        };
        let Some(result) =
            live.move_station(network, id, geo::Coord { x: lon, y: lat }, &self.response)
        else {
            self.live_areas = None;
            return false;
        };
        self.show_response_result(result);
        if let Some(minutes) = self.coverage.as_ref().map(|c| c.minutes) {
            self.compute_coverage(minutes);
        }
        if self.incident_report.is_some() {
            self.refresh_incident_report();
        }
        true
    }

    fn compute_coverage(&mut self, minutes: f64) {
        if !(minutes.is_finite() && minutes > 0.0) {
            return;
        }
        let roads: Vec<(LayerId, &Layer)> = self
            .layers
            .iter()
            .filter(|l| l.layer.kind == LayerKind::Road)
            .map(|l| (l.id, &l.layer))
            .collect();
        let stations: Vec<&Layer> = self
            .layers
            .iter()
            .filter(|l| l.layer.kind == LayerKind::FireStation)
            .map(|l| &l.layer)
            .collect();
        let population = first_of_kind(&self.layers, LayerKind::Population);
        let builtup = first_of_kind(&self.layers, LayerKind::BuiltUp);
        // The features a commander must reach: visible point layers that are not the
        // stations themselves, population cells or analysis results.
        let checked: Vec<(LayerId, &Layer)> = self
            .layers
            .iter()
            .filter(|l| {
                l.visible
                    && Some(l.id) != self.response_layer
                    && !matches!(
                        l.layer.kind,
                        LayerKind::FireStation
                            | LayerKind::Population
                            | LayerKind::Road
                            | LayerKind::BuiltUp
                            | LayerKind::DistrictBorder
                            | LayerKind::NeighbourBorder
                            | LayerKind::Division
                            | LayerKind::Water
                            | LayerKind::River
                            | LayerKind::Generic
                    )
                    && l.layer
                        .geometries
                        .first()
                        .is_some_and(|g| matches!(g, geo::Geometry::Point(_)))
            })
            .map(|l| (l.id, &l.layer))
            .collect();
        let inputs = response::CoverageInputs {
            roads: &roads,
            station_layers: &stations,
            population,
            builtup,
            layers: &checked,
        };
        let result = response::coverage(&inputs, &self.response, minutes, &mut self.road_network);
        match result {
            Ok(summary) => {
                for w in &summary.warnings {
                    self.notices.push(Notice {
                        text: w.clone(),
                        is_error: false,
                    });
                }
                self.coverage = Some(summary);
            }
            Err(e) => {
                let lang = self.lang();
                self.notices.push(Notice {
                    text: format!("{}: {e}", lang.pick("无法计算覆盖", "No coverage report")),
                    is_error: true,
                });
            }
        }
    }

    /// Fire stations of every fire-station layer, with their ids, for the busy list.
    pub fn station_ids(&self) -> Vec<String> {
        self.layers
            .iter()
            .filter(|l| l.layer.kind == LayerKind::FireStation)
            .flat_map(|l| response::stations_of(&l.layer))
            .collect()
    }

    /// Recomputes the areas (and the coverage report) when they are on screen, so edits
    /// show at once.
    fn refresh_response_areas(&mut self) {
        if self.incident_report.is_some() {
            self.refresh_incident_report();
        }
        if let Some(minutes) = self.coverage.as_ref().map(|c| c.minutes) {
            self.compute_coverage(minutes);
        }
        if self
            .response_layer
            .is_some_and(|id| self.layer(id).is_some())
        {
            self.compute_response_areas();
        }
    }

    fn compute_response_areas(&mut self) {
        let roads: Vec<(LayerId, &Layer)> = self
            .layers
            .iter()
            .filter(|l| l.layer.kind == LayerKind::Road)
            .map(|l| (l.id, &l.layer))
            .collect();
        let stations: Vec<&Layer> = self
            .layers
            .iter()
            .filter(|l| l.layer.kind == LayerKind::FireStation)
            .map(|l| &l.layer)
            .collect();
        let lang = self.lang();
        match response::compute(&roads, &stations, &self.response, &mut self.road_network) {
            Err(e) => {
                self.notices.push(Notice {
                    text: format!("{}: {e}", lang.pick("无法计算响应区", "No response areas")),
                    is_error: true,
                });
            }
            Ok(result) => {
                self.live_areas = None;
                self.show_response_result(result);
            }
        }
    }

    /// Puts computed bands on the map (replacing the previous ones) and in the panel.
    fn show_response_result(&mut self, result: response::ResponseResult) {
        for w in &result.warnings {
            self.notices.push(Notice {
                text: w.clone(),
                is_error: false,
            });
        }
        self.response_bands = result
            .bands
            .iter()
            .map(|b| (b.minutes, b.area_km2))
            .collect();
        self.responding = result.responding;
        self.response_estimate = result.estimate;
        let style = response::bands_style(&self.response.options.bands_min);
        let prepared = PreparedLayer {
            index: LayerIndex::build(&result.layer.geometries),
            render: RenderCache::build(&result.layer),
            layer: result.layer,
            warnings: Vec::new(),
            style: Some(style),
            visible: true,
            saved_index: None,
            for_basemap: false,
        };
        match self.response_layer.and_then(|id| self.position(id)) {
            Some(i) => {
                let id = self.layers[i].id;
                let mut layer = MapLayer::from_prepared(id, prepared);
                layer.visible = self.layers[i].visible;
                self.layers[i] = layer;
                self.identified.retain(|f| f.layer != id);
            }
            None => {
                let id = self.add_layer(prepared);
                // Over the roads and areas, under the point symbols: the bands are
                // the answer the user asked for.
                if let Some(from) = self.position(id) {
                    let layer = self.layers.remove(from);
                    let to = self
                        .layers
                        .iter()
                        .position(|l| draw_rank(l.layer.kind, &l.render) >= 7)
                        .unwrap_or(self.layers.len());
                    self.layers.insert(to, layer);
                }
                self.response_layer = Some(id);
            }
        }
    }
}

/// The kinds of layer the built-in basemap draws, bottom first.
pub const BASEMAP_KINDS: [LayerKind; 5] = [
    LayerKind::NeighbourBorder,
    LayerKind::DistrictBorder,
    LayerKind::Water,
    LayerKind::River,
    LayerKind::Road,
];

/// Default drawing order: areas, then lines, then points; borders above areas.
fn draw_rank(kind: LayerKind, render: &RenderCache) -> u8 {
    use crate::map::render::PreparedGeometry;
    match kind {
        LayerKind::NeighbourBorder => return 0,
        LayerKind::BuiltUp => return 1,
        LayerKind::Population => return 7,
        LayerKind::DistrictBorder => return 5,
        _ => {}
    }
    match render.features.first() {
        Some(PreparedGeometry::Polygons(_)) => 2,
        Some(PreparedGeometry::Lines(_)) => 4,
        Some(PreparedGeometry::Point(_) | PreparedGeometry::Points(_)) => 8,
        _ => 6,
    }
}

fn union_rect(a: geo::Rect<f64>, b: geo::Rect<f64>) -> geo::Rect<f64> {
    geo::Rect::new(
        geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
        geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
    )
}

/// The first loaded layer of a kind (the one analyses read: population, shelters, ...).
pub fn first_of_kind(layers: &[MapLayer], kind: LayerKind) -> Option<&Layer> {
    layers
        .iter()
        .find(|l| l.layer.kind == kind)
        .map(|l| &l.layer)
}

/// How a file is named in the remembered import choices.
pub fn path_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// The GeoJSON files of a folder, sorted (unreadable folders give none).
pub fn geojson_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "geojson"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The demo district folder: next to the working directory, the executable, or the source.
pub fn demo_dir() -> Option<PathBuf> {
    let relative = Path::new("maps").join("zhoucun");
    let mut candidates = vec![relative.clone()];
    if let Ok(exe) = std::env::current_exe() {
        for ancestor in exe.ancestors().skip(1).take(4) {
            candidates.push(ancestor.join(&relative));
        }
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(&relative));
    candidates.into_iter().find(|p| p.is_dir())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn state_with(paths: &[&str]) -> AppState {
        let settings = Settings {
            layers: Some(Vec::new()),
            ..Settings::default()
        };
        let mut state = AppState::new(settings, None);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        state.open_files(paths.iter().map(|p| dir.join(p)).collect());
        state.wait_for_loads();
        state
    }

    #[test]
    fn commands_reorder_hide_restyle_and_remove_layers() {
        let mut state = state_with(&["zone_small.geojson", "fire_stations_small.geojson"]);
        assert_eq!(state.layers.len(), 2);
        // Areas go under points by default.
        assert!(matches!(
            state.layers[0].render.features[0],
            crate::map::render::PreparedGeometry::Polygons(_)
        ));
        let (bottom, top) = (state.layers[0].id, state.layers[1].id);
        state.apply(Command::MoveLayer(bottom, 1));
        assert_eq!(state.layers[1].id, bottom);
        state.apply(Command::MoveLayer(bottom, 5));
        assert_eq!(state.layers[1].id, bottom, "moves clamp at the top");

        let inside_station = Point::new(117.85, 36.80);
        state.apply(Command::Identify(inside_station, 30.0));
        assert_eq!(
            state.identified.len(),
            2,
            "the station and the zone under it"
        );
        state.apply(Command::SetVisible(top, false));
        assert_eq!(
            state.identified.len(),
            1,
            "hidden layers leave the identify list"
        );
        state.apply(Command::Identify(inside_station, 30.0));
        assert_eq!(state.identified.len(), 1);

        let mut style = state.layer(bottom).unwrap().style.clone();
        style.categorize_by(&state.layer(bottom).unwrap().layer.attributes, "name");
        state.apply(Command::SetStyle(bottom, style));
        assert_eq!(state.layer(bottom).unwrap().classes, vec![0]);

        let saved = state.saved_layers();
        assert_eq!(saved.len(), 2);
        assert!(
            !saved
                .iter()
                .find(|s| s.path.ends_with("fire_stations_small.geojson"))
                .unwrap()
                .visible
        );

        state.apply(Command::RemoveLayer(bottom));
        assert_eq!(state.layers.len(), 1);
        assert!(state.identified.iter().all(|f| f.layer != bottom));
    }

    #[test]
    fn settings_survive_a_round_trip_and_unknown_fields() {
        let mut settings = Settings {
            lang: Lang::En,
            view_center: Some((117.8, 36.7)),
            ..Settings::default()
        };
        settings.layers = Some(vec![SavedLayer {
            path: PathBuf::from("a.geojson"),
            kind: LayerKind::Shelter,
            style: LayerStyle::preset(LayerKind::Shelter),
            visible: false,
        }]);
        let text = serde_json::to_string(&settings).unwrap();
        let back: Settings = serde_json::from_str(&text).unwrap();
        assert_eq!(back, settings);
        // Settings from an older or newer version still load, with defaults filled in.
        let partial: Settings = serde_json::from_str(r#"{"lang":"Zh","future":1}"#).unwrap();
        assert_eq!(partial.lang, Lang::Zh);
        assert!(partial.show_labels);
    }

    #[test]
    fn a_missing_file_becomes_an_error_notice_not_a_layer() {
        let state = state_with(&["does_not_exist.geojson"]);
        assert!(state.layers.is_empty());
        assert!(
            state
                .notices
                .iter()
                .any(|n| n.is_error && n.text.contains("does_not_exist"))
        );
    }
}
