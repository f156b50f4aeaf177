//! The coverage panel: how much of the population, the built-up area and each point layer
//! a band reaches, the station districts against GB 51080's 7/15 km², and the uncovered
//! features (also flagged red on the map; a click flies to one).

use egui::{Color32, RichText, Ui};

use crate::app::{AppState, Command, FeatureRef};
use crate::i18n::Lang;

/// The band being typed, minutes (UI-only until computed).
pub struct CoveragePanel {
    pub minutes: f64,
    /// New stations to propose, and the candidate grid spacing in metres.
    pub new_sites: usize,
    pub spacing_m: f64,
}

impl Default for CoveragePanel {
    fn default() -> Self {
        CoveragePanel {
            minutes: 5.0,
            new_sites: 2,
            spacing_m: 500.0,
        }
    }
}

const AMBER: Color32 = Color32::from_rgb(200, 120, 0);
const RED: Color32 = Color32::from_rgb(200, 30, 30);

impl CoveragePanel {
    pub fn show(&mut self, ui: &mut Ui, state: &AppState) -> Vec<Command> {
        let lang = state.lang();
        let mut commands = Vec::new();
        egui::CollapsingHeader::new(lang.pick("覆盖分析", "Coverage"))
            .id_salt("coverage-panel")
            .default_open(true)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label(lang.pick("时限（分钟）", "Within (minutes)"));
                    ui.add(
                        egui::DragValue::new(&mut self.minutes)
                            .range(1.0..=60.0)
                            .speed(0.5),
                    )
                    .labelled_by(label.id);
                    if ui
                        .button(lang.pick("计算覆盖", "Compute coverage"))
                        .clicked()
                    {
                        commands.push(Command::ComputeCoverage(self.minutes));
                    }
                    if state.coverage.is_some() && ui.button(lang.pick("清除", "Clear")).clicked()
                    {
                        commands.push(Command::ClearCoverage);
                    }
                });
                if let Some(summary) = &state.coverage {
                    show_summary(ui, state, summary, lang, &mut commands);
                }
                ui.separator();
                self.siting(ui, state, lang, &mut commands);
            });
        commands
    }
}

impl CoveragePanel {
    /// New station siting: k sites on a road-node grid, shown as markers with their gains.
    fn siting(&mut self, ui: &mut Ui, state: &AppState, lang: Lang, commands: &mut Vec<Command>) {
        ui.label(RichText::new(lang.pick("新建消防站选址", "New station sites")).strong());
        ui.horizontal(|ui| {
            let label = ui.label(lang.pick("数量", "Sites"));
            ui.add(egui::DragValue::new(&mut self.new_sites).range(1..=10))
                .labelled_by(label.id);
            let label = ui.label(lang.pick("候选间距（米）", "Grid (m)"));
            ui.add(
                egui::DragValue::new(&mut self.spacing_m)
                    .range(200.0..=5000.0)
                    .speed(50.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            if ui
                .button(lang.pick("寻找最佳站址", "Find the best sites"))
                .clicked()
            {
                commands.push(Command::ComputeSiting {
                    k: self.new_sites,
                    spacing_m: self.spacing_m,
                    minutes: self.minutes,
                });
            }
            if state.siting.is_some() && ui.button(lang.pick("清除站址", "Clear sites")).clicked()
            {
                commands.push(Command::ClearSiting);
            }
        });
        let Some(siting) = &state.siting else {
            return;
        };
        let share = |v: f64| {
            if siting.total > 0.0 {
                format!("{:.1}%", v / siting.total * 100.0)
            } else {
                "—".to_owned()
            }
        };
        ui.label(format!(
            "{} {}: {:.0} ({}) → {:.0} ({})",
            siting.minutes,
            lang.pick("分钟覆盖人口", "min covered people"),
            siting.before,
            share(siting.before),
            siting.after,
            share(siting.after)
        ));
        for (i, (lon, lat, gain)) in siting.sites.iter().enumerate() {
            ui.label(format!(
                "{} {}: +{gain:.0} {} ({lon:.5}, {lat:.5})",
                lang.pick("新站", "New site"),
                i + 1,
                lang.pick("人", "people")
            ));
        }
        ui.label(
            RichText::new(if siting.optimal {
                format!(
                    "{} ({} {})",
                    lang.pick("已证明为最优", "proven optimal"),
                    siting.candidates,
                    lang.pick("个候选点", "candidates")
                )
            } else {
                format!(
                    "{} {:.1}%",
                    lang.pick("未能证明最优，最大差距", "not proven optimal; gap at most"),
                    siting.gap * 100.0
                )
            })
            .small(),
        );
    }
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

fn show_summary(
    ui: &mut Ui,
    state: &AppState,
    summary: &crate::app::response::CoverageSummary,
    lang: Lang,
    commands: &mut Vec<Command>,
) {
    ui.label(format!(
        "{} {} {}: {:.2} km²",
        summary.minutes,
        lang.pick("分钟", "min"),
        lang.pick("可达范围", "band"),
        summary.band_km2
    ));
    egui::Grid::new("coverage-shares")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            if let Some(p) = &summary.population {
                ui.label(lang.pick("人口", "Population"));
                ui.label(format!("{:.0} / {:.0}", p.covered, p.total));
                ui.label(percent(p.share));
                ui.end_row();
            }
            if let Some(a) = &summary.builtup {
                ui.label(lang.pick("建成区", "Built-up area"));
                ui.label(format!("{:.2} / {:.2} km²", a.covered, a.total));
                ui.label(percent(a.share));
                ui.end_row();
            }
            for (id, c) in &summary.layers {
                let name = state.layer(*id).map_or(c.name.as_str(), |l| l.title());
                ui.label(name);
                ui.label(format!("{} / {}", c.covered, c.total));
                let share = (c.total > 0).then(|| c.covered as f64 / c.total as f64);
                ui.label(percent(share));
                ui.end_row();
            }
        });
    for (id, c) in &summary.layers {
        if c.uncovered_rows.is_empty() {
            continue;
        }
        let name = state.layer(*id).map_or(c.name.as_str(), |l| l.title());
        egui::CollapsingHeader::new(
            RichText::new(format!(
                "{name}: {} {}",
                c.uncovered_rows.len(),
                lang.pick("处未覆盖", "not covered")
            ))
            .color(RED),
        )
        .id_salt(("uncovered", *id))
        .show(ui, |ui| {
            for (row, label) in c.uncovered_rows.iter().zip(&c.uncovered) {
                let text = state
                    .layer(*id)
                    .map_or_else(|| label.clone(), |l| l.layer.feature_label(*row));
                if ui.link(text).clicked() {
                    commands.push(Command::FlyTo(FeatureRef {
                        layer: *id,
                        feature: *row,
                    }));
                }
            }
        });
    }
    if !summary.districts.is_empty() {
        ui.label(lang.pick(
            "各站辖区（最快到达划分；GB 51080：≤7 km²，条件允许 ≤15 km²）",
            "Station districts (fastest station; GB 51080: ≤7 km², ≤15 km² where allowed)",
        ));
        egui::Grid::new("coverage-districts")
            .striped(true)
            .show(ui, |ui| {
                for (station, km2, over_standard, over_limit) in &summary.districts {
                    ui.label(station);
                    let text = format!("{km2:.2} km²");
                    if *over_limit {
                        ui.label(
                            RichText::new(format!("{text} {}", lang.pick("超过15", "over 15")))
                                .color(RED),
                        );
                    } else if *over_standard {
                        ui.label(
                            RichText::new(format!("{text} {}", lang.pick("超过7", "over 7")))
                                .color(AMBER),
                        );
                    } else {
                        ui.label(text);
                    }
                    ui.end_row();
                }
            });
    }
}
