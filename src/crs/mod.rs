//! Coordinate reference systems a Chinese bureau's data comes in, and transforms to/from WGS84.
//!
//! Supported: geographic WGS84 (EPSG:4326; CGCS2000 EPSG:4490 is treated as the same, they
//! differ by far less than a metre), GCJ-02 and BD-09 ([`gcj02`]), Web Mercator (EPSG:3857),
//! UTM on WGS84 (EPSG:326xx/327xx) and Gauss-Krüger on CGCS2000, Xi'an 1980 and Beijing 1954
//! (all the EPSG codes China uses, see [`Crs::from_epsg`](crate::crs::Crs::from_epsg)).
//!
//! **Axis order.** The EPSG definitions of the Chinese Gauss-Krüger systems list northing
//! first, easting second. This API never does: every `x` is the easting (or longitude) and
//! every `y` the northing (or latitude). Callers that read files written in the EPSG order
//! swap before calling ([`detect`] tells them when the values look swapped).
//!
//! **Datums.** No datum shift is ever applied. For CGCS2000 and WGS84 that is correct to well
//! under a metre. Xi'an 1980 and Beijing 1954 geographic positions are used as if they were
//! WGS84 (no 7-parameter shift, none is published for free): the result may be off by tens of
//! metres, and [`Crs::datum_warning`](crate::crs::Crs::datum_warning) says so for the import dialog to show.

pub mod detect;
pub mod gcj02;
mod tmerc;

use std::fmt;

use geo::{Coord, Geometry, MapCoords};
use tmerc::{Ellipsoid, TransverseMercator};

/// Why a coordinate could not be transformed or a CRS not be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrsError {
    /// The EPSG code is not one OneMap supports.
    #[error("EPSG:{0} is not a supported coordinate system")]
    UnknownEpsg(u32),
    /// The text given as a CRS name is not understood.
    #[error("unrecognised coordinate system {0:?} (try EPSG:4527, wgs84, gcj02 or bd09)")]
    Unrecognized(String),
    /// A coordinate is outside the domain of its CRS (NaN, latitude beyond 90 degrees, ...).
    #[error("coordinate ({x}, {y}) is not valid in {crs}: {problem}")]
    OutOfDomain {
        /// First input value (easting or longitude).
        x: f64,
        /// Second input value (northing or latitude).
        y: f64,
        /// Name of the CRS the value was read in.
        crs: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The projection library refused the point or the definition.
    #[error("projection failed: {0}")]
    Projection(String),
}

/// Geodetic datum of a Gauss-Krüger system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GkDatum {
    /// China Geodetic Coordinate System 2000 (GRS80 ellipsoid; equal to WGS84 within a metre).
    Cgcs2000,
    /// Xi'an 1980 (IAG 1975 ellipsoid); its shift to WGS84 is not applied.
    Xian80,
    /// Beijing 1954 (Krasovsky ellipsoid); its shift to WGS84 is not applied.
    Beijing54,
}

impl GkDatum {
    /// The datum's name as EPSG spells it ("CGCS2000", "Xian 1980", "Beijing 1954").
    pub fn name(self) -> &'static str {
        match self {
            GkDatum::Cgcs2000 => "CGCS2000",
            GkDatum::Xian80 => "Xian 1980",
            GkDatum::Beijing54 => "Beijing 1954",
        }
    }

    fn ellipsoid(self) -> Ellipsoid {
        match self {
            GkDatum::Cgcs2000 => Ellipsoid::Grs80,
            GkDatum::Xian80 => Ellipsoid::Iau76,
            GkDatum::Beijing54 => Ellipsoid::Krasovsky,
        }
    }
}

/// A coordinate reference system. `x` is always easting/longitude, `y` northing/latitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crs {
    /// Geographic WGS84 degrees (EPSG:4326); CGCS2000 geographic (EPSG:4490) maps here too.
    Wgs84,
    /// GCJ-02 degrees (Amap/Gaode, Tencent, Ovital exports); no EPSG code.
    Gcj02,
    /// BD-09 degrees (Baidu); no EPSG code.
    Bd09,
    /// Web Mercator metres on the WGS84 sphere (EPSG:3857).
    WebMercator,
    /// UTM on WGS84 (EPSG:326zz north, 327zz south).
    Utm {
        /// Zone number 1-60.
        zone: u8,
        /// Northern hemisphere (false northing 0) or southern (10 000 000 m).
        north: bool,
    },
    /// Gauss-Krüger (Transverse Mercator, scale 1, false northing 0).
    GaussKruger {
        /// Geodetic datum (decides the ellipsoid).
        datum: GkDatum,
        /// 3 or 6: only needed to tell EPSG codes apart (a 6-degree "CM 117E" system is the
        /// same projection as the 3-degree one but has a different code).
        zone_width_deg: u8,
        /// Central meridian, degrees east.
        central_meridian_deg: f64,
        /// False easting in metres: 500 000, plus zone × 1 000 000 when the zone is prefixed.
        false_easting_m: f64,
        /// Zone number written in front of the easting (e.g. 39 in 39 512 345 m), if any.
        zone_prefix: Option<u32>,
    },
}

/// One run of consecutive EPSG codes for Gauss-Krüger systems.
struct GkGroup {
    datum: GkDatum,
    zone_width_deg: u8,
    prefixed: bool,
    first_code: u32,
    count: u32,
}

impl GkGroup {
    /// First zone number of the group: 13 for 6-degree zones (CM 75E), 25 for 3-degree.
    fn first_zone(&self) -> u32 {
        if self.zone_width_deg == 6 { 13 } else { 25 }
    }

    fn crs(&self, index: u32) -> Crs {
        let zone = self.first_zone() + index;
        let width = f64::from(self.zone_width_deg);
        Crs::GaussKruger {
            datum: self.datum,
            zone_width_deg: self.zone_width_deg,
            central_meridian_deg: 75.0 + width * f64::from(index),
            false_easting_m: if self.prefixed {
                f64::from(zone) * 1e6 + 500_000.0
            } else {
                500_000.0
            },
            zone_prefix: self.prefixed.then_some(zone),
        }
    }
}

const fn group(datum: GkDatum, zone_width_deg: u8, prefixed: bool, first_code: u32) -> GkGroup {
    let count = if zone_width_deg == 6 { 11 } else { 21 };
    GkGroup {
        datum,
        zone_width_deg,
        prefixed,
        first_code,
        count,
    }
}

/// Every Gauss-Krüger EPSG code China uses: 6-degree zones 13-23 and 3-degree zones 25-45
/// (central meridians 75-135 E), each with and without the zone prefix.
const GK_GROUPS: [GkGroup; 12] = [
    group(GkDatum::Cgcs2000, 6, true, 4491),
    group(GkDatum::Cgcs2000, 6, false, 4502),
    group(GkDatum::Cgcs2000, 3, true, 4513),
    group(GkDatum::Cgcs2000, 3, false, 4534),
    group(GkDatum::Xian80, 6, true, 2327),
    group(GkDatum::Xian80, 6, false, 2338),
    group(GkDatum::Xian80, 3, true, 2349),
    group(GkDatum::Xian80, 3, false, 2370),
    group(GkDatum::Beijing54, 6, true, 21413),
    group(GkDatum::Beijing54, 6, false, 21453),
    group(GkDatum::Beijing54, 3, true, 2401),
    group(GkDatum::Beijing54, 3, false, 2422),
];

/// Earth radius of the Web Mercator sphere (metres).
const WEB_MERCATOR_R: f64 = 6_378_137.0;
/// Largest |x| or |y| Web Mercator can hold for real points (half the equator), with slack.
const WEB_MERCATOR_MAX: f64 = std::f64::consts::PI * WEB_MERCATOR_R * 1.000_001;

impl Crs {
    /// The Gauss-Krüger system of a numbered zone with the zone prefix: 3-degree zones have
    /// central meridian 3 × zone, 6-degree zones 6 × zone − 3. `None` for other widths or for
    /// zone numbers with no central meridian between 0 and 180 E.
    pub fn gauss_kruger_zone(datum: GkDatum, zone_width_deg: u8, zone: u32) -> Option<Crs> {
        let central_meridian_deg = match zone_width_deg {
            3 if (1..=60).contains(&zone) => 3.0 * f64::from(zone),
            6 if (1..=30).contains(&zone) => 6.0 * f64::from(zone) - 3.0,
            _ => return None,
        };
        Some(Crs::GaussKruger {
            datum,
            zone_width_deg,
            central_meridian_deg,
            false_easting_m: f64::from(zone) * 1e6 + 500_000.0,
            zone_prefix: Some(zone),
        })
    }

    /// The Gauss-Krüger system named by its central meridian (false easting 500 000 m).
    pub fn gauss_kruger_cm(datum: GkDatum, zone_width_deg: u8, central_meridian_deg: f64) -> Crs {
        Crs::GaussKruger {
            datum,
            zone_width_deg,
            central_meridian_deg,
            false_easting_m: 500_000.0,
            zone_prefix: None,
        }
    }

    /// The CRS of an EPSG code: 4326 and 4490 (geographic), 3857, 32601-32660 and
    /// 32701-32760 (UTM), and Gauss-Krüger: CGCS2000 4491-4554, Xi'an 1980 2327-2390,
    /// Beijing 1954 2401-2442, 21413-21423 and 21453-21463.
    pub fn from_epsg(code: u32) -> Result<Crs, CrsError> {
        match code {
            4326 | 4490 => return Ok(Crs::Wgs84),
            3857 | 900_913 => return Ok(Crs::WebMercator),
            32601..=32660 => {
                return Ok(Crs::Utm {
                    zone: (code - 32600) as u8,
                    north: true,
                });
            }
            32701..=32760 => {
                return Ok(Crs::Utm {
                    zone: (code - 32700) as u8,
                    north: false,
                });
            }
            _ => {}
        }
        GK_GROUPS
            .iter()
            .find(|g| (g.first_code..g.first_code + g.count).contains(&code))
            .map(|g| g.crs(code - g.first_code))
            .ok_or(CrsError::UnknownEpsg(code))
    }

    /// The EPSG code, if the CRS has one (GCJ-02 and BD-09 have none, nor Gauss-Krüger
    /// systems outside the tables of [`Crs::from_epsg`]). Geographic is always 4326.
    pub fn epsg(&self) -> Option<u32> {
        match *self {
            Crs::Wgs84 => Some(4326),
            Crs::Gcj02 | Crs::Bd09 => None,
            Crs::WebMercator => Some(3857),
            Crs::Utm { zone, north } => (1..=60)
                .contains(&zone)
                .then(|| if north { 32600 } else { 32700 } + u32::from(zone)),
            Crs::GaussKruger {
                datum,
                zone_width_deg,
                zone_prefix,
                ..
            } => GK_GROUPS
                .iter()
                .filter(|g| {
                    g.datum == datum
                        && g.zone_width_deg == zone_width_deg
                        && g.prefixed == zone_prefix.is_some()
                })
                .flat_map(|g| (0..g.count).map(move |i| (g.first_code + i, g.crs(i))))
                .find(|(_, candidate)| candidate == self)
                .map(|(code, _)| code),
        }
    }

    /// A short text that [`Crs::parse`] reads back to this system ("EPSG:4527", "gcj02"),
    /// for settings files and the command line; `None` for systems with no such text.
    pub fn key(&self) -> Option<String> {
        match self {
            Crs::Gcj02 => Some("gcj02".to_owned()),
            Crs::Bd09 => Some("bd09".to_owned()),
            _ => self.epsg().map(|code| format!("EPSG:{code}")),
        }
    }

    /// Parses a CRS given by a user or a command line: "EPSG:4527" (or just "4527"),
    /// "wgs84", "cgcs2000", "gcj02", "bd09", "webmercator". "auto" is not a CRS: the caller
    /// handles it (by running [`detect`]) before calling this.
    pub fn parse(text: &str) -> Result<Crs, CrsError> {
        let lower = text.trim().to_ascii_lowercase();
        let compact: String = lower
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .collect();
        let code_text = compact.strip_prefix("epsg:").unwrap_or(&compact);
        if let Ok(code) = code_text.parse::<u32>() {
            return Crs::from_epsg(code);
        }
        match compact.as_str() {
            "wgs84" | "cgcs2000" | "4326" => Ok(Crs::Wgs84),
            "gcj02" | "gcj" | "mars" => Ok(Crs::Gcj02),
            "bd09" | "bd09ll" | "baidu" => Ok(Crs::Bd09),
            "webmercator" | "pseudomercator" => Ok(Crs::WebMercator),
            _ => Err(CrsError::Unrecognized(text.to_string())),
        }
    }

    /// Human-readable name, in EPSG's wording where there is one.
    pub fn name(&self) -> String {
        match *self {
            Crs::Wgs84 => "WGS 84 / CGCS2000 (degrees)".to_string(),
            Crs::Gcj02 => "GCJ-02 (Amap/Tencent degrees)".to_string(),
            Crs::Bd09 => "BD-09 (Baidu degrees)".to_string(),
            Crs::WebMercator => "WGS 84 / Pseudo-Mercator".to_string(),
            Crs::Utm { zone, north } => {
                format!("WGS 84 / UTM zone {zone}{}", if north { 'N' } else { 'S' })
            }
            Crs::GaussKruger {
                datum,
                zone_width_deg,
                central_meridian_deg,
                zone_prefix,
                ..
            } => {
                let width = if zone_width_deg == 3 { "3-degree " } else { "" };
                match zone_prefix {
                    Some(zone) => format!("{} / {width}Gauss-Kruger zone {zone}", datum.name()),
                    None => format!(
                        "{} / {width}Gauss-Kruger CM {central_meridian_deg}E",
                        datum.name()
                    ),
                }
            }
        }
    }

    /// True for the degree-valued systems (WGS84, GCJ-02, BD-09).
    pub fn is_geographic(&self) -> bool {
        matches!(self, Crs::Wgs84 | Crs::Gcj02 | Crs::Bd09)
    }

    /// A warning to show when the CRS is used: set for Xi'an 1980 and Beijing 1954, whose
    /// datum shift to WGS84 is not applied.
    pub fn datum_warning(&self) -> Option<String> {
        match self {
            Crs::GaussKruger {
                datum: datum @ (GkDatum::Xian80 | GkDatum::Beijing54),
                ..
            } => Some(format!(
                "{} coordinates are placed as if on WGS84: no 7-parameter datum shift is applied, \
                 so positions may be off by tens of metres",
                datum.name()
            )),
            _ => None,
        }
    }

    /// Transforms one point of this CRS to WGS84 (lon, lat) degrees. For many points build a
    /// [`CrsTransform`] once instead.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        CrsTransform::new(*self, Crs::Wgs84)?.apply(x, y)
    }

    /// Transforms one WGS84 (lon, lat) point into this CRS. For many points build a
    /// [`CrsTransform`] once instead.
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        CrsTransform::new(Crs::Wgs84, *self)?.apply(lon, lat)
    }

    fn transverse_mercator(&self) -> Result<Option<TransverseMercator>, CrsError> {
        match *self {
            Crs::Utm { zone, north } => {
                if !(1..=60).contains(&zone) {
                    return Err(CrsError::Unrecognized(format!("UTM zone {zone}")));
                }
                let central_meridian = 6.0 * f64::from(zone) - 183.0;
                let false_northing = if north { 0.0 } else { 10_000_000.0 };
                TransverseMercator::new(
                    Ellipsoid::Wgs84,
                    central_meridian,
                    0.9996,
                    500_000.0,
                    false_northing,
                )
                .map(Some)
            }
            Crs::GaussKruger {
                datum,
                central_meridian_deg,
                false_easting_m,
                ..
            } => TransverseMercator::new(
                datum.ellipsoid(),
                central_meridian_deg,
                1.0,
                false_easting_m,
                0.0,
            )
            .map(Some),
            _ => Ok(None),
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.epsg() {
            Some(code) => write!(f, "{} (EPSG:{code})", self.name()),
            None => f.write_str(&self.name()),
        }
    }
}

/// A prepared transform between two CRSs: build once, apply to many points. Goes through
/// WGS84 degrees; the identity when both ends are the same.
#[derive(Debug, Clone)]
pub struct CrsTransform {
    from: Crs,
    to: Crs,
    from_projection: Option<TransverseMercator>,
    to_projection: Option<TransverseMercator>,
}

impl CrsTransform {
    /// Prepares the transform from `from` to `to`.
    pub fn new(from: Crs, to: Crs) -> Result<Self, CrsError> {
        let same = from == to;
        Ok(Self {
            from,
            to,
            from_projection: if same {
                None
            } else {
                from.transverse_mercator()?
            },
            to_projection: if same {
                None
            } else {
                to.transverse_mercator()?
            },
        })
    }

    /// True when the transform leaves coordinates unchanged (it still rejects invalid ones).
    pub fn is_identity(&self) -> bool {
        self.from == self.to
    }

    /// Transforms one point (x = easting/longitude, y = northing/latitude).
    pub fn apply(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        if self.is_identity() {
            if self.from.is_geographic() {
                Self::check_degrees(self.from, x, y)?;
            } else if !x.is_finite() || !y.is_finite() {
                return Err(Self::out_of_domain(self.from, x, y, "not a number"));
            }
            return Ok((x, y));
        }
        // Direct, so that a GCJ-02 <-> BD-09 conversion is not blurred by the GCJ-02 inverse.
        match (self.from, self.to) {
            (Crs::Gcj02, Crs::Bd09) => {
                return Self::check_degrees(self.from, x, y).map(|()| gcj02::gcj02_to_bd09(x, y));
            }
            (Crs::Bd09, Crs::Gcj02) => {
                return Self::check_degrees(self.from, x, y).map(|()| gcj02::bd09_to_gcj02(x, y));
            }
            _ => {}
        }
        let (lon, lat) = self.leg_to_wgs84(x, y)?;
        self.leg_from_wgs84(lon, lat)
    }

    /// Transforms every coordinate of a geometry; fails on the first point that cannot be.
    pub fn transform_geometry(&self, geometry: &Geometry<f64>) -> Result<Geometry<f64>, CrsError> {
        geometry.try_map_coords(|c| self.apply(c.x, c.y).map(|(x, y)| Coord { x, y }))
    }

    fn out_of_domain(crs: Crs, x: f64, y: f64, problem: &'static str) -> CrsError {
        CrsError::OutOfDomain {
            x,
            y,
            crs: crs.name(),
            problem,
        }
    }

    fn check_degrees(crs: Crs, lon: f64, lat: f64) -> Result<(), CrsError> {
        if !lon.is_finite() || !lat.is_finite() {
            Err(Self::out_of_domain(crs, lon, lat, "not a number"))
        } else if !(-90.0..=90.0).contains(&lat) {
            Err(Self::out_of_domain(
                crs,
                lon,
                lat,
                "latitude beyond ±90 degrees (metres read as degrees?)",
            ))
        } else if !(-180.0..=180.0).contains(&lon) {
            Err(Self::out_of_domain(
                crs,
                lon,
                lat,
                "longitude beyond ±180 degrees (metres read as degrees?)",
            ))
        } else {
            Ok(())
        }
    }

    fn leg_to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let crs = self.from;
        match crs {
            Crs::Wgs84 => Self::check_degrees(crs, x, y).map(|()| (x, y)),
            Crs::Gcj02 => Self::check_degrees(crs, x, y).map(|()| gcj02::gcj02_to_wgs84(x, y)),
            Crs::Bd09 => Self::check_degrees(crs, x, y).map(|()| gcj02::bd09_to_wgs84(x, y)),
            Crs::WebMercator => {
                if !x.is_finite() || !y.is_finite() {
                    return Err(Self::out_of_domain(crs, x, y, "not a number"));
                }
                if x.abs() > WEB_MERCATOR_MAX {
                    return Err(Self::out_of_domain(
                        crs,
                        x,
                        y,
                        "easting beyond half the equator",
                    ));
                }
                let lon = (x / WEB_MERCATOR_R).to_degrees();
                let lat = (2.0 * (y / WEB_MERCATOR_R).exp().atan() - std::f64::consts::FRAC_PI_2)
                    .to_degrees();
                Ok((lon, lat))
            }
            Crs::Utm { .. } | Crs::GaussKruger { .. } => {
                if !x.is_finite() || !y.is_finite() {
                    return Err(Self::out_of_domain(crs, x, y, "not a number"));
                }
                match &self.from_projection {
                    Some(projection) => projection.inverse(x, y),
                    None => Err(CrsError::Projection(format!(
                        "{} was not prepared",
                        crs.name()
                    ))),
                }
            }
        }
    }

    fn leg_from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        let crs = self.to;
        Self::check_degrees(Crs::Wgs84, lon, lat)?;
        match crs {
            Crs::Wgs84 => Ok((lon, lat)),
            Crs::Gcj02 => Ok(gcj02::wgs84_to_gcj02(lon, lat)),
            Crs::Bd09 => Ok(gcj02::wgs84_to_bd09(lon, lat)),
            Crs::WebMercator => {
                if lat.abs() >= 90.0 {
                    return Err(Self::out_of_domain(
                        Crs::Wgs84,
                        lon,
                        lat,
                        "a pole has no Web Mercator position",
                    ));
                }
                let x = WEB_MERCATOR_R * lon.to_radians();
                let y = WEB_MERCATOR_R
                    * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                        .tan()
                        .ln();
                Ok((x, y))
            }
            Crs::Utm { .. } | Crs::GaussKruger { .. } => match &self.to_projection {
                Some(projection) => projection.forward(lon, lat),
                None => Err(CrsError::Projection(format!(
                    "{} was not prepared",
                    crs.name()
                ))),
            },
        }
    }
}

/// Transforms every coordinate of `geometry` from `from` to `to` (x = easting/longitude).
pub fn transform_geometry(
    geometry: &Geometry<f64>,
    from: Crs,
    to: Crs,
) -> Result<Geometry<f64>, CrsError> {
    CrsTransform::new(from, to)?.transform_geometry(geometry)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo::{LineString, Point, Polygon};

    #[test]
    fn keys_parse_back_to_the_same_system() {
        for code in [4326, 3857, 32650, 4527, 4549, 4491, 2383, 2435] {
            let crs = Crs::from_epsg(code).unwrap();
            let key = crs.key().unwrap();
            assert_eq!(Crs::parse(&key).unwrap(), crs, "{key}");
        }
        for crs in [Crs::Gcj02, Crs::Bd09] {
            assert_eq!(Crs::parse(&crs.key().unwrap()).unwrap(), crs);
        }
    }

    #[test]
    fn every_gk_epsg_code_round_trips() {
        let mut count = 0;
        for g in &GK_GROUPS {
            for code in g.first_code..g.first_code + g.count {
                let crs = Crs::from_epsg(code).unwrap();
                assert_eq!(crs.epsg(), Some(code), "{crs:?}");
                count += 1;
            }
        }
        assert_eq!(count, 192);
    }

    #[test]
    fn known_codes_have_the_documented_parameters() {
        let expect = |code, datum, width, cm, fe, prefix| {
            assert_eq!(
                Crs::from_epsg(code).unwrap(),
                Crs::GaussKruger {
                    datum,
                    zone_width_deg: width,
                    central_meridian_deg: cm,
                    false_easting_m: fe,
                    zone_prefix: prefix
                },
                "EPSG:{code}"
            );
        };
        expect(4527, GkDatum::Cgcs2000, 3, 117.0, 39_500_000.0, Some(39));
        expect(4548, GkDatum::Cgcs2000, 3, 117.0, 500_000.0, None);
        expect(4498, GkDatum::Cgcs2000, 6, 117.0, 20_500_000.0, Some(20));
        expect(4509, GkDatum::Cgcs2000, 6, 117.0, 500_000.0, None);
        expect(2363, GkDatum::Xian80, 3, 117.0, 39_500_000.0, Some(39));
        expect(2384, GkDatum::Xian80, 3, 117.0, 500_000.0, None);
        expect(2415, GkDatum::Beijing54, 3, 117.0, 39_500_000.0, Some(39));
        expect(21420, GkDatum::Beijing54, 6, 117.0, 20_500_000.0, Some(20));
        expect(21460, GkDatum::Beijing54, 6, 117.0, 500_000.0, None);
        assert_eq!(
            Crs::gauss_kruger_zone(GkDatum::Cgcs2000, 3, 39),
            Crs::from_epsg(4527).ok()
        );
        assert_eq!(
            Crs::gauss_kruger_zone(GkDatum::Cgcs2000, 6, 20),
            Crs::from_epsg(4498).ok()
        );
        assert_eq!(
            Crs::gauss_kruger_cm(GkDatum::Cgcs2000, 3, 117.0),
            Crs::from_epsg(4548).unwrap()
        );
        assert_eq!(Crs::from_epsg(2400), Err(CrsError::UnknownEpsg(2400)));
        assert_eq!(Crs::from_epsg(4555), Err(CrsError::UnknownEpsg(4555)));
    }

    #[test]
    fn other_codes_and_names() {
        assert_eq!(Crs::from_epsg(4490).unwrap(), Crs::Wgs84);
        assert_eq!(
            Crs::from_epsg(32650).unwrap(),
            Crs::Utm {
                zone: 50,
                north: true
            }
        );
        assert_eq!(
            Crs::Utm {
                zone: 50,
                north: false
            }
            .epsg(),
            Some(32750)
        );
        assert_eq!(Crs::Gcj02.epsg(), None);
        assert_eq!(
            Crs::from_epsg(4527).unwrap().name(),
            "CGCS2000 / 3-degree Gauss-Kruger zone 39"
        );
        assert_eq!(
            Crs::from_epsg(21460).unwrap().name(),
            "Beijing 1954 / Gauss-Kruger CM 117E"
        );
        assert!(Crs::from_epsg(2363).unwrap().datum_warning().is_some());
        assert!(Crs::from_epsg(4527).unwrap().datum_warning().is_none());
    }

    #[test]
    fn parse_accepts_the_cli_forms() {
        assert_eq!(
            Crs::parse("EPSG:4527").unwrap(),
            Crs::from_epsg(4527).unwrap()
        );
        assert_eq!(
            Crs::parse(" epsg:4548 ").unwrap(),
            Crs::from_epsg(4548).unwrap()
        );
        assert_eq!(Crs::parse("4326").unwrap(), Crs::Wgs84);
        assert_eq!(Crs::parse("WGS84").unwrap(), Crs::Wgs84);
        assert_eq!(Crs::parse("wgs-84").unwrap(), Crs::Wgs84);
        assert_eq!(Crs::parse("gcj02").unwrap(), Crs::Gcj02);
        assert_eq!(Crs::parse("GCJ-02").unwrap(), Crs::Gcj02);
        assert_eq!(Crs::parse("bd09").unwrap(), Crs::Bd09);
        assert!(matches!(Crs::parse("auto"), Err(CrsError::Unrecognized(_))));
        assert_eq!(Crs::parse("EPSG:9999"), Err(CrsError::UnknownEpsg(9999)));
    }

    #[test]
    fn gk_zone_39_at_zhoucun() {
        let crs = Crs::from_epsg(4527).unwrap();
        let (e, n) = crs.from_wgs84(117.87, 36.80).unwrap();
        assert!((e - 39_577_600.0).abs() < 1_000.0, "{e}");
        assert!((n - 4_073_500.0).abs() < 2_000.0, "{n}");
        let (lon, lat) = crs.to_wgs84(e, n).unwrap();
        assert!((lon - 117.87).abs() < 1e-10 && (lat - 36.80).abs() < 1e-10);
        // The central-meridian form is the same projection minus the 39 million.
        let (e2, n2) = Crs::from_epsg(4548)
            .unwrap()
            .from_wgs84(117.87, 36.80)
            .unwrap();
        assert!((e - e2 - 39_000_000.0).abs() < 1e-6 && (n - n2).abs() < 1e-6);
    }

    #[test]
    fn gcj_and_bd_through_the_enum() {
        let (lon, lat) = Crs::Gcj02.from_wgs84(117.87, 36.80).unwrap();
        assert!((lon - 117.875785392944).abs() < 1e-9);
        let t = CrsTransform::new(Crs::Gcj02, Crs::Bd09).unwrap();
        let (b_lon, b_lat) = t.apply(lon, lat).unwrap();
        assert_eq!((b_lon, b_lat), gcj02::gcj02_to_bd09(lon, lat));
        let (w_lon, w_lat) = Crs::Bd09.to_wgs84(b_lon, b_lat).unwrap();
        assert!((w_lon - 117.87).abs() < 1e-8 && (w_lat - 36.80).abs() < 1e-8);
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        assert!(Crs::Wgs84.to_wgs84(39_500_000.0, 4_000_000.0).is_err());
        assert!(Crs::Gcj02.to_wgs84(f64::NAN, 30.0).is_err());
        assert!(Crs::WebMercator.from_wgs84(0.0, 90.0).is_err());
        assert!(Crs::WebMercator.to_wgs84(1e9, 0.0).is_err());
        let gk = Crs::from_epsg(4527).unwrap();
        assert!(gk.to_wgs84(f64::INFINITY, 0.0).is_err());
        assert!(gk.from_wgs84(117.0, 91.0).is_err());
    }

    #[test]
    fn transform_geometry_moves_every_vertex() {
        let gk = Crs::from_epsg(4548).unwrap();
        let ring = LineString::from(vec![
            (117.8, 36.7),
            (117.9, 36.7),
            (117.9, 36.9),
            (117.8, 36.7),
        ]);
        let polygon = Geometry::Polygon(Polygon::new(ring.clone(), vec![]));
        let projected = transform_geometry(&polygon, Crs::Wgs84, gk).unwrap();
        let Geometry::Polygon(p) = &projected else {
            panic!("kind changed")
        };
        for (a, b) in p.exterior().coords().zip(ring.coords()) {
            assert_eq!((a.x, a.y), gk.from_wgs84(b.x, b.y).unwrap());
        }
        let back = transform_geometry(&projected, gk, Crs::Wgs84).unwrap();
        let Geometry::Polygon(q) = back else {
            panic!("kind changed")
        };
        for (a, b) in q.exterior().coords().zip(ring.coords()) {
            assert!((a.x - b.x).abs() < 1e-9 && (a.y - b.y).abs() < 1e-9);
        }
        let point = Geometry::Point(Point::new(f64::NAN, 1.0));
        assert!(transform_geometry(&point, Crs::Wgs84, gk).is_err());
        assert!(CrsTransform::new(gk, gk).unwrap().is_identity());
    }
}
