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
                if ui
                    .button(lang.pick("计算响应区", "Compute response areas"))
                    .clicked()
                {
                    commands.push(Command::ComputeResponseAreas);
                }
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
                    ui.label(format!(
                        "{} {}",
                        state.responding.len(),
                        lang.pick(
                            "个消防站参与计算（道路网络行车时间，含出动准备）",
                            "stations responding (road-network drive time, turnout included)"
                        )
                    ));
                }
            });
        commands
    }
}

fn mode_name(mode: AreaMode, lang: Lang) -> &'static str {
    match mode {
        AreaMode::Dissolve => lang.pick("合并", "Dissolve"),
        AreaMode::Split => lang.pick("按最快站划分", "Split by fastest station"),
        AreaMode::PerStation => lang.pick("各站分别", "Per station"),
    }
}
