//! Search by name or any attribute across layers, with fly-to and highlight.

use egui::Ui;

use crate::app::{AppState, Command};

/// The text being typed (UI-only state until Enter or the button).
#[derive(Default)]
pub struct SearchPanel {
    pub text: String,
}

impl SearchPanel {
    pub fn show(&mut self, ui: &mut Ui, state: &AppState) -> Vec<Command> {
        let lang = state.lang();
        let mut commands = Vec::new();
        let heading = ui.heading(lang.pick("搜索", "Search"));
        ui.horizontal(|ui| {
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.text)
                        .hint_text(lang.pick("名称或任意属性", "Name or any attribute"))
                        .desired_width(170.0),
                )
                .labelled_by(heading.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if enter || ui.button(lang.pick("查找", "Find")).clicked() {
                commands.push(Command::Search(self.text.clone()));
            }
        });
        if !state.search_query.is_empty() {
            ui.label(format!(
                "{} {}",
                state.search_results.len(),
                lang.pick("个结果", "results")
            ));
        }
        egui::ScrollArea::vertical()
            .id_salt("search-results")
            .max_height(220.0)
            .show(ui, |ui| {
                for hit in &state.search_results {
                    let Some(layer) = state.layer(hit.layer) else {
                        continue;
                    };
                    let selected = state.highlighted.as_ref() == Some(hit);
                    let text = format!(
                        "{} · {}",
                        layer.layer.feature_label(hit.feature),
                        layer.title()
                    );
                    if ui.selectable_label(selected, text).clicked() {
                        commands.push(Command::FlyTo(hit.clone()));
                    }
                }
            });
        commands
    }
}
