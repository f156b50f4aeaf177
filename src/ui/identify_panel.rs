//! Identify results: every attribute of the features under the last click, from every
//! visible layer.

use egui::Ui;

use crate::app::{AppState, Command};

pub fn show(ui: &mut Ui, state: &AppState) -> Vec<Command> {
    let lang = state.lang();
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        ui.heading(lang.pick("要素查询", "Identify"));
        if !state.identified.is_empty() && ui.small_button(lang.pick("清除", "Clear")).clicked() {
            commands.push(Command::ClearIdentify);
        }
    });
    if state.identified.is_empty() {
        ui.label(lang.pick(
            "在地图上单击要素查看其属性。",
            "Click a feature on the map to see its attributes.",
        ));
        return commands;
    }
    ui.label(format!(
        "{} {}",
        state.identified.len(),
        lang.pick("个要素", "features")
    ));
    for (n, hit) in state.identified.iter().enumerate() {
        let Some(layer) = state.layer(hit.layer) else {
            continue;
        };
        let title = format!(
            "{} · {}",
            layer.title(),
            layer.layer.feature_label(hit.feature)
        );
        egui::CollapsingHeader::new(title)
            .id_salt(("identify", n))
            .default_open(n < 3)
            .show(ui, |ui| {
                egui::Grid::new(("identify-grid", n))
                    .striped(true)
                    .num_columns(2)
                    .show(ui, |ui| {
                        for (field, value) in layer.layer.attributes.row(hit.feature) {
                            ui.label(field);
                            ui.label(value.to_string());
                            ui.end_row();
                        }
                    });
                if ui.small_button(lang.pick("定位", "Fly to")).clicked() {
                    commands.push(Command::FlyTo(hit.clone()));
                }
            });
    }
    commands
}
