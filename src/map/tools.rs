//! Map tools: what a click on the map means. Besides browsing (identify), the user can
//! measure a path or an area, place an incident, or sketch an evacuation zone as a polygon
//! or a circle. The sketch lives here, in the UI; a finished sketch becomes a command.

use egui::{Align2, Color32, FontId, Pos2, Shape, Stroke, Ui};
use geo::{Distance, Geodesic, LineString, Point, Polygon};

use super::render::ViewTransform;
use crate::analysis::measure::{format_area, format_distance};
use crate::analysis::{hazard_zones, measure};
use crate::app::Command;
use crate::i18n::Lang;
use crate::model::IncidentKind;

/// What a click on the map does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapTool {
    /// Click identifies; drag pans.
    #[default]
    Browse,
    MeasureDistance,
    MeasureArea,
    /// Click places an incident of this kind.
    PlaceIncident(IncidentKind),
    /// Clicks add vertices of an evacuation-zone polygon; double-click or Enter finishes.
    ZonePolygon,
    /// First click sets the centre, the second the radius.
    ZoneCircle,
}

impl MapTool {
    /// The tool's name in the toolbar.
    pub fn label(self, lang: Lang) -> String {
        match self {
            MapTool::Browse => lang.pick("浏览", "Browse").to_owned(),
            MapTool::MeasureDistance => lang.pick("测距离", "Measure distance").to_owned(),
            MapTool::MeasureArea => lang.pick("测面积", "Measure area").to_owned(),
            MapTool::PlaceIncident(kind) => {
                format!(
                    "{}: {}",
                    lang.pick("标注事件", "Place incident"),
                    kind.label(lang)
                )
            }
            MapTool::ZonePolygon => lang
                .pick("画疏散区（多边形）", "Draw zone (polygon)")
                .to_owned(),
            MapTool::ZoneCircle => lang.pick("画疏散区（圆）", "Draw zone (circle)").to_owned(),
        }
    }

    /// What to do next, shown over the map while the tool is active.
    fn hint(self, lang: Lang) -> &'static str {
        match self {
            MapTool::Browse => "",
            MapTool::MeasureDistance | MapTool::MeasureArea => lang.pick(
                "单击加点，双击或回车结束，右键撤销上一点，Esc 清除",
                "Click to add points; double-click or Enter ends; right-click undoes a point; Esc clears",
            ),
            MapTool::PlaceIncident(_) => lang.pick("单击地图标注事件位置", "Click the map where it happened"),
            MapTool::ZonePolygon => lang.pick(
                "单击加顶点，双击或回车完成，右键撤销，Esc 取消",
                "Click to add vertices; double-click or Enter finishes; right-click undoes; Esc cancels",
            ),
            MapTool::ZoneCircle => lang.pick(
                "先单击圆心，再单击确定半径",
                "Click the centre, then click again to set the radius",
            ),
        }
    }
}

/// The tool in use and the points sketched so far (lon/lat).
#[derive(Debug, Clone, Default)]
pub struct Sketch {
    pub tool: MapTool,
    pub points: Vec<[f64; 2]>,
    /// A measurement that was finished stays on screen until the next click.
    pub finished: bool,
}

/// Geodesic length of a lon/lat path, metres.
fn path_length(points: &[[f64; 2]]) -> f64 {
    let line: LineString<f64> = points.iter().map(|p| (p[0], p[1])).collect();
    measure::path_length_m(&line)
}

/// Geodesic area of the polygon the lon/lat points outline, square metres.
fn polygon_area(points: &[[f64; 2]]) -> f64 {
    if points.len() < 3 {
        return 0.0;
    }
    let ring: LineString<f64> = points.iter().map(|p| (p[0], p[1])).collect();
    measure::polygon_area_m2(&Polygon::new(ring, vec![]))
}

/// A geodesic circle as a lon/lat ring, for drawing.
pub fn circle_ring(centre: [f64; 2], radius_m: f64) -> Vec<[f64; 2]> {
    let centre = geo::Coord {
        x: centre[0],
        y: centre[1],
    };
    hazard_zones::circle(centre, radius_m)
        .ok()
        .and_then(|zone| zone.geometry.0.into_iter().next())
        .map(|polygon| polygon.exterior().coords().map(|c| [c.x, c.y]).collect())
        .unwrap_or_default()
}

impl Sketch {
    pub fn set_tool(&mut self, tool: MapTool) {
        self.tool = tool;
        self.points.clear();
        self.finished = false;
    }

    /// Handles this frame's input on the map and draws the sketch. Returns commands for a
    /// finished sketch (an incident placed, a zone drawn). `clicked_at` is the lon/lat of a
    /// primary click on the map this frame.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        ui: &Ui,
        painter: &egui::Painter,
        view: &ViewTransform,
        response: &egui::Response,
        hover: Option<[f64; 2]>,
        lang: Lang,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        if self.tool == MapTool::Browse {
            return commands;
        }
        let (enter, escape) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Enter),
                i.key_pressed(egui::Key::Escape),
            )
        });
        if escape {
            self.points.clear();
            self.finished = false;
        }
        let click = response
            .clicked()
            .then(|| response.interact_pointer_pos())
            .flatten()
            .map(|p| {
                let (lon, lat) = view.screen_to_lonlat(p);
                [lon, lat]
            });
        if response.secondary_clicked() && !self.finished {
            self.points.pop();
        }
        let double = response.double_clicked();
        if let Some(at) = click {
            if self.finished {
                self.points.clear();
                self.finished = false;
            }
            match self.tool {
                MapTool::PlaceIncident(kind) => {
                    commands.push(Command::PlaceIncident {
                        kind,
                        lon: at[0],
                        lat: at[1],
                    });
                }
                MapTool::ZoneCircle => {
                    if let Some(&centre) = self.points.first() {
                        let radius = Geodesic
                            .distance(Point::new(centre[0], centre[1]), Point::new(at[0], at[1]));
                        if radius > 1.0 {
                            commands.push(Command::AddCircleZone {
                                lon: centre[0],
                                lat: centre[1],
                                radius_m: radius,
                            });
                        }
                        self.points.clear();
                    } else {
                        self.points.push(at);
                    }
                }
                _ => {
                    // A double click arrives as a click too: do not add the point twice.
                    if self.points.last() != Some(&at) {
                        self.points.push(at);
                    }
                }
            }
        }
        if (double || enter) && !self.points.is_empty() {
            match self.tool {
                MapTool::ZonePolygon => {
                    let mut ring = self.points.clone();
                    ring.dedup();
                    if ring.len() >= 3 {
                        commands.push(Command::AddPolygonZone(ring));
                    }
                    self.points.clear();
                }
                MapTool::MeasureDistance | MapTool::MeasureArea => self.finished = true,
                _ => {}
            }
        }
        self.draw(painter, view, hover, lang);
        commands
    }

    fn draw(
        &self,
        painter: &egui::Painter,
        view: &ViewTransform,
        hover: Option<[f64; 2]>,
        lang: Lang,
    ) {
        let colour = Color32::from_rgb(20, 110, 230);
        let stroke = Stroke::new(2.0, colour);
        let mut points = self.points.clone();
        if !self.finished
            && let Some(h) = hover
            && !points.is_empty()
        {
            points.push(h);
        }
        let screen: Vec<Pos2> = points
            .iter()
            .map(|p| view.lonlat_to_screen(p[0], p[1]))
            .collect();
        let closed = matches!(self.tool, MapTool::MeasureArea | MapTool::ZonePolygon);
        match self.tool {
            MapTool::ZoneCircle => {
                if let (Some(&centre), Some(edge)) = (self.points.first(), hover) {
                    let radius = Geodesic.distance(
                        Point::new(centre[0], centre[1]),
                        Point::new(edge[0], edge[1]),
                    );
                    let ring: Vec<Pos2> = circle_ring(centre, radius)
                        .iter()
                        .map(|p| view.lonlat_to_screen(p[0], p[1]))
                        .collect();
                    painter.add(Shape::closed_line(ring, stroke));
                    label(
                        painter,
                        view.lonlat_to_screen(edge[0], edge[1]),
                        &format!(
                            "{} {}",
                            lang.pick("半径", "radius"),
                            format_distance(radius, lang)
                        ),
                    );
                }
            }
            _ if screen.len() >= 2 => {
                if closed && screen.len() >= 3 {
                    painter.add(Shape::closed_line(screen.clone(), stroke));
                } else {
                    painter.add(Shape::line(screen.clone(), stroke));
                }
            }
            _ => {}
        }
        for p in &screen {
            painter.circle(*p, 4.0, Color32::WHITE, stroke);
        }
        if let Some(last) = screen.last() {
            let text = match self.tool {
                MapTool::MeasureDistance if points.len() >= 2 => {
                    Some(format_distance(path_length(&points), lang))
                }
                MapTool::MeasureArea | MapTool::ZonePolygon if points.len() >= 3 => Some(format!(
                    "{} · {} {}",
                    format_area(polygon_area(&points), lang),
                    lang.pick("周长", "perimeter"),
                    format_distance(
                        path_length(&[points.as_slice(), &points[..1]].concat()),
                        lang
                    )
                )),
                _ => None,
            };
            if let Some(text) = text {
                label(painter, *last, &text);
            }
        }
        let hint = self.tool.hint(lang);
        if !hint.is_empty() {
            let rect = painter.clip_rect();
            let pos = rect.center_top() + egui::vec2(0.0, 14.0);
            let galley =
                painter.layout_no_wrap(hint.to_owned(), FontId::proportional(13.0), Color32::WHITE);
            let bg = egui::Rect::from_center_size(
                pos + egui::vec2(0.0, galley.size().y / 2.0),
                galley.size() + egui::vec2(16.0, 8.0),
            );
            painter.rect_filled(bg, 4.0, Color32::from_black_alpha(170));
            painter.galley(bg.center() - galley.size() / 2.0, galley, Color32::WHITE);
        }
    }
}

/// A measurement label with a white halo box.
fn label(painter: &egui::Painter, at: Pos2, text: &str) {
    let pos = at + egui::vec2(10.0, -10.0);
    let galley =
        painter.layout_no_wrap(text.to_owned(), FontId::proportional(13.0), Color32::BLACK);
    let rect = Align2::LEFT_BOTTOM
        .anchor_size(pos, galley.size())
        .expand(3.0);
    painter.rect_filled(rect, 3.0, Color32::from_white_alpha(230));
    painter.galley(rect.min + egui::vec2(3.0, 3.0), galley, Color32::BLACK);
}
