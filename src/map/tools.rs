//! Map tools: what a click on the map means. Besides browsing (identify), the user can
//! measure a path or an area, place an incident, or sketch an evacuation zone as a polygon
//! or a circle. The sketch lives here, in the UI; a finished sketch becomes a command.

use egui::{Align2, Color32, FontId, Pos2, Shape, Stroke, Ui};
use geo::{Destination, Distance, Geodesic, GeodesicArea, Length, LineString, Point, Polygon};

use super::render::ViewTransform;
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
                format!("{}: {}", lang.pick("标注事件", "Place incident"), kind.label(lang))
            }
            MapTool::ZonePolygon => lang.pick("画疏散区（多边形）", "Draw zone (polygon)").to_owned(),
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

/// Formats metres as m or km.
pub fn format_distance(m: f64, lang: Lang) -> String {
    if m < 1000.0 {
        format!("{m:.0} {}", lang.pick("米", "m"))
    } else {
        format!("{:.2} {}", m / 1000.0, lang.pick("公里", "km"))
    }
}

/// Formats square metres as m² or km², with mu (亩, 666.7 m²) beside.
pub fn format_area(m2: f64, lang: Lang) -> String {
    let mu = m2 / (10_000.0 / 15.0);
    let main = if m2 < 100_000.0 {
        format!("{m2:.0} m²")
    } else {
        format!("{:.3} km²", m2 / 1e6)
    };
    format!("{main} · {mu:.1} {}", lang.pick("亩", "mu"))
}

/// Geodesic length of a path, metres.
pub fn path_length_m(points: &[[f64; 2]]) -> f64 {
    let line: LineString<f64> = points.iter().map(|p| (p[0], p[1])).collect();
    Geodesic.length(&line)
}

/// Geodesic area of the polygon the points outline, square metres.
pub fn polygon_area_m2(points: &[[f64; 2]]) -> f64 {
    if points.len() < 3 {
        return 0.0;
    }
    let ring: LineString<f64> = points.iter().map(|p| (p[0], p[1])).collect();
    Polygon::new(ring, vec![]).geodesic_area_unsigned()
}

/// A circle as a lon/lat ring (geodesic), for drawing and for zones.
pub fn circle_ring(centre: [f64; 2], radius_m: f64, vertices: usize) -> Vec<[f64; 2]> {
    let c = Point::new(centre[0], centre[1]);
    (0..vertices)
        .map(|i| {
            let bearing = 360.0 * i as f64 / vertices as f64;
            let p = Geodesic.destination(c, bearing, radius_m);
            [p.x(), p.y()]
        })
        .collect()
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
                        let radius = Geodesic.distance(
                            Point::new(centre[0], centre[1]),
                            Point::new(at[0], at[1]),
                        );
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
                    let ring: Vec<Pos2> = circle_ring(centre, radius, 72)
                        .iter()
                        .map(|p| view.lonlat_to_screen(p[0], p[1]))
                        .collect();
                    painter.add(Shape::closed_line(ring, stroke));
                    label(painter, view.lonlat_to_screen(edge[0], edge[1]), &format!(
                        "{} {}",
                        lang.pick("半径", "radius"),
                        format_distance(radius, lang)
                    ));
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
                    Some(format_distance(path_length_m(&points), lang))
                }
                MapTool::MeasureArea | MapTool::ZonePolygon if points.len() >= 3 => Some(format!(
                    "{} · {} {}",
                    format_area(polygon_area_m2(&points), lang),
                    lang.pick("周长", "perimeter"),
                    format_distance(
                        path_length_m(&[points.as_slice(), &points[..1]].concat()),
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
            let galley = painter.layout_no_wrap(
                hint.to_owned(),
                FontId::proportional(13.0),
                Color32::WHITE,
            );
            let bg = egui::Rect::from_center_size(
                pos + egui::vec2(0.0, galley.size().y / 2.0),
                galley.size() + egui::vec2(16.0, 8.0),
            );
            painter.rect_filled(bg, 4.0, Color32::from_black_alpha(170));
            painter.galley(
                bg.center() - galley.size() / 2.0,
                galley,
                Color32::WHITE,
            );
        }
    }
}

/// A measurement label with a white halo box.
fn label(painter: &egui::Painter, at: Pos2, text: &str) {
    let pos = at + egui::vec2(10.0, -10.0);
    let galley = painter.layout_no_wrap(text.to_owned(), FontId::proportional(13.0), Color32::BLACK);
    let rect = Align2::LEFT_BOTTOM
        .anchor_size(pos, galley.size())
        .expand(3.0);
    painter.rect_filled(rect, 3.0, Color32::from_white_alpha(230));
    painter.galley(rect.min + egui::vec2(3.0, 3.0), galley, Color32::BLACK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_match_known_geodesic_values() {
        // One degree of longitude on the equator: 111 319.49 m on WGS 84.
        let m = path_length_m(&[[0.0, 0.0], [1.0, 0.0]]);
        assert!((m - 111_319.49).abs() < 0.1, "{m}");
        // A 0.01° square at 36.8°N: about 1113 m x 891 m.
        let a = polygon_area_m2(&[[117.0, 36.8], [117.01, 36.8], [117.01, 36.81], [117.0, 36.81]]);
        let expected = 1113.2 * 0.8007 * 1109.6;
        assert!((a / expected - 1.0).abs() < 0.01, "{a} vs {expected}");
        assert_eq!(polygon_area_m2(&[[0.0, 0.0], [1.0, 1.0]]), 0.0);
    }

    #[test]
    fn units_switch_at_sensible_sizes() {
        assert_eq!(format_distance(950.0, Lang::En), "950 m");
        assert_eq!(format_distance(1500.0, Lang::Zh), "1.50 公里");
        assert!(format_area(666.67, Lang::En).contains("1.0 mu"));
        assert!(format_area(2_000_000.0, Lang::En).starts_with("2.000 km²"));
    }

    #[test]
    fn a_circle_ring_is_at_the_radius() {
        let ring = circle_ring([117.87, 36.8], 1000.0, 36);
        assert_eq!(ring.len(), 36);
        for p in ring {
            let d = Geodesic.distance(Point::new(117.87, 36.8), Point::new(p[0], p[1]));
            assert!((d - 1000.0).abs() < 1e-6, "{d}");
        }
    }
}
