//! The basemap switcher: built-in, OpenStreetMap, a typed XYZ template, Tianditu with the
//! user's key, a PMTiles file or a tile folder; plus the status line and "reload tiles".

use std::path::PathBuf;

use egui::{RichText, Ui};

use crate::i18n::Lang;
use crate::map::basemap::{BasemapChoice, BasemapSettings, Basemaps, UrlTemplate};
use crate::ui::dialogs;

/// Which radio button is selected; may differ from the applied choice while the user is
/// still filling in a URL or key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Builtin,
    OpenStreetMap,
    Xyz,
    Tianditu,
    PmTiles,
    TileFolder,
}

impl Kind {
    fn of(choice: &BasemapChoice) -> Self {
        match choice {
            BasemapChoice::Builtin => Kind::Builtin,
            BasemapChoice::OpenStreetMap => Kind::OpenStreetMap,
            BasemapChoice::Xyz { .. } => Kind::Xyz,
            BasemapChoice::Tianditu { .. } => Kind::Tianditu,
            BasemapChoice::PmTiles { .. } => Kind::PmTiles,
            BasemapChoice::TileFolder { .. } => Kind::TileFolder,
        }
    }
}

/// Shows the switcher. A choice the user makes is applied to `basemaps` and recorded in
/// `settings` at once; returns true on the frame that happens.
pub fn basemap_panel(
    ui: &mut Ui,
    lang: Lang,
    settings: &mut BasemapSettings,
    basemaps: &mut Basemaps,
) -> bool {
    let kind_id = egui::Id::unique("onemap-basemap-kind");
    let mut kind = ui
        .data(|d| d.get_temp::<Kind>(kind_id))
        .unwrap_or_else(|| Kind::of(basemaps.choice()));
    let mut chosen: Option<BasemapChoice> = None;

    let builtin_label = lang.pick("内置矢量底图（离线）", "Built-in vector map (offline)");
    if ui.radio(kind == Kind::Builtin, builtin_label).clicked() {
        kind = Kind::Builtin;
        chosen = Some(BasemapChoice::Builtin);
    }
    if ui
        .radio(kind == Kind::OpenStreetMap, "OpenStreetMap")
        .clicked()
    {
        kind = Kind::OpenStreetMap;
        chosen = Some(BasemapChoice::OpenStreetMap);
    }

    let xyz_label = lang.pick("自定义 XYZ 瓦片地址", "Custom XYZ tile URL");
    if ui.radio(kind == Kind::Xyz, xyz_label).clicked() {
        kind = Kind::Xyz;
    }
    if kind == Kind::Xyz {
        ui.indent("xyz", |ui| {
            chosen = chosen.take().or(xyz_form(ui, lang, settings))
        });
    }

    if ui
        .radio(kind == Kind::Tianditu, lang.pick("天地图", "Tianditu"))
        .clicked()
    {
        kind = Kind::Tianditu;
    }
    if kind == Kind::Tianditu {
        ui.indent("tianditu", |ui| {
            chosen = chosen.take().or(tianditu_form(ui, lang, settings))
        });
    }

    let pmtiles_label = lang.pick("PMTiles 文件（栅格）", "PMTiles file (raster)");
    if ui.radio(kind == Kind::PmTiles, pmtiles_label).clicked() {
        kind = Kind::PmTiles;
    }
    if kind == Kind::PmTiles {
        ui.indent("pmtiles", |ui| {
            let picked = path_row(
                ui,
                lang,
                &mut settings.pmtiles_draft,
                "/path/to/map.pmtiles",
                || {
                    let title = lang.pick("选择 PMTiles 文件", "Choose a PMTiles file");
                    dialogs::pick_file(title, "PMTiles", &["pmtiles"])
                },
            );
            if let Some(path) = picked {
                chosen = Some(BasemapChoice::PmTiles { path });
            }
        });
    }

    let folder_label = lang.pick("本地瓦片文件夹 (z/x/y)", "Local tile folder (z/x/y)");
    if ui.radio(kind == Kind::TileFolder, folder_label).clicked() {
        kind = Kind::TileFolder;
    }
    if kind == Kind::TileFolder {
        ui.indent("tile-folder", |ui| {
            let picked = path_row(
                ui,
                lang,
                &mut settings.folder_draft,
                "/path/to/tiles",
                || dialogs::pick_folder(lang.pick("选择瓦片文件夹", "Choose a tile folder")),
            );
            if let Some(path) = picked {
                chosen = Some(BasemapChoice::TileFolder { path });
            }
        });
    }

    ui.data_mut(|d| d.insert_temp(kind_id, kind));
    status_line(ui, lang, basemaps);

    let Some(choice) = chosen else {
        return false;
    };
    let ctx = ui.ctx().clone();
    // A problem is kept by `basemaps` and shown in the status line; the choice is still
    // recorded, so a file on a drive that is absent today is tried again next run.
    let _ = basemaps.set_choice(&choice, &ctx);
    settings.apply(&choice);
    true
}

/// A path field with "open" (typed path) and "browse" (native dialog); returns the path to
/// apply when either is used.
fn path_row(
    ui: &mut Ui,
    lang: Lang,
    draft: &mut String,
    hint: &str,
    browse: impl FnOnce() -> Option<PathBuf>,
) -> Option<PathBuf> {
    let mut picked = None;
    ui.add(
        egui::TextEdit::singleline(draft)
            .hint_text(hint)
            .desired_width(f32::INFINITY),
    );
    ui.horizontal(|ui| {
        let typed = !draft.trim().is_empty();
        if ui
            .add_enabled(typed, egui::Button::new(lang.pick("打开", "Open")))
            .clicked()
        {
            picked = Some(PathBuf::from(draft.trim()));
        }
        if ui.button(lang.pick("浏览…", "Browse…")).clicked() {
            picked = browse();
        }
    });
    picked
}

/// URL and attribution fields, recent templates, and "apply".
fn xyz_form(ui: &mut Ui, lang: Lang, settings: &mut BasemapSettings) -> Option<BasemapChoice> {
    ui.label(
        RichText::new(lang.pick(
            "占位符 {z} {x} {y}（或 {-y}），子域名 {s} 或 {0-7}",
            "Placeholders {z} {x} {y} (or {-y}); subdomains {s} or {0-7}",
        ))
        .small(),
    );
    ui.add(
        egui::TextEdit::singleline(&mut settings.xyz_draft.url)
            .hint_text("https://tile.example.org/{z}/{x}/{y}.png")
            .desired_width(f32::INFINITY),
    );
    ui.add(
        egui::TextEdit::singleline(&mut settings.xyz_draft.attribution)
            .hint_text(lang.pick("版权/来源说明", "Attribution"))
            .desired_width(f32::INFINITY),
    );
    if !settings.recent_xyz.is_empty() {
        let mut picked = None;
        egui::ComboBox::from_id_salt("recent-xyz")
            .selected_text(lang.pick("最近使用", "Recent"))
            .show_ui(ui, |ui| {
                for entry in &settings.recent_xyz {
                    if ui.selectable_label(false, &entry.url).clicked() {
                        picked = Some(entry.clone());
                    }
                }
            });
        if let Some(entry) = picked {
            settings.xyz_draft = entry;
        }
    }
    let parsed = UrlTemplate::parse(&settings.xyz_draft.url);
    if let Err(error) = &parsed
        && !settings.xyz_draft.url.trim().is_empty()
    {
        ui.label(
            RichText::new(error.message(lang))
                .small()
                .color(ui.visuals().warn_fg_color),
        );
    }
    let apply = ui.add_enabled(
        parsed.is_ok(),
        egui::Button::new(lang.pick("应用", "Apply")),
    );
    apply.clicked().then(|| BasemapChoice::Xyz {
        url: settings.xyz_draft.url.trim().to_owned(),
        attribution: settings.xyz_draft.attribution.trim().to_owned(),
    })
}

/// Key field, vector/imagery, and "apply".
fn tianditu_form(ui: &mut Ui, lang: Lang, settings: &mut BasemapSettings) -> Option<BasemapChoice> {
    ui.horizontal(|ui| {
        ui.label("Key");
        ui.add(
            egui::TextEdit::singleline(&mut settings.tianditu_key)
                .password(true)
                .hint_text(lang.pick("天地图开发者 Key", "Tianditu developer key")),
        );
    });
    ui.label(
        RichText::new(lang.pick(
            "请使用“服务器端”类型的 Key",
            "Use a key of the \"server\" type",
        ))
        .small(),
    );
    ui.horizontal(|ui| {
        ui.radio_value(
            &mut settings.tianditu_imagery,
            false,
            lang.pick("矢量", "Vector"),
        );
        ui.radio_value(
            &mut settings.tianditu_imagery,
            true,
            lang.pick("影像", "Imagery"),
        );
    });
    let has_key = !settings.tianditu_key.trim().is_empty();
    let apply = ui.add_enabled(has_key, egui::Button::new(lang.pick("应用", "Apply")));
    apply.clicked().then(|| BasemapChoice::Tianditu {
        key: settings.tianditu_key.trim().to_owned(),
        imagery: settings.tianditu_imagery,
    })
}

/// What is wrong (if anything), tiles loading, and "reload tiles".
fn status_line(ui: &mut Ui, lang: Lang, basemaps: &mut Basemaps) {
    if basemaps.shows_builtin() && basemaps.problem().is_none() {
        return;
    }
    ui.separator();
    if let Some(message) = basemaps.status_message(lang) {
        ui.label(
            RichText::new(message)
                .small()
                .color(ui.visuals().warn_fg_color),
        );
    } else if basemaps.loading_count() > 0 {
        let text = match lang {
            Lang::Zh => format!("正在加载 {} 个瓦片…", basemaps.loading_count()),
            Lang::En => format!("Loading {} tiles…", basemaps.loading_count()),
        };
        ui.label(RichText::new(text).small());
    }
    if ui
        .button(lang.pick("重新加载瓦片", "Reload tiles"))
        .clicked()
    {
        let _ = basemaps.reload();
    }
}
