//! The main window: menu bar, layer panel and legend on the left, search and identify on
//! the right, status bar below, the map in the middle.

use std::path::PathBuf;

use egui::{Panel, Ui};

use super::coverage_panel::CoveragePanel;
use super::import_dialog::ImportDialog;
use super::incident_panel::IncidentPanel;
use super::layers_panel::LayersPanel;
use super::response_panel::ResponsePanel;
use super::search_panel::SearchPanel;
use super::zone_panel::{ZoneExport, ZonePanel};
use crate::map::tools::MapTool;
use crate::model::IncidentKind;

/// The groups of panels on the right side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RightTab {
    Analysis,
    Incident,
    Zones,
    Query,
}
use super::{dialogs, identify_panel, legend};
use crate::app::{AppState, Command, Settings, demo_dir};
use crate::i18n::Lang;
use crate::map::basemap::Basemaps;
use crate::map::view::MapView;

/// Key of the persisted settings in eframe's storage.
const SETTINGS_KEY: &str = "onemap-settings";

/// The application: state plus the UI-only parts of panels.
pub struct OneMapApp {
    pub state: AppState,
    pub map: MapView,
    pub basemaps: Basemaps,
    layers_panel: LayersPanel,
    search_panel: SearchPanel,
    response_panel: ResponsePanel,
    coverage_panel: CoveragePanel,
    import_dialog: ImportDialog,
    incident_panel: IncidentPanel,
    zone_panel: ZonePanel,
    /// The kind the "place incident" tool drops.
    incident_kind: IncidentKind,
    /// When the window started, for the autosave clock.
    started: std::time::Instant,
    /// Which group of panels the right side shows.
    pub right_tab: RightTab,
}

impl OneMapApp {
    /// Start-up from eframe: restores settings, installs fonts, starts loading layers.
    pub fn new(cc: &eframe::CreationContext<'_>, files: Vec<PathBuf>) -> OneMapApp {
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        let mut app = Self::with_settings(&cc.egui_ctx, settings, files);
        let recovery = directories::ProjectDirs::from("", "", "OneMap")
            .map(|dirs| dirs.data_dir().join("unsaved-work.onemap"));
        if let Some(path) = &recovery
            && path.exists()
            && app.state.project_path.is_none()
        {
            let lang = app.state.lang();
            app.state.notices.push(crate::app::Notice {
                text: format!(
                    "{}: {}",
                    lang.pick(
                        "上次未保存的事件和疏散区已自动保存，可用“文件 > 打开项目”恢复",
                        "Incidents and zones from an unsaved session were kept; File > Open project restores them",
                    ),
                    path.display()
                ),
                is_error: false,
            });
        }
        if let Some(dir) = recovery.as_ref().and_then(|p| p.parent()) {
            // Without the folder there is nowhere to keep unsaved work: autosave then waits
            // for a project file, as before.
            if std::fs::create_dir_all(dir).is_ok() {
                app.state.recovery_path = recovery;
            }
        }
        app
    }

    /// Start-up with given settings (tests use this with no storage).
    pub fn with_settings(
        ctx: &egui::Context,
        mut settings: Settings,
        files: Vec<PathBuf>,
    ) -> OneMapApp {
        if let Ok(lang) = std::env::var("ONEMAP_LANG") {
            settings.lang = match lang.as_str() {
                "en" => Lang::En,
                _ => Lang::Zh,
            };
        }
        let cache_dir = directories::ProjectDirs::from("", "", "OneMap")
            .map(|dirs| dirs.cache_dir().to_path_buf());
        let mut basemaps = Basemaps::new(ctx, cache_dir);
        // A problem (e.g. a PMTiles file now missing) is shown by the map; never fatal.
        let _ = basemaps.set_choice(&settings.basemap.choice, ctx);
        let restored_view = settings.view_center.zip(settings.view_zoom);
        let mut state = AppState::new(settings, Some(ctx.clone()));
        if let Some(((lon, lat), zoom)) = restored_view {
            state.view_request = Some(crate::app::ViewRequest::Center { lon, lat, zoom });
        }
        let demo = demo_dir();
        state.load_basemap_data(demo.as_deref());
        let is_project = |p: &PathBuf| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(crate::scenario::project::EXTENSION))
        };
        let (projects, files): (Vec<PathBuf>, Vec<PathBuf>) =
            files.into_iter().partition(is_project);
        match projects.first() {
            // A project brings its own layers.
            Some(project) => state.open_project(project),
            None => state.restore_layers(demo.as_deref()),
        }
        state.open_files(files);
        let right_tab = if state.selected_incident.is_some() {
            RightTab::Incident
        } else {
            RightTab::Analysis
        };
        OneMapApp {
            state,
            map: MapView::default(),
            basemaps,
            layers_panel: LayersPanel::default(),
            search_panel: SearchPanel::default(),
            response_panel: ResponsePanel::default(),
            coverage_panel: CoveragePanel::default(),
            import_dialog: ImportDialog::default(),
            incident_panel: IncidentPanel::default(),
            zone_panel: ZonePanel::default(),
            incident_kind: IncidentKind::Fire,
            started: std::time::Instant::now(),
            right_tab,
        }
    }

    fn apply_all(&mut self, commands: Vec<Command>) {
        for command in commands {
            // Show the panel that answers what the user just did.
            match command {
                Command::Identify(..) => self.right_tab = RightTab::Query,
                Command::PlaceIncident { .. } => {
                    // One incident per click of the tool: back to browsing, so the next
                    // click on the map selects or identifies.
                    self.map.sketch.set_tool(MapTool::Browse);
                    self.right_tab = RightTab::Incident;
                }
                Command::SelectIncident(Some(_)) => self.right_tab = RightTab::Incident,
                Command::AddPolygonZone(_)
                | Command::AddCircleZone { .. }
                | Command::AddZone(..)
                | Command::SelectZone(Some(_)) => self.right_tab = RightTab::Zones,
                _ => {}
            }
            self.state.apply(command);
        }
    }

    /// Draws one frame.
    pub fn frame(&mut self, ui: &mut Ui) {
        self.state.poll_loads();
        self.state
            .autosave_tick(self.started.elapsed().as_secs_f64());
        let lang = self.state.lang();
        let mut commands = Vec::new();

        let dropped: Vec<PathBuf> = ui.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            commands.push(Command::OpenFiles(dropped));
        }

        Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button(lang.pick("文件", "File"), |ui| {
                    if ui.button(lang.pick("打开…", "Open…")).clicked() {
                        let files = dialogs::pick_layer_files(lang.pick("打开图层", "Open layers"));
                        if !files.is_empty() {
                            commands.push(Command::OpenFiles(files));
                        }
                        ui.close();
                    }
                    if ui
                        .button(lang.pick("导入（检查坐标系）…", "Import (check coordinates)…"))
                        .clicked()
                    {
                        let files =
                            dialogs::pick_layer_files(lang.pick("导入图层", "Import a layer"));
                        if let Some(path) = files.into_iter().next() {
                            commands.push(Command::ReviewImport(path, Default::default()));
                        }
                        ui.close();
                    }
                    if let Some(dir) = demo_dir()
                        && ui
                            .button(
                                lang.pick("打开演示区（周村）", "Open the demo district (Zhoucun)"),
                            )
                            .clicked()
                    {
                        commands.push(Command::OpenFiles(crate::app::geojson_files(&dir)));
                        ui.close();
                    }
                    ui.separator();
                    if ui.button(lang.pick("打开项目…", "Open project…")).clicked() {
                        if let Some(path) = dialogs::pick_file(
                            lang.pick("打开项目", "Open project"),
                            "OneMap",
                            &[crate::scenario::project::EXTENSION],
                        ) {
                            commands.push(Command::OpenProject(path));
                        }
                        ui.close();
                    }
                    if ui.button(lang.pick("保存项目", "Save project")).clicked() {
                        let path = self.state.project_file().cloned().or_else(|| {
                            dialogs::save_file(
                                lang.pick("保存项目", "Save project"),
                                "OneMap",
                                crate::scenario::project::EXTENSION,
                            )
                        });
                        if let Some(path) = path {
                            commands.push(Command::SaveProject(path));
                        }
                        ui.close();
                    }
                    if ui
                        .button(lang.pick("项目另存为…", "Save project as…"))
                        .clicked()
                    {
                        if let Some(path) = dialogs::save_file(
                            lang.pick("项目另存为", "Save project as"),
                            "OneMap",
                            crate::scenario::project::EXTENSION,
                        ) {
                            commands.push(Command::SaveProject(path));
                        }
                        ui.close();
                    }
                    ui.separator();
                    ui.horizontal(|ui| {
                        let label = ui.label(lang.pick("审图号", "Map approval No."));
                        let mut number = self.state.settings.approval_number.clone();
                        if ui
                            .add(
                                egui::TextEdit::singleline(&mut number)
                                    .hint_text("GS(2024)0000")
                                    .desired_width(120.0),
                            )
                            .labelled_by(label.id)
                            .changed()
                        {
                            commands.push(Command::SetApprovalNumber(number));
                        }
                    });
                    if ui
                        .button(lang.pick("导出地图为 PNG…", "Export the map as PNG…"))
                        .clicked()
                    {
                        if let Some(path) = dialogs::save_file(
                            lang.pick("导出地图", "Export the map"),
                            "PNG",
                            "png",
                        ) {
                            self.export_map_png(&path);
                        }
                        ui.close();
                    }
                });
                ui.menu_button(lang.pick("视图", "View"), |ui| {
                    let mut labels = self.state.settings.show_labels;
                    if ui
                        .checkbox(&mut labels, lang.pick("显示标注", "Show labels"))
                        .changed()
                    {
                        commands.push(Command::SetShowLabels(labels));
                    }
                    if ui.button(lang.pick("全图", "Zoom to all")).clicked() {
                        if let Some(bbox) = self.state.extent() {
                            self.state.view_request = Some(crate::app::ViewRequest::Fit(bbox));
                        }
                        ui.close();
                    }
                });
                ui.menu_button(lang.pick("底图", "Basemap"), |ui| {
                    ui.set_min_width(320.0);
                    // Basemap settings are display preferences, not map data: the switcher
                    // applies them directly rather than through a Command.
                    super::basemap_panel::basemap_panel(
                        ui,
                        lang,
                        &mut self.state.settings.basemap,
                        &mut self.basemaps,
                    );
                });
                ui.separator();
                ui.label(egui::RichText::new(lang.pick("应急一张图", "OneMap")).strong());
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    for option in [Lang::En, Lang::Zh] {
                        if ui
                            .selectable_label(lang == option, option.native_name())
                            .clicked()
                        {
                            commands.push(Command::SetLanguage(option));
                        }
                    }
                    ui.label(lang.pick("语言", "Language"));
                });
            });
        });

        commands.extend(self.import_dialog.show(ui.ctx(), &self.state));

        Panel::top("tools").show(ui, |ui| {
            commands.extend(self.toolbar(ui));
        });
        commands.extend(self.shortcuts(ui));

        Panel::bottom("status").show(ui, |ui| {
            commands.extend(self.status_bar(ui));
        });

        Panel::left("layers")
            .default_size(270.0)
            .resizable(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("left").show(ui, |ui| {
                    commands.extend(self.layers_panel.show(ui, &self.state));
                    ui.separator();
                    legend::show(ui, &self.state);
                });
            });

        Panel::right("inspect")
            .default_size(290.0)
            .resizable(true)
            .show(ui, |ui| {
                let lang = self.state.lang();
                ui.horizontal(|ui| {
                    for (tab, name) in [
                        (RightTab::Analysis, lang.pick("分析", "Analysis")),
                        (RightTab::Incident, lang.pick("事件", "Incident")),
                        (RightTab::Zones, lang.pick("疏散区", "Zones")),
                        (RightTab::Query, lang.pick("查询", "Search & identify")),
                    ] {
                        if ui.selectable_label(self.right_tab == tab, name).clicked() {
                            self.right_tab = tab;
                        }
                    }
                });
                ui.separator();
                match self.right_tab {
                    RightTab::Analysis => {
                        egui::ScrollArea::vertical()
                            .id_salt("analysis")
                            .show(ui, |ui| {
                                commands.extend(self.response_panel.show(ui, &self.state));
                                ui.separator();
                                commands.extend(self.coverage_panel.show(ui, &self.state));
                            });
                    }
                    RightTab::Incident => {
                        egui::ScrollArea::vertical()
                            .id_salt("incident")
                            .show(ui, |ui| {
                                commands.extend(self.incident_panel.show(ui, &self.state));
                            });
                    }
                    RightTab::Zones => {
                        egui::ScrollArea::vertical()
                            .id_salt("zones")
                            .show(ui, |ui| {
                                let (zone_commands, export) = self.zone_panel.show(ui, &self.state);
                                commands.extend(zone_commands);
                                if let Some(export) = export {
                                    self.export_zones(export);
                                }
                            });
                    }
                    RightTab::Query => {
                        commands.extend(self.search_panel.show(ui, &self.state));
                        ui.separator();
                        egui::ScrollArea::vertical()
                            .id_salt("identify")
                            .show(ui, |ui| {
                                commands.extend(identify_panel::show(ui, &self.state));
                            });
                    }
                }
            });

        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| {
                if let Some(request) = self.state.view_request.take() {
                    self.map.apply_request(request, ui.available_size());
                }
                commands.extend(self.map.show(ui, &self.state, &mut self.basemaps));
            });

        self.apply_all(commands);
        if !self.state.loads.is_empty() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    /// The map tools, the incident type, undo and redo.
    fn toolbar(&mut self, ui: &mut Ui) -> Vec<Command> {
        let lang = self.state.lang();
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            let current = self.map.sketch.tool;
            for tool in [
                MapTool::Browse,
                MapTool::MeasureDistance,
                MapTool::MeasureArea,
                MapTool::ZonePolygon,
                MapTool::ZoneCircle,
            ] {
                if ui
                    .selectable_label(current == tool, tool.label(lang))
                    .clicked()
                {
                    self.map.sketch.set_tool(tool);
                }
            }
            ui.separator();
            let placing = matches!(current, MapTool::PlaceIncident(_));
            if ui
                .selectable_label(placing, lang.pick("标注事件", "Place incident"))
                .clicked()
            {
                self.map
                    .sketch
                    .set_tool(MapTool::PlaceIncident(self.incident_kind));
            }
            egui::ComboBox::from_label(lang.pick("事件类型", "Incident type"))
                .selected_text(self.incident_kind.label(lang))
                .show_ui(ui, |ui| {
                    for kind in IncidentKind::ALL {
                        if ui
                            .selectable_value(&mut self.incident_kind, kind, kind.label(lang))
                            .clicked()
                        {
                            self.map.sketch.set_tool(MapTool::PlaceIncident(kind));
                        }
                    }
                });
            ui.separator();
            let history = &self.state.history;
            let undo_text = match history.undo_kind() {
                Some(kind) => format!("{} {}", lang.pick("撤销", "Undo"), kind.label(lang)),
                None => lang.pick("撤销", "Undo").to_owned(),
            };
            if ui
                .add_enabled(history.can_undo(), egui::Button::new(undo_text))
                .clicked()
            {
                commands.push(Command::Undo);
            }
            let redo_text = match history.redo_kind() {
                Some(kind) => format!("{} {}", lang.pick("重做", "Redo"), kind.label(lang)),
                None => lang.pick("重做", "Redo").to_owned(),
            };
            if ui
                .add_enabled(history.can_redo(), egui::Button::new(redo_text))
                .clicked()
            {
                commands.push(Command::Redo);
            }
        });
        commands
    }

    /// Ctrl+Z undoes, Ctrl+Y or Ctrl+Shift+Z redoes, Ctrl+S saves the project (when it has a
    /// file), Esc returns to browsing when nothing is being sketched.
    fn shortcuts(&mut self, ui: &mut Ui) -> Vec<Command> {
        let mut commands = Vec::new();
        if ui.ctx().egui_wants_keyboard_input() {
            return commands;
        }
        let (undo, redo, save, escape) = ui.input_mut(|i| {
            let redo_shift = i.consume_key(
                egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
                egui::Key::Z,
            );
            (
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z),
                redo_shift || i.consume_key(egui::Modifiers::COMMAND, egui::Key::Y),
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::S),
                i.key_pressed(egui::Key::Escape),
            )
        });
        if undo {
            commands.push(Command::Undo);
        }
        if redo {
            commands.push(Command::Redo);
        }
        if save && let Some(path) = self.state.project_file().cloned() {
            commands.push(Command::SaveProject(path));
        }
        if escape && self.map.sketch.points.is_empty() {
            self.map.sketch.set_tool(MapTool::Browse);
        }
        commands
    }

    /// Writes the map as the window shows it (layers, incidents and zones) to a PNG sheet.
    pub fn export_map_png(&mut self, path: &std::path::Path) {
        use crate::map::export::{ExportLayer, ExportRequest, ExportView, MapFrame};
        let lang = self.state.lang();
        let scenario = self.state.scenario_layer();
        let scenario_style = crate::map::symbology::LayerStyle {
            fill: [220, 40, 40, 50],
            stroke: [220, 40, 40, 255],
            stroke_width: 2.0,
            label_field: Some("name".to_owned()),
            ..crate::map::symbology::LayerStyle::default()
        };
        let mut layers: Vec<ExportLayer<'_>> = Vec::new();
        if self.basemaps.shows_builtin() {
            for l in &self.state.basemap_layers {
                layers.push(ExportLayer {
                    layer: &l.layer,
                    style: &l.style,
                    classes: &l.classes,
                    cache: Some(&l.render),
                    in_legend: false,
                });
            }
        }
        for l in self.state.layers.iter().filter(|l| l.visible) {
            layers.push(ExportLayer {
                layer: &l.layer,
                style: &l.style,
                classes: &l.classes,
                cache: Some(&l.render),
                in_legend: true,
            });
        }
        if !scenario.is_empty() {
            layers.push(ExportLayer {
                layer: &scenario,
                style: &scenario_style,
                classes: &[],
                cache: None,
                in_legend: true,
            });
        }
        let view = match self.map.last_view {
            Some(v) => ExportView::Bounds(v.visible_lonlat()),
            None => match self.state.extent() {
                Some(b) => ExportView::Bounds(b),
                None => return,
            },
        };
        let date = crate::app::work::now_iso8601();
        let date = date.get(..10).unwrap_or(&date).to_owned();
        let request = ExportRequest {
            layers: &layers,
            view,
            size: crate::map::export::DEFAULT_SIZE,
            frame: MapFrame {
                title: lang.pick("应急一张图", "Emergency map"),
                subtitle: "",
                date: &date,
                sources: lang.pick(
                    "图层数据见各图层来源；底图：OneMap 内置矢量",
                    "Layer data from their sources; basemap: OneMap built-in vector",
                ),
                approval_number: &self.state.settings.approval_number,
                legend: None,
            },
            lang,
            background: [244, 241, 233, 255],
        };
        let notice = match crate::map::export::export_png(path, &request) {
            Ok(()) => crate::app::Notice {
                text: format!(
                    "{}: {}",
                    lang.pick("已导出地图", "Map exported"),
                    path.display()
                ),
                is_error: false,
            },
            Err(e) => crate::app::Notice {
                text: format!("{}: {e}", lang.pick("导出失败", "Export failed")),
                is_error: true,
            },
        };
        self.state.notices.push(notice);
    }

    /// Zones and incidents as GeoJSON, or the selected zone's report as Markdown or CSV.
    fn export_zones(&mut self, export: ZoneExport) {
        let lang = self.state.lang();
        let (title, filter, extension) = match export {
            ZoneExport::ZonesGeoJson => (
                lang.pick("导出疏散区和事件", "Export zones and incidents"),
                "GeoJSON",
                "geojson",
            ),
            ZoneExport::ReportMarkdown => (
                lang.pick("导出疏散区报告", "Export the zone report"),
                "Markdown",
                "md",
            ),
            ZoneExport::ReportCsv => (
                lang.pick("导出疏散区报告", "Export the zone report"),
                "CSV",
                "csv",
            ),
        };
        let Some(path) = dialogs::save_file(title, filter, extension) else {
            return;
        };
        let result = match export {
            ZoneExport::ZonesGeoJson => {
                let layer = self.state.scenario_layer();
                crate::io::write::write_path(&path, &[&layer], &Default::default())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            ZoneExport::ReportMarkdown | ZoneExport::ReportCsv => match &self.state.zone_report {
                Some((_, report)) => {
                    let text = if export == ZoneExport::ReportMarkdown {
                        report.to_markdown(lang)
                    } else {
                        // Excel opens UTF-8 CSV correctly only with a byte-order mark.
                        format!("\u{feff}{}", report.to_csv(lang))
                    };
                    std::fs::write(&path, text).map_err(|e| e.to_string())
                }
                None => Err(lang.pick("没有选中的疏散区", "No zone selected").to_owned()),
            },
        };
        let notice = match result {
            Ok(()) => crate::app::Notice {
                text: format!("{}: {}", lang.pick("已导出", "Exported"), path.display()),
                is_error: false,
            },
            Err(e) => crate::app::Notice {
                text: format!("{}: {e}", lang.pick("导出失败", "Export failed")),
                is_error: true,
            },
        };
        self.state.notices.push(notice);
    }

    fn status_bar(&mut self, ui: &mut Ui) -> Vec<Command> {
        let lang = self.state.lang();
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            for job in &self.state.loads {
                let name = job
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                ui.add(
                    egui::ProgressBar::new(job.progress.fraction())
                        .desired_width(120.0)
                        .text(name),
                );
            }
            if !self.state.loads.is_empty()
                && ui.button(lang.pick("取消加载", "Cancel loading")).clicked()
            {
                commands.push(Command::CancelLoads);
            }
            if let Some((lon, lat)) = self.map.pointer_lonlat {
                ui.label(format!("{lon:.5}, {lat:.5}"));
            }
            ui.label(format!(
                "{} {}",
                self.map.last_stats.features_visible,
                lang.pick("个要素在视图内", "features in view")
            ));
            if let Some(notice) = self.state.notices.last() {
                let color = if notice.is_error {
                    egui::Color32::from_rgb(200, 40, 40)
                } else {
                    egui::Color32::from_rgb(180, 110, 0)
                };
                let count = self.state.notices.len();
                let text = if count > 1 {
                    format!("{} (+{})", notice.text, count - 1)
                } else {
                    notice.text.clone()
                };
                let response = ui.label(egui::RichText::new(text).color(color));
                response.on_hover_ui(|ui| {
                    for n in self.state.notices.iter().rev().take(30) {
                        ui.label(&n.text);
                    }
                });
                if ui.small_button(lang.pick("知道了", "Dismiss")).clicked() {
                    commands.push(Command::DismissNotices);
                }
            }
        });
        commands
    }
}

impl eframe::App for OneMapApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let mut settings = self.state.settings.clone();
        if !self.state.layers.is_empty() {
            settings.layers = Some(self.state.saved_layers());
        }
        if let Some(view) = self.map.last_view {
            settings.view_center = Some(view.screen_to_lonlat(view.clip.center()));
            settings.view_zoom = Some(view.zoom());
        }
        eframe::set_value(storage, SETTINGS_KEY, &settings);
    }
}
