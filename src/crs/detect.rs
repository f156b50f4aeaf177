//! Detects a CRS from `.prj` text or from coordinate value ranges, and says why.
//!
//! Detection is a suggestion for the import dialog: every [`Detection`] carries a reason in
//! plain words, the alternatives a user might pick, and warnings. Value ranges can never tell
//! GCJ-02 or BD-09 from WGS84, nor one central meridian from another, nor CGCS2000 from
//! Xi'an 1980: in those cases the detection says so instead of guessing silently.

use super::{Crs, GkDatum};

/// The outcome of a detection.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The system assumed, or `None` when the caller must ask the user.
    pub crs: Option<Crs>,
    /// Why this system (or why none), in words the import dialog can show.
    pub reason: String,
    /// Plausible alternatives for the user to choose from (includes `crs` when set).
    pub candidates: Vec<Crs>,
    /// Things the user should know (datum shift not applied, GCJ-02 possible, ...).
    pub warnings: Vec<String>,
    /// True when the samples' first value is the northing (or latitude) and the second the
    /// easting (or longitude): the caller swaps them before transforming.
    pub axis_swapped: bool,
}

impl Detection {
    fn found(crs: Crs, reason: String) -> Self {
        let warnings = crs.datum_warning().into_iter().collect();
        Detection {
            crs: Some(crs),
            reason,
            candidates: vec![crs],
            warnings,
            axis_swapped: false,
        }
    }

    fn unknown(reason: String) -> Self {
        Detection {
            crs: None,
            reason,
            candidates: Vec::new(),
            warnings: Vec::new(),
            axis_swapped: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// .prj (WKT)
// ---------------------------------------------------------------------------------------------

/// Lower-cases and turns every run of separators into one `_`, so that ESRI names
/// ("CGCS2000_3_Degree_GK_Zone_39") and EPSG names ("CGCS2000 / 3-degree Gauss-Kruger zone
/// 39") compare alike; "Gauss-Kruger" becomes "gk".
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c == 'ü' || c == 'Ü' { 'u' } else { c };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c == '\'' || c == '’' {
            // "Xi'an" is "Xian".
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.replace("gauss_kruger", "gk")
        .replace("gauss_krueger", "gk")
}

/// The number right after `key` in a normalized name ("zone_39" -> 39), if any.
fn number_after(name: &str, key: &str) -> Option<(u32, String)> {
    let start = name.find(key)? + key.len();
    let digits: String = name[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let rest: String = name[start + digits.len()..].chars().take(1).collect();
    digits.parse().ok().map(|n| (n, rest))
}

fn datum_in(normalized: &str) -> Option<GkDatum> {
    if ["cgcs2000", "cgcs_2000", "china_2000", "china_geodetic"]
        .iter()
        .any(|k| normalized.contains(k))
    {
        Some(GkDatum::Cgcs2000)
    } else if normalized.contains("xian_1980")
        || normalized.contains("xian80")
        || normalized.contains("xian1980")
    {
        Some(GkDatum::Xian80)
    } else if normalized.contains("beijing_1954")
        || normalized.contains("beijing54")
        || normalized.contains("beijing1954")
    {
        Some(GkDatum::Beijing54)
    } else {
        None
    }
}

/// The first quoted string after the top-level keyword, and the keyword.
fn top_level_name(wkt: &str) -> Option<(String, &str)> {
    let open = wkt.find('[')?;
    let keyword = wkt[..open].trim();
    let rest = &wkt[open + 1..];
    let first_quote = rest.find('"')?;
    let after = &rest[first_quote + 1..];
    let end = after.find('"')?;
    Some((after[..end].to_string(), keyword))
}

/// The last `AUTHORITY["EPSG","n"]` or `ID["EPSG",n]` in the text: in WKT1 and WKT2 the
/// top-level one comes last.
fn last_epsg_code(wkt: &str) -> Option<u32> {
    let upper = wkt.to_ascii_uppercase();
    let position = upper.rfind("\"EPSG\"")?;
    let tail = &upper[position + 6..];
    let digits: String = tail
        .chars()
        .skip_while(|c| !c.is_ascii_digit() && matches!(c, ',' | ' ' | '"'))
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The value of `PARAMETER["name", value]` (name compared case-insensitively).
fn parameter(wkt: &str, name: &str) -> Option<f64> {
    let lower = wkt.to_ascii_lowercase();
    let needle = format!("\"{}\"", name.to_ascii_lowercase());
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let at = from + found;
        let before = lower[..at].trim_end().trim_end_matches('[').trim_end();
        if before.ends_with("parameter") {
            let value: String = lower[at + needle.len()..]
                .trim_start_matches([',', ' '])
                .chars()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e'))
                .collect();
            return value.parse().ok();
        }
        from = at + needle.len();
    }
    None
}

fn gk_from_name(name: &str) -> Option<Crs> {
    let datum = datum_in(name)?;
    if !name.contains("gk") {
        return None;
    }
    let width = if name.contains("3_degree") || name.contains("3_deg") {
        3
    } else {
        6
    };
    if let Some((zone, _)) = number_after(name, "zone_") {
        return Crs::gauss_kruger_zone(datum, width, zone);
    }
    match number_after(name, "cm_") {
        Some((cm, suffix)) if suffix == "e" || suffix.is_empty() => {
            Some(Crs::gauss_kruger_cm(datum, width, f64::from(cm)))
        }
        _ => None,
    }
}

fn from_prj_parameters(wkt: &str, normalized_all: &str) -> Option<(Crs, String)> {
    let central_meridian =
        parameter(wkt, "central_meridian").or_else(|| parameter(wkt, "longitude_of_center"))?;
    let false_easting = parameter(wkt, "false_easting").unwrap_or(0.0);
    let false_northing = parameter(wkt, "false_northing").unwrap_or(0.0);
    let scale = parameter(wkt, "scale_factor").unwrap_or(1.0);
    let latitude_of_origin = parameter(wkt, "latitude_of_origin").unwrap_or(0.0);
    let transverse =
        normalized_all.contains("transverse_mercator") || normalized_all.contains("gk");
    if !transverse || latitude_of_origin != 0.0 {
        return None;
    }
    let described = format!(
        "Transverse Mercator parameters in the .prj (central meridian {central_meridian}, \
         false easting {false_easting}, scale {scale})"
    );
    let wgs84 = normalized_all.contains("wgs_1984") || normalized_all.contains("wgs_84");
    if (scale - 0.9996).abs() < 1e-9 && false_easting == 500_000.0 && wgs84 {
        let zone = (central_meridian + 183.0) / 6.0;
        if zone.fract() == 0.0 && (1.0..=60.0).contains(&zone) {
            let north = false_northing == 0.0;
            return Some((
                Crs::Utm {
                    zone: zone as u8,
                    north,
                },
                described,
            ));
        }
        return None;
    }
    if scale != 1.0 || false_northing != 0.0 {
        return None;
    }
    let datum = datum_in(normalized_all).or_else(|| {
        if normalized_all.contains("krasovsky") {
            Some(GkDatum::Beijing54)
        } else if normalized_all.contains("iag_1975") || normalized_all.contains("6378140") {
            Some(GkDatum::Xian80)
        } else if normalized_all.contains("grs_1980") || normalized_all.contains("grs80") || wgs84 {
            Some(GkDatum::Cgcs2000)
        } else {
            None
        }
    })?;
    let prefix = (false_easting / 1e6).floor();
    if false_easting >= 1e6 && false_easting - prefix * 1e6 == 500_000.0 {
        let zone = prefix as u32;
        let width = if (13..=23).contains(&zone) { 6 } else { 3 };
        let crs = Crs::gauss_kruger_zone(datum, width, zone)?;
        if let Crs::GaussKruger {
            central_meridian_deg,
            ..
        } = crs
            && central_meridian_deg == central_meridian
        {
            return Some((crs, described));
        }
        // A prefix that does not match the meridian: keep the file's own numbers.
        return Some((
            Crs::GaussKruger {
                datum,
                zone_width_deg: width,
                central_meridian_deg: central_meridian,
                false_easting_m: false_easting,
                zone_prefix: Some(zone),
            },
            described,
        ));
    }
    let width = if (central_meridian - 75.0) % 3.0 == 0.0 {
        3
    } else {
        6
    };
    Some((
        Crs::GaussKruger {
            datum,
            zone_width_deg: width,
            central_meridian_deg: central_meridian,
            false_easting_m: false_easting,
            zone_prefix: None,
        },
        described,
    ))
}

/// Detects the CRS a `.prj` file (or any WKT, e.g. GeoPackage's `definition`) describes: by
/// its EPSG code when one is given, else by its name (ESRI and EPSG spellings), else by its
/// Transverse Mercator parameters.
pub fn detect_from_prj(wkt: &str) -> Detection {
    let wkt = wkt.trim().trim_start_matches('\u{feff}');
    if wkt.is_empty() {
        return Detection::unknown("the .prj file is empty".to_string());
    }
    let Some((name, keyword)) = top_level_name(wkt) else {
        return Detection::unknown("the .prj file is not WKT text".to_string());
    };
    let keyword = keyword.to_ascii_uppercase();
    let projected = keyword.starts_with("PROJ");
    let normalized = normalize(&name);
    let normalized_all = normalize(wkt);

    if let Some(code) = last_epsg_code(wkt)
        && let Ok(crs) = Crs::from_epsg(code)
        && crs.is_geographic() != projected
    {
        return Detection::found(crs, format!("the .prj gives EPSG:{code} ({name})"));
    }

    if !projected {
        // Our own writer names the shifted systems this way (they have no official WKT);
        // checked before WGS 84 because their datum is written as WGS 84.
        if normalized.contains("gcj_02") || normalized.contains("gcj02") {
            return Detection::found(Crs::Gcj02, format!("the .prj names GCJ-02 ({name})"));
        }
        if normalized.contains("bd_09") || normalized.contains("bd09") {
            return Detection::found(Crs::Bd09, format!("the .prj names BD-09 ({name})"));
        }
        if normalized.contains("wgs_1984")
            || normalized.contains("wgs_84")
            || normalized.contains("wgs84")
        {
            return Detection::found(
                Crs::Wgs84,
                format!("the .prj names geographic WGS 84 ({name})"),
            );
        }
        match datum_in(&normalized) {
            Some(GkDatum::Cgcs2000) => {
                return Detection::found(
                    Crs::Wgs84,
                    format!(
                        "the .prj names geographic CGCS2000 ({name}), used as WGS 84 (they differ by under a metre)"
                    ),
                );
            }
            Some(datum) => {
                let mut detection = Detection::found(
                    Crs::Wgs84,
                    format!("the .prj names geographic {} ({name})", datum.name()),
                );
                detection.warnings.push(format!(
                    "{} degrees are used as WGS 84: no datum shift is applied, positions may be off by tens of metres",
                    datum.name()
                ));
                return detection;
            }
            None => {}
        }
    }

    if normalized.contains("web_mercator") || normalized.contains("pseudo_mercator") {
        return Detection::found(
            Crs::WebMercator,
            format!("the .prj names Web Mercator ({name})"),
        );
    }
    if (normalized.contains("wgs_1984") || normalized.contains("wgs_84"))
        && let Some((zone, hemisphere)) = number_after(&normalized, "utm_zone_")
        && (1..=60).contains(&zone)
        && (hemisphere == "n" || hemisphere == "s")
    {
        let crs = Crs::Utm {
            zone: zone as u8,
            north: hemisphere == "n",
        };
        return Detection::found(crs, format!("the .prj names {} ({name})", crs.name()));
    }
    if let Some(crs) = gk_from_name(&normalized) {
        return Detection::found(crs, format!("the .prj names {} ({name})", crs.name()));
    }
    if projected && let Some((crs, described)) = from_prj_parameters(wkt, &normalized_all) {
        return Detection::found(crs, format!("{described}: {}", crs.name()));
    }
    Detection::unknown(format!(
        "the .prj describes {name:?}, which OneMap does not recognise"
    ))
}

// ---------------------------------------------------------------------------------------------
// Value ranges
// ---------------------------------------------------------------------------------------------

/// China's extent in degrees, generously (Pamirs to the Wusuli, Zengmu shoal to Mohe).
const CHINA_LON: std::ops::RangeInclusive<f64> = 73.0..=136.0;
const CHINA_LAT: std::ops::RangeInclusive<f64> = 3.0..=54.0;
/// Gauss-Krüger northings over mainland China and Hainan (about 9-56 degrees north).
const GK_NORTHING: std::ops::RangeInclusive<f64> = 1.0e6..=6.2e6;
/// Eastings within about ±350 km of a central meridian (no zone prefix): wide enough for a
/// 6-degree zone at 18 N.
const CM_EASTING: std::ops::RangeInclusive<f64> = 0.15e6..=0.85e6;
/// Web Mercator x and y over China (73-136 E, 3-54 N, with slack).
const WEB_MERCATOR_X: std::ops::RangeInclusive<f64> = 8.0e6..=15.2e6;
const WEB_MERCATOR_Y: std::ops::RangeInclusive<f64> = 0.3e6..=7.3e6;

/// What a set of (easting, northing) values looks like, assuming that order.
enum Projected {
    /// All eastings carry the same zone prefix.
    Prefixed(u32),
    /// Eastings near 500 000 m: a central-meridian form (or UTM).
    CentralMeridian,
    /// Values in Web Mercator's range over China.
    WebMercator,
}

fn classify_projected(samples: &[(f64, f64)]) -> Option<Projected> {
    let all = |f: &dyn Fn(f64, f64) -> bool| samples.iter().all(|&(e, n)| f(e, n));
    if all(&|e, n| GK_NORTHING.contains(&n) && (13e6..46e6).contains(&e)) {
        let first_zone = (samples.first()?.0 / 1e6).floor() as u32;
        if all(&|e, _| (e / 1e6).floor() as u32 == first_zone)
            && ((13..=23).contains(&first_zone) || (25..=45).contains(&first_zone))
        {
            return Some(Projected::Prefixed(first_zone));
        }
    }
    if all(&|e, n| GK_NORTHING.contains(&n) && CM_EASTING.contains(&e)) {
        return Some(Projected::CentralMeridian);
    }
    if all(&|x, y| WEB_MERCATOR_X.contains(&x) && WEB_MERCATOR_Y.contains(&y)) {
        return Some(Projected::WebMercator);
    }
    None
}

fn value_span(samples: &[(f64, f64)]) -> String {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in samples {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    format!("x {x0}..{x1}, y {y0}..{y1}")
}

fn detect_degrees(samples: &[(f64, f64)]) -> Option<Detection> {
    let degrees = samples
        .iter()
        .all(|&(x, y)| (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y));
    let swapped_degrees = samples
        .iter()
        .all(|&(x, y)| (-90.0..=90.0).contains(&x) && (-180.0..=180.0).contains(&y));
    let in_china = |lon: f64, lat: f64| CHINA_LON.contains(&lon) && CHINA_LAT.contains(&lat);
    let mut detection = if degrees && samples.iter().all(|&(x, y)| in_china(x, y)) {
        Detection::found(
            Crs::Wgs84,
            "values are longitude/latitude degrees within China: read as WGS 84 / CGCS2000; \
             GCJ-02 (Amap, Tencent) and BD-09 (Baidu) cannot be told from the values"
                .to_string(),
        )
    } else if swapped_degrees && samples.iter().all(|&(x, y)| in_china(y, x)) {
        let mut d = Detection::found(
            Crs::Wgs84,
            "values are latitude, longitude degrees within China (latitude first): read as WGS 84 / CGCS2000; \
             GCJ-02 (Amap, Tencent) and BD-09 (Baidu) cannot be told from the values"
                .to_string(),
        );
        d.axis_swapped = true;
        d
    } else if degrees {
        let mut d = Detection::found(
            Crs::Wgs84,
            "values are longitude/latitude degrees: read as WGS 84".to_string(),
        );
        d.candidates = vec![Crs::Wgs84];
        return Some(d);
    } else {
        return None;
    };
    detection.candidates = vec![Crs::Wgs84, Crs::Gcj02, Crs::Bd09];
    detection.warnings.push(
        "if these points were picked on Amap/Tencent (GCJ-02) or Baidu (BD-09) maps, choose that system: \
         read as WGS 84 they are off by about 500 m"
            .to_string(),
    );
    Some(detection)
}

fn detect_projected(samples: &[(f64, f64)], swapped: bool) -> Option<Detection> {
    let oriented: Vec<(f64, f64)> = if swapped {
        samples.iter().map(|&(x, y)| (y, x)).collect()
    } else {
        samples.to_vec()
    };
    let kind = classify_projected(&oriented)?;
    let order = if swapped {
        " (values are northing, easting: swapped)"
    } else {
        ""
    };
    let mut detection = match kind {
        Projected::Prefixed(zone) => {
            let width = if zone <= 23 { 6 } else { 3 };
            let of = |datum| Crs::gauss_kruger_zone(datum, width, zone);
            let crs = of(GkDatum::Cgcs2000)?;
            let central_meridian = match crs {
                Crs::GaussKruger {
                    central_meridian_deg,
                    ..
                } => central_meridian_deg,
                _ => 0.0,
            };
            let mut d = Detection::found(
                crs,
                format!(
                    "eastings {zone}.0-{zone}.99 million carry zone prefix {zone}: {width}-degree Gauss-Krüger \
                     zone {zone} (central meridian {central_meridian}E){order}; CGCS2000 assumed"
                ),
            );
            d.candidates = [GkDatum::Cgcs2000, GkDatum::Xian80, GkDatum::Beijing54]
                .into_iter()
                .filter_map(of)
                .collect();
            d.warnings.push(
                "Xi'an 1980 and Beijing 1954 coordinates fall in the same ranges: choose that datum if the \
                 data predates CGCS2000"
                    .to_string(),
            );
            // Web Mercator x over eastern China (13-15 million) reads like a zone 13-15 prefix
            // (far-west Xinjiang and Tibet), with overlapping northings: only the user knows.
            let web = oriented
                .iter()
                .all(|&(x, y)| WEB_MERCATOR_X.contains(&x) && WEB_MERCATOR_Y.contains(&y));
            if web {
                d.crs = None;
                d.reason = format!(
                    "values{order} fit both Web Mercator over eastern China and 6-degree Gauss-Krüger zone \
                     {zone} (prefixed eastings); they cannot be told apart by range: choose one"
                );
                d.candidates.insert(0, Crs::WebMercator);
            }
            d
        }
        Projected::CentralMeridian => {
            let mut d = Detection::unknown(format!(
                "eastings near 500 000 m and northings of 1-6 million m{order}: Gauss-Krüger by central \
                 meridian (or UTM), but which central meridian cannot be told from the values: choose one"
            ));
            d.candidates = (0..21)
                .map(|i| Crs::gauss_kruger_cm(GkDatum::Cgcs2000, 3, 75.0 + 3.0 * f64::from(i)))
                .chain((43..=53).map(|zone| Crs::Utm { zone, north: true }))
                .collect();
            d
        }
        Projected::WebMercator => Detection::found(
            Crs::WebMercator,
            format!("values fit Web Mercator metres over China{order}"),
        ),
    };
    detection.axis_swapped = swapped;
    if swapped {
        detection.warnings.push(
            "the first value is the northing (EPSG axis order): swapped to easting, northing"
                .to_string(),
        );
    }
    Some(detection)
}

/// Detects a CRS from sample coordinates as read (first value, second value), by value ranges:
/// degrees -> WGS84 (never silently GCJ-02/BD-09), prefixed eastings -> Gauss-Krüger zone,
/// eastings near 500 000 m -> a list of central-meridian candidates, Web Mercator ranges, and
/// northing-first order. Non-finite samples are ignored.
pub fn detect_from_samples(samples: &[(f64, f64)]) -> Detection {
    let finite: Vec<(f64, f64)> = samples
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if finite.is_empty() {
        return Detection::unknown("no coordinates to look at".to_string());
    }
    if let Some(detection) = detect_degrees(&finite) {
        return detection;
    }
    if let Some(detection) =
        detect_projected(&finite, false).or_else(|| detect_projected(&finite, true))
    {
        return detection;
    }
    Detection::unknown(format!(
        "the values ({}) fit no coordinate system OneMap can recognise by range: choose one",
        value_span(&finite)
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ESRI_4527: &str = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_39",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_4548: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_117E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_4509: &str = r#"PROJCS["CGCS2000_GK_CM_117E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_2363: &str = r#"PROJCS["Xian_1980_3_Degree_GK_Zone_39",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_21460: &str = r#"PROJCS["Beijing_1954_Gauss_Kruger_CM_117E",GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_4490: &str = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    const ESRI_4326: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    const ESRI_4610: &str = r#"GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    const ESRI_3857: &str = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_32650: &str = r#"PROJCS["WGS_1984_UTM_Zone_50N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const GDAL_4527: &str = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 39",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",117],PARAMETER["scale_factor",1],PARAMETER["false_easting",39500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AUTHORITY["EPSG","4527"]]"#;

    fn epsg(code: u32) -> Crs {
        Crs::from_epsg(code).unwrap()
    }

    #[test]
    fn prj_naming_gcj02_or_bd09_is_read_as_that_system() {
        let wkt = |name: &str| {
            format!(
                "GEOGCS[\"{name}\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]"
            )
        };
        assert_eq!(detect_from_prj(&wkt("GCJ_02")).crs, Some(Crs::Gcj02));
        assert_eq!(detect_from_prj(&wkt("BD_09")).crs, Some(Crs::Bd09));
        assert_eq!(detect_from_prj(&wkt("GCS_WGS_1984")).crs, Some(Crs::Wgs84));
    }

    #[test]
    fn prj_names_of_gauss_kruger_systems() {
        for (wkt, code) in [
            (ESRI_4527, 4527),
            (ESRI_4548, 4548),
            (ESRI_4509, 4509),
            (ESRI_2363, 2363),
            (ESRI_21460, 21460),
        ] {
            let d = detect_from_prj(wkt);
            assert_eq!(d.crs, Some(epsg(code)), "{wkt}: {}", d.reason);
            assert!(d.reason.contains("names"), "{}", d.reason);
        }
        assert!(
            detect_from_prj(ESRI_2363)
                .warnings
                .iter()
                .any(|w| w.contains("datum shift"))
        );
        assert!(
            detect_from_prj(ESRI_21460)
                .warnings
                .iter()
                .any(|w| w.contains("Beijing 1954"))
        );
        assert!(detect_from_prj(ESRI_4527).warnings.is_empty());
    }

    #[test]
    fn prj_epsg_authority_wins() {
        let d = detect_from_prj(GDAL_4527);
        assert_eq!(d.crs, Some(epsg(4527)));
        assert!(d.reason.contains("EPSG:4527"), "{}", d.reason);
        // Without the top-level authority the geographic 4490 must not be taken for the whole.
        let without = GDAL_4527
            .replace(r#",AUTHORITY["EPSG","4527"]"#, "")
            .replace(r#",AUTHORITY["EPSG","9001"]"#, "");
        let d = detect_from_prj(&without);
        assert_eq!(d.crs, Some(epsg(4527)), "{}", d.reason);
        let d =
            detect_from_prj(r#"PROJCS["CGCS 2000 / 3-degree Gauss-Krüger CM 117E",GEOGCS["x"]]"#);
        assert_eq!(d.crs, Some(epsg(4548)), "{}", d.reason);
    }

    #[test]
    fn prj_geographic_and_other_projections() {
        assert_eq!(detect_from_prj(ESRI_4326).crs, Some(Crs::Wgs84));
        let d = detect_from_prj(ESRI_4490);
        assert_eq!(d.crs, Some(Crs::Wgs84));
        assert!(d.reason.contains("CGCS2000"), "{}", d.reason);
        let d = detect_from_prj(ESRI_4610);
        assert_eq!(d.crs, Some(Crs::Wgs84));
        assert!(!d.warnings.is_empty());
        assert_eq!(detect_from_prj(ESRI_3857).crs, Some(Crs::WebMercator));
        assert_eq!(
            detect_from_prj(ESRI_32650).crs,
            Some(Crs::Utm {
                zone: 50,
                north: true
            })
        );
    }

    #[test]
    fn prj_parameters_as_fallback() {
        let renamed = ESRI_4527.replace("CGCS2000_3_Degree_GK_Zone_39", "My survey grid");
        let d = detect_from_prj(&renamed);
        assert_eq!(d.crs, Some(epsg(4527)), "{}", d.reason);
        assert!(d.reason.contains("parameters"), "{}", d.reason);
        let renamed = ESRI_21460.replace("Beijing_1954_Gauss_Kruger_CM_117E", "local");
        let d = detect_from_prj(&renamed);
        // The 6-degree and 3-degree "CM 117E" systems are the same projection; 3-degree is assumed.
        assert_eq!(d.crs, Some(epsg(2436)), "{}", d.reason);
        let renamed = ESRI_2363
            .replace("Xian_1980_3_Degree_GK_Zone_39", "x")
            .replace("GCS_Xian_1980", "g")
            .replace("D_Xian_1980", "d")
            .replace("\"Xian_1980\"", "\"IAG_1975\"");
        assert_eq!(detect_from_prj(&renamed).crs, Some(epsg(2363)));
        let renamed = ESRI_32650.replace("WGS_1984_UTM_Zone_50N", "utm");
        assert_eq!(
            detect_from_prj(&renamed).crs,
            Some(Crs::Utm {
                zone: 50,
                north: true
            })
        );
    }

    #[test]
    fn prj_garbage_is_unknown() {
        assert_eq!(detect_from_prj("").crs, None);
        assert_eq!(detect_from_prj("hello").crs, None);
        let d = detect_from_prj(
            r#"PROJCS["Lambert something",GEOGCS["GCS_Unknown"],PROJECTION["Lambert_Conformal_Conic"]]"#,
        );
        assert_eq!(d.crs, None);
        assert!(d.reason.contains("Lambert something"));
    }

    #[test]
    fn degrees_in_china_are_wgs84_with_gcj_bd_candidates() {
        let d = detect_from_samples(&[(117.87, 36.80), (117.9, 36.85), (f64::NAN, 1.0)]);
        assert_eq!(d.crs, Some(Crs::Wgs84));
        assert!(
            d.reason.contains("GCJ-02") && d.reason.contains("BD-09"),
            "{}",
            d.reason
        );
        assert_eq!(d.candidates, vec![Crs::Wgs84, Crs::Gcj02, Crs::Bd09]);
        assert!(!d.axis_swapped);
        assert!(!d.warnings.is_empty());
    }

    #[test]
    fn latitude_first_degrees_are_swapped() {
        let d = detect_from_samples(&[(36.80, 117.87), (36.85, 117.9)]);
        assert_eq!(d.crs, Some(Crs::Wgs84));
        assert!(d.axis_swapped);
    }

    #[test]
    fn degrees_elsewhere_are_plain_wgs84() {
        let d = detect_from_samples(&[(2.35, 48.85), (-74.0, 40.7)]);
        assert_eq!(d.crs, Some(Crs::Wgs84));
        assert_eq!(d.candidates, vec![Crs::Wgs84]);
    }

    #[test]
    fn prefixed_eastings_give_the_zone() {
        let d = detect_from_samples(&[(39_577_600.0, 4_073_500.0), (39_412_000.0, 4_100_000.0)]);
        assert_eq!(d.crs, Some(epsg(4527)), "{}", d.reason);
        assert!(d.reason.contains("zone 39"), "{}", d.reason);
        assert!(d.candidates.contains(&epsg(2363)) && d.candidates.contains(&epsg(2415)));
        let d = detect_from_samples(&[(20_577_600.0, 4_073_500.0)]);
        assert_eq!(d.crs, Some(epsg(4498)), "{}", d.reason);
        // Two zones at once is not one system.
        let d = detect_from_samples(&[(39_577_600.0, 4_073_500.0), (40_412_000.0, 4_100_000.0)]);
        assert_eq!(d.crs, None);
        // 24 is neither a 6-degree (13-23) nor a 3-degree (25-45) zone.
        assert_eq!(
            detect_from_samples(&[(24_500_000.0, 4_073_500.0)]).crs,
            None
        );
    }

    #[test]
    fn northing_first_is_detected_by_range() {
        let d = detect_from_samples(&[(4_073_500.0, 39_577_600.0), (4_100_000.0, 39_412_000.0)]);
        assert_eq!(d.crs, Some(epsg(4527)));
        assert!(d.axis_swapped);
        assert!(d.warnings.iter().any(|w| w.contains("swapped")));
        let d = detect_from_samples(&[(4_073_500.0, 577_600.0)]);
        assert!(d.axis_swapped);
        assert_eq!(d.crs, None);
    }

    #[test]
    fn central_meridian_form_asks_with_candidates() {
        let d = detect_from_samples(&[(577_600.0, 4_073_500.0), (412_000.0, 4_100_000.0)]);
        assert_eq!(d.crs, None);
        assert!(d.reason.contains("central meridian"), "{}", d.reason);
        assert!(d.candidates.contains(&epsg(4548)));
        assert!(d.candidates.contains(&Crs::Utm {
            zone: 50,
            north: true
        }));
        assert!(!d.axis_swapped);
    }

    #[test]
    fn web_mercator_ranges() {
        let (x, y) = Crs::WebMercator.from_wgs84(100.0, 30.0).unwrap();
        let d = detect_from_samples(&[(x, y)]);
        assert_eq!(d.crs, Some(Crs::WebMercator), "{}", d.reason);
        // Over eastern China (Zhoucun), Web Mercator x reads like a zone-13 prefix: ask.
        let (x, y) = Crs::WebMercator.from_wgs84(117.87, 36.80).unwrap();
        let d = detect_from_samples(&[(x, y)]);
        assert_eq!(d.crs, None, "{}", d.reason);
        assert_eq!(d.candidates[0], Crs::WebMercator);
        assert!(d.candidates.contains(&epsg(4491)));
        // Real zone-13 data (Kashgar, 75.99 E 39.47 N) reads like Web Mercator near Qingdao.
        let (x, y) = epsg(4491).from_wgs84(75.99, 39.47).unwrap();
        let d = detect_from_samples(&[(x, y)]);
        assert_eq!(d.crs, None);
        assert!(d.candidates.contains(&epsg(4491)) && d.candidates.contains(&Crs::WebMercator));
        // Zone 16 (Tibet, CM 93 E) is beyond Web Mercator's reach over China.
        let (x, y) = epsg(4494).from_wgs84(91.1, 29.65).unwrap();
        assert_eq!(detect_from_samples(&[(x, y)]).crs, Some(epsg(4494)));
    }

    #[test]
    fn nonsense_is_unknown() {
        assert_eq!(detect_from_samples(&[]).crs, None);
        assert_eq!(detect_from_samples(&[(f64::NAN, f64::NAN)]).crs, None);
        let d = detect_from_samples(&[(1e12, -5.0)]);
        assert_eq!(d.crs, None);
        assert!(d.reason.contains("1000000000000"), "{}", d.reason);
    }
}
