//! The measure tools: geodesic length of a path and geodesic area of a polygon (WGS 84
//! ellipsoid, Karney's algorithms through geo), and the text a user reads: metres or
//! kilometres, square metres or square kilometres, and mu (亩, the Chinese land unit).

use geo::orient::Direction;
use geo::{Geodesic, GeodesicArea, Length, LineString, MultiPolygon, Orient, Polygon};

use crate::i18n::Lang;

/// Square metres in one mu (亩): 10 000 / 15, exactly, by the 1990 definition (15 mu = 1 ha).
pub const M2_PER_MU: f64 = 10_000.0 / 15.0;

/// Geodesic length of a path on the WGS 84 ellipsoid, metres.
pub fn path_length_m(path: &LineString<f64>) -> f64 {
    Geodesic.length(path)
}

/// Geodesic area of a polygon on the WGS 84 ellipsoid, square metres, holes excluded. The
/// rings are oriented first (exterior counter-clockwise, holes clockwise) so a polygon drawn
/// either way round measures the same.
pub fn polygon_area_m2(polygon: &Polygon<f64>) -> f64 {
    polygon
        .orient(Direction::Default)
        .geodesic_area_signed()
        .abs()
}

/// Geodesic area of every part of a multipolygon, square metres (parts are not unioned:
/// overlapping parts count twice).
pub fn multipolygon_area_m2(polygons: &MultiPolygon<f64>) -> f64 {
    polygons.0.iter().map(polygon_area_m2).sum()
}

/// Square metres to mu.
pub fn m2_to_mu(m2: f64) -> f64 {
    m2 / M2_PER_MU
}

/// Digits after the point that keep about three significant figures, at most `max`.
fn decimals(value: f64, max: usize) -> usize {
    let v = value.abs();
    let d = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    d.min(max)
}

/// A distance for display: whole metres below 1 km (one decimal below 10 m), kilometres
/// above with about three significant figures. `"850 m"`, `"1.25 km"`; in Chinese
/// `"850 米"`, `"1.25 千米"`. Non-finite input gives `"—"`.
pub fn format_distance(metres: f64, lang: Lang) -> String {
    if !metres.is_finite() {
        return "—".into();
    }
    // 999.7 m would print as "1000 m": switch where the rounded text would.
    if metres.abs() < 999.5 {
        let d = if metres.abs() < 9.95 { 1 } else { 0 };
        format!("{metres:.d$} {}", lang.pick("米", "m"))
    } else {
        let km = metres / 1000.0;
        let d = decimals(km, 2);
        format!("{km:.d$} {}", lang.pick("千米", "km"))
    }
}

/// An area in square metres below 1 km² (whole m²; two decimals below 10 m²), square
/// kilometres above (about three significant figures): `"5400 m²"`, `"2.35 km²"`, in
/// Chinese `"5400 平方米"`, `"2.35 平方千米"`.
pub fn format_area_metric(m2: f64, lang: Lang) -> String {
    if !m2.is_finite() {
        return "—".into();
    }
    if m2.abs() < 999_999.5 {
        let d = if m2.abs() < 9.995 { 2 } else { 0 };
        format!("{m2:.d$} {}", lang.pick("平方米", "m²"))
    } else {
        let km2 = m2 / 1.0e6;
        let d = decimals(km2, 2);
        format!("{km2:.d$} {}", lang.pick("平方千米", "km²"))
    }
}

/// An area in mu with about three significant figures (whole mu from 100 up):
/// `"8.10 亩"`, `"1500 mu"`.
pub fn format_area_mu(m2: f64, lang: Lang) -> String {
    if !m2.is_finite() {
        return "—".into();
    }
    let mu = m2_to_mu(m2);
    let d = decimals(mu, 2);
    format!("{mu:.d$} {}", lang.pick("亩", "mu"))
}

/// Both forms, as the measure tool shows them: `"5400 m² (8.10 mu)"`,
/// `"5400 平方米（8.10 亩）"`.
pub fn format_area(m2: f64, lang: Lang) -> String {
    let metric = format_area_metric(m2, lang);
    let mu = format_area_mu(m2, lang);
    match lang {
        Lang::Zh => format!("{metric}（{mu}）"),
        Lang::En => format!("{metric} ({mu})"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo::{LineString, polygon};

    #[test]
    fn one_degree_of_meridian_at_the_equator_has_its_known_length() {
        // Meridian arc from 0° to 1° N on WGS 84: 110 574.4 m (standard tables).
        let path = LineString::from(vec![(0.0, 0.0), (0.0, 1.0)]);
        assert!((path_length_m(&path) - 110_574.4).abs() < 0.5);
        // Along the equator one degree is a / 180 * pi = 111 319.49 m.
        let path = LineString::from(vec![(0.0, 0.0), (0.5, 0.0), (1.0, 0.0)]);
        assert!((path_length_m(&path) - 111_319.49).abs() < 0.05);
        assert_eq!(path_length_m(&LineString::new(vec![])), 0.0);
    }

    #[test]
    fn area_is_the_same_either_way_round_and_excludes_holes() {
        // A 0.01° square at 36.8° N: about 1113.2 m by 1111.0 * cos(36.8°) m.
        let ccw = polygon![
            (x: 117.9, y: 36.8), (x: 117.91, y: 36.8), (x: 117.91, y: 36.81), (x: 117.9, y: 36.81)
        ];
        let cw = polygon![
            (x: 117.9, y: 36.8), (x: 117.9, y: 36.81), (x: 117.91, y: 36.81), (x: 117.91, y: 36.8)
        ];
        let a = polygon_area_m2(&ccw);
        assert!((a - polygon_area_m2(&cw)).abs() < 1e-6);
        let expected = 1109.2 * 1113.2 * 36.805f64.to_radians().cos();
        assert!((a - expected).abs() / expected < 0.005, "{a} vs {expected}");
        let with_hole = polygon!(
            exterior: [
                (x: 117.9, y: 36.8), (x: 117.91, y: 36.8), (x: 117.91, y: 36.81), (x: 117.9, y: 36.81)
            ],
            interiors: [[
                (x: 117.902, y: 36.802), (x: 117.904, y: 36.802), (x: 117.904, y: 36.804),
                (x: 117.902, y: 36.804)
            ]],
        );
        let hole = polygon![
            (x: 117.902, y: 36.802), (x: 117.904, y: 36.802), (x: 117.904, y: 36.804),
            (x: 117.902, y: 36.804)
        ];
        let inner = polygon_area_m2(&hole);
        assert!((polygon_area_m2(&with_hole) - (a - inner)).abs() < 1e-3);
        let both = MultiPolygon::new(vec![ccw, hole]);
        assert!((multipolygon_area_m2(&both) - (a + inner)).abs() < 1e-3);
    }

    #[test]
    fn the_o2_dome_outline_has_its_published_area() {
        // geo's documented example (GeographicLib): 78 596 m².
        let o2 = polygon![
            (x: 0.00388383, y: 51.501574), (x: 0.00538587, y: 51.502278),
            (x: 0.00553607, y: 51.503299), (x: 0.00467777, y: 51.504181),
            (x: 0.00327229, y: 51.504435), (x: 0.00187754, y: 51.504168),
            (x: 0.00087976, y: 51.503380), (x: 0.00107288, y: 51.502324),
            (x: 0.00185608, y: 51.501770), (x: 0.00388383, y: 51.501574),
        ];
        assert_eq!(polygon_area_m2(&o2).round(), 78_596.0);
        assert_eq!(
            format_area(polygon_area_m2(&o2), Lang::En),
            "78596 m² (118 mu)"
        );
    }

    #[test]
    fn one_hectare_is_fifteen_mu() {
        assert!((m2_to_mu(10_000.0) - 15.0).abs() < 1e-12);
        assert!((M2_PER_MU - 666.666_666_7).abs() < 1e-6);
    }

    #[test]
    fn distances_read_in_m_or_km() {
        assert_eq!(format_distance(850.0, Lang::En), "850 m");
        assert_eq!(format_distance(3.25, Lang::En), "3.2 m");
        assert_eq!(format_distance(1250.0, Lang::En), "1.25 km");
        assert_eq!(format_distance(12_345.0, Lang::En), "12.3 km");
        assert_eq!(format_distance(123_456.0, Lang::Zh), "123 千米");
        assert_eq!(format_distance(999.4, Lang::Zh), "999 米");
        assert_eq!(format_distance(999.7, Lang::En), "1.00 km");
        assert_eq!(format_distance(9.97, Lang::En), "10 m");
        assert_eq!(format_distance(f64::NAN, Lang::En), "—");
    }

    #[test]
    fn areas_read_in_m2_km2_and_mu() {
        assert_eq!(format_area_metric(5400.0, Lang::En), "5400 m²");
        assert_eq!(format_area_metric(2_350_000.0, Lang::En), "2.35 km²");
        assert_eq!(format_area_metric(999_999.7, Lang::En), "1.00 km²");
        assert_eq!(format_area_metric(2_350_000.0, Lang::Zh), "2.35 平方千米");
        assert_eq!(format_area_mu(5400.0, Lang::En), "8.10 mu");
        assert_eq!(format_area_mu(1_000_000.0, Lang::Zh), "1500 亩");
        assert_eq!(format_area(5400.0, Lang::En), "5400 m² (8.10 mu)");
        assert_eq!(format_area(5400.0, Lang::Zh), "5400 平方米（8.10 亩）");
    }
}
