//! The PNG map export, headless: the demo district exported and decoded back, checked for
//! its size, the fire stations' colour where they stand, a polygon hole left unfilled, a title
//! in the title band and a scale bar whose length matches the ground at its latitude.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use geo::{BoundingRect, Coord, Distance, Geometry, Haversine, LineString, Point, Polygon};
use onemap::i18n::Lang;
use onemap::io::{Progress, load_path};
use onemap::map::export::{
    DEFAULT_SIZE, ExportLayer, ExportRequest, ExportView, MapFrame, export_png, render,
};
use onemap::map::symbology::LayerStyle;
use onemap::model::{AttributeTable, Layer, LayerKind};

/// Bottom to top, as the window stacks them: areas, then lines, then points.
const DEMO_ORDER: [&str; 22] = [
    "neighbour_borders",
    "district_border",
    "builtup",
    "forest",
    "water",
    "mined_out_areas",
    "ponds",
    "reservoirs",
    "roads",
    "rivers",
    "pipelines",
    "population",
    "divisions",
    "schools",
    "hospitals",
    "hazchem_enterprises",
    "major_hazard_sources",
    "mines",
    "geohazard_points",
    "waterlogging_spots",
    "shelters",
    "fire_stations",
];

const STATION_FILL: [u8; 3] = [220, 30, 30];
const BACKGROUND: [u8; 4] = [245, 243, 238, 255];

fn demo_layers() -> Vec<Layer> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/zhoucun");
    DEMO_ORDER
        .iter()
        .map(|stem| {
            load_path(&dir.join(format!("{stem}.geojson")), &Progress::default())
                .unwrap()
                .layer
        })
        .collect()
}

fn district_bounds(layers: &[Layer]) -> geo::Rect<f64> {
    let border = layers
        .iter()
        .find(|l| l.kind == LayerKind::DistrictBorder)
        .unwrap();
    border.geometries[0].bounding_rect().unwrap()
}

fn frame(title: &'static str) -> MapFrame<'static> {
    MapFrame {
        title,
        subtitle: "周村区 Zhoucun District, Zibo",
        date: "2026-11-28",
        sources: "周村区应急管理局; OpenStreetMap contributors",
        approval_number: "",
        legend: None,
    }
}

fn is_dark(p: &image::Rgba<u8>) -> bool {
    p.0[..3].iter().all(|&c| c < 110)
}

fn close_to(p: &image::Rgba<u8>, rgb: [u8; 3], tolerance: u8) -> bool {
    p.0[..3]
        .iter()
        .zip(rgb)
        .all(|(&a, b)| a.abs_diff(b) <= tolerance)
}

#[test]
fn demo_district_exports_to_a_png_with_stations_title_and_a_true_scale_bar() {
    let layers = demo_layers();
    let styles: Vec<LayerStyle> = layers.iter().map(|l| LayerStyle::preset(l.kind)).collect();
    let classes: Vec<Vec<u16>> = layers
        .iter()
        .zip(&styles)
        .map(|(l, s)| s.feature_classes(&l.attributes))
        .collect();
    let export_layers: Vec<ExportLayer<'_>> = layers
        .iter()
        .zip(&styles)
        .zip(&classes)
        .map(|((l, s), c)| ExportLayer::new(l, s, c))
        .collect();
    let request = ExportRequest {
        layers: &export_layers,
        view: ExportView::Bounds(district_bounds(&layers)),
        size: DEFAULT_SIZE,
        frame: frame("周村区应急资源一张图"),
        lang: Lang::Zh,
        background: BACKGROUND,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zhoucun.png");
    export_png(&path, &request).unwrap();
    if let Ok(keep) = std::env::var("ONEMAP_KEEP_EXPORT") {
        std::fs::copy(&path, keep).unwrap();
    }
    // Atomic write: only the PNG is left, no temporary file beside it.
    let names: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names, vec![path.clone()]);

    let png = image::open(&path).unwrap().to_rgba8();
    assert_eq!(png.dimensions(), (DEFAULT_SIZE[0], DEFAULT_SIZE[1]));
    let layout = render(&request).unwrap().layout;

    // Every fire station is drawn in the station colour where it stands.
    let stations = layers
        .iter()
        .find(|l| l.kind == LayerKind::FireStation)
        .unwrap();
    assert_eq!(stations.geometries.len(), 5);
    for geometry in &stations.geometries {
        let Geometry::Point(p) = geometry else {
            panic!("station is not a point")
        };
        let [x, y] = layout.lonlat_to_sheet(p.x(), p.y());
        let [mx, my, mw, mh] = layout.map_rect;
        assert!(
            x > mx && x < mx + mw && y > my && y < my + mh,
            "station off the map"
        );
        let pixel = png.get_pixel(x as u32, y as u32);
        assert!(
            close_to(pixel, STATION_FILL, 12),
            "station at ({x}, {y}) has colour {pixel:?}"
        );
    }

    // The title band holds dark text.
    let [tx, ty, tw, th] = layout.title_rect;
    let dark_in_title = |img: &image::RgbaImage| {
        let mut n = 0;
        for y in ty as u32..(ty + th) as u32 {
            for x in tx as u32..(tx + tw) as u32 {
                n += usize::from(is_dark(img.get_pixel(x, y)));
            }
        }
        n
    };
    let with_title = dark_in_title(&png);
    assert!(
        with_title > 500,
        "only {with_title} dark pixels in the title"
    );
    let untitled = ExportRequest {
        frame: MapFrame {
            title: "",
            subtitle: "",
            ..frame("")
        },
        ..request
    };
    let blank = render(&untitled).unwrap().pixmap;
    let blank = image::RgbaImage::from_raw(blank.width(), blank.height(), blank.take()).unwrap();
    assert_eq!(dark_in_title(&blank), 0);

    // The scale bar's drawn length stands for its stated metres on the ground (within 2 %).
    let bar = layout.scale_bar.unwrap();
    let leading = bar.metres / 10f64.powf(bar.metres.log10().floor());
    assert!(
        [1.0, 2.0, 5.0].iter().any(|d| (leading - d).abs() < 1e-9),
        "{} m is not a round length",
        bar.metres
    );
    let row = (bar.start[1] - 0.5).floor() as u32;
    let first = (bar.start[0] - 3.0) as u32..(bar.start[0] + 3.0) as u32;
    let x0 = first
        .clone()
        .find(|&x| is_dark(png.get_pixel(x, row)))
        .unwrap_or_else(|| panic!("no bar start in {first:?} on row {row}"));
    let mut x1 = x0;
    while is_dark(png.get_pixel(x1 + 1, row)) {
        x1 += 1;
    }
    let drawn_px = f64::from(x1 - x0 + 1);
    assert!(
        (drawn_px - f64::from(bar.pixels)).abs() <= 2.0,
        "drawn {drawn_px} px, layout says {}",
        bar.pixels
    );
    let (lon_a, lat_a) = layout.sheet_to_lonlat(x0 as f32, row as f32);
    let (lon_b, lat_b) = layout.sheet_to_lonlat(x0 as f32 + drawn_px as f32, row as f32);
    let ground = Haversine.distance(Point::new(lon_a, lat_a), Point::new(lon_b, lat_b));
    assert!(
        (ground - bar.metres).abs() / bar.metres < 0.02,
        "bar of {drawn_px} px covers {ground:.0} m but says {} m",
        bar.metres
    );
}

fn square(x0: f64, y0: f64, side: f64) -> LineString<f64> {
    LineString::from(vec![
        (x0, y0),
        (x0 + side, y0),
        (x0 + side, y0 + side),
        (x0, y0 + side),
        (x0, y0),
    ])
}

#[test]
fn a_polygon_hole_is_left_unfilled_and_the_ring_is_filled() {
    let polygon = Polygon::new(
        square(117.80, 36.78, 0.04),
        vec![square(117.81, 36.79, 0.02)],
    );
    let layer = Layer {
        name: "带洞多边形 holed polygon".to_owned(),
        path: None,
        kind: LayerKind::Generic,
        geometries: vec![Geometry::Polygon(polygon)],
        attributes: AttributeTable::new(),
        source_index: vec![0],
    };
    let style = LayerStyle {
        fill: [20, 90, 200, 255],
        stroke: [0, 0, 0, 255],
        stroke_width: 1.0,
        ..LayerStyle::default()
    };
    let export_layers = [ExportLayer::new(&layer, &style, &[])];
    let request = ExportRequest {
        layers: &export_layers,
        view: ExportView::Bounds(geo::Rect::new(
            Coord {
                x: 117.79,
                y: 36.77,
            },
            Coord {
                x: 117.85,
                y: 36.83,
            },
        )),
        size: [900, 700],
        frame: frame("Hole"),
        lang: Lang::En,
        background: BACKGROUND,
    };
    let sheet = render(&request).unwrap();
    let pixel = |lon: f64, lat: f64| {
        let [x, y] = sheet.layout.lonlat_to_sheet(lon, lat);
        sheet.pixmap.pixel(x as u32, y as u32).unwrap().demultiply()
    };
    let hole = pixel(117.82, 36.80);
    assert_eq!(
        [hole.red(), hole.green(), hole.blue(), hole.alpha()],
        BACKGROUND
    );
    let ring = pixel(117.805, 36.80);
    assert_eq!([ring.red(), ring.green(), ring.blue()], [20, 90, 200]);
    let outside = pixel(117.795, 36.80);
    assert_eq!(
        [outside.red(), outside.green(), outside.blue()],
        [BACKGROUND[0], BACKGROUND[1], BACKGROUND[2]]
    );
}

#[test]
fn the_approval_number_is_printed_when_given_and_a_blank_otherwise() {
    let layers: [ExportLayer<'_>; 0] = [];
    let base = ExportRequest {
        layers: &layers,
        view: ExportView::Centre {
            lon: 117.87,
            lat: 36.8,
            zoom: 12.0,
        },
        size: [1000, 700],
        frame: frame("审图号"),
        lang: Lang::En,
        background: BACKGROUND,
    };
    let with_number = ExportRequest {
        frame: MapFrame {
            approval_number: "GS(2024)0650号",
            ..base.frame
        },
        ..base
    };
    let footer_dark = |request: &ExportRequest<'_>| {
        let sheet = render(request).unwrap();
        let [_, my, _, mh] = sheet.layout.map_rect;
        let top = (my + mh + 2.0) as u32;
        let mut n = 0;
        for y in top..sheet.pixmap.height() {
            for x in sheet.pixmap.width() / 2..sheet.pixmap.width() {
                let p = sheet.pixmap.pixel(x, y).unwrap().demultiply();
                n += usize::from(p.red() < 110 && p.green() < 110 && p.blue() < 110);
            }
        }
        n
    };
    let blank = footer_dark(&base);
    let printed = footer_dark(&with_number);
    assert!(
        blank > 50,
        "the field label is missing ({blank} dark pixels)"
    );
    assert!(
        printed > blank + 50,
        "number not printed: {printed} vs {blank}"
    );
}

#[test]
fn a_centre_and_zoom_view_keeps_the_window_scale_in_english() {
    let layers = demo_layers();
    let styles: Vec<LayerStyle> = layers.iter().map(|l| LayerStyle::preset(l.kind)).collect();
    let classes: Vec<Vec<u16>> = layers
        .iter()
        .zip(&styles)
        .map(|(l, s)| s.feature_classes(&l.attributes))
        .collect();
    let export_layers: Vec<ExportLayer<'_>> = layers
        .iter()
        .zip(&styles)
        .zip(&classes)
        .map(|((l, s), c)| ExportLayer::new(l, s, c))
        .collect();
    let zoom = 13.0;
    let (lon, lat) = (117.87, 36.80);
    let request = ExportRequest {
        layers: &export_layers,
        view: ExportView::Centre { lon, lat, zoom },
        size: DEFAULT_SIZE,
        frame: MapFrame {
            approval_number: "GS(2024)0650",
            ..frame("Zhoucun emergency resources")
        },
        lang: Lang::En,
        background: BACKGROUND,
    };
    let sheet = render(&request).unwrap();
    if let Ok(keep) = std::env::var("ONEMAP_KEEP_EXPORT_EN") {
        std::fs::write(keep, sheet.pixmap.encode_png().unwrap()).unwrap();
    }
    let layout = sheet.layout;
    // The centre of the map area shows the requested centre.
    let [mx, my, mw, mh] = layout.map_rect;
    let [cx, cy] = layout.lonlat_to_sheet(lon, lat);
    assert!((cx - (mx + mw / 2.0)).abs() < 0.5 && (cy - (my + mh / 2.0)).abs() < 0.5);
    // 0.01 degree of longitude spans as many pixels as in the window at this zoom.
    let [ax, _] = layout.lonlat_to_sheet(lon, lat);
    let [bx, _] = layout.lonlat_to_sheet(lon + 0.01, lat);
    let expected = 0.01 / 360.0 * 256.0 * 2f64.powf(zoom);
    assert!(
        (f64::from(bx - ax) - expected).abs() < 0.01,
        "{} vs {expected}",
        bx - ax
    );
    // The scale bar agrees with the ground at this latitude.
    let bar = layout.scale_bar.unwrap();
    let (lon_a, lat_a) = layout.sheet_to_lonlat(bar.start[0], bar.start[1]);
    let (lon_b, lat_b) = layout.sheet_to_lonlat(bar.start[0] + bar.pixels, bar.start[1]);
    let ground = Haversine.distance(Point::new(lon_a, lat_a), Point::new(lon_b, lat_b));
    assert!((ground - bar.metres).abs() / bar.metres < 0.02);
}
