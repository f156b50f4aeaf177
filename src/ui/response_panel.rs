//! The response-area panel: bands, mode, turnout, busy stations, and the covered area per
//! band once computed.

use egui::Ui;

use crate::analysis::isochrone::AreaMode;
use crate::app::{AppState, Command};
use crate::i18n::Lang;

/// The band list being typed (UI-only until applied).
#[derive(Default)]
pub struct ResponsePanel {
    pub bands_text: Option<String>,
}

impl ResponsePanel {
    pub fn show(&mut self, ui: &mut Ui, state: &AppState) -> Vec<Command> {
        let lang = state.lang();
        let mut commands = Vec::new();
        let options = &state.response.options;
        egui::CollapsingHeader::new(lang.pick("响应区（行车时间）", "Response areas (drive time)"))
            .id_salt("response-panel")
            .default_open(true)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label(lang.pick("分钟", "Minutes"));
                    let text = self.bands_text.get_or_insert_with(|| {
                        options
                            .bands_min
                            .iter()
                            .map(|m| m.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    });
                    let edit = ui
                        .add(egui::TextEdit::singleline(text).desired_width(90.0))
                        .labelled_by(label.id);
                    if edit.lost_focus() {
                        let bands: Vec<f64> = text
                            .split([',', '，', ' '])
                            .filter_map(|t| t.trim().parse::<f64>().ok())
                            .filter(|m| m.is_finite() && *m > 0.0 && *m <= 120.0)
                            .collect();
                        if bands.is_empty() {
                            self.bands_text = None;
                        } else {
                            commands.push(Command::SetResponseBands(bands));
                        }
                    }
                });
                let mut turnout = options.turnout_s;
                if ui
                    .add(
                        egui::Slider::new(&mut turnout, 0.0..=300.0)
                            .step_by(5.0)
                            .text(lang.pick("出动准备（秒）", "Turnout (s)")),
                    )
                    .changed()
                {
                    commands.push(Command::SetTurnout(turnout));
                }
                egui::ComboBox::from_label(lang.pick("方式", "Mode"))
                    .selected_text(mode_name(options.mode, lang))
                    .show_ui(ui, |ui| {
                        for mode in [AreaMode::Dissolve, AreaMode::Split, AreaMode::PerStation] {
                            if ui
                                .selectable_label(options.mode == mode, mode_name(mode, lang))
                                .clicked()
                            {
                                commands.push(Command::SetResponseMode(mode));
                            }
                        }
                    });
                speed_table(ui, state, lang, &mut commands);
                ui.horizontal(|ui| {
                    if ui
                        .button(lang.pick("计算响应区", "Compute response areas"))
                        .clicked()
                    {
                        commands.push(Command::ComputeResponseAreas);
                    }
                    let mut drag = state.drag_stations;
                    if ui
                        .checkbox(&mut drag, lang.pick("拖动消防站", "Drag stations"))
                        .on_hover_text(lang.pick(
                            "在地图上拖动消防站，响应区随之实时更新",
                            "Drag a station on the map; the areas follow live",
                        ))
                        .changed()
                    {
                        commands.push(Command::SetDragStations(drag));
                    }
                });
                let stations = state.station_ids();
                if !stations.is_empty() {
                    ui.label(lang.pick("出动中/不可用的消防站：", "Busy or unavailable stations:"));
                    for id in stations {
                        let mut busy = state.response.busy.contains(&id);
                        if ui.checkbox(&mut busy, &id).changed() {
                            commands.push(Command::SetStationBusy(id, busy));
                        }
                    }
                }
                if !state.response_bands.is_empty() {
                    egui::Grid::new("response-bands")
                        .striped(true)
                        .show(ui, |ui| {
                            ui.label(lang.pick("时限", "Within"));
                            ui.label(lang.pick("覆盖面积", "Covered area"));
                            ui.end_row();
                            for (minutes, km2) in &state.response_bands {
                                ui.label(format!("{minutes} {}", lang.pick("分钟", "min")));
                                ui.label(format!("{km2:.2} km²"));
                                ui.end_row();
                            }
                        });
                    if state.response_estimate {
                        ui.label(
                            egui::RichText::new(lang.pick(
                                "未加载道路：以下为直线估算（30 km/h、绕行系数1.4），会高估跨河流、铁路、快速路的覆盖",
                                "No roads loaded: a straight-line estimate (30 km/h, detour 1.4) that overstates reach across rivers, rail and expressways",
                            ))
                            .color(egui::Color32::from_rgb(200, 110, 0)),
                        );
                    }
                    ui.label(format!(
                        "{} {}",
                        state.responding.len(),
                        if state.response_estimate {
                            lang.pick(
                                "个消防站参与计算（直线估算，含出动准备）",
                                "stations responding (straight-line estimate, turnout included)",
                            )
                        } else {
                            lang.pick(
                                "个消防站参与计算（道路网络行车时间，含出动准备）",
                                "stations responding (road-network drive time, turnout included)",
                            )
                        }
                    ));
                }
            });
        commands
    }
}

/// The fire-engine speed per road class, editable; changes recompute the areas on screen.
fn speed_table(ui: &mut Ui, state: &AppState, lang: Lang, commands: &mut Vec<Command>) {
    egui::CollapsingHeader::new(lang.pick("道路速度（km/h）", "Road speeds (km/h)"))
        .id_salt("speed-table")
        .show(ui, |ui| {
            let speeds = &state.response.speeds;
            let mut rows = speeds.classes();
            rows.push(("default".to_owned(), speeds.default_kmh()));
            egui::Grid::new("speed-grid").striped(true).show(ui, |ui| {
                for (class, kmh) in rows {
                    let label = ui.label(format!("{} {class}", road_class_name(&class, lang)));
                    let mut value = kmh;
                    if ui
                        .add(
                            egui::DragValue::new(&mut value)
                                .range(1.0..=130.0)
                                .speed(0.5),
                        )
                        .labelled_by(label.id)
                        .changed()
                    {
                        commands.push(Command::SetSpeed(class, value));
                    }
                    ui.end_row();
                }
            });
            ui.horizontal(|ui| {
                if ui.button(lang.pick("恢复默认", "Reset to default")).clicked() {
                    commands.push(Command::ResetSpeeds);
                }
            });
            ui.label(
                egui::RichText::new(lang.pick(
                    "默认值为消防车规划速度（城区约30-35 km/h），非道路限速；见文档",
                    "Defaults are fire-engine planning speeds (about 30-35 km/h in town), not speed limits; see the docs",
                ))
                .small()
                .weak(),
            );
        });
}

/// The Chinese/English name of an OSM `highway` class.
fn road_class_name(class: &str, lang: Lang) -> &'static str {
    match class {
        "motorway" => lang.pick("高速公路", "Motorway"),
        "motorway_link" => lang.pick("高速匝道", "Motorway link"),
        "trunk" => lang.pick("快速路/国道", "Trunk"),
        "trunk_link" => lang.pick("快速路匝道", "Trunk link"),
        "primary" => lang.pick("主干路", "Primary"),
        "primary_link" => lang.pick("主干路连接线", "Primary link"),
        "secondary" => lang.pick("次干路", "Secondary"),
        "secondary_link" => lang.pick("次干路连接线", "Secondary link"),
        "tertiary" => lang.pick("支路", "Tertiary"),
        "tertiary_link" => lang.pick("支路连接线", "Tertiary link"),
        "residential" => lang.pick("居住区道路", "Residential"),
        "living_street" => lang.pick("生活街道", "Living street"),
        "service" => lang.pick("服务道路", "Service"),
        "unclassified" => lang.pick("未分级道路", "Unclassified"),
        "track" => lang.pick("机耕路", "Track"),
        "default" => lang.pick("其他道路", "Other roads"),
        _ => "",
    }
}

fn mode_name(mode: AreaMode, lang: Lang) -> &'static str {
    match mode {
        AreaMode::Dissolve => lang.pick("合并", "Dissolve"),
        AreaMode::Split => lang.pick("按最快站划分", "Split by fastest station"),
        AreaMode::PerStation => lang.pick("各站分别", "Per station"),
    }
}
