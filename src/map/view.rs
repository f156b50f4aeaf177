//! The map widget: walkers with the basemap, the layers drawn over it, labels, a scale bar,
//! hover tooltips and click-to-identify. Reads the state, returns commands.

use egui::{Align2, Color32, FontId, Pos2, Rect, Shape, Stroke, Ui, pos2, vec2};
use walkers::{Map, MapMemory, lon_lat};

use super::basemap::Basemaps;
use super::render::{
    DrawStats, LabelCandidate, LayerDraw, ViewTransform, declutter_labels, layer_shapes,
};
use crate::app::{AppState, Command, FeatureRef, ViewRequest};
use crate::i18n::Lang;
use crate::model::LayerKind;

/// Pointer tolerance for hover and identify, in screen pixels.
pub const HIT_TOLERANCE_PX: f32 = 6.0;
/// Where the map looks before anything is loaded: the demo district's centre.
const HOME: (f64, f64) = (117.87, 36.80);
/// Background of the built-in basemap (land).
const LAND: Color32 = Color32::from_rgb(244, 241, 233);

/// Map state that lives between frames but is not persisted data.
pub struct MapView {
    pub memory: MapMemory,
    /// The last frame's screen mapping, for tests and zoom-to-fit.
    pub last_view: Option<ViewTransform>,
    pub last_stats: DrawStats,
    /// What the pointer is over (for the status bar).
    pub pointer_lonlat: Option<(f64, f64)>,
    /// The active map tool and what has been sketched with it.
    pub sketch: super::tools::Sketch,
}

impl Default for MapView {
    fn default() -> Self {
        let mut memory = MapMemory::default();
        // Zoom levels are always valid here; an error would only mean "out of range".
        let _ = memory.set_zoom(11.0);
        MapView {
            memory,
            last_view: None,
            last_stats: DrawStats::default(),
            pointer_lonlat: None,
            sketch: super::tools::Sketch::default(),
        }
    }
}

impl MapView {
    /// Moves the view as asked (fly-to, zoom-to-layer).
    pub fn apply_request(&mut self, request: ViewRequest, size: egui::Vec2) {
        match request {
            ViewRequest::Center { lon, lat, zoom } => {
                self.memory.center_at(lon_lat(lon, lat));
                let _ = self.memory.set_zoom(zoom);
            }
            ViewRequest::Fit(bbox) => {
                let c = bbox.center();
                let a = super::render::mercator(bbox.min().x, bbox.max().y);
                let b = super::render::mercator(bbox.max().x, bbox.min().y);
                let (dx, dy) = ((b[0] - a[0]).max(1e-9), (b[1] - a[1]).max(1e-9));
                let fit = (f64::from(size.x.max(100.0)) * 0.9 / (dx * 256.0))
                    .min(f64::from(size.y.max(100.0)) * 0.9 / (dy * 256.0));
                self.memory.center_at(lon_lat(c.x, c.y));
                let _ = self.memory.set_zoom(fit.log2().clamp(2.0, 18.0));
            }
        }
    }

    /// Draws the map and returns what the user asked for.
    pub fn show(&mut self, ui: &mut Ui, state: &AppState, basemaps: &mut Basemaps) -> Vec<Command> {
        let lang = state.lang();
        let mut commands = Vec::new();
        let home = state
            .settings
            .view_center
            .map(|(lon, lat)| lon_lat(lon, lat))
            .unwrap_or(lon_lat(HOME.0, HOME.1));
        let builtin = basemaps.shows_builtin();
        if builtin {
            ui.painter()
                .rect_filled(ui.available_rect_before_wrap(), 0.0, LAND);
        }
        let mut tiles = basemaps.tile_layers().into_iter();
        let mut map = Map::new(tiles.next(), &mut self.memory, home)
            .double_click_to_zoom(true)
            .zoom_with_ctrl(false);
        for overlay in tiles {
            map = map.with_layer(overlay, 1.0);
        }
        let mut frame_view = None;
        let mut stats = DrawStats::default();
        let mut pointer = None;
        let sketch = &mut self.sketch;
        let response = map.show(ui, |ui, response, projector, _memory| {
            let clip = response.rect;
            let a = (HOME.0, HOME.1);
            let b = (HOME.0 + 0.1, HOME.1 - 0.1);
            let sa = projector.project(lon_lat(a.0, a.1)).to_pos2();
            let sb = projector.project(lon_lat(b.0, b.1)).to_pos2();
            let view = ViewTransform::from_two_points(a, sa, b, sb, clip);
            frame_view = Some(view);

            let painter = ui.painter().with_clip_rect(clip);
            let mut shapes = Vec::new();
            let mut labels: Vec<LabelCandidate> = Vec::new();
            let basemap_layers = if builtin {
                state.basemap_layers.as_slice()
            } else {
                &[]
            };
            for l in basemap_layers
                .iter()
                .chain(state.layers.iter().filter(|l| l.visible))
            {
                let highlighted: Vec<usize> = highlight_for(state, l.id);
                let flagged = state.flagged_features(l.id);
                let mut layer_labels = Vec::new();
                let s = layer_shapes(
                    &view,
                    &LayerDraw {
                        layer: &l.layer,
                        index: &l.index,
                        cache: &l.render,
                        style: &l.style,
                        classes: &l.classes,
                        highlighted: &highlighted,
                        flagged: &flagged,
                    },
                    &mut shapes,
                    &mut layer_labels,
                );
                stats.features_visible += s.features_visible;
                stats.points_drawn += s.points_drawn;
                stats.points_thinned += s.points_thinned;
                // Top layers label first, so they win the declutter.
                labels.splice(0..0, layer_labels);
            }
            // The file waiting in the import dialog, drawn over everything as a preview.
            if let Some(Ok((preview, _))) = state.pending_import.as_ref().map(|p| &p.outcome) {
                for p in preview {
                    let style = crate::map::symbology::LayerStyle::preset(p.layer.kind);
                    let mut ignored_labels = Vec::new();
                    layer_shapes(
                        &view,
                        &LayerDraw {
                            layer: &p.layer,
                            index: &p.index,
                            cache: &p.render,
                            style: &style,
                            classes: &[],
                            highlighted: &[],
                            flagged: &[],
                        },
                        &mut shapes,
                        &mut ignored_labels,
                    );
                }
            }
            painter.extend(shapes);
            if state.settings.show_labels {
                draw_labels(&painter, ui, &labels, clip);
            }
            draw_scale_bar(&painter, &view, clip, lang);
            super::scenario_layer::draw(&painter, state, &view);
            if state.drag_stations {
                commands.extend(station_drag_handles(ui, &painter, state, &view, clip));
            }
            commands.extend(super::scenario_layer::edit_handles(
                ui, &painter, state, &view,
            ));
            let browsing = sketch.tool == super::tools::MapTool::Browse;
            let hover_lonlat = response.hover_pos().map(|p| {
                let (lon, lat) = view.screen_to_lonlat(p);
                [lon, lat]
            });
            commands.extend(sketch.update(ui, &painter, &view, response, hover_lonlat, lang));

            if let Some(hover) = response.hover_pos() {
                let (lon, lat) = view.screen_to_lonlat(hover);
                pointer = Some((lon, lat));
                let tolerance_m = tolerance_m(projector, lon, lat);
                let hits = state.features_at(geo::Point::new(lon, lat), tolerance_m);
                if !hits.is_empty() {
                    response
                        .clone()
                        .on_hover_ui_at_pointer(|ui| hover_tooltip(ui, state, &hits, lang));
                }
                if response.clicked() && browsing {
                    match super::scenario_layer::hit(state, &view, hover) {
                        Some(select) => commands.push(select),
                        None => {
                            commands.push(Command::Identify(geo::Point::new(lon, lat), tolerance_m))
                        }
                    }
                }
            }
        });
        self.last_view = frame_view;
        self.last_stats = stats;
        self.pointer_lonlat = pointer;
        let rect = response.response.rect;
        zoom_buttons(ui, rect, &mut self.memory, lang);
        if builtin {
            draw_attribution_text(ui, rect, &[lang.pick(
                "底图：OneMap 内置矢量（演示数据；行政区界源自高德/DataV，仅供学习交流）",
                "Basemap: OneMap built-in vector (demo data; boundaries from Amap/DataV, for learning use)",
            )]);
        } else {
            basemaps.draw_attribution(ui, rect);
        }
        basemaps.draw_status_badge(ui, rect, lang);
        commands
    }
}

/// Draggable rings over every visible fire station; a drag moves the station, and the
/// response areas follow (the app recomputes on each move).
fn station_drag_handles(
    ui: &mut Ui,
    painter: &egui::Painter,
    state: &AppState,
    view: &ViewTransform,
    clip: Rect,
) -> Vec<Command> {
    const HANDLE_PX: f32 = 22.0;
    let mut commands = Vec::new();
    let ring = Stroke::new(2.0, Color32::from_rgb(0, 90, 200));
    for l in state
        .layers
        .iter()
        .filter(|l| l.visible && l.layer.kind == LayerKind::FireStation)
    {
        for (feature, g) in l.layer.geometries.iter().enumerate() {
            let geo::Geometry::Point(p) = g else {
                continue;
            };
            let pos = view.lonlat_to_screen(p.x(), p.y());
            if !clip.contains(pos) {
                continue;
            }
            let handle = ui.interact(
                Rect::from_center_size(pos, vec2(HANDLE_PX, HANDLE_PX)),
                ui.make_persistent_id(("drag-station", l.id, feature)),
                egui::Sense::drag(),
            );
            painter.circle_stroke(pos, HANDLE_PX / 2.0, ring);
            if handle.hovered() || handle.dragged() {
                ui.ctx().set_cursor_icon(egui::CursorIcon::Grab);
            }
            if handle.dragged()
                && let Some(pointer) = handle.interact_pointer_pos()
            {
                let (lon, lat) = view.screen_to_lonlat(pointer);
                commands.push(Command::MovePoint {
                    layer: l.id,
                    feature,
                    lon,
                    lat,
                });
            }
        }
    }
    commands
}

fn tolerance_m(projector: &walkers::Projector, lon: f64, lat: f64) -> f64 {
    let ppm = f64::from(projector.scale_pixel_per_meter(lon_lat(lon, lat)));
    if ppm > 0.0 && ppm.is_finite() {
        f64::from(HIT_TOLERANCE_PX) / ppm
    } else {
        50.0
    }
}

fn highlight_for(state: &AppState, layer: u64) -> Vec<usize> {
    let mut out: Vec<usize> = state
        .identified
        .iter()
        .chain(state.highlighted.iter())
        .filter(|f| f.layer == layer)
        .map(|f| f.feature)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A glance at what is under the pointer: the top feature in full-ish, the next one by
/// name; everything else is one click away in the identify panel.
fn hover_tooltip(ui: &mut Ui, state: &AppState, hits: &[FeatureRef], lang: Lang) {
    const SHOWN: usize = 2;
    for (n, hit) in hits.iter().take(SHOWN).enumerate() {
        if let Some(l) = state.layer(hit.layer) {
            ui.label(
                egui::RichText::new(format!(
                    "{} · {}",
                    l.title(),
                    l.layer.feature_label(hit.feature)
                ))
                .strong(),
            );
            if n == 0 {
                for (field, value) in l.layer.attributes.row(hit.feature).take(4) {
                    ui.label(format!("{field}: {value}"));
                }
            }
        }
    }
    if hits.len() > SHOWN {
        ui.label(format!(
            "… +{} {}",
            hits.len() - SHOWN,
            lang.pick("（单击查看全部）", "(click to see all)")
        ));
    }
}

fn draw_labels(painter: &egui::Painter, ui: &Ui, labels: &[LabelCandidate], clip: Rect) {
    let font = FontId::proportional(12.0);
    let placed = declutter_labels(labels, clip.shrink(2.0), &mut |text| {
        ui.fonts_mut(|f| {
            f.layout_no_wrap(text.to_owned(), font.clone(), Color32::BLACK)
                .size()
        })
    });
    for label in placed {
        painter.rect_filled(label.rect.expand(1.5), 2.0, Color32::from_white_alpha(190));
        painter.text(
            label.rect.left_top(),
            Align2::LEFT_TOP,
            &label.text,
            font.clone(),
            Color32::from_gray(20),
        );
    }
}

/// A scale bar of a round length, bottom left.
fn draw_scale_bar(painter: &egui::Painter, view: &ViewTransform, clip: Rect, lang: Lang) {
    let y = clip.bottom() - 22.0;
    let x0 = clip.left() + 16.0;
    let (lon, lat) = view.screen_to_lonlat(pos2(x0, y));
    let metres_per_px = {
        let (lon2, lat2) = view.screen_to_lonlat(pos2(x0 + 100.0, y));
        geo_distance_m(lon, lat, lon2, lat2) / 100.0
    };
    if !(metres_per_px.is_finite() && metres_per_px > 0.0) {
        return;
    }
    let target = metres_per_px * 120.0;
    let magnitude = 10f64.powf(target.log10().floor());
    let nice = [1.0, 2.0, 5.0]
        .iter()
        .map(|m| m * magnitude)
        .rfind(|&v| v <= target)
        .unwrap_or(magnitude);
    let px = (nice / metres_per_px) as f32;
    let text = if nice >= 1000.0 {
        format!("{} {}", nice / 1000.0, lang.pick("公里", "km"))
    } else {
        format!("{nice} {}", lang.pick("米", "m"))
    };
    let bg = Rect::from_min_max(pos2(x0 - 6.0, y - 18.0), pos2(x0 + px + 6.0, y + 8.0));
    painter.rect_filled(bg, 3.0, Color32::from_white_alpha(200));
    let stroke = Stroke::new(2.0, Color32::from_gray(30));
    painter.add(Shape::line(
        vec![
            pos2(x0, y - 5.0),
            pos2(x0, y),
            pos2(x0 + px, y),
            pos2(x0 + px, y - 5.0),
        ],
        stroke,
    ));
    painter.text(
        pos2(x0 + px / 2.0, y - 4.0),
        Align2::CENTER_BOTTOM,
        text,
        FontId::proportional(11.0),
        Color32::from_gray(20),
    );
}

fn geo_distance_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    use geo::{Distance, Haversine};
    Haversine.distance(geo::Point::new(lon1, lat1), geo::Point::new(lon2, lat2))
}

fn zoom_buttons(ui: &mut Ui, rect: Rect, memory: &mut MapMemory, lang: Lang) {
    let size = vec2(28.0, 28.0);
    let plus = Rect::from_min_size(pos2(rect.right() - 40.0, rect.top() + 12.0), size);
    let minus = plus.translate(vec2(0.0, 32.0));
    for (r, zoom_in) in [(plus, true), (minus, false)] {
        let label = if zoom_in { "+" } else { "−" };
        let hint = if zoom_in {
            lang.pick("放大", "Zoom in")
        } else {
            lang.pick("缩小", "Zoom out")
        };
        let response = ui
            .put(r, egui::Button::new(egui::RichText::new(label).size(18.0)))
            .on_hover_text(hint);
        if response.clicked() {
            let _ = if zoom_in {
                memory.zoom_in()
            } else {
                memory.zoom_out()
            };
        }
    }
}

/// Attribution text in the bottom-right corner of the map.
pub fn draw_attribution_text(ui: &Ui, rect: Rect, lines: &[&str]) {
    let painter = ui.painter().with_clip_rect(rect);
    let font = FontId::proportional(10.5);
    let mut y = rect.bottom() - 4.0;
    for line in lines.iter().rev() {
        let galley =
            painter.layout_no_wrap((*line).to_owned(), font.clone(), Color32::from_gray(40));
        let pos = Pos2::new(rect.right() - galley.size().x - 6.0, y - galley.size().y);
        painter.rect_filled(
            Rect::from_min_size(pos, galley.size()).expand(2.0),
            2.0,
            Color32::from_white_alpha(200),
        );
        painter.galley(pos, galley, Color32::from_gray(40));
        y -= 16.0;
    }
}
