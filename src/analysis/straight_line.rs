//! The straight-line estimate of response areas, for when no road network is loaded:
//! circles of radius (speed ÷ detour factor) × (band − turnout) around each station. It
//! overstates reach across rivers, railways and expressways, so every output says it is an
//! estimate ([`METHOD`], [`WARNING`]); road-network areas are the real answer.

use geo::{BooleanOps, Coord, LineString, MapCoords, MultiPolygon, Polygon};

use crate::analysis::isochrone::AreaMode;
use crate::analysis::reach::Station;
use crate::analysis::road_graph::LocalProjection;

/// The `method` of straight-line areas.
pub const METHOD: &str = "straight-line estimate";
/// The `method` of areas computed over the road network.
pub const ROAD_METHOD: &str = "road network";
/// What a user must be told whenever the estimate is shown.
pub const WARNING: &str = "no road network: response areas are a straight-line estimate \
(circles at an assumed speed and detour factor); they overstate coverage across rivers, \
railways and expressways. Load a road network for real drive-time areas.";

/// Assumptions of the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct StraightLineOptions {
    /// Band limits, minutes, turnout included.
    pub bands_min: Vec<f64>,
    /// Turnout time, seconds (default 60).
    pub turnout_s: f64,
    /// Assumed driving speed along roads, km/h (default 30: Chinese planning practice for
    /// fire engines in town, DOMAIN.md).
    pub speed_kmh: f64,
    /// Road distance ÷ straight-line distance (default 1.4; 1.3-1.5 is typical).
    pub detour: f64,
    /// Vertices of each circle (default 72).
    pub segments: usize,
    pub mode: AreaMode,
}

impl Default for StraightLineOptions {
    fn default() -> Self {
        StraightLineOptions {
            bands_min: vec![3.0, 5.0, 8.0, 10.0],
            turnout_s: 60.0,
            speed_kmh: 30.0,
            detour: 1.4,
            segments: 72,
            mode: AreaMode::Dissolve,
        }
    }
}

impl StraightLineOptions {
    /// The circle radius for a band, metres (0 when the band is within turnout).
    pub fn radius_m(&self, minutes: f64) -> f64 {
        let driving_s = (minutes * 60.0 - self.turnout_s).max(0.0);
        let speed_ms = self.speed_kmh / 3.6 / self.detour;
        if driving_s.is_finite() && speed_ms.is_finite() && speed_ms > 0.0 {
            driving_s * speed_ms
        } else {
            0.0
        }
    }
}

/// One estimated area.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimatedArea {
    pub minutes: f64,
    /// Station index, for `split` and `per-station` areas.
    pub station: Option<u32>,
    /// Lon/lat.
    pub area: MultiPolygon<f64>,
    /// Area in km² (of the local projection).
    pub area_km2: f64,
    /// The circle radius used, metres.
    pub radius_m: f64,
}

fn circle(centre: [f64; 2], radius: f64, segments: usize) -> Polygon<f64> {
    let n = segments.max(8);
    let ring: Vec<Coord<f64>> = (0..=n)
        .map(|i| {
            let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
            Coord {
                x: centre[0] + radius * a.cos(),
                y: centre[1] + radius * a.sin(),
            }
        })
        .collect();
    Polygon::new(LineString::from(ring), vec![])
}

/// Clips a convex ring to the half-plane of points no farther from `own` than from
/// `other` (its side of their bisector).
fn clip_to_nearer(ring: &[Coord<f64>], own: [f64; 2], other: [f64; 2]) -> Vec<Coord<f64>> {
    // Inside when (p - mid) · (other - own) <= 0.
    let n = [other[0] - own[0], other[1] - own[1]];
    let mid = [(own[0] + other[0]) / 2.0, (own[1] + other[1]) / 2.0];
    let side = |p: &Coord<f64>| (p.x - mid[0]) * n[0] + (p.y - mid[1]) * n[1];
    let mut out = Vec::new();
    let open: Vec<Coord<f64>> = if ring.first() == ring.last() && ring.len() > 1 {
        ring[..ring.len() - 1].to_vec()
    } else {
        ring.to_vec()
    };
    for (i, p) in open.iter().enumerate() {
        let q = &open[(i + 1) % open.len()];
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(*p);
        }
        if (sp <= 0.0) != (sq <= 0.0) {
            let t = sp / (sp - sq);
            out.push(Coord {
                x: p.x + t * (q.x - p.x),
                y: p.y + t * (q.y - p.y),
            });
        }
    }
    if let Some(first) = out.first().copied() {
        out.push(first);
    }
    out
}

/// Straight-line areas for the stations (all of them; positions lon/lat): per band one
/// dissolved area, or one per station (`per-station`: whole circles; `split`: each circle
/// cut to the places nearer its station than any other).
pub fn straight_line_areas(
    stations: &[Station],
    options: &StraightLineOptions,
) -> Vec<EstimatedArea> {
    let usable: Vec<(u32, Coord<f64>)> = stations
        .iter()
        .enumerate()
        .filter(|(_, s)| s.position.x.is_finite() && s.position.y.is_finite())
        .map(|(i, s)| (i as u32, s.position))
        .collect();
    if usable.is_empty() {
        return Vec::new();
    }
    let n = usable.len() as f64;
    let projection = LocalProjection::new(
        usable.iter().map(|s| s.1.x).sum::<f64>() / n,
        usable.iter().map(|s| s.1.y).sum::<f64>() / n,
    );
    let centres: Vec<[f64; 2]> = usable.iter().map(|s| projection.forward(s.1)).collect();
    let to_lonlat = |mp: &MultiPolygon<f64>| mp.map_coords(|c| projection.inverse([c.x, c.y]));
    let km2 = |mp: &MultiPolygon<f64>| geo::Area::unsigned_area(mp) / 1e6;
    let mut out = Vec::new();
    for &minutes in &options.bands_min {
        let radius_m = options.radius_m(minutes);
        let circles: Vec<Polygon<f64>> = centres
            .iter()
            .map(|&c| circle(c, radius_m, options.segments))
            .collect();
        let mut push = |station: Option<u32>, projected: MultiPolygon<f64>| {
            out.push(EstimatedArea {
                minutes,
                station,
                area_km2: km2(&projected),
                area: to_lonlat(&projected),
                radius_m,
            });
        };
        if radius_m <= 0.0 {
            match options.mode {
                AreaMode::Dissolve => push(None, MultiPolygon(Vec::new())),
                _ => {
                    for (s, _) in &usable {
                        push(Some(*s), MultiPolygon(Vec::new()));
                    }
                }
            }
            continue;
        }
        match options.mode {
            AreaMode::Dissolve => {
                let merged = circles
                    .iter()
                    .fold(MultiPolygon::<f64>(Vec::new()), |acc, c| {
                        acc.union(&MultiPolygon(vec![c.clone()]))
                    });
                push(None, merged);
            }
            AreaMode::PerStation => {
                for ((s, _), c) in usable.iter().zip(&circles) {
                    push(Some(*s), MultiPolygon(vec![c.clone()]));
                }
            }
            AreaMode::Split => {
                for (i, ((s, _), c)) in usable.iter().zip(&circles).enumerate() {
                    let mut ring = c.exterior().0.clone();
                    for (j, other) in centres.iter().enumerate() {
                        if j != i && ring.len() >= 4 && *other != centres[i] {
                            ring = clip_to_nearer(&ring, centres[i], *other);
                        } else if j < i && *other == centres[i] {
                            // Two stations on one spot: the first keeps it.
                            ring.clear();
                        }
                    }
                    let area = if ring.len() >= 4 {
                        MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])])
                    } else {
                        MultiPolygon(Vec::new())
                    };
                    push(Some(*s), area);
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::road_graph::tests::deg;
    use geo::{Contains, Point};

    fn stations(metres_east: &[f64]) -> Vec<Station> {
        metres_east
            .iter()
            .enumerate()
            .map(|(i, &e)| Station {
                id: format!("S{i}"),
                position: Coord {
                    x: 117.9 + deg(e) / 36.8f64.to_radians().cos(),
                    y: 36.8,
                },
            })
            .collect()
    }

    #[test]
    fn radius_follows_speed_detour_and_turnout() {
        let o = StraightLineOptions::default();
        // 240 s at 30 km/h over a 1.4 detour: 2000 m / 1.4.
        assert!((o.radius_m(5.0) - 2000.0 / 1.4).abs() < 1e-9);
        assert_eq!(o.radius_m(1.0), 0.0);
        let fast = StraightLineOptions {
            speed_kmh: 36.0,
            detour: 1.0,
            ..o
        };
        assert!((fast.radius_m(2.0) - 600.0).abs() < 1e-9);
    }

    #[test]
    fn dissolve_split_and_per_station_areas() {
        let st = stations(&[0.0, 1000.0]);
        let mut o = StraightLineOptions {
            bands_min: vec![5.0],
            ..StraightLineOptions::default()
        };
        let r = o.radius_m(5.0);
        let one = std::f64::consts::PI * r * r / 1e6;
        let per = straight_line_areas(&st, &{
            o.mode = AreaMode::PerStation;
            o.clone()
        });
        assert_eq!(per.len(), 2);
        for a in &per {
            assert!((a.area_km2 - one).abs() / one < 0.01, "{a:?}");
            assert_eq!(a.radius_m, r);
        }
        o.mode = AreaMode::Dissolve;
        let dissolved = straight_line_areas(&st, &o);
        assert_eq!(dissolved.len(), 1);
        let d = dissolved[0].area_km2;
        assert!(d > one && d < 2.0 * one, "{d}");
        o.mode = AreaMode::Split;
        let split = straight_line_areas(&st, &o);
        let sum: f64 = split.iter().map(|a| a.area_km2).sum();
        assert!((sum - d).abs() / d < 1e-6, "{sum} {d}");
        // A place 400 m east of S0 lies in S0's half, 600 m east in S1's.
        let at = |e: f64| Point(stations(&[e])[0].position);
        assert!(split[0].area.contains(&at(400.0)) && !split[1].area.contains(&at(400.0)));
        assert!(split[1].area.contains(&at(600.0)) && !split[0].area.contains(&at(600.0)));
        assert!(straight_line_areas(&[], &o).is_empty());
    }
}
