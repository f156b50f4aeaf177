//! The incident panel: the incidents on the map, and for the selected one its details,
//! the stations ranked by drive-time ETA (busy ones marked), what lies within the radius,
//! the nearest shelters with room, the people around, and the hazard zones to draw.

use egui::{Color32, RichText, Ui};

use crate::analysis::hazard_zones::SUBSTANCE_PRESETS;
use crate::app::{AppState, Command, FeatureRef};
use crate::i18n::Lang;
use crate::scenario::document::{Incident, LonLat, ZoneShape};
use crate::scenario::edit::Edit;

/// Choices made in the panel that are not part of the document yet.
pub struct IncidentPanel {
    /// Index into `SUBSTANCE_PRESETS`, or None for custom radii.
    substance: Option<usize>,
    isolation_m: f64,
    protective_m: f64,
    corridor_half_width_m: f64,
}

impl Default for IncidentPanel {
    fn default() -> Self {
        IncidentPanel {
            substance: None,
            isolation_m: 100.0,
            protective_m: 800.0,
            corridor_half_width_m: 50.0,
        }
    }
}

fn mm_ss(seconds: f64) -> String {
    let s = seconds.round() as i64;
    format!("{}:{:02}", s / 60, s % 60)
}

impl IncidentPanel {
    pub fn show(&mut self, ui: &mut Ui, state: &AppState) -> Vec<Command> {
        let lang = state.lang();
        let mut commands = Vec::new();
        if state.scenario.incidents.is_empty() {
            ui.label(lang.pick(
                "尚无事件。在工具栏选择事件类型后单击地图标注。",
                "No incident yet. Pick an incident type in the toolbar, then click the map.",
            ));
            return commands;
        }
        egui::Grid::new("incident-list")
            .striped(true)
            .show(ui, |ui| {
                for incident in &state.scenario.incidents {
                    let selected = state.selected_incident == Some(incident.id);
                    let text = format!(
                        "{}{} · {}",
                        incident.fields.kind.label(lang),
                        if incident.fields.closed {
                            lang.pick("（已结束）", " (closed)")
                        } else {
                            ""
                        },
                        incident.fields.time.replace('T', " ")
                    );
                    if ui.selectable_label(selected, text).clicked() {
                        commands.push(Command::SelectIncident(Some(incident.id)));
                    }
                    ui.end_row();
                }
            });
        let Some(incident) = state
            .selected_incident
            .and_then(|id| state.scenario.incident(id))
        else {
            return commands;
        };
        ui.separator();
        self.details(ui, incident, lang, &mut commands);
        if let Some((id, report)) = &state.incident_report
            && *id == incident.id
        {
            ui.separator();
            stations(ui, report, lang);
            nearby(ui, state, report, lang, &mut commands);
            shelters(ui, report, lang);
            if let Some(p) = &report.population {
                ui.label(format!(
                    "{}: {:.0} {}",
                    lang.pick(
                        "半径内人口（按面积加权）",
                        "People within the radius (area-weighted)"
                    ),
                    p.total,
                    lang.pick("人", "people")
                ));
            }
            for w in report.warnings.iter().take(5) {
                ui.label(
                    RichText::new(w)
                        .small()
                        .color(Color32::from_rgb(170, 100, 0)),
                );
            }
        }
        ui.separator();
        self.hazard_zones(ui, state, incident, lang, &mut commands);
        commands
    }

    fn details(
        &mut self,
        ui: &mut Ui,
        incident: &Incident,
        lang: Lang,
        commands: &mut Vec<Command>,
    ) {
        let mut fields = incident.fields.clone();
        let mut changed = false;
        egui::Grid::new("incident-fields")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label(lang.pick("类型", "Type"));
                egui::ComboBox::from_id_salt("incident-kind")
                    .selected_text(fields.kind.label(lang))
                    .show_ui(ui, |ui| {
                        for kind in crate::model::IncidentKind::ALL {
                            changed |= ui
                                .selectable_value(&mut fields.kind, kind, kind.label(lang))
                                .changed();
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                ui.label(lang.pick("时间", "Time"));
                ui.label(&fields.time);
                ui.end_row();
                let label = ui.label(lang.pick("搜索半径（米）", "Search radius (m)"));
                let mut radius = incident.radius_m();
                if ui
                    .add(
                        egui::DragValue::new(&mut radius)
                            .range(50.0..=20_000.0)
                            .speed(10.0),
                    )
                    .labelled_by(label.id)
                    .changed()
                {
                    fields.radius_m = Some(radius);
                    changed = true;
                }
                ui.end_row();
                let label = ui.label(lang.pick("备注", "Note"));
                let note = ui
                    .add(egui::TextEdit::multiline(&mut fields.note).desired_rows(2))
                    .labelled_by(label.id);
                // A note becomes one undo step when the user leaves the field.
                if note.lost_focus() && fields.note != incident.fields.note {
                    changed = true;
                } else if !note.lost_focus() {
                    fields.note = incident.fields.note.clone();
                }
                ui.end_row();
            });
        ui.horizontal(|ui| {
            changed |= ui
                .checkbox(&mut fields.closed, lang.pick("已结束", "Closed"))
                .changed();
            if ui
                .button(lang.pick("删除事件", "Delete incident"))
                .clicked()
            {
                commands.push(Command::Edit(Edit::RemoveIncident(incident.id), false));
            }
        });
        if changed {
            commands.push(Command::Edit(
                Edit::UpdateIncident {
                    id: incident.id,
                    fields,
                },
                false,
            ));
        }
    }

    /// Zones offered from the incident: hazchem rings, a pipeline corridor, a circle.
    fn hazard_zones(
        &mut self,
        ui: &mut Ui,
        state: &AppState,
        incident: &Incident,
        lang: Lang,
        commands: &mut Vec<Command>,
    ) {
        ui.label(RichText::new(lang.pick("危险区域", "Hazard zones")).strong());
        let preset_name = |i: Option<usize>| match i.and_then(|i| SUBSTANCE_PRESETS.get(i)) {
            Some(p) => lang.pick(p.name_zh, p.name_en).to_owned(),
            None => lang.pick("自定义", "Custom").to_owned(),
        };
        egui::ComboBox::from_label(lang.pick("物质", "Substance"))
            .selected_text(preset_name(self.substance))
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(self.substance.is_none(), preset_name(None))
                    .clicked()
                {
                    self.substance = None;
                }
                for (i, p) in SUBSTANCE_PRESETS.iter().enumerate() {
                    if ui
                        .selectable_label(self.substance == Some(i), preset_name(Some(i)))
                        .on_hover_text(p.source)
                        .clicked()
                    {
                        self.substance = Some(i);
                        self.isolation_m = p.isolation_m;
                        self.protective_m = p.protective_m;
                    }
                }
            });
        ui.horizontal(|ui| {
            let label = ui.label(lang.pick("隔离（米）", "Isolation (m)"));
            ui.add(egui::DragValue::new(&mut self.isolation_m).range(10.0..=10_000.0))
                .labelled_by(label.id);
            let label = ui.label(lang.pick("防护（米）", "Protective (m)"));
            ui.add(egui::DragValue::new(&mut self.protective_m).range(10.0..=50_000.0))
                .labelled_by(label.id);
        });
        let centre = incident.position;
        let kind = incident.fields.kind.label(lang);
        if ui
            .button(lang.pick(
                "生成隔离区和防护区",
                "Create isolation and protective zones",
            ))
            .clicked()
        {
            let protective = self.protective_m.max(self.isolation_m);
            commands.push(Command::AddZone(
                ZoneShape::Circle {
                    centre,
                    radius_m: protective,
                },
                format!("{kind} {}", lang.pick("防护区", "protective zone")),
            ));
            commands.push(Command::AddZone(
                ZoneShape::Circle {
                    centre,
                    radius_m: self.isolation_m,
                },
                format!("{kind} {}", lang.pick("隔离区", "isolation zone")),
            ));
        }
        if ui
            .button(format!(
                "{} {:.0} m",
                lang.pick(
                    "按搜索半径生成圆形区",
                    "Create a circle zone of the search radius"
                ),
                incident.radius_m()
            ))
            .clicked()
        {
            commands.push(Command::AddZone(
                ZoneShape::Circle {
                    centre,
                    radius_m: incident.radius_m(),
                },
                format!("{kind} {}", lang.pick("圆形区", "circle")),
            ));
        }
        if let Some((pipeline_name, line)) = nearest_pipeline(state, centre, incident.radius_m()) {
            ui.horizontal(|ui| {
                let label =
                    ui.label(lang.pick("管道走廊半宽（米）", "Pipeline corridor half-width (m)"));
                ui.add(egui::DragValue::new(&mut self.corridor_half_width_m).range(5.0..=2000.0))
                    .labelled_by(label.id);
            });
            if ui
                .button(format!(
                    "{}: {pipeline_name}",
                    lang.pick("沿最近管道生成走廊", "Corridor along the nearest pipeline")
                ))
                .clicked()
            {
                match crate::analysis::hazard_zones::corridor(&line, self.corridor_half_width_m) {
                    Ok(zone) => {
                        if let Some(polygon) = zone.geometry.0.first() {
                            let ring = polygon
                                .exterior()
                                .coords()
                                .map(|c| LonLat::new(c.x, c.y))
                                .collect();
                            commands.push(Command::AddZone(
                                ZoneShape::buffer(pipeline_name.clone(), ring),
                                format!("{pipeline_name} {}", lang.pick("走廊", "corridor")),
                            ));
                        }
                    }
                    Err(e) => {
                        ui.label(RichText::new(e.to_string()).color(Color32::RED));
                    }
                }
            }
        }
    }
}

/// The pipeline feature nearest the incident within the radius, by name, as lines.
fn nearest_pipeline(
    state: &AppState,
    at: LonLat,
    radius_m: f64,
) -> Option<(String, geo::MultiLineString<f64>)> {
    let point = at.point();
    let mut best: Option<(f64, String, geo::MultiLineString<f64>)> = None;
    for l in state
        .layers
        .iter()
        .filter(|l| l.layer.kind == crate::model::LayerKind::Pipeline)
    {
        for (row, _) in l
            .index
            .within_distance(&l.layer.geometries, point, radius_m)
        {
            let Some(g) = l.layer.geometries.get(row) else {
                continue;
            };
            let lines = match g {
                geo::Geometry::LineString(ls) => geo::MultiLineString(vec![ls.clone()]),
                geo::Geometry::MultiLineString(m) => m.clone(),
                _ => continue,
            };
            use geo::{Distance, Haversine};
            let d = lines
                .iter()
                .flat_map(|ls| ls.points())
                .map(|p| Haversine.distance(p, point))
                .fold(f64::INFINITY, f64::min);
            if best.as_ref().is_none_or(|b| d < b.0) {
                best = Some((d, l.layer.feature_label(row), lines));
            }
        }
    }
    best.map(|(_, name, lines)| (name, lines))
}

fn stations(ui: &mut Ui, report: &crate::analysis::incident::IncidentReport, lang: Lang) {
    ui.label(
        RichText::new(lang.pick(
            "消防站到场时间（含出动准备）",
            "Stations by ETA (turnout included)",
        ))
        .strong(),
    );
    if report.stations.is_empty() {
        ui.label(lang.pick("未加载道路或消防站", "No roads or stations loaded"));
        return;
    }
    egui::Grid::new("incident-stations")
        .striped(true)
        .show(ui, |ui| {
            for (rank, s) in report.stations.iter().enumerate() {
                ui.label(format!("{}", rank + 1));
                let name = if s.busy {
                    RichText::new(format!("{} ({})", s.id, lang.pick("出动中", "busy")))
                        .color(Color32::from_rgb(170, 100, 0))
                } else {
                    RichText::new(&s.id)
                };
                ui.label(name);
                ui.label(
                    s.eta_s
                        .map_or_else(|| lang.pick("不可达", "unreachable").to_owned(), mm_ss),
                );
                ui.end_row();
            }
        });
}

fn nearby(
    ui: &mut Ui,
    state: &AppState,
    report: &crate::analysis::incident::IncidentReport,
    lang: Lang,
    commands: &mut Vec<Command>,
) {
    let total: usize = report.nearby.iter().map(|g| g.features.len()).sum();
    egui::CollapsingHeader::new(format!(
        "{} ({total})",
        lang.pick("半径内要素", "Within the radius")
    ))
    .id_salt("incident-nearby")
    .default_open(true)
    .show(ui, |ui| {
        for group in report.nearby.iter().filter(|g| !g.features.is_empty()) {
            let layer = state.layers.iter().find(|l| l.layer.name == group.layer);
            egui::CollapsingHeader::new(format!("{} ({})", group.layer, group.features.len()))
                .id_salt(("nearby", &group.layer))
                .show(ui, |ui| {
                    for f in group.features.iter().take(50) {
                        let text = format!(
                            "{} · {}",
                            layer.map_or_else(|| f.id.clone(), |l| l.layer.feature_label(f.row)),
                            crate::analysis::measure::format_distance(f.distance_m, lang)
                        );
                        if ui.link(text).clicked()
                            && let Some(l) = layer
                        {
                            commands.push(Command::FlyTo(FeatureRef {
                                layer: l.id,
                                feature: f.row,
                            }));
                        }
                    }
                });
        }
    });
}

fn shelters(ui: &mut Ui, report: &crate::analysis::incident::IncidentReport, lang: Lang) {
    if report.shelters.is_empty() {
        return;
    }
    ui.label(
        RichText::new(lang.pick("最近的可用避难场所", "Nearest open shelters with room")).strong(),
    );
    egui::Grid::new("incident-shelters")
        .striped(true)
        .show(ui, |ui| {
            for s in &report.shelters {
                ui.label(s.name.clone().unwrap_or_else(|| s.id.clone()));
                ui.label(format!(
                    "{} {:.0}",
                    lang.pick("余量", "free"),
                    s.free_capacity
                ));
                let km = s.road_km.map_or_else(
                    || format!("{:.2} km {}", s.straight_km, lang.pick("直线", "straight")),
                    |km| format!("{km:.2} km"),
                );
                if s.within_radius {
                    ui.label(
                        RichText::new(format!("{km} ⚠")).color(Color32::from_rgb(170, 100, 0)),
                    )
                    .on_hover_text(lang.pick("位于搜索半径内", "inside the search radius"));
                } else {
                    ui.label(km);
                }
                ui.end_row();
            }
        });
}
