//! The import dialog, one for every format: what was read (a table of the first features,
//! a preview on the map), the coordinate system and encoding the reader assumed and why,
//! and the overrides (CRS, encoding, coordinate columns, KML folders) to read it again.

use egui::{Color32, RichText, Ui};

use crate::app::{AppState, Command, PendingImport};
use crate::crs::Crs;
use crate::i18n::Lang;
use crate::io::ReadOptions;

/// Rows of the preview table.
const PREVIEW_ROWS: usize = 8;
/// Columns of the preview table (the rest are one scroll away in the identify panel).
const PREVIEW_COLUMNS: usize = 8;

/// The choices being edited (UI-only until "read again" or "import").
#[derive(Default)]
pub struct ImportDialog {
    /// Which pending file these edits belong to.
    editing: Option<std::path::PathBuf>,
    crs_text: String,
    encoding: String,
    x_col: String,
    y_col: String,
    folders_as_layers: bool,
    /// Excel: the sheet chosen (empty: the first).
    sheet: String,
}

/// Coordinate systems offered in one click; anything else is typed as EPSG:NNNN.
fn common_systems(lang: Lang) -> [(&'static str, &'static str); 6] {
    [
        ("", lang.pick("自动检测", "Detect")),
        (
            "EPSG:4326",
            lang.pick("WGS 84 / CGCS2000 经纬度", "WGS 84 / CGCS2000 degrees"),
        ),
        (
            "gcj02",
            lang.pick(
                "GCJ-02（高德、腾讯、奥维）",
                "GCJ-02 (Amap, Tencent, Ovital)",
            ),
        ),
        ("bd09", lang.pick("BD-09（百度）", "BD-09 (Baidu)")),
        (
            "EPSG:4527",
            lang.pick(
                "CGCS2000 3度带 39带（带号）",
                "CGCS2000 3° zone 39 (prefixed)",
            ),
        ),
        (
            "EPSG:4549",
            lang.pick("CGCS2000 3度带 中央经线117°E", "CGCS2000 3° CM 117°E"),
        ),
    ]
}

impl ImportDialog {
    pub fn show(&mut self, ctx: &egui::Context, state: &AppState) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(pending) = &state.pending_import else {
            self.editing = None;
            return commands;
        };
        if self.editing.as_ref() != Some(&pending.path) {
            self.reset_from(pending);
        }
        let lang = state.lang();
        let file_name = pending
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        egui::Window::new(format!("{} {file_name}", lang.pick("导入", "Import")))
            .id(egui::Id::unique("import-dialog"))
            .collapsible(false)
            .resizable(true)
            .default_width(560.0)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 60.0])
            .show(ctx, |ui| {
                let reading = state
                    .loads
                    .iter()
                    .find(|j| j.path == pending.path && j.review);
                if let Some(job) = reading {
                    ui.add(
                        egui::ProgressBar::new(job.progress.fraction())
                            .text(lang.pick("正在读取…", "Reading…")),
                    );
                }
                self.outcome(ui, pending, lang);
                ui.separator();
                self.choices(ui, pending, lang);
                ui.separator();
                ui.horizontal(|ui| {
                    if ui
                        .button(lang.pick("按所选重新读取", "Read again with these choices"))
                        .clicked()
                    {
                        commands.push(Command::ReviewImport(
                            pending.path.clone(),
                            self.read_options(),
                        ));
                    }
                    let can_import = pending.outcome.is_ok() && reading.is_none();
                    if ui
                        .add_enabled(can_import, egui::Button::new(lang.pick("导入", "Import")))
                        .clicked()
                    {
                        commands.push(Command::AcceptImport);
                    }
                    if ui.button(lang.pick("取消", "Cancel")).clicked() {
                        commands.push(Command::CancelImport);
                    }
                });
            });
        commands
    }

    fn reset_from(&mut self, pending: &PendingImport) {
        let options = &pending.options;
        *self = ImportDialog {
            editing: Some(pending.path.clone()),
            crs_text: options.crs.as_ref().and_then(Crs::key).unwrap_or_default(),
            encoding: options.encoding.clone().unwrap_or_default(),
            x_col: options.x_col.clone().unwrap_or_default(),
            y_col: options.y_col.clone().unwrap_or_default(),
            folders_as_layers: options.folders_as_layers,
            sheet: options.sheet.clone().unwrap_or_default(),
        };
    }

    /// The reader options the edited choices stand for.
    fn read_options(&self) -> ReadOptions {
        let text = |t: &str| {
            let t = t.trim();
            (!t.is_empty()).then(|| t.to_owned())
        };
        ReadOptions {
            crs: text(&self.crs_text).and_then(|k| Crs::parse(&k).ok()),
            encoding: text(&self.encoding),
            x_col: text(&self.x_col),
            y_col: text(&self.y_col),
            folders_as_layers: self.folders_as_layers,
            clip: None,
            sheet: text(&self.sheet),
        }
    }

    /// What the reader found: the CRS and encoding with reasons, warnings, a preview table.
    fn outcome(&self, ui: &mut Ui, pending: &PendingImport, lang: Lang) {
        match &pending.outcome {
            Err(message) => {
                ui.label(
                    RichText::new(format!(
                        "{}: {message}",
                        lang.pick("无法读取", "Cannot read")
                    ))
                    .color(Color32::from_rgb(200, 30, 30)),
                );
                ui.label(lang.pick(
                    "请在下方指定坐标系、编码或坐标列后重新读取。",
                    "Choose the coordinate system, encoding or columns below and read again.",
                ));
            }
            Ok((layers, info)) => {
                egui::Grid::new("import-info")
                    .num_columns(2)
                    .show(ui, |ui| {
                        ui.label(lang.pick("格式", "Format"));
                        ui.label(&info.format);
                        ui.end_row();
                        ui.label(lang.pick("坐标系", "Coordinate system"));
                        ui.label(info.crs.as_ref().map_or_else(|| "—".to_owned(), Crs::name));
                        ui.end_row();
                        ui.label(lang.pick("依据", "Because"));
                        ui.label(&info.crs_reason);
                        ui.end_row();
                        if let Some(encoding) = &info.encoding {
                            ui.label(lang.pick("编码", "Encoding"));
                            ui.label(format!("{encoding} ({})", info.encoding_reason));
                            ui.end_row();
                        }
                    });
                if matches!(info.crs, Some(Crs::Wgs84)) && pending.options.crs.is_none() {
                    ui.label(
                        RichText::new(lang.pick(
                            "未指定坐标系：按 WGS 84 读取。若坐标取自高德/腾讯/奥维（GCJ-02）或百度（BD-09），请在下方选择，否则位置会偏约 500 米。",
                            "No coordinate system given: read as WGS 84. If the points come from Amap/Tencent/Ovital (GCJ-02) or Baidu (BD-09), choose it below, or they will be about 500 m off.",
                        ))
                        .color(Color32::from_rgb(190, 110, 0)),
                    );
                }
                for (n, prepared) in layers.iter().enumerate() {
                    let layer = &prepared.layer;
                    ui.label(
                        RichText::new(format!(
                            "{} · {} {} · {} {}",
                            layer.name,
                            layer.len(),
                            lang.pick("个要素", "features"),
                            prepared.warnings.len(),
                            lang.pick("条警告", "warnings")
                        ))
                        .strong(),
                    );
                    if !prepared.warnings.is_empty() {
                        egui::CollapsingHeader::new(lang.pick("警告", "Warnings"))
                            .id_salt(("import-warnings", n))
                            .show(ui, |ui| {
                                egui::ScrollArea::vertical()
                                    .id_salt(("import-warnings-scroll", n))
                                    .max_height(120.0)
                                    .show(ui, |ui| {
                                        for w in prepared.warnings.iter().take(200) {
                                            ui.label(w.to_string());
                                        }
                                    });
                            });
                    }
                    preview_table(ui, layer, n);
                }
            }
        }
    }

    /// The overrides: CRS, encoding, coordinate columns, KML folders.
    fn choices(&mut self, ui: &mut Ui, pending: &PendingImport, lang: Lang) {
        let fields: Vec<String> = match &pending.outcome {
            Ok((layers, _)) => layers
                .first()
                .map(|l| {
                    l.layer
                        .attributes
                        .field_names()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let (sheets, sheet_read) = match &pending.outcome {
            Ok((_, info)) => (info.sheets.clone(), info.sheet.clone().unwrap_or_default()),
            Err(_) => (Vec::new(), String::new()),
        };
        egui::Grid::new("import-choices")
            .num_columns(2)
            .show(ui, |ui| {
                if sheets.len() > 1 {
                    let label = ui.label(lang.pick("工作表", "Sheet"));
                    let shown = if self.sheet.is_empty() {
                        sheet_read.clone()
                    } else {
                        self.sheet.clone()
                    };
                    egui::ComboBox::from_id_salt("import-sheet")
                        .selected_text(shown)
                        .show_ui(ui, |ui| {
                            for name in &sheets {
                                ui.selectable_value(&mut self.sheet, name.clone(), name);
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.end_row();
                }
                let label = ui.label(lang.pick("坐标系", "Coordinate system"));
                ui.horizontal(|ui| {
                    let systems = common_systems(lang);
                    let selected = systems
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(self.crs_text.trim()))
                        .map_or(self.crs_text.clone(), |(_, name)| (*name).to_owned());
                    egui::ComboBox::from_id_salt("import-crs")
                        .selected_text(selected)
                        .show_ui(ui, |ui| {
                            for (key, name) in systems {
                                ui.selectable_value(&mut self.crs_text, key.to_owned(), name);
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.add(
                        egui::TextEdit::singleline(&mut self.crs_text)
                            .hint_text("EPSG:4527")
                            .desired_width(90.0),
                    )
                    .labelled_by(label.id);
                });
                ui.end_row();
                if !self.crs_text.trim().is_empty() && Crs::parse(self.crs_text.trim()).is_err() {
                    ui.label("");
                    ui.label(
                        RichText::new(
                            lang.pick("无法识别的坐标系", "Unrecognised coordinate system"),
                        )
                        .color(Color32::from_rgb(200, 30, 30)),
                    );
                    ui.end_row();
                }
                let label = ui.label(lang.pick("属性编码", "Attribute encoding"));
                egui::ComboBox::from_id_salt("import-encoding")
                    .selected_text(if self.encoding.is_empty() {
                        lang.pick("自动检测", "Detect").to_owned()
                    } else {
                        self.encoding.clone()
                    })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(
                            &mut self.encoding,
                            String::new(),
                            lang.pick("自动检测", "Detect"),
                        );
                        for e in ["UTF-8", "GBK", "GB18030"] {
                            ui.selectable_value(&mut self.encoding, e.to_owned(), e);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                for (name, value) in [
                    (
                        lang.pick("经度/X 列", "Longitude/X column"),
                        &mut self.x_col,
                    ),
                    (lang.pick("纬度/Y 列", "Latitude/Y column"), &mut self.y_col),
                ] {
                    let label = ui.label(name);
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::TextEdit::singleline(value)
                                .hint_text(lang.pick("自动", "auto"))
                                .desired_width(110.0),
                        )
                        .labelled_by(label.id);
                        if !fields.is_empty() {
                            egui::ComboBox::from_id_salt(("import-col", name))
                                .selected_text("…")
                                .width(30.0)
                                .show_ui(ui, |ui| {
                                    for f in &fields {
                                        ui.selectable_value(value, f.clone(), f);
                                    }
                                })
                                .response
                                .labelled_by(label.id);
                        }
                    });
                    ui.end_row();
                }
            });
        ui.checkbox(
            &mut self.folders_as_layers,
            lang.pick("KML 每个文件夹作为一个图层", "KML: one layer per folder"),
        );
    }
}

/// The first rows and columns of a layer, as read.
fn preview_table(ui: &mut Ui, layer: &crate::model::Layer, n: usize) {
    let fields: Vec<&str> = layer
        .attributes
        .field_names()
        .take(PREVIEW_COLUMNS)
        .collect();
    egui::ScrollArea::horizontal()
        .id_salt(("import-preview", n))
        .show(ui, |ui| {
            egui::Grid::new(("import-preview-grid", n))
                .striped(true)
                .show(ui, |ui| {
                    for f in &fields {
                        ui.label(RichText::new(*f).strong());
                    }
                    ui.end_row();
                    for row in 0..layer.len().min(PREVIEW_ROWS) {
                        for f in &fields {
                            let text = layer.attributes.get(row, f).to_string();
                            ui.label(text.chars().take(24).collect::<String>());
                        }
                        ui.end_row();
                    }
                });
        });
}
