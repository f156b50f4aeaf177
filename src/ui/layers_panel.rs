//! The layer panel: visibility, order, opacity, zoom-to, remove, and style per layer.

use egui::{Color32, RichText, Ui};

use crate::app::{AppState, Command, MapLayer};
use crate::i18n::Lang;
use crate::map::symbology::{LayerStyle, Marker, kind_name};
use crate::model::LayerKind;

/// Which layer's style editor is open (UI-only state).
#[derive(Default)]
pub struct LayersPanel {
    pub editing: Option<u64>,
}

impl LayersPanel {
    pub fn show(&mut self, ui: &mut Ui, state: &AppState) -> Vec<Command> {
        let lang = state.lang();
        let mut commands = Vec::new();
        ui.heading(lang.pick("图层", "Layers"));
        if state.layers.is_empty() && state.loads.is_empty() {
            ui.label(lang.pick(
                "尚无图层。用“文件 > 打开”或把文件拖进窗口。",
                "No layers yet. Use File > Open or drop files on the window.",
            ));
        }
        let count = state.layers.len();
        // Top of the list is the top of the drawing order.
        for (position, layer) in state.layers.iter().enumerate().rev() {
            ui.push_id(layer.id, |ui| {
                layer_row(
                    ui,
                    layer,
                    lang,
                    position,
                    count,
                    &mut commands,
                    &mut self.editing,
                );
                if self.editing == Some(layer.id) {
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        if let Some(style) = style_editor(ui, layer, lang) {
                            commands.push(Command::SetStyle(layer.id, style));
                        }
                        if let Some(kind) = kind_picker(ui, layer, lang) {
                            commands.push(Command::SetKind(layer.id, kind));
                        }
                    });
                }
            });
        }
        commands
    }
}

fn layer_row(
    ui: &mut Ui,
    layer: &MapLayer,
    lang: Lang,
    position: usize,
    count: usize,
    commands: &mut Vec<Command>,
    editing: &mut Option<u64>,
) {
    ui.horizontal(|ui| {
        let swatch = crate::map::symbology::color(layer.style.fill, 1.0);
        let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
        ui.painter().rect_filled(rect, 2.0, swatch);
        ui.painter().rect_stroke(
            rect,
            2.0,
            egui::Stroke::new(1.0, crate::map::symbology::color(layer.style.stroke, 1.0)),
            egui::StrokeKind::Inside,
        );
        let mut visible = layer.visible;
        let mut title = RichText::new(layer.title());
        if !layer.warnings.is_empty() {
            title = title.color(Color32::from_rgb(190, 110, 0));
        }
        // The checkbox carries the layer name, so it is also its accessible label.
        let toggle = ui.checkbox(&mut visible, title).on_hover_text(format!(
            "{}: {}\n{} {}{}",
            lang.pick("类型", "Kind"),
            kind_name(layer.layer.kind, lang),
            layer.layer.len(),
            lang.pick("个要素", "features"),
            if layer.warnings.is_empty() {
                String::new()
            } else {
                format!(
                    "\n{} {}",
                    layer.warnings.len(),
                    lang.pick("条警告", "warnings")
                )
            }
        ));
        if toggle.changed() {
            commands.push(Command::SetVisible(layer.id, visible));
        }
    });
    ui.horizontal(|ui| {
        ui.add_space(22.0);
        if ui
            .add_enabled(position + 1 < count, egui::Button::new("⬆").small())
            .on_hover_text(lang.pick("上移", "Move up"))
            .clicked()
        {
            commands.push(Command::MoveLayer(layer.id, 1));
        }
        if ui
            .add_enabled(position > 0, egui::Button::new("⬇").small())
            .on_hover_text(lang.pick("下移", "Move down"))
            .clicked()
        {
            commands.push(Command::MoveLayer(layer.id, -1));
        }
        if ui.small_button(lang.pick("缩放至", "Zoom to")).clicked() {
            commands.push(Command::ZoomToLayer(layer.id));
        }
        let style_label = lang.pick("样式", "Style");
        if ui.small_button(style_label).clicked() {
            *editing = if *editing == Some(layer.id) {
                None
            } else {
                Some(layer.id)
            };
        }
        if ui.small_button(lang.pick("移除", "Remove")).clicked() {
            commands.push(Command::RemoveLayer(layer.id));
        }
    });
    ui.horizontal(|ui| {
        ui.add_space(22.0);
        let mut opacity = layer.style.opacity;
        let slider = ui.add(
            egui::Slider::new(&mut opacity, 0.0..=1.0)
                .text(lang.pick("不透明度", "Opacity"))
                .show_value(false),
        );
        if slider.changed() {
            let mut style = layer.style.clone();
            style.opacity = opacity;
            commands.push(Command::SetStyle(layer.id, style));
        }
    });
}

fn rgba_edit(ui: &mut Ui, label: &str, rgba: &mut [u8; 4]) -> bool {
    ui.horizontal(|ui| {
        ui.label(label);
        let mut c = Color32::from_rgba_unmultiplied(rgba[0], rgba[1], rgba[2], rgba[3]);
        let changed = ui.color_edit_button_srgba(&mut c).changed();
        if changed {
            *rgba = c.to_srgba_unmultiplied();
        }
        changed
    })
    .inner
}

/// The style editor; returns the new style when the user changed something.
fn style_editor(ui: &mut Ui, layer: &MapLayer, lang: Lang) -> Option<LayerStyle> {
    let mut style = layer.style.clone();
    let mut changed = false;
    changed |= rgba_edit(ui, lang.pick("填充", "Fill"), &mut style.fill);
    changed |= rgba_edit(ui, lang.pick("边线", "Stroke"), &mut style.stroke);
    changed |= ui
        .add(egui::Slider::new(&mut style.stroke_width, 0.0..=8.0).text(lang.pick("线宽", "Width")))
        .changed();
    changed |= ui
        .add(
            egui::Slider::new(&mut style.marker_size, 2.0..=24.0)
                .text(lang.pick("符号大小", "Symbol size")),
        )
        .changed();
    egui::ComboBox::from_label(lang.pick("符号", "Symbol"))
        .selected_text(marker_name(style.marker, lang))
        .show_ui(ui, |ui| {
            for m in [
                Marker::Circle,
                Marker::Square,
                Marker::Triangle,
                Marker::Diamond,
                Marker::Cross,
                Marker::Star,
            ] {
                changed |= ui
                    .selectable_value(&mut style.marker, m, marker_name(m, lang))
                    .changed();
            }
        });
    let fields: Vec<String> = layer
        .layer
        .attributes
        .field_names()
        .map(str::to_owned)
        .collect();
    let none = lang.pick("（无）", "(none)").to_owned();
    let mut category = style.category_field.clone();
    egui::ComboBox::from_label(lang.pick("按属性分类着色", "Colour by attribute"))
        .selected_text(category.clone().unwrap_or(none.clone()))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut category, None, none.clone());
            for f in &fields {
                ui.selectable_value(&mut category, Some(f.clone()), f);
            }
        });
    if category != style.category_field {
        match &category {
            Some(field) => style.categorize_by(&layer.layer.attributes, field),
            None => style.clear_categories(),
        }
        changed = true;
    }
    let mut label = style.label_field.clone();
    egui::ComboBox::from_label(lang.pick("标注字段", "Label field"))
        .selected_text(label.clone().unwrap_or(none.clone()))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut label, None, none.clone());
            for f in &fields {
                ui.selectable_value(&mut label, Some(f.clone()), f);
            }
        });
    if label != style.label_field {
        style.label_field = label;
        changed = true;
    }
    if ui
        .button(lang.pick("恢复预设样式", "Reset to preset"))
        .clicked()
    {
        style = LayerStyle::preset(layer.layer.kind);
        changed = true;
    }
    changed.then_some(style)
}

fn kind_picker(ui: &mut Ui, layer: &MapLayer, lang: Lang) -> Option<LayerKind> {
    let mut kind = layer.layer.kind;
    egui::ComboBox::from_label(lang.pick("图层类型（预设样式）", "Layer kind (preset style)"))
        .selected_text(kind_name(kind, lang))
        .show_ui(ui, |ui| {
            for k in LayerKind::ALL {
                ui.selectable_value(&mut kind, k, kind_name(k, lang));
            }
        });
    (kind != layer.layer.kind).then_some(kind)
}

fn marker_name(marker: Marker, lang: Lang) -> &'static str {
    match marker {
        Marker::Circle => lang.pick("圆形", "Circle"),
        Marker::Square => lang.pick("方形", "Square"),
        Marker::Triangle => lang.pick("三角形", "Triangle"),
        Marker::Diamond => lang.pick("菱形", "Diamond"),
        Marker::Cross => lang.pick("十字", "Cross"),
        Marker::Star => lang.pick("星形", "Star"),
    }
}
