//! The legend: one entry per visible layer, with its symbol and categories.

use egui::{Sense, Ui, vec2};

use crate::app::AppState;
use crate::map::render::PreparedGeometry;
use crate::map::render::marker_shapes;
use crate::map::symbology::{LayerStyle, color};

pub fn show(ui: &mut Ui, state: &AppState) {
    let lang = state.lang();
    ui.heading(lang.pick("图例", "Legend"));
    for layer in state.layers.iter().rev().filter(|l| l.visible) {
        let geometry = match layer.render.features.first() {
            Some(PreparedGeometry::Point(_) | PreparedGeometry::Points(_)) => Shape::Point,
            Some(PreparedGeometry::Lines(_)) => Shape::Line,
            _ => Shape::Area,
        };
        if layer.style.categories.is_empty() {
            ui.horizontal(|ui| {
                swatch(ui, &layer.style, geometry, None);
                ui.label(layer.title());
            });
        } else {
            ui.label(format!(
                "{} ({})",
                layer.title(),
                layer.style.category_field.as_deref().unwrap_or_default()
            ));
            for category in &layer.style.categories {
                ui.horizontal(|ui| {
                    ui.add_space(12.0);
                    swatch(ui, &layer.style, geometry, Some(category.color));
                    ui.label(&category.value);
                });
            }
            ui.horizontal(|ui| {
                ui.add_space(12.0);
                swatch(
                    ui,
                    &layer.style,
                    geometry,
                    Some(crate::map::symbology::OTHER_CATEGORY_COLOR),
                );
                ui.label(lang.pick("其他", "Other"));
            });
        }
    }
}

#[derive(Clone, Copy)]
enum Shape {
    Point,
    Line,
    Area,
}

fn swatch(ui: &mut Ui, style: &LayerStyle, geometry: Shape, fill: Option<[u8; 4]>) {
    let (rect, _) = ui.allocate_exact_size(vec2(22.0, 16.0), Sense::hover());
    let fill_color = color(fill.unwrap_or(style.fill), style.opacity);
    let stroke_color = color(fill.unwrap_or(style.stroke), style.opacity);
    let painter = ui.painter();
    match geometry {
        Shape::Point => {
            let mut shapes = Vec::new();
            marker_shapes(
                &mut shapes,
                style.marker,
                rect.center(),
                style.marker_size.min(14.0),
                fill_color,
                egui::Stroke::new(1.0, color(style.stroke, style.opacity)),
            );
            painter.extend(shapes);
        }
        Shape::Line => {
            let stroke = egui::Stroke::new(style.stroke_width.clamp(1.0, 4.0), stroke_color);
            let pts = [rect.left_center(), rect.right_center()];
            if style.dashed {
                painter.extend(egui::Shape::dashed_line(&pts, stroke, 5.0, 3.0));
            } else {
                painter.line_segment(pts, stroke);
            }
        }
        Shape::Area => {
            painter.rect_filled(rect.shrink(2.0), 1.0, fill_color);
            painter.rect_stroke(
                rect.shrink(2.0),
                1.0,
                egui::Stroke::new(style.stroke_width.clamp(0.5, 3.0), stroke_color),
                egui::StrokeKind::Inside,
            );
        }
    }
}
