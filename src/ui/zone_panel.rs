//! The evacuation-zone panel: the zones with their status, and for the selected one the
//! report: people inside, features inside per layer, shelters inside (unusable), the
//! allocation of evacuees to shelters by capacity, people who cannot be placed, shelter
//! siting flags and daily needs; exports of zones and reports.

use egui::{Color32, RichText, Ui};

use crate::app::{AppState, Command};
use crate::i18n::Lang;
use crate::scenario::document::{LonLat, Zone, ZoneStatus};
use crate::scenario::edit::Edit;

/// The zone name being typed (UI-only until the field loses focus) and the buffer distance.
pub struct ZonePanel {
    editing_name: Option<(u64, String)>,
    buffer_m: f64,
}

impl Default for ZonePanel {
    fn default() -> Self {
        ZonePanel {
            editing_name: None,
            buffer_m: 200.0,
        }
    }
}

/// What the zone panel asks the window to do that needs a file dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneExport {
    ZonesGeoJson,
    ReportMarkdown,
    ReportCsv,
}

fn colour(rgba: [u8; 4]) -> Color32 {
    Color32::from_rgba_unmultiplied(rgba[0], rgba[1], rgba[2], rgba[3])
}

impl ZonePanel {
    pub fn show(&mut self, ui: &mut Ui, state: &AppState) -> (Vec<Command>, Option<ZoneExport>) {
        let lang = state.lang();
        let mut commands = Vec::new();
        let mut export = None;
        self.buffer_tool(ui, state, lang, &mut commands);
        settings(ui, state, lang, &mut commands);
        ui.separator();
        if state.scenario.zones.is_empty() {
            ui.label(lang.pick(
                "尚无疏散区。用工具栏的“画疏散区”在地图上绘制，或从事件生成。",
                "No zone yet. Draw one with the toolbar's zone tools, or create one from an incident.",
            ));
            return (commands, export);
        }
        egui::Grid::new("zone-list").striped(true).show(ui, |ui| {
            for zone in &state.scenario.zones {
                let selected = state.selected_zone == Some(zone.id);
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                ui.painter()
                    .rect_filled(rect, 2.0, colour(zone.status.color()));
                if ui
                    .selectable_label(
                        selected,
                        format!("{} · {}", zone.name, zone.status.label(lang)),
                    )
                    .clicked()
                {
                    commands.push(Command::SelectZone(Some(zone.id)));
                }
                ui.end_row();
            }
        });
        ui.horizontal(|ui| {
            if ui
                .button(lang.pick(
                    "导出全部疏散区和事件 (GeoJSON)…",
                    "Export zones and incidents (GeoJSON)…",
                ))
                .clicked()
            {
                export = Some(ZoneExport::ZonesGeoJson);
            }
        });
        let Some(zone) = state.selected_zone.and_then(|id| state.scenario.zone(id)) else {
            return (commands, export);
        };
        ui.separator();
        self.details(ui, zone, lang, &mut commands);
        if let Some((id, report)) = &state.zone_report
            && *id == zone.id
        {
            ui.separator();
            show_report(ui, report, lang);
            ui.horizontal(|ui| {
                if ui
                    .button(lang.pick("导出报告 (Markdown)…", "Export report (Markdown)…"))
                    .clicked()
                {
                    export = Some(ZoneExport::ReportMarkdown);
                }
                if ui
                    .button(lang.pick("导出报告 (CSV)…", "Export report (CSV)…"))
                    .clicked()
                {
                    export = Some(ZoneExport::ReportCsv);
                }
            });
        }
        (commands, export)
    }

    /// A zone around the feature selected on the map (identify or search): everything
    /// within a distance of it.
    fn buffer_tool(
        &mut self,
        ui: &mut Ui,
        state: &AppState,
        lang: Lang,
        commands: &mut Vec<Command>,
    ) {
        let selected = state.highlighted.as_ref().and_then(|f| {
            let l = state.layer(f.layer)?;
            Some((l, f.feature))
        });
        ui.horizontal(|ui| {
            let label = ui.label(lang.pick("缓冲距离（米）", "Buffer (m)"));
            ui.add(
                egui::DragValue::new(&mut self.buffer_m)
                    .range(5.0..=20_000.0)
                    .speed(10.0),
            )
            .labelled_by(label.id);
            let button = ui.add_enabled(
                selected.is_some(),
                egui::Button::new(
                    lang.pick("围绕所选要素生成疏散区", "Zone around the selected feature"),
                ),
            );
            let button = button.on_disabled_hover_text(lang.pick(
                "先在地图上单击或搜索选中一个要素",
                "Select a feature first (click it on the map, or search)",
            ));
            if button.clicked()
                && let Some((l, row)) = selected
                && let Some(g) = l.layer.geometries.get(row)
            {
                match crate::analysis::hazard_zones::buffer_geometry(g, self.buffer_m) {
                    Ok(area) => {
                        let largest = area.0.iter().max_by(|a, b| {
                            use geo::Area;
                            a.unsigned_area().total_cmp(&b.unsigned_area())
                        });
                        if let Some(polygon) = largest {
                            let ring: Vec<LonLat> = polygon
                                .exterior()
                                .coords()
                                .map(|c| LonLat::new(c.x, c.y))
                                .collect();
                            let source = format!(
                                "{} · {} · {:.0} m",
                                l.title(),
                                l.layer.feature_label(row),
                                self.buffer_m
                            );
                            commands.push(Command::AddZone(
                                crate::scenario::document::ZoneShape::buffer(source, ring),
                                format!("{} {:.0} m", l.layer.feature_label(row), self.buffer_m),
                            ));
                        }
                    }
                    Err(e) => commands.push(Command::Notify(e.to_string())),
                }
            }
        });
    }

    fn details(&mut self, ui: &mut Ui, zone: &Zone, lang: Lang, commands: &mut Vec<Command>) {
        egui::Grid::new("zone-fields")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label(lang.pick("名称", "Name"));
                let name = match &mut self.editing_name {
                    Some((id, text)) if *id == zone.id.0 => text,
                    slot => {
                        *slot = Some((zone.id.0, zone.name.clone()));
                        match slot {
                            Some((_, text)) => text,
                            None => return,
                        }
                    }
                };
                let edit = ui
                    .add(egui::TextEdit::singleline(name).desired_width(160.0))
                    .labelled_by(label.id);
                if edit.lost_focus() && name.trim() != zone.name && !name.trim().is_empty() {
                    commands.push(Command::Edit(
                        Edit::RenameZone {
                            zone: zone.id,
                            name: name.trim().to_owned(),
                        },
                        false,
                    ));
                }
                if !edit.has_focus() && !edit.lost_focus() {
                    *name = zone.name.clone();
                }
                ui.end_row();
                let label = ui.label(lang.pick("状态", "Status"));
                egui::ComboBox::from_id_salt("zone-status")
                    .selected_text(zone.status.label(lang))
                    .show_ui(ui, |ui| {
                        for status in ZoneStatus::ALL {
                            if ui
                                .selectable_label(zone.status == status, status.label(lang))
                                .clicked()
                            {
                                commands.push(Command::Edit(
                                    Edit::SetZoneStatus {
                                        zone: zone.id,
                                        status,
                                    },
                                    false,
                                ));
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                ui.label(lang.pick("面积", "Area"));
                let area = crate::analysis::measure::multipolygon_area_m2(&zone.to_multi_polygon());
                ui.label(crate::analysis::measure::format_area(area, lang));
                ui.end_row();
            });
        ui.horizontal(|ui| {
            if ui.button(lang.pick("删除疏散区", "Delete zone")).clicked() {
                commands.push(Command::Edit(Edit::RemoveZone(zone.id), false));
            }
            ui.label(
                RichText::new(lang.pick(
                    "拖动顶点编辑；单击边中点插入顶点；右键删除顶点",
                    "Drag vertices; click an edge midpoint to insert; right-click deletes",
                ))
                .small()
                .weak(),
            );
        });
    }
}

/// Shelter area per person and the daily minimum needs per evacuee, editable.
fn settings(ui: &mut Ui, state: &AppState, lang: Lang, commands: &mut Vec<Command>) {
    egui::CollapsingHeader::new(lang.pick("安置参数", "Sheltering settings"))
        .id_salt("zone-settings")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label(lang.pick(
                    "无容量时每人面积（平方米）",
                    "Area per person without a capacity (m²)",
                ));
                let mut m2 = state.m2_per_person;
                if ui
                    .add(egui::DragValue::new(&mut m2).range(0.5..=50.0).speed(0.1))
                    .labelled_by(label.id)
                    .changed()
                {
                    commands.push(Command::SetM2PerPerson(m2));
                }
            });
            ui.label(lang.pick("每人每日最低需求", "Minimum needs per person"));
            egui::Grid::new("needs-profile")
                .striped(true)
                .show(ui, |ui| {
                    for (i, item) in state.needs.items.iter().enumerate() {
                        let label = ui.label(item.name(lang));
                        let mut quantity = item.quantity;
                        if ui
                            .add(
                                egui::DragValue::new(&mut quantity)
                                    .range(0.0..=1000.0)
                                    .speed(0.1),
                            )
                            .labelled_by(label.id)
                            .changed()
                        {
                            commands.push(Command::SetNeedQuantity(i, quantity));
                        }
                        ui.label(&item.unit);
                        ui.end_row();
                    }
                });
        });
}

fn show_report(ui: &mut Ui, report: &crate::analysis::zone_report::ZoneReport, lang: Lang) {
    ui.label(
        RichText::new(format!(
            "{}: {:.0} ({} {})",
            lang.pick("区内人口", "People inside"),
            report.population.total,
            report.evacuees,
            lang.pick("人需撤离", "to evacuate")
        ))
        .strong(),
    );
    egui::CollapsingHeader::new(lang.pick("区内要素", "Features inside"))
        .id_salt("zone-features")
        .default_open(true)
        .show(ui, |ui| {
            for layer in report.layers.iter().filter(|l| !l.rows.is_empty()) {
                ui.label(format!("{}: {}", layer.name, layer.rows.len()))
                    .on_hover_text(layer.ids.join(", "));
            }
        });
    if !report.shelters_inside.is_empty() {
        ui.label(
            RichText::new(format!(
                "{}: {}",
                lang.pick("区内避难场所（不可用）", "Shelters inside (not usable)"),
                report.shelters_inside.join(", ")
            ))
            .color(Color32::from_rgb(170, 100, 0)),
        );
    }
    let a = &report.allocation;
    ui.label(
        RichText::new(lang.pick(
            "安置方案（先安置最多人，再使人·公里最少）",
            "Shelter plan (most people placed, then least person-km)",
        ))
        .strong(),
    );
    egui::Grid::new("zone-shelter-use")
        .striped(true)
        .show(ui, |ui| {
            ui.label(lang.pick("避难场所", "Shelter"));
            ui.label(lang.pick("安置/容量", "Assigned / capacity"));
            ui.end_row();
            for (site, used) in report.shelters_usable.iter().zip(&a.shelter_used) {
                if *used == 0 {
                    continue;
                }
                ui.label(&site.id);
                ui.label(format!("{used} / {}", site.capacity));
                ui.end_row();
            }
        });
    ui.label(format!(
        "{}: {} · {}: {} · {}: {:.0}",
        lang.pick("已安置", "Placed"),
        a.placed,
        lang.pick("无法安置", "Cannot be placed"),
        a.unplaced,
        lang.pick("人·公里", "person-km"),
        a.total_person_km
    ));
    if a.unplaced > 0 {
        ui.label(
            RichText::new(lang.pick(
                "避难场所容量不足或不可达：需增开场所或外送",
                "Shelter capacity is short or unreachable: open more shelters or send people further",
            ))
            .color(Color32::RED),
        );
    }
    if !report.shelter_flags.is_empty() {
        egui::CollapsingHeader::new(
            RichText::new(format!(
                "{} ({})",
                lang.pick("选址不合格的避难场所", "Shelters failing a siting check"),
                report.shelter_flags.len()
            ))
            .color(Color32::from_rgb(200, 30, 30)),
        )
        .id_salt("zone-flags")
        .show(ui, |ui| {
            for flag in &report.shelter_flags {
                for reason in &flag.reasons {
                    ui.label(format!("{}: {}", flag.id, reason.text(lang)));
                }
            }
        });
    }
    egui::CollapsingHeader::new(lang.pick("每日最低需求", "Minimum needs per day"))
        .id_salt("zone-needs")
        .show(ui, |ui| {
            egui::Grid::new("zone-needs-grid")
                .striped(true)
                .show(ui, |ui| {
                    for need in &report.needs {
                        ui.label(lang.pick(&need.name_zh, &need.name_en));
                        ui.label(format!("{:.1} {}", need.amount, need.unit));
                        ui.end_row();
                    }
                });
        });
}
