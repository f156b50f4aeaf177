//! Turning layers into egui shapes each frame: geometry is projected to Web Mercator and
//! triangulated once per layer (`RenderCache`), so a frame only scales, culls and thins.

use egui::epaint::{Mesh, PathShape, PathStroke};
use egui::{Color32, Pos2, Rect, Shape, Stroke, pos2, vec2};
use geo::{Coord, Geometry, LineString, Polygon, TriangulateEarcut};

use super::symbology::{LayerStyle, Marker, OTHER_CATEGORY_COLOR, color};
use crate::model::Layer;
use crate::spatial::LayerIndex;

/// Web Mercator in unit square coordinates: x east in [0, 1], y south in [0, 1].
pub fn mercator(lon: f64, lat: f64) -> [f64; 2] {
    let lat = lat.clamp(-85.051_128, 85.051_128).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    [x, y]
}

/// Inverse of [`mercator`].
pub fn inverse_mercator(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    let lat = n.sinh().atan().to_degrees();
    (lon, lat)
}

/// Mercator-unit to screen mapping for one frame: `screen = offset + merc * scale`.
#[derive(Debug, Clone, Copy)]
pub struct ViewTransform {
    pub offset: [f64; 2],
    /// Pixels per Mercator unit (256 * 2^zoom for walkers' tiles).
    pub scale: f64,
    /// The visible screen rectangle.
    pub clip: Rect,
}

impl ViewTransform {
    /// A view centred on (`lon`, `lat`) at a zoom level, filling `clip`.
    pub fn centered(lon: f64, lat: f64, zoom: f64, clip: Rect) -> ViewTransform {
        let scale = 256.0 * 2f64.powf(zoom);
        let m = mercator(lon, lat);
        let c = clip.center();
        ViewTransform {
            offset: [f64::from(c.x) - m[0] * scale, f64::from(c.y) - m[1] * scale],
            scale,
            clip,
        }
    }

    /// Derives the mapping from two positions a projector placed on screen.
    pub fn from_two_points(
        a_lonlat: (f64, f64),
        a_screen: Pos2,
        b_lonlat: (f64, f64),
        b_screen: Pos2,
        clip: Rect,
    ) -> ViewTransform {
        let ma = mercator(a_lonlat.0, a_lonlat.1);
        let mb = mercator(b_lonlat.0, b_lonlat.1);
        let dx = mb[0] - ma[0];
        let scale = if dx.abs() > 0.0 {
            (f64::from(b_screen.x) - f64::from(a_screen.x)) / dx
        } else {
            1.0
        };
        ViewTransform {
            offset: [
                f64::from(a_screen.x) - ma[0] * scale,
                f64::from(a_screen.y) - ma[1] * scale,
            ],
            scale,
            clip,
        }
    }

    #[inline]
    pub fn to_screen(&self, m: [f64; 2]) -> Pos2 {
        pos2(
            (self.offset[0] + m[0] * self.scale) as f32,
            (self.offset[1] + m[1] * self.scale) as f32,
        )
    }

    pub fn to_mercator(&self, p: Pos2) -> [f64; 2] {
        [
            (f64::from(p.x) - self.offset[0]) / self.scale,
            (f64::from(p.y) - self.offset[1]) / self.scale,
        ]
    }

    /// The screen position of a lon/lat.
    pub fn lonlat_to_screen(&self, lon: f64, lat: f64) -> Pos2 {
        self.to_screen(mercator(lon, lat))
    }

    /// The lon/lat under a screen position.
    pub fn screen_to_lonlat(&self, p: Pos2) -> (f64, f64) {
        let m = self.to_mercator(p);
        inverse_mercator(m[0], m[1])
    }

    /// The visible area in lon/lat degrees.
    pub fn visible_lonlat(&self) -> geo::Rect<f64> {
        let (w, n) = self.screen_to_lonlat(self.clip.left_top());
        let (e, s) = self.screen_to_lonlat(self.clip.right_bottom());
        geo::Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n })
    }

    /// The zoom level (walkers' convention) this view shows.
    pub fn zoom(&self) -> f64 {
        (self.scale / 256.0).log2()
    }
}

/// A polygon ready to fill: vertices in Mercator units and earcut triangles.
#[derive(Debug, Clone, Default)]
pub struct PreparedPolygon {
    pub vertices: Vec<[f64; 2]>,
    pub triangles: Vec<u32>,
    /// Each ring (exterior first) as a range into `vertices`.
    pub rings: Vec<std::ops::Range<usize>>,
}

/// One feature's geometry in Mercator units.
#[derive(Debug, Clone)]
pub enum PreparedGeometry {
    /// A single point, kept inline: point layers are the big ones, and a heap allocation
    /// per point would dominate both memory and drawing time.
    Point([f64; 2]),
    Points(Vec<[f64; 2]>),
    Lines(Vec<Vec<[f64; 2]>>),
    Polygons(Vec<PreparedPolygon>),
    Mixed(Vec<PreparedGeometry>),
}

/// Geometry of a whole layer prepared for drawing, feature `i` at index `i`.
#[derive(Debug, Clone, Default)]
pub struct RenderCache {
    pub features: Vec<PreparedGeometry>,
    /// Each feature's extent in Mercator units: [min x, min y, max x, max y].
    pub extents: Vec<[f64; 4]>,
}

impl RenderCache {
    pub fn build(layer: &Layer) -> RenderCache {
        let features: Vec<PreparedGeometry> = layer.geometries.iter().map(prepare).collect();
        let extents = features.iter().map(extent).collect();
        RenderCache { features, extents }
    }
}

fn extent(geometry: &PreparedGeometry) -> [f64; 4] {
    let mut e = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut add = |p: &[f64; 2]| {
        e = [
            e[0].min(p[0]),
            e[1].min(p[1]),
            e[2].max(p[0]),
            e[3].max(p[1]),
        ];
    };
    fn walk(g: &PreparedGeometry, add: &mut dyn FnMut(&[f64; 2])) {
        match g {
            PreparedGeometry::Point(p) => add(p),
            PreparedGeometry::Points(ps) => ps.iter().for_each(&mut *add),
            PreparedGeometry::Lines(ls) => ls.iter().flatten().for_each(&mut *add),
            PreparedGeometry::Polygons(ps) => {
                ps.iter().flat_map(|p| &p.vertices).for_each(&mut *add)
            }
            PreparedGeometry::Mixed(gs) => gs.iter().for_each(|g| walk(g, add)),
        }
    }
    walk(geometry, &mut add);
    e
}

fn line_merc(line: &LineString<f64>) -> Vec<[f64; 2]> {
    line.0.iter().map(|c| mercator(c.x, c.y)).collect()
}

fn prepare_polygon(polygon: &Polygon<f64>) -> PreparedPolygon {
    // earcut asserts a real exterior ring; the loader drops degenerate ones, but stay safe.
    if polygon.exterior().0.len() < 4 {
        return PreparedPolygon::default();
    }
    let raw = polygon.earcut_triangles_raw();
    let vertices: Vec<[f64; 2]> = raw
        .vertices
        .iter()
        .map(|xy| mercator(xy[0], xy[1]))
        .collect();
    let triangles = raw.triangle_indices.iter().map(|&i| i as u32).collect();
    // earcut_triangles_raw lays out the exterior then each interior, each without the
    // closing vertex; recover the ring ranges from the ring lengths.
    let mut rings = Vec::new();
    let mut start = 0;
    for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
        let n = ring.0.len().saturating_sub(usize::from(ring.is_closed()));
        let end = (start + n).min(vertices.len());
        rings.push(start..end);
        start = end;
    }
    PreparedPolygon {
        vertices,
        triangles,
        rings,
    }
}

/// A filled mesh for a simple ring already on screen (drawn zones): earcut, so concave
/// outlines fill correctly, which egui's convex polygon does not.
pub fn polygon_fill_mesh(ring: &[Pos2], fill: Color32) -> Mesh {
    let mut mesh = Mesh::default();
    if ring.len() < 3 {
        return mesh;
    }
    let exterior: LineString<f64> = ring
        .iter()
        .map(|p| (f64::from(p.x), f64::from(p.y)))
        .collect();
    let raw = Polygon::new(exterior, vec![]).earcut_triangles_raw();
    for xy in &raw.vertices {
        mesh.colored_vertex(pos2(xy[0] as f32, xy[1] as f32), fill);
    }
    mesh.indices
        .extend(raw.triangle_indices.iter().map(|&i| i as u32));
    mesh
}

fn prepare(geometry: &Geometry<f64>) -> PreparedGeometry {
    match geometry {
        Geometry::Point(p) => PreparedGeometry::Point(mercator(p.x(), p.y())),
        Geometry::MultiPoint(mp) => {
            PreparedGeometry::Points(mp.iter().map(|p| mercator(p.x(), p.y())).collect())
        }
        Geometry::Line(l) => PreparedGeometry::Lines(vec![vec![
            mercator(l.start.x, l.start.y),
            mercator(l.end.x, l.end.y),
        ]]),
        Geometry::LineString(ls) => PreparedGeometry::Lines(vec![line_merc(ls)]),
        Geometry::MultiLineString(mls) => {
            PreparedGeometry::Lines(mls.iter().map(line_merc).collect())
        }
        Geometry::Polygon(p) => PreparedGeometry::Polygons(vec![prepare_polygon(p)]),
        Geometry::MultiPolygon(mp) => {
            PreparedGeometry::Polygons(mp.iter().map(prepare_polygon).collect())
        }
        Geometry::Rect(r) => PreparedGeometry::Polygons(vec![prepare_polygon(&r.to_polygon())]),
        Geometry::Triangle(t) => PreparedGeometry::Polygons(vec![prepare_polygon(&t.to_polygon())]),
        Geometry::GeometryCollection(gc) => {
            PreparedGeometry::Mixed(gc.iter().map(prepare).collect())
        }
    }
}

/// Something that asks to be labelled; placed later by [`declutter_labels`].
#[derive(Debug, Clone)]
pub struct LabelCandidate {
    pub text: String,
    pub anchor: Pos2,
    /// Offset to the right of point markers.
    pub beside_marker: f32,
}

/// Everything needed to draw one layer this frame.
pub struct LayerDraw<'a> {
    pub layer: &'a Layer,
    pub index: &'a LayerIndex,
    pub cache: &'a RenderCache,
    pub style: &'a LayerStyle,
    /// Category of each feature under `style` (see `LayerStyle::feature_classes`); empty
    /// when the style is not categorized.
    pub classes: &'a [u16],
    /// Features to draw emphasised (search hits, identify results).
    pub highlighted: &'a [usize],
    /// Features to mark as a problem (uncovered by the response band, failing a check).
    pub flagged: &'a [usize],
}

/// Above this many visible point features, points are thinned to one per screen cell.
pub const THIN_POINTS_ABOVE: usize = 3000;
/// Side of a thinning cell in pixels.
const THIN_CELL_PX: f32 = 3.0;
/// Areas whose extent on screen is below this many pixels are drawn as a dot.
const TINY_AREA_PX: f64 = 2.0;
/// Lines shorter on screen than this are drawn as a dot (longer ones keep networks
/// visibly connected).
const TINY_LINE_PX: f64 = 0.8;
/// At most this many labels are considered per layer per frame.
const MAX_LABEL_CANDIDATES: usize = 600;

/// Counts of what one frame drew, for the status bar and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrawStats {
    pub features_visible: usize,
    pub points_drawn: usize,
    pub points_thinned: usize,
}

/// Appends the shapes of one layer, culled to the view through the spatial index, and its
/// label candidates.
pub fn layer_shapes(
    view: &ViewTransform,
    draw: &LayerDraw<'_>,
    shapes: &mut Vec<Shape>,
    labels: &mut Vec<LabelCandidate>,
) -> DrawStats {
    let style = draw.style;
    let visible = view.visible_lonlat();
    // This layer's fills go under its own outlines but above the layers drawn before it.
    let first_shape = shapes.len();
    let mut stats = DrawStats::default();
    let candidates = in_file_order(
        draw.index.candidates_in_bbox(visible),
        draw.cache.features.len(),
    );
    stats.features_visible = candidates.len();

    let fill = color(style.fill, style.opacity);
    let stroke_color = color(style.stroke, style.opacity);
    // Colour and width per category, resolved once per frame rather than per feature.
    let class_looks: Vec<(Color32, f32)> = style
        .categories
        .iter()
        .map(|c| {
            (
                color(c.color, style.opacity),
                style.width_for_category(&c.value),
            )
        })
        .collect();
    let other_look = (color(OTHER_CATEGORY_COLOR, style.opacity), 1.0);
    let size_index = style
        .size_field
        .as_deref()
        .and_then(|f| draw.layer.attributes.field_index(f));
    let label_index = style
        .label_field
        .as_deref()
        .and_then(|f| draw.layer.attributes.field_index(f));

    let mut fill_mesh = Mesh::default();
    let mut point_mesh = Mesh::default();
    let thin = candidates.len() > THIN_POINTS_ABOVE;
    let mut occupancy = Occupancy::new(view.clip, THIN_CELL_PX);
    if thin {
        // One quad per screen cell at most: reserve once rather than regrow.
        let quads = candidates.len().min(occupancy.cells());
        point_mesh.reserve_vertices(quads * 4);
        point_mesh.reserve_triangles(quads * 2);
    }
    let line_width = style.stroke_width.max(0.0);

    for &feature in &candidates {
        let Some(prepared) = draw.cache.features.get(feature) else {
            continue;
        };
        let (feature_fill, feature_stroke, width_factor) = match draw.classes.get(feature) {
            Some(&class) => {
                let (c, w) = class_looks
                    .get(usize::from(class))
                    .copied()
                    .unwrap_or(other_look);
                (c, c, w)
            }
            None => (fill, stroke_color, 1.0),
        };
        // Dense point layers: the common case gets a tight path (no closure, no label work).
        if thin
            && label_index.is_none()
            && size_index.is_none()
            && let PreparedGeometry::Point(m) = prepared
        {
            let p = view.to_screen(*m);
            if view.clip.contains(p) && occupancy.claim(p) {
                stats.points_drawn += 1;
                add_quad(
                    &mut point_mesh,
                    p,
                    style.marker_size.min(4.0) * 0.5,
                    feature_fill,
                );
            } else {
                stats.points_thinned += 1;
            }
            continue;
        }
        // Level of detail: a line or area smaller than a couple of pixels is a dot.
        let tiny_px = match prepared {
            PreparedGeometry::Point(_) | PreparedGeometry::Points(_) => 0.0,
            PreparedGeometry::Lines(_) => TINY_LINE_PX,
            _ => TINY_AREA_PX,
        };
        if let Some(e) = draw.cache.extents.get(feature)
            && (e[2] - e[0]).max(e[3] - e[1]) * view.scale < tiny_px
        {
            let centre = view.to_screen([(e[0] + e[2]) * 0.5, (e[1] + e[3]) * 0.5]);
            let dot = if feature_fill.a() > 0 {
                feature_fill
            } else {
                feature_stroke
            };
            if view.clip.contains(centre) && (!thin || occupancy.claim(centre)) {
                add_quad(&mut point_mesh, centre, 1.0, dot);
            }
            continue;
        }
        let marker_size = match size_index {
            Some(field) => {
                let weight = draw
                    .layer
                    .attributes
                    .value(feature, field)
                    .as_f64()
                    .unwrap_or(0.0);
                (style.marker_size * (weight.max(0.0) / 500.0).sqrt() as f32).clamp(1.5, 18.0)
            }
            None => style.marker_size,
        };
        let mut label_anchor = None;
        emit_geometry(prepared, &mut |part| match part {
            Part::Point(m) => {
                let p = view.to_screen(m);
                if !view.clip.expand(marker_size).contains(p) {
                    return;
                }
                if thin && !occupancy.claim(p) {
                    stats.points_thinned += 1;
                    return;
                }
                stats.points_drawn += 1;
                if thin {
                    add_quad(&mut point_mesh, p, marker_size.min(4.0) * 0.5, feature_fill);
                } else {
                    marker_shapes(
                        shapes,
                        style.marker,
                        p,
                        marker_size,
                        feature_fill,
                        Stroke::new(1.0, stroke_color),
                    );
                }
                label_anchor.get_or_insert((p, marker_size * 0.5 + 3.0));
            }
            Part::Line(points) => {
                let pts = screen_path(view, points);
                if pts.len() < 2 {
                    return;
                }
                label_anchor.get_or_insert((pts[pts.len() / 2], 0.0));
                let stroke = Stroke::new(line_width * width_factor, feature_stroke);
                if style.dashed {
                    shapes.extend(Shape::dashed_line(&pts, stroke, 8.0, 5.0));
                } else {
                    shapes.push(Shape::line(pts, stroke));
                }
            }
            Part::Polygon(poly) => {
                if feature_fill.a() > 0 {
                    let base = fill_mesh.vertices.len() as u32;
                    for &v in &poly.vertices {
                        fill_mesh.colored_vertex(view.to_screen(v), feature_fill);
                    }
                    fill_mesh
                        .indices
                        .extend(poly.triangles.iter().map(|&i| base + i));
                }
                if line_width > 0.0 && feature_stroke.a() > 0 {
                    for ring in &poly.rings {
                        let pts = screen_path(view, &poly.vertices[ring.clone()]);
                        if pts.len() >= 3 {
                            shapes.push(Shape::Path(PathShape::closed_line(
                                pts,
                                PathStroke::new(line_width, feature_stroke),
                            )));
                        }
                    }
                }
                if label_anchor.is_none() && !poly.vertices.is_empty() {
                    let n = poly.rings.first().map(|r| r.len()).unwrap_or(0).max(1);
                    let (sx, sy) = poly.vertices[..n.min(poly.vertices.len())]
                        .iter()
                        .fold((0.0, 0.0), |(x, y), v| (x + v[0], y + v[1]));
                    let c = [sx / n as f64, sy / n as f64];
                    label_anchor = Some((view.to_screen(c), 0.0));
                }
            }
        });
        if let (Some(field), Some((anchor, beside))) = (label_index, label_anchor)
            && labels.len() < MAX_LABEL_CANDIDATES
            && view.clip.contains(anchor)
        {
            let text = draw.layer.attributes.value(feature, field);
            if !text.is_null() {
                labels.push(LabelCandidate {
                    text: text.to_string(),
                    anchor,
                    beside_marker: beside,
                });
            }
        }
    }
    if !fill_mesh.is_empty() {
        shapes.insert(first_shape, Shape::mesh(fill_mesh));
    }
    if !point_mesh.is_empty() {
        shapes.push(Shape::mesh(point_mesh));
    }
    for &feature in draw.flagged {
        if let Some(prepared) = draw.cache.features.get(feature) {
            highlight_shapes(view, prepared, FLAGGED, shapes);
        }
    }
    for &feature in draw.highlighted {
        if let Some(prepared) = draw.cache.features.get(feature) {
            highlight_shapes(view, prepared, HIGHLIGHT, shapes);
        }
    }
    stats
}

enum Part<'a> {
    Point([f64; 2]),
    Line(&'a [[f64; 2]]),
    Polygon(&'a PreparedPolygon),
}

fn emit_geometry<'a>(geometry: &'a PreparedGeometry, out: &mut dyn FnMut(Part<'a>)) {
    match geometry {
        PreparedGeometry::Point(p) => out(Part::Point(*p)),
        PreparedGeometry::Points(points) => points.iter().for_each(|&p| out(Part::Point(p))),
        PreparedGeometry::Lines(lines) => lines.iter().for_each(|l| out(Part::Line(l))),
        PreparedGeometry::Polygons(polys) => polys.iter().for_each(|p| out(Part::Polygon(p))),
        PreparedGeometry::Mixed(parts) => parts.iter().for_each(|g| emit_geometry(g, out)),
    }
}

/// Screen points of a path, dropping vertices closer than about a pixel to the previous
/// kept one (level of detail for lines when zoomed out).
fn screen_path(view: &ViewTransform, points: &[[f64; 2]]) -> Vec<Pos2> {
    let mut out: Vec<Pos2> = Vec::with_capacity(points.len().min(4096));
    let last = points.len().saturating_sub(1);
    for (i, &m) in points.iter().enumerate() {
        let p = view.to_screen(m);
        if let Some(prev) = out.last()
            && i != last
            && (p - *prev).length_sq() < 0.8
        {
            continue;
        }
        out.push(p);
    }
    out
}

/// The index returns tree order; file order walks the caches sequentially (3x faster on
/// 100k points) and keeps the drawing order of overlapping features stable. A bitmap over
/// the layer gives that order in linear time, where a sort was a quarter of the frame.
fn in_file_order(candidates: Vec<usize>, layer_len: usize) -> Vec<usize> {
    if candidates.len() < 4096 {
        let mut sorted = candidates;
        sorted.sort_unstable();
        return sorted;
    }
    let mut bits = vec![0u64; layer_len.div_ceil(64)];
    for &c in &candidates {
        if let Some(word) = bits.get_mut(c / 64) {
            *word |= 1 << (c % 64);
        }
    }
    let mut ordered = candidates;
    ordered.clear();
    for (w, &word) in bits.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            ordered.push(w * 64 + rest.trailing_zeros() as usize);
            rest &= rest - 1;
        }
    }
    ordered
}

/// Screen cells already holding a point, for thinning dense point layers.
struct Occupancy {
    origin: Pos2,
    cell: f32,
    columns: usize,
    rows: usize,
    bits: Vec<u64>,
}

impl Occupancy {
    fn new(clip: Rect, cell: f32) -> Occupancy {
        let columns = (clip.width() / cell).ceil().max(1.0) as usize + 2;
        let rows = (clip.height() / cell).ceil().max(1.0) as usize + 2;
        Occupancy {
            origin: clip.min - vec2(cell, cell),
            cell,
            columns,
            rows,
            bits: vec![0; (columns * rows).div_ceil(64)],
        }
    }

    fn cells(&self) -> usize {
        self.columns * self.rows
    }

    /// True when the cell under `p` was free (and is now taken).
    fn claim(&mut self, p: Pos2) -> bool {
        let fx = (p.x - self.origin.x) / self.cell;
        let fy = (p.y - self.origin.y) / self.cell;
        // Truncation is floor for the non-negative values that pass (and avoids a libm call).
        if !(fx >= 0.0 && fy >= 0.0) || fx as usize >= self.columns || fy as usize >= self.rows {
            return false;
        }
        let i = fy as usize * self.columns + fx as usize;
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let free = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        free
    }
}

fn add_quad(mesh: &mut Mesh, p: Pos2, half: f32, fill: Color32) {
    mesh.add_colored_rect(
        Rect::from_center_size(p, vec2(half * 2.0, half * 2.0)),
        fill,
    );
}

/// Shapes of one point marker of size `size` (pixels across) centred on `p`.
pub fn marker_shapes(
    shapes: &mut Vec<Shape>,
    marker: Marker,
    p: Pos2,
    size: f32,
    fill: Color32,
    stroke: Stroke,
) {
    let r = size * 0.5;
    match marker {
        Marker::Circle => shapes.push(Shape::circle_filled(p, r, fill)),
        Marker::Square => shapes.push(Shape::rect_filled(
            Rect::from_center_size(p, vec2(size, size)),
            1.0,
            fill,
        )),
        Marker::Triangle => shapes.push(Shape::convex_polygon(
            vec![
                p + vec2(0.0, -r * 1.1),
                p + vec2(r, r * 0.8),
                p + vec2(-r, r * 0.8),
            ],
            fill,
            Stroke::NONE,
        )),
        Marker::Diamond => shapes.push(Shape::convex_polygon(
            vec![
                p + vec2(0.0, -r * 1.2),
                p + vec2(r, 0.0),
                p + vec2(0.0, r * 1.2),
                p + vec2(-r, 0.0),
            ],
            fill,
            Stroke::NONE,
        )),
        Marker::Cross => {
            let w = (size * 0.35).max(2.0);
            shapes.push(Shape::rect_filled(
                Rect::from_center_size(p, vec2(size + 2.0, size + 2.0)),
                2.0,
                stroke.color,
            ));
            shapes.push(Shape::rect_filled(
                Rect::from_center_size(p, vec2(size, w)),
                0.0,
                fill,
            ));
            shapes.push(Shape::rect_filled(
                Rect::from_center_size(p, vec2(w, size)),
                0.0,
                fill,
            ));
            return;
        }
        Marker::Star => {
            // Two overlapping triangles: a concave star outline would need triangulation.
            for flip in [1.0, -1.0] {
                shapes.push(Shape::convex_polygon(
                    vec![
                        p + vec2(0.0, -r * 1.15 * flip),
                        p + vec2(r, r * 0.6 * flip),
                        p + vec2(-r, r * 0.6 * flip),
                    ],
                    fill,
                    Stroke::NONE,
                ));
            }
        }
    }
    if stroke.width > 0.0 && stroke.color.a() > 0 && !matches!(marker, Marker::Star) {
        match marker {
            Marker::Circle => shapes.push(Shape::circle_stroke(p, r, stroke)),
            Marker::Square => shapes.push(Shape::rect_stroke(
                Rect::from_center_size(p, vec2(size, size)),
                1.0,
                stroke,
                egui::StrokeKind::Outside,
            )),
            _ => {}
        }
    }
}

const HIGHLIGHT: Color32 = Color32::from_rgb(255, 220, 0);
/// Problems (uncovered, failing a siting check): red, distinct from the yellow selection.
const FLAGGED: Color32 = Color32::from_rgb(230, 30, 30);

fn highlight_shapes(
    view: &ViewTransform,
    geometry: &PreparedGeometry,
    colour: Color32,
    shapes: &mut Vec<Shape>,
) {
    let stroke = Stroke::new(3.5, colour);
    emit_geometry(geometry, &mut |part| match part {
        Part::Point(m) => {
            let p = view.to_screen(m);
            shapes.push(Shape::circle_stroke(p, 11.0, stroke));
            shapes.push(Shape::circle_stroke(
                p,
                13.0,
                Stroke::new(1.5, Color32::BLACK),
            ));
        }
        Part::Line(points) => shapes.push(Shape::line(screen_path(view, points), stroke)),
        Part::Polygon(poly) => {
            for ring in &poly.rings {
                let pts = screen_path(view, &poly.vertices[ring.clone()]);
                if pts.len() >= 3 {
                    shapes.push(Shape::Path(PathShape::closed_line(pts, stroke)));
                }
            }
        }
    });
}

/// A label placed on screen.
#[derive(Debug, Clone)]
pub struct PlacedLabel {
    pub text: String,
    pub rect: Rect,
}

/// Greedy label placement: candidates earlier in the list win; a label that would overlap a
/// placed one is dropped. `measure` gives the size of a text in pixels.
pub fn declutter_labels(
    candidates: &[LabelCandidate],
    clip: Rect,
    measure: &mut dyn FnMut(&str) -> egui::Vec2,
) -> Vec<PlacedLabel> {
    const BUCKET: f32 = 64.0;
    let mut placed: Vec<PlacedLabel> = Vec::new();
    let mut buckets: std::collections::HashMap<(i32, i32), Vec<usize>> =
        std::collections::HashMap::new();
    for candidate in candidates {
        let size = measure(&candidate.text);
        let rect = if candidate.beside_marker > 0.0 {
            Rect::from_min_size(
                candidate.anchor + vec2(candidate.beside_marker, -size.y * 0.5),
                size,
            )
        } else {
            Rect::from_center_size(candidate.anchor, size)
        };
        if !clip.contains_rect(rect) {
            continue;
        }
        let padded = rect.expand(2.0);
        let keys = bucket_keys(padded, BUCKET);
        let overlaps = keys.iter().any(|k| {
            buckets
                .get(k)
                .is_some_and(|ids| ids.iter().any(|&i| placed[i].rect.intersects(padded)))
        });
        if overlaps {
            continue;
        }
        let id = placed.len();
        placed.push(PlacedLabel {
            text: candidate.text.clone(),
            rect,
        });
        for k in keys {
            buckets.entry(k).or_default().push(id);
        }
    }
    placed
}

fn bucket_keys(rect: Rect, bucket: f32) -> Vec<(i32, i32)> {
    let x0 = (rect.min.x / bucket).floor() as i32;
    let x1 = (rect.max.x / bucket).floor() as i32;
    let y0 = (rect.min.y / bucket).floor() as i32;
    let y1 = (rect.max.y / bucket).floor() as i32;
    let mut keys = Vec::new();
    for x in x0..=x1 {
        for y in y0..=y1 {
            keys.push((x, y));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mercator_round_trips_and_view_maps_centre_to_clip_centre() {
        let (lon, lat) = inverse_mercator(mercator(117.87, 36.8)[0], mercator(117.87, 36.8)[1]);
        assert!((lon - 117.87).abs() < 1e-9 && (lat - 36.8).abs() < 1e-9);
        let clip = Rect::from_min_size(pos2(0.0, 0.0), vec2(800.0, 600.0));
        let view = ViewTransform::centered(117.87, 36.8, 12.0, clip);
        let c = view.lonlat_to_screen(117.87, 36.8);
        assert!((c - clip.center()).length() < 1e-3);
        assert!((view.zoom() - 12.0).abs() < 1e-9);
        let (lon, lat) = view.screen_to_lonlat(pos2(100.0, 50.0));
        let back = view.lonlat_to_screen(lon, lat);
        assert!((back - pos2(100.0, 50.0)).length() < 1e-3);
    }

    #[test]
    fn polygon_with_hole_is_triangulated_without_covering_the_hole() {
        let outer = LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]);
        let hole = LineString::from(vec![(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]);
        let prepared = prepare_polygon(&Polygon::new(outer, vec![hole]));
        assert_eq!(prepared.rings.len(), 2);
        assert_eq!(prepared.rings[0], 0..4);
        assert_eq!(prepared.rings[1], 4..8);
        // Triangle area sums to outer minus hole (in Mercator units, so compare ratios).
        let area = |t: &[u32]| {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| prepared.vertices[i as usize]);
            ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs() / 2.0
        };
        let total: f64 = prepared.triangles.chunks_exact(3).map(area).sum();
        let sq = |a: [f64; 2], b: [f64; 2]| ((b[0] - a[0]) * (b[1] - a[1])).abs();
        let outer_area = sq(mercator(0.0, 0.0), mercator(1.0, 1.0));
        let hole_area = sq(mercator(0.4, 0.4), mercator(0.6, 0.6));
        assert!((total - (outer_area - hole_area)).abs() / outer_area < 1e-6);
    }

    #[test]
    fn labels_do_not_overlap() {
        let clip = Rect::from_min_size(pos2(0.0, 0.0), vec2(500.0, 500.0));
        let candidates: Vec<LabelCandidate> = (0..50)
            .map(|i| LabelCandidate {
                text: format!("label {i}"),
                anchor: pos2(100.0 + (i % 5) as f32 * 7.0, 100.0 + (i / 5) as f32 * 9.0),
                beside_marker: 0.0,
            })
            .collect();
        let placed = declutter_labels(&candidates, clip, &mut |t| vec2(t.len() as f32 * 7.0, 12.0));
        assert!(!placed.is_empty() && placed.len() < candidates.len());
        for (i, a) in placed.iter().enumerate() {
            for b in &placed[i + 1..] {
                assert!(!a.rect.intersects(b.rect), "{} overlaps {}", a.text, b.text);
            }
        }
    }

    #[test]
    fn candidates_come_back_in_file_order_without_loss() {
        let small = in_file_order(vec![5, 1, 3], 10);
        assert_eq!(small, vec![1, 3, 5]);
        let big: Vec<usize> = (0..10_000).rev().filter(|i| i % 3 != 0).collect();
        let mut expected = big.clone();
        expected.sort_unstable();
        assert_eq!(in_file_order(big, 10_000), expected);
    }

    #[test]
    fn occupancy_thins_points_in_the_same_cell() {
        let clip = Rect::from_min_size(pos2(0.0, 0.0), vec2(30.0, 30.0));
        let mut occ = Occupancy::new(clip, 3.0);
        assert!(occ.claim(pos2(10.0, 10.0)));
        assert!(!occ.claim(pos2(10.5, 10.5)));
        assert!(occ.claim(pos2(20.0, 10.0)));
        assert!(!occ.claim(pos2(-100.0, 10.0)));
    }
}
