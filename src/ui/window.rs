//! The main window: menu bar, layer panel and legend on the left, search and identify on
//! the right, status bar below, the map in the middle.

use std::path::PathBuf;

use egui::{Panel, Ui};

use super::coverage_panel::CoveragePanel;
use super::import_dialog::ImportDialog;
use super::layers_panel::LayersPanel;
use super::response_panel::ResponsePanel;

/// The groups of panels on the right side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RightTab {
    Analysis,
    Query,
}
use super::search_panel::SearchPanel;
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
        Self::with_settings(&cc.egui_ctx, settings, files)
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
        state.restore_layers(demo.as_deref());
        state.open_files(files);
        OneMapApp {
            state,
            map: MapView::default(),
            basemaps,
            layers_panel: LayersPanel::default(),
            search_panel: SearchPanel::default(),
            response_panel: ResponsePanel::default(),
            coverage_panel: CoveragePanel::default(),
            import_dialog: ImportDialog::default(),
            right_tab: RightTab::Analysis,
        }
    }

    fn apply_all(&mut self, commands: Vec<Command>) {
        for command in commands {
            // A click on the map asks "what is this": show the answer.
            if matches!(command, Command::Identify(..)) {
                self.right_tab = RightTab::Query;
            }
            self.state.apply(command);
        }
    }

    /// Draws one frame.
    pub fn frame(&mut self, ui: &mut Ui) {
        self.state.poll_loads();
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
