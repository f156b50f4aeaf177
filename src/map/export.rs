//! Exporting the map view as a PNG sheet, headless (no window, no GPU): the layers drawn with
//! their styles at the window's Web Mercator scale, framed by a title, a legend, a scale bar,
//! a north arrow, and a footer with the date, the data sources and the basemap's approval
//! number (审图号), which maps shown or printed in China must carry.

use std::io::Write;
use std::path::{Path, PathBuf};

use egui::{pos2, vec2};
use geo::Geometry;
use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{DrawSettings, OutlinePen};
use skrifa::{FontRef, GlyphId, MetadataProvider};
use tiny_skia::{
    Color, FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, PixmapPaint, Rect, Stroke,
    StrokeDash, Transform,
};

use super::render::{
    LabelCandidate, PreparedGeometry, PreparedPolygon, RenderCache, ViewTransform,
    declutter_labels, inverse_mercator, mercator,
};
use super::symbology::{LayerStyle, Marker, OTHER_CATEGORY_COLOR};
use crate::i18n::Lang;
use crate::model::Layer;

/// Sheet size when the caller has no preference: landscape, room for a legend beside the map.
pub const DEFAULT_SIZE: [u32; 2] = [1600, 1100];
/// Smallest and largest sheet sides accepted: below, the frame leaves no map; above, the
/// pixmap would take gigabytes.
const MIN_SIDE: u32 = 400;
const MAX_SIDE: u32 = 16_384;

/// Web Mercator's equatorial circumference in metres (the sphere of EPSG:3857).
const EARTH_CIRCUMFERENCE_M: f64 = 2.0 * std::f64::consts::PI * 6_378_137.0;

/// Sheet geometry, in pixels.
const MARGIN: f32 = 20.0;
const TITLE_BAND: f32 = 84.0;
const FOOTER_BAND: f32 = 62.0;
const LEGEND_WIDTH: f32 = 300.0;
const GAP: f32 = 14.0;
const LABEL_PX: f32 = 12.0;

const INK: [u8; 4] = [30, 30, 30, 255];
const MUTED_INK: [u8; 4] = [90, 90, 90, 255];
const PAPER: [u8; 4] = [255, 255, 255, 255];

/// One layer to draw, bottom first.
#[derive(Clone, Copy)]
pub struct ExportLayer<'a> {
    pub layer: &'a Layer,
    pub style: &'a LayerStyle,
    /// Category of each feature under `style` (`LayerStyle::feature_classes`); empty when the
    /// style is not categorized.
    pub classes: &'a [u16],
    /// The window's prepared geometry, when it has one; built here otherwise.
    pub cache: Option<&'a RenderCache>,
    /// Whether the layer gets a legend entry (basemap reference layers do not).
    pub in_legend: bool,
}

impl<'a> ExportLayer<'a> {
    /// A layer with a legend entry whose geometry is prepared on export.
    pub fn new(layer: &'a Layer, style: &'a LayerStyle, classes: &'a [u16]) -> Self {
        ExportLayer {
            layer,
            style,
            classes,
            cache: None,
            in_legend: true,
        }
    }
}

/// What part of the world the map shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExportView {
    /// Fit this lon/lat box into the map area (centred, aspect kept).
    Bounds(geo::Rect<f64>),
    /// Centre and zoom level in the window's convention (256 · 2^zoom pixels per world), so
    /// the sheet shows the window's scale.
    Centre { lon: f64, lat: f64, zoom: f64 },
}

/// The text around the map. The date is passed in: the export never reads the clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct MapFrame<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    /// The date the map was made, as the caller wants it printed.
    pub date: &'a str,
    pub sources: &'a str,
    /// The basemap's approval number (审图号); empty prints the field with a blank to fill.
    pub approval_number: &'a str,
    /// Legend entries; `None` derives them from the layers ([`legend_entries`]).
    pub legend: Option<&'a [LegendEntry]>,
}

/// Everything an export needs.
#[derive(Clone, Copy)]
pub struct ExportRequest<'a> {
    pub layers: &'a [ExportLayer<'a>],
    pub view: ExportView,
    /// Width and height of the whole sheet in pixels (the map area is what the frame leaves).
    pub size: [u32; 2],
    pub frame: MapFrame<'a>,
    pub lang: Lang,
    /// The map area's colour under the layers (sRGBA).
    pub background: [u8; 4],
}

/// The symbol drawn in front of a legend line.
#[derive(Debug, Clone, PartialEq)]
pub enum LegendSymbol {
    /// A layer name heading its categories, without a symbol.
    Heading,
    Marker {
        marker: Marker,
        size: f32,
        fill: [u8; 4],
        stroke: [u8; 4],
    },
    Line {
        color: [u8; 4],
        width: f32,
        dashed: bool,
    },
    Area {
        fill: [u8; 4],
        stroke: [u8; 4],
        stroke_width: f32,
    },
}

/// One line of the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub symbol: LegendSymbol,
    /// Categories sit indented under their layer's heading.
    pub indented: bool,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("map export: sheet size {width}x{height} is outside {MIN_SIDE}..={MAX_SIDE} pixels")]
    Size { width: u32, height: u32 },
    #[error("map export: the view is empty or not finite")]
    View,
    #[error("map export: could not encode the PNG: {0}")]
    Encode(String),
    #[error("map export: could not write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the scale bar went and what it measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleBarLayout {
    /// Left end of the bar's baseline, in sheet pixels.
    pub start: [f32; 2],
    /// Length of the bar in pixels.
    pub pixels: f32,
    /// The ground length the bar stands for.
    pub metres: f64,
}

/// Where things went on the sheet, for callers and tests.
#[derive(Debug, Clone, Copy)]
pub struct SheetLayout {
    /// The map area: [left, top, width, height] in sheet pixels.
    pub map_rect: [f32; 4],
    /// The title band: [left, top, width, height].
    pub title_rect: [f32; 4],
    /// The legend box: [left, top, width, height].
    pub legend_rect: [f32; 4],
    /// Mercator to map-area pixels (add `map_rect`'s corner for sheet pixels).
    pub view: ViewTransform,
    pub scale_bar: Option<ScaleBarLayout>,
}

impl SheetLayout {
    /// Sheet pixel position of a lon/lat.
    pub fn lonlat_to_sheet(&self, lon: f64, lat: f64) -> [f32; 2] {
        let p = self.view.lonlat_to_screen(lon, lat);
        [p.x + self.map_rect[0], p.y + self.map_rect[1]]
    }

    /// Lon/lat under a sheet pixel position.
    pub fn sheet_to_lonlat(&self, x: f32, y: f32) -> (f64, f64) {
        self.view
            .screen_to_lonlat(pos2(x - self.map_rect[0], y - self.map_rect[1]))
    }
}

/// A rendered sheet and where its parts are.
pub struct RenderedSheet {
    pub pixmap: Pixmap,
    pub layout: SheetLayout,
}

/// Renders the sheet and writes it to `path` as a PNG, atomically: a temporary file in the
/// same directory, synced, then renamed over `path`, so a crash never leaves half a PNG.
pub fn export_png(path: &Path, request: &ExportRequest<'_>) -> Result<(), ExportError> {
    let sheet = render(request)?;
    let png = sheet
        .pixmap
        .encode_png()
        .map_err(|e| ExportError::Encode(e.to_string()))?;
    write_atomically(path, &png)
}

/// Renders the sheet to pixels (premultiplied RGBA).
pub fn render_rgba(request: &ExportRequest<'_>) -> Result<Pixmap, ExportError> {
    render(request).map(|sheet| sheet.pixmap)
}

/// Renders the sheet and reports where its parts went.
pub fn render(request: &ExportRequest<'_>) -> Result<RenderedSheet, ExportError> {
    let [width, height] = request.size;
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(ExportError::Size { width, height });
    }
    let lang = request.lang;
    let font = SheetFont::bundled();
    let (w, h) = (width as f32, height as f32);
    // The legend column narrows on small sheets so the map keeps most of the width.
    let legend_width = LEGEND_WIDTH.min(w * 0.25);
    let map_rect = [
        MARGIN,
        MARGIN + TITLE_BAND,
        w - 2.0 * MARGIN - legend_width - GAP,
        h - 2.0 * MARGIN - TITLE_BAND - FOOTER_BAND,
    ];
    let legend_rect = [
        map_rect[0] + map_rect[2] + GAP,
        map_rect[1],
        legend_width,
        map_rect[3],
    ];
    let title_rect = [MARGIN, MARGIN, w - 2.0 * MARGIN, TITLE_BAND - 8.0];
    let view = map_view(request.view, map_rect[2], map_rect[3])?;

    let mut sheet = Pixmap::new(width, height).ok_or(ExportError::Size { width, height })?;
    sheet.fill(rgba(PAPER));

    let map = draw_map_area(request, &view, &font, map_rect)?;
    sheet.draw_pixmap(
        map_rect[0].round() as i32,
        map_rect[1].round() as i32,
        map.as_ref(),
        &PixmapPaint::default(),
        Transform::identity(),
        None,
    );
    // Neat line.
    stroke_rect(&mut sheet, map_rect, 1.5, INK);

    draw_title(&mut sheet, &font, request.frame, title_rect);
    north_arrow(&mut sheet, &font, map_rect, lang);
    let scale_bar = scale_bar(&mut sheet, &font, &view, map_rect, lang);
    let derived;
    let legend = match request.frame.legend {
        Some(entries) => entries,
        None => {
            derived = legend_entries(request.layers, lang);
            &derived
        }
    };
    draw_legend(&mut sheet, &font, legend, legend_rect, lang);
    draw_footer(&mut sheet, &font, request.frame, [w, h], lang);

    Ok(RenderedSheet {
        pixmap: sheet,
        layout: SheetLayout {
            map_rect,
            title_rect,
            legend_rect,
            view,
            scale_bar,
        },
    })
}

/// The legend a set of layers calls for: one line per plain layer; for a categorized layer
/// its name, then the categories its features actually use (and "other" when some fall
/// outside them).
pub fn legend_entries(layers: &[ExportLayer<'_>], lang: Lang) -> Vec<LegendEntry> {
    let mut entries = Vec::new();
    for l in layers.iter().filter(|l| l.in_legend) {
        let style = l.style;
        let kind = GeometryKind::of_layer(l.layer);
        let symbol_in = |fill: [u8; 4], stroke: [u8; 4], width: f32| match kind {
            GeometryKind::Point => LegendSymbol::Marker {
                marker: style.marker,
                size: style.marker_size,
                fill: faded(fill, style.opacity),
                stroke: faded(stroke, style.opacity),
            },
            GeometryKind::Line => LegendSymbol::Line {
                color: faded(stroke, style.opacity),
                width,
                dashed: style.dashed,
            },
            GeometryKind::Area => LegendSymbol::Area {
                fill: faded(fill, style.opacity),
                stroke: faded(stroke, style.opacity),
                stroke_width: width,
            },
        };
        if style.category_field.is_none() || l.classes.is_empty() {
            entries.push(LegendEntry {
                label: l.layer.name.clone(),
                symbol: symbol_in(style.fill, style.stroke, style.stroke_width),
                indented: false,
            });
            continue;
        }
        let mut used = vec![false; style.categories.len()];
        let mut other = false;
        for &class in l.classes {
            match used.get_mut(usize::from(class)) {
                Some(u) => *u = true,
                None => other = true,
            }
        }
        entries.push(LegendEntry {
            label: l.layer.name.clone(),
            symbol: LegendSymbol::Heading,
            indented: false,
        });
        for (category, _) in style.categories.iter().zip(&used).filter(|(_, u)| **u) {
            let width = style.stroke_width * style.width_for_category(&category.value);
            entries.push(LegendEntry {
                label: category.value.clone(),
                symbol: symbol_in(category.color, category.color, width),
                indented: true,
            });
        }
        if other {
            entries.push(LegendEntry {
                label: lang.pick("其他", "Other").to_owned(),
                symbol: symbol_in(
                    OTHER_CATEGORY_COLOR,
                    OTHER_CATEGORY_COLOR,
                    style.stroke_width,
                ),
                indented: true,
            });
        }
    }
    entries
}

/// Metres on the ground per pixel at a latitude, for a view of `scale` pixels per world.
pub fn metres_per_pixel(lat: f64, scale: f64) -> f64 {
    EARTH_CIRCUMFERENCE_M * lat.to_radians().cos() / scale
}

/// The largest 1, 2 or 5 times a power of ten not above `target` metres.
pub fn nice_length_m(target: f64) -> f64 {
    if !(target.is_finite() && target > 0.0) {
        return 0.0;
    }
    let magnitude = 10f64.powf(target.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&v| v <= target * (1.0 + 1e-9))
        .unwrap_or(magnitude)
}

/// Writes `bytes` to `path` through a synced temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let io_error = |source| ExportError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "map.png".to_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error(e));
    }
    Ok(())
}

/// The Mercator-to-map-area mapping for a view.
fn map_view(view: ExportView, width: f32, height: f32) -> Result<ViewTransform, ExportError> {
    let clip = egui::Rect::from_min_size(pos2(0.0, 0.0), vec2(width, height));
    let transform = match view {
        ExportView::Centre { lon, lat, zoom } => {
            if !(lon.is_finite() && lat.is_finite() && zoom.is_finite()) {
                return Err(ExportError::View);
            }
            ViewTransform::centered(lon, lat, zoom.clamp(0.0, 24.0), clip)
        }
        ExportView::Bounds(rect) => {
            let a = mercator(rect.min().x, rect.max().y);
            let b = mercator(rect.max().x, rect.min().y);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let scale = (f64::from(width) / dx).min(f64::from(height) / dy);
            if !(scale.is_finite() && scale > 0.0) {
                return Err(ExportError::View);
            }
            let centre = [(a[0] + b[0]) * 0.5, (a[1] + b[1]) * 0.5];
            let (lon, lat) = inverse_mercator(centre[0], centre[1]);
            ViewTransform::centered(lon, lat, (scale / 256.0).log2(), clip)
        }
    };
    Ok(transform)
}

/// The map area: background, layers, labels.
fn draw_map_area(
    request: &ExportRequest<'_>,
    view: &ViewTransform,
    font: &SheetFont,
    map_rect: [f32; 4],
) -> Result<Pixmap, ExportError> {
    let (width, height) = (
        map_rect[2].round().max(1.0) as u32,
        map_rect[3].round().max(1.0) as u32,
    );
    let mut map = Pixmap::new(width, height).ok_or(ExportError::Size { width, height })?;
    map.fill(rgba(request.background));
    let mut labels: Vec<LabelCandidate> = Vec::new();
    for l in request.layers {
        let built;
        let cache = match l.cache {
            Some(c) => c,
            None => {
                built = RenderCache::build(l.layer);
                &built
            }
        };
        let mut layer_labels = Vec::new();
        draw_layer(&mut map, view, l, cache, &mut layer_labels);
        // Top layers label first, so they win the declutter (as in the window).
        labels.splice(0..0, layer_labels);
    }
    let clip = view.clip.shrink(2.0);
    let placed = declutter_labels(&labels, clip, &mut |text| {
        vec2(font.width(text, LABEL_PX), font.line_height(LABEL_PX))
    });
    for label in placed {
        let r = label.rect.expand(1.5);
        fill_rect(
            &mut map,
            [r.min.x, r.min.y, r.width(), r.height()],
            [255, 255, 255, 190],
        );
        font.draw(
            &mut map,
            &label.text,
            label.rect.min.x,
            label.rect.min.y + font.ascent(LABEL_PX),
            LABEL_PX,
            [20, 20, 20, 255],
        );
    }
    Ok(map)
}

/// A geometry's shape class, for legend symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GeometryKind {
    Point,
    Line,
    Area,
}

impl GeometryKind {
    fn of(geometry: &Geometry<f64>) -> Option<GeometryKind> {
        match geometry {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Some(GeometryKind::Point),
            Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                Some(GeometryKind::Line)
            }
            Geometry::Polygon(_)
            | Geometry::MultiPolygon(_)
            | Geometry::Rect(_)
            | Geometry::Triangle(_) => Some(GeometryKind::Area),
            Geometry::GeometryCollection(gc) => gc.iter().find_map(GeometryKind::of),
        }
    }

    /// The layer's first feature decides; an empty layer shows as points.
    fn of_layer(layer: &Layer) -> GeometryKind {
        layer
            .geometries
            .iter()
            .find_map(GeometryKind::of)
            .unwrap_or(GeometryKind::Point)
    }
}

/// Draws one layer as the window does: its area fills first, then outlines, lines and
/// markers; label candidates go to `labels`.
fn draw_layer(
    map: &mut Pixmap,
    view: &ViewTransform,
    draw: &ExportLayer<'_>,
    cache: &RenderCache,
    labels: &mut Vec<LabelCandidate>,
) {
    let style = draw.style;
    let opacity = style.opacity;
    let (map_w, map_h) = (f64::from(view.clip.width()), f64::from(view.clip.height()));
    // Mercator box of the map area, padded so markers and wide strokes at the edge show.
    let pad = 30.0 / view.scale;
    let top_left = view.to_mercator(pos2(0.0, 0.0));
    let visible = [
        top_left[0] - pad,
        top_left[1] - pad,
        top_left[0] + map_w / view.scale + pad,
        top_left[1] + map_h / view.scale + pad,
    ];
    let in_view = |feature: usize| {
        cache.extents.get(feature).is_some_and(|e| {
            e[0] <= visible[2] && e[2] >= visible[0] && e[1] <= visible[3] && e[3] >= visible[1]
        })
    };
    let look = |feature: usize| -> ([u8; 4], [u8; 4], f32) {
        match draw.classes.get(feature) {
            Some(&class) => {
                let (c, w) = style
                    .categories
                    .get(usize::from(class))
                    .map(|c| (c.color, style.width_for_category(&c.value)))
                    .unwrap_or((OTHER_CATEGORY_COLOR, 1.0));
                (faded(c, opacity), faded(c, opacity), w)
            }
            None => (
                faded(style.fill, opacity),
                faded(style.stroke, opacity),
                1.0,
            ),
        }
    };
    let size_index = style
        .size_field
        .as_deref()
        .and_then(|f| draw.layer.attributes.field_index(f));
    let label_index = style
        .label_field
        .as_deref()
        .and_then(|f| draw.layer.attributes.field_index(f));
    let line_width = style.stroke_width.max(0.0);
    let visible_features: Vec<usize> = (0..cache.features.len()).filter(|&f| in_view(f)).collect();

    // Pass 1: area fills, holes left open by the even-odd rule.
    for &feature in &visible_features {
        let (fill, _, _) = look(feature);
        if fill[3] == 0 || is_tiny(cache, feature, view, TINY_AREA_PX) {
            continue;
        }
        for_each_part(&cache.features[feature], &mut |part| {
            if let Part::Polygon(poly) = part
                && let Some(path) = polygon_path(view, poly)
            {
                map.fill_path(
                    &path,
                    &paint(fill),
                    FillRule::EvenOdd,
                    Transform::identity(),
                    None,
                );
            }
        });
    }

    // Pass 2: outlines, lines, markers, dots for features too small to see.
    for &feature in &visible_features {
        let (fill, stroke, width_factor) = look(feature);
        let prepared = &cache.features[feature];
        let tiny_px = match prepared {
            PreparedGeometry::Point(_) | PreparedGeometry::Points(_) => 0.0,
            PreparedGeometry::Lines(_) => TINY_LINE_PX,
            _ => TINY_AREA_PX,
        };
        if is_tiny(cache, feature, view, tiny_px) {
            if let Some(e) = cache.extents.get(feature) {
                let c = view.to_screen([(e[0] + e[2]) * 0.5, (e[1] + e[3]) * 0.5]);
                let dot = if fill[3] > 0 { fill } else { stroke };
                fill_rect(map, [c.x - 1.0, c.y - 1.0, 2.0, 2.0], dot);
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
        let mut label_anchor: Option<(egui::Pos2, f32)> = None;
        for_each_part(prepared, &mut |part| match part {
            Part::Point(m) => {
                let p = view.to_screen(m);
                if !view.clip.expand(marker_size).contains(p) {
                    return;
                }
                draw_marker(map, style.marker, [p.x, p.y], marker_size, fill, stroke);
                label_anchor.get_or_insert((p, marker_size * 0.5 + 3.0));
            }
            Part::Line(points) => {
                let Some((path, middle)) = line_path(view, points, false) else {
                    return;
                };
                label_anchor.get_or_insert((middle, 0.0));
                stroke_path(
                    map,
                    &path,
                    line_width * width_factor,
                    stroke,
                    style.dashed.then_some([8.0, 5.0]),
                );
            }
            Part::Polygon(poly) => {
                if line_width > 0.0 && stroke[3] > 0 {
                    for ring in &poly.rings {
                        if let Some(v) = poly.vertices.get(ring.clone())
                            && let Some((path, _)) = line_path(view, v, true)
                        {
                            stroke_path(map, &path, line_width, stroke, None);
                        }
                    }
                }
                if label_anchor.is_none() && !poly.vertices.is_empty() {
                    let n = poly.rings.first().map(|r| r.len()).unwrap_or(0).max(1);
                    let ring = &poly.vertices[..n.min(poly.vertices.len())];
                    let (sx, sy) = ring
                        .iter()
                        .fold((0.0, 0.0), |(x, y), v| (x + v[0], y + v[1]));
                    let count = ring.len().max(1) as f64;
                    label_anchor = Some((view.to_screen([sx / count, sy / count]), 0.0));
                }
            }
        });
        if let (Some(field), Some((anchor, beside))) = (label_index, label_anchor)
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
}

/// Areas and lines smaller than these many pixels are a dot (the window's level of detail).
const TINY_AREA_PX: f64 = 2.0;
const TINY_LINE_PX: f64 = 0.8;

fn is_tiny(cache: &RenderCache, feature: usize, view: &ViewTransform, tiny_px: f64) -> bool {
    tiny_px > 0.0
        && cache
            .extents
            .get(feature)
            .is_some_and(|e| (e[2] - e[0]).max(e[3] - e[1]) * view.scale < tiny_px)
}

enum Part<'a> {
    Point([f64; 2]),
    Line(&'a [[f64; 2]]),
    Polygon(&'a PreparedPolygon),
}

fn for_each_part<'a>(geometry: &'a PreparedGeometry, out: &mut dyn FnMut(Part<'a>)) {
    match geometry {
        PreparedGeometry::Point(p) => out(Part::Point(*p)),
        PreparedGeometry::Points(points) => points.iter().for_each(|&p| out(Part::Point(p))),
        PreparedGeometry::Lines(lines) => lines.iter().for_each(|l| out(Part::Line(l))),
        PreparedGeometry::Polygons(polys) => polys.iter().for_each(|p| out(Part::Polygon(p))),
        PreparedGeometry::Mixed(parts) => parts.iter().for_each(|g| for_each_part(g, out)),
    }
}

/// A path through Mercator points in map pixels, skipping vertices within about a pixel of
/// the previous one; also the middle vertex, where a line's label goes.
fn line_path(
    view: &ViewTransform,
    points: &[[f64; 2]],
    closed: bool,
) -> Option<(tiny_skia::Path, egui::Pos2)> {
    let mut builder = PathBuilder::new();
    let mut kept: Vec<egui::Pos2> = Vec::with_capacity(points.len().min(4096));
    let last = points.len().saturating_sub(1);
    for (i, &m) in points.iter().enumerate() {
        let p = view.to_screen(m);
        if let Some(prev) = kept.last()
            && i != last
            && (p - *prev).length_sq() < 0.8
        {
            continue;
        }
        kept.push(p);
    }
    if kept.len() < if closed { 3 } else { 2 } {
        return None;
    }
    for (i, p) in kept.iter().enumerate() {
        if i == 0 {
            builder.move_to(p.x, p.y);
        } else {
            builder.line_to(p.x, p.y);
        }
    }
    if closed {
        builder.close();
    }
    let middle = kept[kept.len() / 2];
    builder.finish().map(|path| (path, middle))
}

/// Every ring of a polygon in one path, for an even-odd fill.
fn polygon_path(view: &ViewTransform, poly: &PreparedPolygon) -> Option<tiny_skia::Path> {
    let mut builder = PathBuilder::new();
    for ring in &poly.rings {
        let Some(vertices) = poly.vertices.get(ring.clone()) else {
            continue;
        };
        if vertices.len() < 3 {
            continue;
        }
        for (i, &m) in vertices.iter().enumerate() {
            let p = view.to_screen(m);
            if i == 0 {
                builder.move_to(p.x, p.y);
            } else {
                builder.line_to(p.x, p.y);
            }
        }
        builder.close();
    }
    builder.finish()
}

/// One point marker of `size` pixels across centred on `p`, shaped as the window draws it.
fn draw_marker(
    pixmap: &mut Pixmap,
    marker: Marker,
    p: [f32; 2],
    size: f32,
    fill: [u8; 4],
    stroke: [u8; 4],
) {
    let r = size * 0.5;
    let [x, y] = p;
    let polygon = |points: &[[f32; 2]]| {
        let mut b = PathBuilder::new();
        for (i, q) in points.iter().enumerate() {
            if i == 0 {
                b.move_to(x + q[0], y + q[1]);
            } else {
                b.line_to(x + q[0], y + q[1]);
            }
        }
        b.close();
        b.finish()
    };
    let fill_path = |pixmap: &mut Pixmap, path: Option<tiny_skia::Path>, colour: [u8; 4]| {
        if let Some(path) = path {
            pixmap.fill_path(
                &path,
                &paint(colour),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    };
    match marker {
        Marker::Circle => {
            fill_path(pixmap, PathBuilder::from_circle(x, y, r), fill);
            if stroke[3] > 0
                && let Some(path) = PathBuilder::from_circle(x, y, r)
            {
                stroke_path(pixmap, &path, 1.0, stroke, None);
            }
        }
        Marker::Square => {
            fill_rect(pixmap, [x - r, y - r, size, size], fill);
            if stroke[3] > 0 {
                // The window strokes squares outside their edge.
                stroke_rect(
                    pixmap,
                    [x - r - 0.5, y - r - 0.5, size + 1.0, size + 1.0],
                    1.0,
                    stroke,
                );
            }
        }
        Marker::Triangle => fill_path(
            pixmap,
            polygon(&[[0.0, -r * 1.1], [r, r * 0.8], [-r, r * 0.8]]),
            fill,
        ),
        Marker::Diamond => fill_path(
            pixmap,
            polygon(&[[0.0, -r * 1.2], [r, 0.0], [0.0, r * 1.2], [-r, 0.0]]),
            fill,
        ),
        Marker::Cross => {
            let w = (size * 0.35).max(2.0);
            fill_rect(
                pixmap,
                [x - r - 1.0, y - r - 1.0, size + 2.0, size + 2.0],
                stroke,
            );
            fill_rect(pixmap, [x - r, y - w * 0.5, size, w], fill);
            fill_rect(pixmap, [x - w * 0.5, y - r, w, size], fill);
        }
        Marker::Star => {
            for flip in [1.0, -1.0] {
                fill_path(
                    pixmap,
                    polygon(&[
                        [0.0, -r * 1.15 * flip],
                        [r, r * 0.6 * flip],
                        [-r, r * 0.6 * flip],
                    ]),
                    fill,
                );
            }
        }
    }
}

fn draw_title(sheet: &mut Pixmap, font: &SheetFont, frame: MapFrame<'_>, rect: [f32; 4]) {
    let centre = rect[0] + rect[2] * 0.5;
    let title_px = 30.0;
    let title = font.fit(frame.title, title_px, rect[2]);
    let baseline = rect[1] + 8.0 + font.ascent(title_px);
    font.draw(
        sheet,
        &title,
        centre - font.width(&title, title_px) * 0.5,
        baseline,
        title_px,
        INK,
    );
    let sub_px = 16.0;
    let subtitle = font.fit(frame.subtitle, sub_px, rect[2]);
    font.draw(
        sheet,
        &subtitle,
        centre - font.width(&subtitle, sub_px) * 0.5,
        baseline + 10.0 + font.ascent(sub_px),
        sub_px,
        MUTED_INK,
    );
}

fn north_arrow(sheet: &mut Pixmap, font: &SheetFont, map_rect: [f32; 4], lang: Lang) {
    let (bw, bh) = (48.0, 72.0);
    let left = map_rect[0] + map_rect[2] - bw - 12.0;
    let top = map_rect[1] + 12.0;
    fill_rect(sheet, [left, top, bw, bh], [255, 255, 255, 215]);
    stroke_rect(sheet, [left, top, bw, bh], 1.0, [120, 120, 120, 255]);
    let letter = lang.pick("北", "N");
    let px = 16.0;
    let cx = left + bw * 0.5;
    font.draw(
        sheet,
        letter,
        cx - font.width(letter, px) * 0.5,
        top + 4.0 + font.ascent(px),
        px,
        INK,
    );
    // Web Mercator keeps north straight up everywhere, so the arrow never turns.
    let (tip, base, half) = (top + 26.0, top + bh - 8.0, 11.0);
    let waist = base - 10.0;
    let half_arrow = |side: f32| {
        let mut b = PathBuilder::new();
        b.move_to(cx, tip);
        b.line_to(cx + side * half, base);
        b.line_to(cx, waist);
        b.close();
        b.finish()
    };
    if let Some(left_half) = half_arrow(-1.0) {
        sheet.fill_path(
            &left_half,
            &paint(INK),
            FillRule::Winding,
            Transform::identity(),
            None,
        );
        stroke_path(sheet, &left_half, 1.0, INK, None);
    }
    if let Some(right_half) = half_arrow(1.0) {
        sheet.fill_path(
            &right_half,
            &paint(PAPER),
            FillRule::Winding,
            Transform::identity(),
            None,
        );
        stroke_path(sheet, &right_half, 1.0, INK, None);
    }
}

/// A scale bar of a round length in the map's lower left, measured at its own latitude.
fn scale_bar(
    sheet: &mut Pixmap,
    font: &SheetFont,
    view: &ViewTransform,
    map_rect: [f32; 4],
    lang: Lang,
) -> Option<ScaleBarLayout> {
    let x0 = 24.0;
    let y = map_rect[3] - 22.0;
    let (_, lat) = view.screen_to_lonlat(pos2(x0, y));
    let mpp = metres_per_pixel(lat, view.scale);
    let target = mpp * f64::from(map_rect[2] * 0.2).clamp(80.0, 260.0);
    let metres = nice_length_m(target);
    if !(metres > 0.0 && mpp.is_finite() && mpp > 0.0) {
        return None;
    }
    let pixels = (metres / mpp) as f32;
    let label = |m: f64| {
        if metres >= 1000.0 {
            format!("{} {}", m / 1000.0, lang.pick("公里", "km"))
        } else {
            format!("{m} {}", lang.pick("米", "m"))
        }
    };
    let px = 12.0;
    let start = [map_rect[0] + x0, map_rect[1] + y];
    let end_label = label(metres);
    let end_label_width = font.width(&end_label, px);
    fill_rect(
        sheet,
        [
            start[0] - 10.0,
            start[1] - 30.0,
            pixels + 20.0 + end_label_width * 0.5,
            42.0,
        ],
        [255, 255, 255, 215],
    );
    // Four alternating segments above a baseline that spans the whole length.
    let segment = pixels / 4.0;
    for i in 0..4 {
        let colour = if i % 2 == 0 { INK } else { PAPER };
        let r = [start[0] + segment * i as f32, start[1] - 6.0, segment, 6.0];
        fill_rect(sheet, r, colour);
        stroke_rect(sheet, r, 1.0, INK);
    }
    fill_rect(sheet, [start[0], start[1] - 1.0, pixels, 2.0], INK);
    let zero = "0";
    font.draw(
        sheet,
        zero,
        start[0] - font.width(zero, px) * 0.5,
        start[1] - 10.0,
        px,
        INK,
    );
    font.draw(
        sheet,
        &end_label,
        start[0] + pixels - end_label_width * 0.5,
        start[1] - 10.0,
        px,
        INK,
    );
    Some(ScaleBarLayout {
        start,
        pixels,
        metres,
    })
}

fn draw_legend(
    sheet: &mut Pixmap,
    font: &SheetFont,
    entries: &[LegendEntry],
    rect: [f32; 4],
    lang: Lang,
) {
    stroke_rect(sheet, rect, 1.0, INK);
    let heading_px = 20.0;
    let heading = lang.pick("图例", "Legend");
    font.draw(
        sheet,
        heading,
        rect[0] + (rect[2] - font.width(heading, heading_px)) * 0.5,
        rect[1] + 10.0 + font.ascent(heading_px),
        heading_px,
        INK,
    );
    let px = 14.0;
    let row = 24.0;
    let mut y = rect[1] + 48.0;
    let bottom = rect[1] + rect[3] - 8.0;
    for (shown, entry) in entries.iter().enumerate() {
        if y + row > bottom - row && shown + 1 < entries.len() {
            let more = format!(
                "{} {} {}",
                lang.pick("…另有", "…"),
                entries.len() - shown,
                lang.pick("项", "more")
            );
            font.draw(sheet, &more, rect[0] + 12.0, y + 16.0, px, MUTED_INK);
            break;
        }
        let indent = if entry.indented { 16.0 } else { 0.0 };
        let symbol_box = [rect[0] + 12.0 + indent, y + 3.0, 30.0, 18.0];
        legend_symbol(sheet, &entry.symbol, symbol_box);
        let text_x = match entry.symbol {
            LegendSymbol::Heading => rect[0] + 12.0 + indent,
            _ => symbol_box[0] + symbol_box[2] + 8.0,
        };
        let text = font.fit(&entry.label, px, rect[0] + rect[2] - 8.0 - text_x);
        font.draw(sheet, &text, text_x, y + 17.0, px, INK);
        y += row;
    }
}

fn legend_symbol(sheet: &mut Pixmap, symbol: &LegendSymbol, r: [f32; 4]) {
    let (cx, cy) = (r[0] + r[2] * 0.5, r[1] + r[3] * 0.5);
    match *symbol {
        LegendSymbol::Heading => {}
        LegendSymbol::Marker {
            marker,
            size,
            fill,
            stroke,
        } => draw_marker(sheet, marker, [cx, cy], size.clamp(4.0, 16.0), fill, stroke),
        LegendSymbol::Line {
            color,
            width,
            dashed,
        } => {
            let mut b = PathBuilder::new();
            b.move_to(r[0], cy);
            b.line_to(r[0] + r[2], cy);
            if let Some(path) = b.finish() {
                stroke_path(
                    sheet,
                    &path,
                    width.clamp(1.0, 6.0),
                    color,
                    dashed.then_some([8.0, 5.0]),
                );
            }
        }
        LegendSymbol::Area {
            fill,
            stroke,
            stroke_width,
        } => {
            fill_rect(sheet, r, fill);
            if stroke_width > 0.0 && stroke[3] > 0 {
                stroke_rect(sheet, r, stroke_width.clamp(1.0, 3.0), stroke);
            }
        }
    }
}

fn draw_footer(
    sheet: &mut Pixmap,
    font: &SheetFont,
    frame: MapFrame<'_>,
    [w, h]: [f32; 2],
    lang: Lang,
) {
    let px = 14.0;
    let left = MARGIN;
    let line1 = h - MARGIN - FOOTER_BAND + 24.0;
    let line2 = line1 + 24.0;
    let approval_label = lang.pick("审图号：", "Map approval No. (审图号): ");
    let approval_width = font.width(approval_label, px)
        + if frame.approval_number.is_empty() {
            180.0
        } else {
            font.width(frame.approval_number, px)
        };
    let approval_x = w - MARGIN - approval_width;
    let text_room = approval_x - left - 24.0;
    let date = format!("{}{}", lang.pick("制图日期：", "Date: "), frame.date);
    let sources = format!("{}{}", lang.pick("数据来源：", "Sources: "), frame.sources);
    font.draw(sheet, &font.fit(&date, px, text_room), left, line1, px, INK);
    font.draw(
        sheet,
        &font.fit(&sources, px, text_room),
        left,
        line2,
        px,
        INK,
    );
    font.draw(sheet, approval_label, approval_x, line1, px, INK);
    let value_x = approval_x + font.width(approval_label, px);
    if frame.approval_number.is_empty() {
        // A blank to fill in by hand: the number belongs to the basemap, not to OneMap.
        fill_rect(sheet, [value_x, line1 + 3.0, 180.0, 1.0], INK);
    } else {
        font.draw(sheet, frame.approval_number, value_x, line1, px, INK);
    }
}

fn rgba(c: [u8; 4]) -> Color {
    Color::from_rgba8(c[0], c[1], c[2], c[3])
}

fn paint(c: [u8; 4]) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(rgba(c));
    p.anti_alias = true;
    p
}

fn faded(c: [u8; 4], opacity: f32) -> [u8; 4] {
    let alpha = (f32::from(c[3]) * opacity.clamp(0.0, 1.0)).round() as u8;
    [c[0], c[1], c[2], alpha]
}

fn fill_rect(pixmap: &mut Pixmap, r: [f32; 4], colour: [u8; 4]) {
    if colour[3] == 0 {
        return;
    }
    if let Some(rect) = Rect::from_xywh(r[0], r[1], r[2], r[3]) {
        pixmap.fill_rect(rect, &paint(colour), Transform::identity(), None);
    }
}

fn stroke_rect(pixmap: &mut Pixmap, r: [f32; 4], width: f32, colour: [u8; 4]) {
    if let Some(rect) = Rect::from_xywh(r[0], r[1], r[2], r[3]) {
        stroke_path(pixmap, &PathBuilder::from_rect(rect), width, colour, None);
    }
}

fn stroke_path(
    pixmap: &mut Pixmap,
    path: &tiny_skia::Path,
    width: f32,
    colour: [u8; 4],
    dash: Option<[f32; 2]>,
) {
    if width.is_nan() || width <= 0.0 || colour[3] == 0 {
        return;
    }
    let stroke = Stroke {
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        dash: dash.and_then(|[on, off]| StrokeDash::new(vec![on, off], 0.0)),
        ..Stroke::default()
    };
    pixmap.stroke_path(path, &paint(colour), &stroke, Transform::identity(), None);
}

/// The bundled font, drawn as glyph outlines filled by tiny-skia (anti-aliased).
struct SheetFont {
    font: Option<FontRef<'static>>,
}

impl SheetFont {
    fn bundled() -> SheetFont {
        SheetFont {
            font: FontRef::new(crate::ui::fonts::BUNDLED_CJK_FONT).ok(),
        }
    }

    fn glyph(&self, font: &FontRef<'static>, ch: char) -> GlyphId {
        font.charmap().map(ch).unwrap_or(GlyphId::NOTDEF)
    }

    /// Width of `text` at `px` pixels per em.
    fn width(&self, text: &str, px: f32) -> f32 {
        let Some(font) = &self.font else {
            return 0.0;
        };
        let metrics = font.glyph_metrics(Size::new(px), LocationRef::default());
        text.chars()
            .map(|ch| {
                metrics
                    .advance_width(self.glyph(font, ch))
                    .unwrap_or(px * 0.5)
            })
            .sum()
    }

    fn ascent(&self, px: f32) -> f32 {
        self.font
            .as_ref()
            .map(|f| f.metrics(Size::new(px), LocationRef::default()).ascent)
            .unwrap_or(px * 0.88)
    }

    fn line_height(&self, px: f32) -> f32 {
        self.font
            .as_ref()
            .map(|f| {
                let m = f.metrics(Size::new(px), LocationRef::default());
                m.ascent - m.descent
            })
            .unwrap_or(px * 1.2)
    }

    /// `text` cut with an ellipsis to fit `max_width` pixels.
    fn fit(&self, text: &str, px: f32, max_width: f32) -> String {
        if self.width(text, px) <= max_width {
            return text.to_owned();
        }
        let mut kept = String::new();
        for ch in text.chars() {
            kept.push(ch);
            if self.width(&kept, px) + self.width("…", px) > max_width {
                kept.pop();
                break;
            }
        }
        kept.push('…');
        kept
    }

    /// Draws `text` with its baseline's left end at (`x`, `baseline`).
    fn draw(&self, pixmap: &mut Pixmap, text: &str, x: f32, baseline: f32, px: f32, c: [u8; 4]) {
        let Some(font) = &self.font else {
            return;
        };
        let size = Size::new(px);
        let metrics = font.glyph_metrics(size, LocationRef::default());
        let outlines = font.outline_glyphs();
        let mut pen = GlyphPen {
            builder: PathBuilder::new(),
            origin: [x, baseline],
        };
        for ch in text.chars() {
            let glyph = self.glyph(font, ch);
            if let Some(outline) = outlines.get(glyph) {
                // A glyph that fails to draw is skipped; the text around it still shows.
                let _ = outline.draw(
                    DrawSettings::unhinted(size, LocationRef::default()),
                    &mut pen,
                );
            }
            pen.origin[0] += metrics.advance_width(glyph).unwrap_or(px * 0.5);
        }
        if let Some(path) = pen.builder.finish() {
            pixmap.fill_path(
                &path,
                &paint(c),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }
}

/// Collects glyph outlines (font units scaled, y up) into one sheet path (y down).
struct GlyphPen {
    builder: PathBuilder,
    origin: [f32; 2],
}

impl GlyphPen {
    fn at(&self, x: f32, y: f32) -> (f32, f32) {
        (self.origin[0] + x, self.origin[1] - y)
    }
}

impl OutlinePen for GlyphPen {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.builder.move_to(x, y);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.builder.line_to(x, y);
    }

    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        let (cx0, cy0) = self.at(cx0, cy0);
        let (x, y) = self.at(x, y);
        self.builder.quad_to(cx0, cy0, x, y);
    }

    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        let (cx0, cy0) = self.at(cx0, cy0);
        let (cx1, cy1) = self.at(cx1, cy1);
        let (x, y) = self.at(x, y);
        self.builder.cubic_to(cx0, cy0, cx1, cy1, x, y);
    }

    fn close(&mut self) {
        self.builder.close();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nice_lengths_are_one_two_five_steps_not_above_the_target() {
        assert_eq!(nice_length_m(1234.0), 1000.0);
        assert_eq!(nice_length_m(2500.0), 2000.0);
        assert_eq!(nice_length_m(7000.0), 5000.0);
        assert_eq!(nice_length_m(500.0), 500.0);
        assert_eq!(nice_length_m(0.0), 0.0);
        assert_eq!(nice_length_m(f64::NAN), 0.0);
    }

    #[test]
    fn metres_per_pixel_halves_per_zoom_level_and_shrinks_with_latitude() {
        let z12 = metres_per_pixel(0.0, 256.0 * 4096.0);
        assert!((z12 - 38.218).abs() < 0.01, "{z12}");
        let z13 = metres_per_pixel(0.0, 256.0 * 8192.0);
        assert!((z12 / z13 - 2.0).abs() < 1e-9);
        assert!((metres_per_pixel(60.0, 256.0 * 4096.0) - z12 * 0.5).abs() < 1e-6);
    }

    #[test]
    fn text_has_width_and_chinese_glyphs_exist_in_the_bundled_font() {
        let font = SheetFont::bundled();
        let f = font.font.as_ref().unwrap();
        assert_ne!(font.glyph(f, '审'), GlyphId::NOTDEF);
        assert_ne!(font.glyph(f, 'A'), GlyphId::NOTDEF);
        let w = font.width("应急一张图", 20.0);
        assert!((w - 100.0).abs() < 5.0, "{w}");
        assert!(font.fit("一二三四五六七八九十", 20.0, 90.0).chars().count() < 10);
    }

    #[test]
    fn sheet_sizes_outside_the_range_are_refused() {
        let request = ExportRequest {
            layers: &[],
            view: ExportView::Centre {
                lon: 117.8,
                lat: 36.8,
                zoom: 12.0,
            },
            size: [100, 100],
            frame: MapFrame::default(),
            lang: Lang::En,
            background: PAPER,
        };
        assert!(matches!(render(&request), Err(ExportError::Size { .. })));
    }
}
