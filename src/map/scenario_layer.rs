//! Incidents and evacuation zones on the map: drawn over the data layers, selected by a
//! click, and edited in place (drag an incident; drag, insert and delete zone vertices;
//! drag a circle's centre or edge). Every change goes out as a `Command::Edit`, so undo
//! covers it; a drag is one undo step.

use egui::{Color32, Pos2, Rect, Shape, Stroke, Ui, vec2};
use geo::{Destination, Distance, Geodesic, Point};

use super::render::ViewTransform;
use super::tools::circle_ring;
use crate::app::{AppState, Command};
use crate::scenario::document::{LonLat, Zone, ZoneShape};
use crate::scenario::edit::Edit;

const HANDLE_PX: f32 = 12.0;
const INCIDENT_PX: f32 = 11.0;

fn colour(rgba: [u8; 4], alpha: u8) -> Color32 {
    Color32::from_rgba_unmultiplied(rgba[0], rgba[1], rgba[2], alpha)
}

/// The screen outline of a zone.
fn zone_outline(zone: &Zone, view: &ViewTransform) -> Vec<Pos2> {
    match &zone.shape {
        ZoneShape::Circle { centre, radius_m } => circle_ring([centre.lon, centre.lat], *radius_m)
            .iter()
            .map(|p| view.lonlat_to_screen(p[0], p[1]))
            .collect(),
        ZoneShape::Polygon { ring } | ZoneShape::Buffer { ring, .. } => ring
            .iter()
            .map(|p| view.lonlat_to_screen(p.lon, p.lat))
            .collect(),
    }
}

/// Draws every zone (fill by status, selected one thicker) and incident (marker; the
/// selected one with its search radius).
pub fn draw(painter: &egui::Painter, state: &AppState, view: &ViewTransform) {
    for zone in &state.scenario.zones {
        let selected = state.selected_zone == Some(zone.id);
        let outline = zone_outline(zone, view);
        if outline.len() < 3 {
            continue;
        }
        let rgba = zone.status.color();
        // Fill through the same earcut triangulation as layers, so concave zones draw right.
        let mesh = super::render::polygon_fill_mesh(&outline, colour(rgba, 45));
        painter.add(Shape::mesh(mesh));
        let width = if selected { 3.5 } else { 2.0 };
        painter.add(Shape::closed_line(
            outline.clone(),
            Stroke::new(width, colour(rgba, 255)),
        ));
        if let Some(top) = outline.iter().min_by(|a, b| a.y.total_cmp(&b.y)) {
            painter.text(
                *top - vec2(0.0, 4.0),
                egui::Align2::CENTER_BOTTOM,
                &zone.name,
                egui::FontId::proportional(13.0),
                colour(rgba, 255),
            );
        }
    }
    if let Some(siting) = &state.siting {
        let blue = Color32::from_rgb(20, 90, 220);
        for (i, (lon, lat, gain)) in siting.sites.iter().enumerate() {
            let pos = view.lonlat_to_screen(*lon, *lat);
            painter.circle(pos, 10.0, blue, Stroke::new(2.0, Color32::WHITE));
            painter.text(
                pos,
                egui::Align2::CENTER_CENTER,
                "+",
                egui::FontId::proportional(15.0),
                Color32::WHITE,
            );
            painter.text(
                pos + vec2(13.0, 0.0),
                egui::Align2::LEFT_CENTER,
                format!("{} +{gain:.0}", i + 1),
                egui::FontId::proportional(13.0),
                blue,
            );
        }
    }
    for incident in &state.scenario.incidents {
        let pos = view.lonlat_to_screen(incident.position.lon, incident.position.lat);
        let selected = state.selected_incident == Some(incident.id);
        if selected {
            let ring: Vec<Pos2> = circle_ring(
                [incident.position.lon, incident.position.lat],
                incident.radius_m(),
            )
            .iter()
            .map(|p| view.lonlat_to_screen(p[0], p[1]))
            .collect();
            painter.add(Shape::dashed_line(
                &ring,
                Stroke::new(1.5, Color32::from_rgb(200, 0, 0)),
                8.0,
                5.0,
            ));
        }
        let fill = if incident.fields.closed {
            Color32::from_gray(140)
        } else {
            Color32::from_rgb(220, 20, 20)
        };
        let r = INCIDENT_PX;
        let triangle = vec![
            pos + vec2(0.0, -r),
            pos + vec2(r * 0.95, r * 0.7),
            pos + vec2(-r * 0.95, r * 0.7),
        ];
        painter.add(Shape::convex_polygon(
            triangle,
            fill,
            Stroke::new(if selected { 3.0 } else { 1.5 }, Color32::WHITE),
        ));
        painter.text(
            pos + vec2(0.0, 1.5),
            egui::Align2::CENTER_CENTER,
            "!",
            egui::FontId::proportional(12.0),
            Color32::WHITE,
        );
    }
}

/// What a click at `pos` selects: the nearest incident marker under it, else the top zone
/// containing it.
pub fn hit(state: &AppState, view: &ViewTransform, pos: Pos2) -> Option<Command> {
    let incident = state
        .scenario
        .incidents
        .iter()
        .map(|i| {
            let p = view.lonlat_to_screen(i.position.lon, i.position.lat);
            (i.id, p.distance(pos))
        })
        .filter(|(_, d)| *d <= INCIDENT_PX + 3.0)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((id, _)) = incident {
        return Some(Command::SelectIncident(Some(id)));
    }
    let (lon, lat) = view.screen_to_lonlat(pos);
    let point = Point::new(lon, lat);
    use geo::Contains;
    state
        .scenario
        .zones
        .iter()
        .rev()
        .find(|z| z.to_multi_polygon().contains(&point))
        .map(|z| Command::SelectZone(Some(z.id)))
}

/// Handles on the selected incident and zone; returns the edits the user made this frame.
pub fn edit_handles(
    ui: &mut Ui,
    painter: &egui::Painter,
    state: &AppState,
    view: &ViewTransform,
) -> Vec<Command> {
    let mut commands = Vec::new();
    let handle_stroke = Stroke::new(1.5, Color32::from_rgb(20, 20, 20));
    if let Some(incident) = state
        .selected_incident
        .and_then(|id| state.scenario.incident(id))
    {
        let pos = view.lonlat_to_screen(incident.position.lon, incident.position.lat);
        let response = ui.interact(
            Rect::from_center_size(pos, vec2(INCIDENT_PX * 2.0, INCIDENT_PX * 2.0)),
            ui.make_persistent_id(("incident-handle", incident.id.0)),
            egui::Sense::drag(),
        );
        drag_to(ui, &response, view, &mut commands, |to, merging| {
            Command::Edit(
                Edit::MoveIncident {
                    id: incident.id,
                    to,
                },
                merging,
            )
        });
    }
    let Some(zone) = state.selected_zone.and_then(|id| state.scenario.zone(id)) else {
        return commands;
    };
    match &zone.shape {
        ZoneShape::Circle { centre, radius_m } => {
            let c = view.lonlat_to_screen(centre.lon, centre.lat);
            let edge_lonlat =
                Geodesic.destination(Point::new(centre.lon, centre.lat), 90.0, *radius_m);
            let e = view.lonlat_to_screen(edge_lonlat.x(), edge_lonlat.y());
            for (key, pos) in [("centre", c), ("edge", e)] {
                painter.circle(pos, HANDLE_PX / 2.0, Color32::WHITE, handle_stroke);
                let response = ui.interact(
                    Rect::from_center_size(pos, vec2(HANDLE_PX * 1.6, HANDLE_PX * 1.6)),
                    ui.make_persistent_id(("zone-circle", zone.id.0, key)),
                    egui::Sense::drag(),
                );
                let centre = *centre;
                let zone_id = zone.id;
                drag_to(ui, &response, view, &mut commands, |to, merging| {
                    if key == "centre" {
                        Command::Edit(
                            Edit::MoveZone {
                                zone: zone_id,
                                dlon: to.lon - centre.lon,
                                dlat: to.lat - centre.lat,
                            },
                            merging,
                        )
                    } else {
                        let radius_m = Geodesic.distance(
                            Point::new(centre.lon, centre.lat),
                            Point::new(to.lon, to.lat),
                        );
                        Command::Edit(
                            Edit::SetCircleRadius {
                                zone: zone_id,
                                radius_m,
                            },
                            merging,
                        )
                    }
                });
            }
        }
        ZoneShape::Polygon { ring } | ZoneShape::Buffer { ring, .. } => {
            let screen: Vec<Pos2> = ring
                .iter()
                .map(|p| view.lonlat_to_screen(p.lon, p.lat))
                .collect();
            // A centre handle moves the whole zone.
            if !ring.is_empty() {
                let n = ring.len() as f64;
                let (lon, lat) = ring
                    .iter()
                    .fold((0.0, 0.0), |(x, y), p| (x + p.lon / n, y + p.lat / n));
                let c = view.lonlat_to_screen(lon, lat);
                painter.rect_filled(
                    Rect::from_center_size(c, vec2(HANDLE_PX, HANDLE_PX)),
                    2.0,
                    Color32::from_rgb(20, 20, 20),
                );
                let response = ui
                    .interact(
                        Rect::from_center_size(c, vec2(HANDLE_PX * 1.6, HANDLE_PX * 1.6)),
                        ui.make_persistent_id(("zone-move", zone.id.0)),
                        egui::Sense::drag(),
                    )
                    .on_hover_text(
                        state
                            .lang()
                            .pick("拖动移动整个疏散区", "Drag to move the whole zone"),
                    );
                let zone_id = zone.id;
                drag_to(ui, &response, view, &mut commands, |to, merging| {
                    Command::Edit(
                        Edit::MoveZone {
                            zone: zone_id,
                            dlon: to.lon - lon,
                            dlat: to.lat - lat,
                        },
                        merging,
                    )
                });
            }
            // Midpoint handles insert a vertex where they are clicked or dragged.
            for (i, a) in screen.iter().enumerate() {
                let b = screen[(i + 1) % screen.len()];
                let mid = Pos2::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
                painter.circle(
                    mid,
                    HANDLE_PX / 3.0,
                    Color32::from_white_alpha(180),
                    handle_stroke,
                );
                let response = ui.interact(
                    Rect::from_center_size(mid, vec2(HANDLE_PX, HANDLE_PX)),
                    ui.make_persistent_id(("zone-mid", zone.id.0, i)),
                    egui::Sense::click(),
                );
                if response.clicked() {
                    let (lon, lat) = view.screen_to_lonlat(mid);
                    commands.push(Command::Edit(
                        Edit::InsertVertex {
                            zone: zone.id,
                            index: i + 1,
                            at: LonLat::new(lon, lat),
                        },
                        false,
                    ));
                }
            }
            for (i, pos) in screen.iter().enumerate() {
                painter.circle(*pos, HANDLE_PX / 2.0, Color32::WHITE, handle_stroke);
                let response = ui
                    .interact(
                        Rect::from_center_size(*pos, vec2(HANDLE_PX * 1.6, HANDLE_PX * 1.6)),
                        ui.make_persistent_id(("zone-vertex", zone.id.0, i)),
                        egui::Sense::click_and_drag(),
                    )
                    .on_hover_text(state.lang().pick(
                        "拖动移动顶点；右键删除顶点",
                        "Drag to move the vertex; right-click deletes it",
                    ));
                if response.secondary_clicked() {
                    commands.push(Command::Edit(
                        Edit::DeleteVertex {
                            zone: zone.id,
                            index: i,
                        },
                        false,
                    ));
                }
                let zone_id = zone.id;
                drag_to(ui, &response, view, &mut commands, |to, merging| {
                    Command::Edit(
                        Edit::MoveVertex {
                            zone: zone_id,
                            index: i,
                            to,
                        },
                        merging,
                    )
                });
            }
        }
    }
    commands
}

/// Turns a handle's drag into edits: the first frame starts an undo step, later frames join
/// it, and the release ends the gesture.
fn drag_to(
    ui: &Ui,
    response: &egui::Response,
    view: &ViewTransform,
    commands: &mut Vec<Command>,
    edit: impl Fn(LonLat, bool) -> Command,
) {
    if response.hovered() || response.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::Grab);
    }
    if response.dragged()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        let (lon, lat) = view.screen_to_lonlat(pointer);
        commands.push(edit(LonLat::new(lon, lat), !response.drag_started()));
    }
    if response.drag_stopped() {
        commands.push(Command::EndGesture);
    }
}
