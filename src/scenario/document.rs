//! The editable scenario document: the incidents a commander placed and the evacuation zones
//! a planner drew, with the checks every stored value must pass. Edits go through
//! [`super::edit::History`]; the project file stores the document as it is.

use geo::{Destination, Geodesic, LineString, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::model::IncidentKind;

/// A position in degrees, WGS84. Stored in files as `[lon, lat]`, as GeoJSON does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "[f64; 2]", into = "[f64; 2]")]
pub struct LonLat {
    pub lon: f64,
    pub lat: f64,
}

impl LonLat {
    /// A position from longitude and latitude in degrees.
    pub fn new(lon: f64, lat: f64) -> LonLat {
        LonLat { lon, lat }
    }

    /// Whether both values are finite and within [-180, 180] x [-90, 90].
    pub fn is_valid(self) -> bool {
        self.lon.is_finite()
            && self.lat.is_finite()
            && (-180.0..=180.0).contains(&self.lon)
            && (-90.0..=90.0).contains(&self.lat)
    }

    /// Checks [`LonLat::is_valid`], naming the value when it fails.
    pub fn check(self) -> Result<(), DocumentError> {
        if self.is_valid() {
            Ok(())
        } else {
            Err(DocumentError::BadCoordinate {
                lon: self.lon,
                lat: self.lat,
            })
        }
    }

    /// The same position as a geo point (x = lon, y = lat).
    pub fn point(self) -> Point<f64> {
        Point::new(self.lon, self.lat)
    }
}

impl From<[f64; 2]> for LonLat {
    fn from([lon, lat]: [f64; 2]) -> LonLat {
        LonLat { lon, lat }
    }
}

impl From<LonLat> for [f64; 2] {
    fn from(p: LonLat) -> [f64; 2] {
        [p.lon, p.lat]
    }
}

/// A stable handle to an incident within its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub u64);

/// A stable handle to an evacuation zone within its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ZoneId(pub u64);

/// Everything about an incident except its id and position: what an edit dialog changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentFields {
    pub kind: IncidentKind,
    /// When it happened, ISO 8601 (`2026-11-28T14:05:00+08:00`), as the caller supplied it:
    /// the core reads no clock.
    pub time: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub closed: bool,
    /// The "what is around" radius in metres when the commander changed it; `None` uses
    /// [`IncidentKind::default_radius_m`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
}

/// An incident on the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub position: LonLat,
    #[serde(flatten)]
    pub fields: IncidentFields,
}

impl Incident {
    /// The search radius in effect: the override, else the kind's default.
    pub fn radius_m(&self) -> f64 {
        self.fields
            .radius_m
            .unwrap_or_else(|| self.fields.kind.default_radius_m())
    }

    /// Checks position, time and radius override.
    pub fn validate(&self) -> Result<(), DocumentError> {
        self.position.check()?;
        self.fields.validate()
    }
}

impl IncidentFields {
    /// Checks the time is ISO 8601 and the radius override, if any, is usable.
    pub fn validate(&self) -> Result<(), DocumentError> {
        if !is_iso8601(&self.time) {
            return Err(DocumentError::BadTime(self.time.clone()));
        }
        if let Some(r) = self.radius_m {
            check_radius(r)?;
        }
        Ok(())
    }
}

/// Where an evacuation stands. Colours follow the order of urgency a commander reads at a
/// glance: planned is a calm blue, ordered amber, in progress red, cleared a muted green.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ZoneStatus {
    #[default]
    Planned,
    Ordered,
    InProgress,
    Cleared,
}

impl ZoneStatus {
    /// Every status, in the order an evacuation goes through them.
    pub const ALL: [ZoneStatus; 4] = [
        ZoneStatus::Planned,
        ZoneStatus::Ordered,
        ZoneStatus::InProgress,
        ZoneStatus::Cleared,
    ];

    /// The key used in files.
    pub fn key(self) -> &'static str {
        match self {
            ZoneStatus::Planned => "planned",
            ZoneStatus::Ordered => "ordered",
            ZoneStatus::InProgress => "in_progress",
            ZoneStatus::Cleared => "cleared",
        }
    }

    /// The name shown to users.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            ZoneStatus::Planned => lang.pick("计划", "Planned"),
            ZoneStatus::Ordered => lang.pick("已下令", "Ordered"),
            ZoneStatus::InProgress => lang.pick("撤离中", "In progress"),
            ZoneStatus::Cleared => lang.pick("已撤空", "Cleared"),
        }
    }

    /// The zone's outline colour, RGBA (fills use it with lower opacity).
    pub fn color(self) -> [u8; 4] {
        match self {
            ZoneStatus::Planned => [41, 121, 255, 255],
            ZoneStatus::Ordered => [255, 160, 0, 255],
            ZoneStatus::InProgress => [220, 40, 40, 255],
            ZoneStatus::Cleared => [67, 160, 71, 255],
        }
    }
}

/// The outline of a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ZoneShape {
    /// A drawn polygon: one ring without holes, not closed (the last vertex is not a copy
    /// of the first).
    Polygon { ring: Vec<LonLat> },
    /// A circle on the ellipsoid.
    Circle { centre: LonLat, radius_m: f64 },
    /// A buffer around a feature or line, kept as the ring it produced so it can be edited
    /// like a polygon; `source` says what it was drawn around (for the report).
    Buffer { source: String, ring: Vec<LonLat> },
}

/// Largest circle radius accepted, metres: well beyond a district, short of nonsense.
pub const MAX_RADIUS_M: f64 = 1_000_000.0;

/// The chord of a circle's polygon strays at most this far inside the true circle, metres.
const CIRCLE_TOLERANCE_M: f64 = 0.5;

impl ZoneShape {
    /// A polygon shape from a ring, dropping a closing vertex that repeats the first.
    pub fn polygon(ring: Vec<LonLat>) -> ZoneShape {
        ZoneShape::Polygon {
            ring: open_ring(ring),
        }
    }

    /// A buffer shape from its source description and ring (closing vertex dropped).
    pub fn buffer(source: impl Into<String>, ring: Vec<LonLat>) -> ZoneShape {
        ZoneShape::Buffer {
            source: source.into(),
            ring: open_ring(ring),
        }
    }

    /// The editable vertices, for polygons and buffers; `None` for a circle.
    pub fn ring(&self) -> Option<&[LonLat]> {
        match self {
            ZoneShape::Polygon { ring } | ZoneShape::Buffer { ring, .. } => Some(ring),
            ZoneShape::Circle { .. } => None,
        }
    }

    /// The editable vertices, mutable.
    pub fn ring_mut(&mut self) -> Option<&mut Vec<LonLat>> {
        match self {
            ZoneShape::Polygon { ring } | ZoneShape::Buffer { ring, .. } => Some(ring),
            ZoneShape::Circle { .. } => None,
        }
    }

    /// Checks coordinates, vertex count and radius.
    pub fn validate(&self) -> Result<(), DocumentError> {
        match self {
            ZoneShape::Polygon { ring } | ZoneShape::Buffer { ring, .. } => {
                for p in ring {
                    p.check()?;
                }
                let distinct = distinct_vertices(ring);
                if distinct < 3 {
                    return Err(DocumentError::TooFewVertices { distinct });
                }
                Ok(())
            }
            ZoneShape::Circle { centre, radius_m } => {
                centre.check()?;
                check_radius(*radius_m)
            }
        }
    }

    /// The shape as lon/lat polygons: a ring becomes one closed polygon, a circle a geodesic
    /// polygon whose vertices lie on the circle and whose chords stray under half a metre.
    pub fn to_multi_polygon(&self) -> MultiPolygon<f64> {
        match self {
            ZoneShape::Polygon { ring } | ZoneShape::Buffer { ring, .. } => {
                let coords: Vec<geo::Coord<f64>> = ring
                    .iter()
                    .map(|p| geo::Coord { x: p.lon, y: p.lat })
                    .collect();
                // LineString → Polygon closes the ring.
                MultiPolygon::new(vec![Polygon::new(LineString::new(coords), vec![])])
            }
            ZoneShape::Circle { centre, radius_m } => {
                let n = circle_vertex_count(*radius_m);
                let coords: Vec<geo::Coord<f64>> = (0..n)
                    .map(|i| {
                        let bearing = 360.0 * i as f64 / n as f64;
                        Geodesic.destination(centre.point(), bearing, *radius_m).0
                    })
                    .collect();
                MultiPolygon::new(vec![Polygon::new(LineString::new(coords), vec![])])
            }
        }
    }
}

/// Vertices on a circle's polygon so that each chord's sagitta, r·(1 − cos(π/n)), stays
/// under the tolerance; at least 32 so small circles still look round, at most 1440.
pub fn circle_vertex_count(radius_m: f64) -> usize {
    if !(radius_m.is_finite() && radius_m > CIRCLE_TOLERANCE_M) {
        return 32;
    }
    let half_angle = (1.0 - CIRCLE_TOLERANCE_M / radius_m).acos();
    let n = (std::f64::consts::PI / half_angle).ceil();
    (n as usize).clamp(32, 1440)
}

/// An evacuation zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub id: ZoneId,
    pub name: String,
    #[serde(default)]
    pub status: ZoneStatus,
    pub shape: ZoneShape,
}

impl Zone {
    /// Checks name and shape.
    pub fn validate(&self) -> Result<(), DocumentError> {
        check_name(&self.name)?;
        self.shape.validate()
    }

    /// The zone as lon/lat polygons (see [`ZoneShape::to_multi_polygon`]).
    pub fn to_multi_polygon(&self) -> MultiPolygon<f64> {
        self.shape.to_multi_polygon()
    }
}

/// The incidents and zones of a project, in the order they were added.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScenarioDocument {
    #[serde(default)]
    pub incidents: Vec<Incident>,
    #[serde(default)]
    pub zones: Vec<Zone>,
}

impl ScenarioDocument {
    /// An empty document.
    pub fn new() -> ScenarioDocument {
        ScenarioDocument::default()
    }

    /// The incident with this id.
    pub fn incident(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.iter().find(|i| i.id == id)
    }

    /// The zone with this id.
    pub fn zone(&self, id: ZoneId) -> Option<&Zone> {
        self.zones.iter().find(|z| z.id == id)
    }

    /// Where the incident sits in [`ScenarioDocument::incidents`].
    pub fn incident_index(&self, id: IncidentId) -> Option<usize> {
        self.incidents.iter().position(|i| i.id == id)
    }

    /// Where the zone sits in [`ScenarioDocument::zones`].
    pub fn zone_index(&self, id: ZoneId) -> Option<usize> {
        self.zones.iter().position(|z| z.id == id)
    }

    /// An id no incident has: one past the largest. Safe with a linear undo history, since
    /// anything that used a freed id is undone before the id can come back. (When a file
    /// holds id `u64::MAX` this returns it again, and adding with it is refused.)
    pub fn unused_incident_id(&self) -> IncidentId {
        IncidentId(
            self.incidents
                .iter()
                .map(|i| i.id.0.saturating_add(1))
                .max()
                .unwrap_or(1),
        )
    }

    /// An id no zone has (see [`ScenarioDocument::unused_incident_id`]).
    pub fn unused_zone_id(&self) -> ZoneId {
        ZoneId(
            self.zones
                .iter()
                .map(|z| z.id.0.saturating_add(1))
                .max()
                .unwrap_or(1),
        )
    }

    /// Checks every incident and zone, and that ids are unique. Errors say which item failed.
    pub fn validate(&self) -> Result<(), DocumentError> {
        let mut incident_ids = std::collections::HashSet::new();
        for (i, incident) in self.incidents.iter().enumerate() {
            if !incident_ids.insert(incident.id) {
                return Err(DocumentError::DuplicateIncident(incident.id));
            }
            incident.validate().map_err(|e| DocumentError::InIncident {
                index: i,
                id: incident.id,
                problem: Box::new(e),
            })?;
        }
        let mut zone_ids = std::collections::HashSet::new();
        for (i, zone) in self.zones.iter().enumerate() {
            if !zone_ids.insert(zone.id) {
                return Err(DocumentError::DuplicateZone(zone.id));
            }
            zone.validate().map_err(|e| DocumentError::InZone {
                index: i,
                id: zone.id,
                problem: Box::new(e),
            })?;
        }
        Ok(())
    }
}

/// Why a document, an incident, a zone or an edit is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    #[error("coordinate ({lon}, {lat}) is not a finite lon/lat within ±180/±90")]
    BadCoordinate { lon: f64, lat: f64 },
    #[error("a zone outline needs at least 3 distinct vertices, this one has {distinct}")]
    TooFewVertices { distinct: usize },
    #[error("radius {0} m is not between 0 and {MAX_RADIUS_M} m")]
    BadRadius(f64),
    #[error("time {0:?} is not ISO 8601 (like 2026-11-28T14:05:00+08:00)")]
    BadTime(String),
    #[error("a zone needs a name")]
    EmptyName,
    #[error("no incident with id {}", .0.0)]
    UnknownIncident(IncidentId),
    #[error("no zone with id {}", .0.0)]
    UnknownZone(ZoneId),
    #[error("incident id {} is used twice", .0.0)]
    DuplicateIncident(IncidentId),
    #[error("zone id {} is used twice", .0.0)]
    DuplicateZone(ZoneId),
    #[error("zone {} has no vertex {index} (it has {len})", zone.0)]
    NoSuchVertex {
        zone: ZoneId,
        index: usize,
        len: usize,
    },
    #[error("zone {} is a circle: it has no vertices to edit", .0.0)]
    NotEditableRing(ZoneId),
    #[error("zone {} is not a circle", .0.0)]
    NotACircle(ZoneId),
    #[error("incident {} (number {}): {problem}", id.0, index + 1)]
    InIncident {
        index: usize,
        id: IncidentId,
        problem: Box<DocumentError>,
    },
    #[error("zone {} (number {}): {problem}", id.0, index + 1)]
    InZone {
        index: usize,
        id: ZoneId,
        problem: Box<DocumentError>,
    },
}

/// Checks a radius is finite, positive and not absurd.
pub fn check_radius(radius_m: f64) -> Result<(), DocumentError> {
    if radius_m.is_finite() && radius_m > 0.0 && radius_m <= MAX_RADIUS_M {
        Ok(())
    } else {
        Err(DocumentError::BadRadius(radius_m))
    }
}

/// Checks a zone name is not blank.
pub fn check_name(name: &str) -> Result<(), DocumentError> {
    if name.trim().is_empty() {
        Err(DocumentError::EmptyName)
    } else {
        Ok(())
    }
}

/// How many different positions a ring has (exact comparison: a vertex dragged onto another
/// makes them one).
pub fn distinct_vertices(ring: &[LonLat]) -> usize {
    let mut keys: Vec<(u64, u64)> = ring
        .iter()
        // Adding 0.0 folds -0.0 into 0.0, which are the same position.
        .map(|p| ((p.lon + 0.0).to_bits(), (p.lat + 0.0).to_bits()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len()
}

fn open_ring(mut ring: Vec<LonLat>) -> Vec<LonLat> {
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    ring
}

/// Whether `text` is an ISO 8601 date (`2026-11-28`) or date-time
/// (`2026-11-28T14:05`, seconds and fraction optional, `T` or a space, then optionally `Z` or
/// an offset `+08:00` / `+0800` / `+08`), with field values in range.
pub fn is_iso8601(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || year == 0 {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day == 0 || day > month_days[month as usize - 1] {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return false;
    }
    let (Some(hour), Some(minute)) = (digits(11..13), digits(14..16)) else {
        return false;
    };
    if b.get(13) != Some(&b':') || hour > 23 || minute > 59 {
        return false;
    }
    let mut at = 16;
    if b.get(at) == Some(&b':') {
        match digits(at + 1..at + 3) {
            // 60 allows a leap second.
            Some(second) if second <= 60 => at += 3,
            _ => return false,
        }
        if matches!(b.get(at), Some(b'.' | b',')) {
            let start = at + 1;
            at = start;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return false;
            }
        }
    }
    match b.get(at) {
        None => true,
        Some(b'Z' | b'z') => at + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = &b[at + 1..];
            let offset_ok = |h: u32, m: u32| h <= 23 && m <= 59;
            match rest.len() {
                2 => digits(at + 1..at + 3).is_some_and(|h| offset_ok(h, 0)),
                4 => digits(at + 1..at + 3)
                    .zip(digits(at + 3..at + 5))
                    .is_some_and(|(h, m)| offset_ok(h, m)),
                5 => {
                    rest[2] == b':'
                        && digits(at + 1..at + 3)
                            .zip(digits(at + 4..at + 6))
                            .is_some_and(|(h, m)| offset_ok(h, m))
                }
                _ => false,
            }
        }
        Some(_) => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo::{Distance, Geodesic};

    fn square() -> Vec<LonLat> {
        vec![
            LonLat::new(117.0, 36.0),
            LonLat::new(117.01, 36.0),
            LonLat::new(117.01, 36.01),
            LonLat::new(117.0, 36.01),
        ]
    }

    #[test]
    fn iso8601_accepts_dates_and_times_and_rejects_the_rest() {
        for good in [
            "2026-11-28",
            "2026-11-28T14:05",
            "2026-11-28T14:05:09",
            "2026-11-28 14:05:09.123",
            "2026-11-28T14:05:09Z",
            "2026-11-28T14:05:09+08:00",
            "2026-11-28T14:05-0530",
            "2024-02-29T00:00+08",
        ] {
            assert!(is_iso8601(good), "{good}");
        }
        for bad in [
            "",
            "2026-11-28T",
            "2026/11/28",
            "2026-13-01",
            "2025-02-29",
            "2026-11-31",
            "2026-11-28T24:00",
            "2026-11-28T14:60",
            "2026-11-28T14:05:09.",
            "2026-11-28T14:05:09+8",
            "2026-11-28T14:05:09+08:0",
            "2026-11-28T14:05:09Zx",
            "yesterday",
            "２０２６-11-28",
        ] {
            assert!(!is_iso8601(bad), "{bad}");
        }
    }

    #[test]
    fn polygon_needs_three_distinct_valid_vertices() {
        assert!(ZoneShape::polygon(square()).validate().is_ok());
        let mut ring = square();
        ring[2] = ring[1];
        ring[3] = ring[0];
        assert_eq!(
            ZoneShape::polygon(ring).validate(),
            Err(DocumentError::TooFewVertices { distinct: 2 })
        );
        let mut ring = square();
        ring[1].lat = f64::NAN;
        assert!(matches!(
            ZoneShape::polygon(ring).validate(),
            Err(DocumentError::BadCoordinate { .. })
        ));
        let mut ring = square();
        ring[1].lat = 90.5;
        assert!(ZoneShape::polygon(ring).validate().is_err());
    }

    #[test]
    fn a_closed_ring_is_stored_open() {
        let mut ring = square();
        ring.push(ring[0]);
        let shape = ZoneShape::polygon(ring);
        assert_eq!(shape.ring().unwrap().len(), 4);
        let mp = shape.to_multi_polygon();
        assert_eq!(mp.0[0].exterior().0.len(), 5, "geo polygons are closed");
    }

    #[test]
    fn circle_polygon_lies_on_the_geodesic_circle_with_small_chords() {
        for radius in [50.0, 1000.0, 25_000.0] {
            let centre = LonLat::new(117.5, 36.6);
            let shape = ZoneShape::Circle {
                centre,
                radius_m: radius,
            };
            assert!(shape.validate().is_ok());
            let mp = shape.to_multi_polygon();
            let ring = &mp.0[0].exterior().0;
            let n = circle_vertex_count(radius);
            assert_eq!(ring.len(), n + 1);
            for w in ring.windows(2) {
                let d = Geodesic.distance(centre.point(), Point::from(w[0]));
                assert!(
                    (d - radius).abs() < 1e-6 * radius.max(1.0),
                    "{d} vs {radius}"
                );
                // Midpoint of the chord: sagitta within tolerance (plus planar slack).
                let mid = Point::new((w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0);
                let inside = radius - Geodesic.distance(centre.point(), mid);
                assert!(inside < CIRCLE_TOLERANCE_M * 1.5 + 1e-6, "{inside}");
            }
        }
        assert!(
            ZoneShape::Circle {
                centre: LonLat::new(0.0, 0.0),
                radius_m: 0.0
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn status_keys_match_serde() {
        for status in ZoneStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.key()));
            assert_ne!(status.label(Lang::Zh), status.label(Lang::En));
        }
        let colors: std::collections::HashSet<[u8; 4]> =
            ZoneStatus::ALL.iter().map(|s| s.color()).collect();
        assert_eq!(colors.len(), 4, "each status has its own colour");
    }

    #[test]
    fn document_validation_names_the_item() {
        let mut doc = ScenarioDocument::new();
        doc.zones.push(Zone {
            id: ZoneId(7),
            name: "A".into(),
            status: ZoneStatus::Planned,
            shape: ZoneShape::polygon(square()[..2].to_vec()),
        });
        let err = doc.validate().unwrap_err();
        assert!(err.to_string().contains("zone 7"), "{err}");
        assert_eq!(doc.unused_zone_id(), ZoneId(8));
        assert_eq!(doc.unused_incident_id(), IncidentId(1));
    }
}
