//! Shelters: how many people a shelter takes, whether it is open, and the siting checks
//! (GB 51143 / the Zhoucun plan: no pipeline across the site, not in a waterlogging spot or
//! near a geological hazard, not near a hazardous-chemicals site).

use geo::{Centroid, Distance, Euclidean, Geometry, Haversine, MapCoords, Point};
use serde::Serialize;

use super::reach::station_id;
use super::road_graph::LocalProjection;
use crate::i18n::Lang;
use crate::model::{Layer, LayerKind, ValueRef};
use crate::spatial::LayerIndex;

/// The Zhoucun plan's effective shelter area per urban resident, m².
pub const DEFAULT_M2_PER_PERSON: f64 = 2.5;

/// Fields read as the shelter's capacity (people), first found wins.
const CAPACITY_FIELDS: [&str; 3] = ["capacity", "容纳人数", "可容纳人数"];
/// Fields read as the shelter's effective area (m²), first found wins.
const AREA_FIELDS: [&str; 3] = ["area_m2", "有效面积", "面积"];
/// Fields read as the shelter's status.
const STATUS_FIELDS: [&str; 2] = ["status", "状态"];

/// Status words (lower case) that mean a shelter cannot take people now.
const CLOSED_WORDS: [&str; 22] = [
    "closed",
    "close",
    "full",
    "unavailable",
    "not available",
    "inactive",
    "disabled",
    "out of service",
    "damaged",
    "suspended",
    "false",
    "no",
    "关闭",
    "已关闭",
    "停用",
    "已满",
    "满员",
    "不可用",
    "暂停",
    "暂停使用",
    "损毁",
    "未开放",
];

fn first_number(layer: &Layer, row: usize, fields: &[&str]) -> Option<f64> {
    fields.iter().find_map(|f| {
        layer
            .attributes
            .get(row, f)
            .as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
    })
}

/// People shelter `row` takes: its `capacity`, else `area_m2 / m2_per_person`, else None
/// (also when the values are negative or not numbers, or `m2_per_person` is not positive).
pub fn shelter_capacity(layer: &Layer, row: usize, m2_per_person: f64) -> Option<f64> {
    if let Some(capacity) = first_number(layer, row, &CAPACITY_FIELDS) {
        return Some(capacity);
    }
    let area = first_number(layer, row, &AREA_FIELDS)?;
    (m2_per_person.is_finite() && m2_per_person > 0.0).then(|| area / m2_per_person)
}

/// Is shelter `row` open? A missing status means open; a status reading closed, full,
/// unavailable, 关闭, 停用, 已满... (or a boolean false) means closed; other text is open.
pub fn shelter_is_open(layer: &Layer, row: usize) -> bool {
    for field in STATUS_FIELDS {
        match layer.attributes.get(row, field) {
            ValueRef::Null => continue,
            ValueRef::Bool(open) => return open,
            ValueRef::Text(text) => {
                let word = text.trim().to_lowercase();
                return !CLOSED_WORDS.contains(&word.as_str());
            }
            _ => return true,
        }
    }
    true
}

/// Which siting rule a hazard layer checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// Oil and gas pipelines: must never cross a shelter site.
    Pipeline,
    /// Waterlogging spots (polygons, or points with a radius).
    Waterlogging,
    /// Geological-hazard points (landslide, collapse...), with a radius.
    Geohazard,
    /// Hazardous-chemicals enterprises and major hazard sources, with a radius.
    Hazchem,
}

impl HazardKind {
    /// The check a layer of this kind feeds, if any.
    pub fn for_layer_kind(kind: LayerKind) -> Option<HazardKind> {
        match kind {
            LayerKind::Pipeline => Some(HazardKind::Pipeline),
            LayerKind::WaterloggingSpot => Some(HazardKind::Waterlogging),
            LayerKind::GeohazardPoint => Some(HazardKind::Geohazard),
            LayerKind::HazchemEnterprise | LayerKind::MajorHazardSource => {
                Some(HazardKind::Hazchem)
            }
            _ => None,
        }
    }

    fn noun(self, lang: Lang) -> &'static str {
        match self {
            HazardKind::Pipeline => lang.pick("管道", "pipeline"),
            HazardKind::Waterlogging => lang.pick("内涝积水点", "waterlogging spot"),
            HazardKind::Geohazard => lang.pick("地质灾害点", "geological hazard"),
            HazardKind::Hazchem => lang.pick("危化品场所", "hazchem site"),
        }
    }
}

/// Distances of the siting checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct SitingOptions {
    /// A point shelter is crossed by a pipeline within this distance, m (polygon shelters:
    /// the pipeline must touch the site). Default 50.
    pub pipeline_radius_m: f64,
    /// Extent of a waterlogging spot given as a point, m (polygon spots: the site must
    /// touch the polygon). Default 100.
    pub waterlogging_radius_m: f64,
    /// Radius around a geological-hazard point, m. Default 200.
    pub geohazard_radius_m: f64,
    /// Safety distance from a hazchem site, m. Default 200.
    pub hazchem_radius_m: f64,
}

impl Default for SitingOptions {
    fn default() -> Self {
        SitingOptions {
            pipeline_radius_m: 50.0,
            waterlogging_radius_m: 100.0,
            geohazard_radius_m: 200.0,
            hazchem_radius_m: 200.0,
        }
    }
}

/// A hazard layer and the check it feeds.
#[derive(Debug, Clone, Copy)]
pub struct HazardLayer<'a> {
    pub kind: HazardKind,
    pub layer: &'a Layer,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SitingReason {
    pub kind: HazardKind,
    /// The hazard layer's name.
    pub layer: String,
    /// The hazard's id (as for stations).
    pub hazard_id: String,
    /// The hazard's name, when it has one other than its id.
    pub hazard_name: Option<String>,
    /// Distance from the site to the hazard, m (0: they touch or overlap).
    pub distance_m: f64,
    /// The distance the check allows (0: the site must not touch it).
    pub limit_m: f64,
}

impl SitingReason {
    /// A one-line explanation, e.g. "hazchem site HC-02 (某化工厂) 120 m away (limit 200 m)".
    pub fn text(&self, lang: Lang) -> String {
        let who = match &self.hazard_name {
            Some(name) => format!("{} {} ({name})", self.kind.noun(lang), self.hazard_id),
            None => format!("{} {}", self.kind.noun(lang), self.hazard_id),
        };
        if self.distance_m <= 0.0 {
            match self.kind {
                HazardKind::Pipeline => {
                    format!("{who}{}", lang.pick("穿越场址", " crosses the site"))
                }
                _ => format!(
                    "{}{who}{}",
                    lang.pick("位于", "inside "),
                    lang.pick("内", "")
                ),
            }
        } else {
            format!(
                "{who} {:.0} m{} ({} {:.0} m)",
                self.distance_m,
                lang.pick("", " away"),
                lang.pick("限值", "limit"),
                self.limit_m
            )
        }
    }
}

/// A shelter that fails at least one siting check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShelterFlag {
    /// Row in the shelter layer.
    pub row: usize,
    /// The shelter's id (as for stations).
    pub id: String,
    /// Failed checks, by hazard layer order then nearest first.
    pub reasons: Vec<SitingReason>,
}

fn is_polygonal(g: &Geometry<f64>) -> bool {
    matches!(
        g,
        Geometry::Polygon(_)
            | Geometry::MultiPolygon(_)
            | Geometry::Rect(_)
            | Geometry::Triangle(_)
    )
}

/// The siting checks for every shelter of `shelters` against `hazards`; only shelters that
/// fail a check are returned, in row order. Distances are geodesic for point shelters and
/// measured in a local projection about the site for polygon shelters.
pub fn siting_flags(
    shelters: &Layer,
    hazards: &[HazardLayer<'_>],
    options: &SitingOptions,
) -> Vec<ShelterFlag> {
    let indexes: Vec<LayerIndex> = hazards
        .iter()
        .map(|h| LayerIndex::build(&h.layer.geometries))
        .collect();
    let mut flags = Vec::new();
    for (row, site) in shelters.geometries.iter().enumerate() {
        let Some(centre) = site
            .centroid()
            .filter(|c| c.x().is_finite() && c.y().is_finite())
        else {
            continue;
        };
        let site_polygonal = is_polygonal(site);
        // Reach of the site from its centre, so a radius query from the centre finds
        // everything near any part of it.
        let extent_m = if site_polygonal {
            geo::CoordsIter::coords_iter(site)
                .map(|c| Haversine.distance(centre, Point(c)))
                .fold(0.0, f64::max)
        } else {
            0.0
        };
        let projection = LocalProjection::new(centre.x(), centre.y());
        let project = |c: geo::Coord<f64>| {
            let [x, y] = projection.forward(c);
            geo::coord! { x: x, y: y }
        };
        let site_m = site.map_coords(project);
        let mut reasons = Vec::new();
        for (hazard, index) in hazards.iter().zip(&indexes) {
            let geoms = &hazard.layer.geometries;
            let largest_limit = match hazard.kind {
                HazardKind::Pipeline => options.pipeline_radius_m,
                HazardKind::Waterlogging => options.waterlogging_radius_m,
                HazardKind::Geohazard => options.geohazard_radius_m,
                HazardKind::Hazchem => options.hazchem_radius_m,
            }
            .max(0.0);
            let mut found = Vec::new();
            for (h, centre_m) in index.within_distance(geoms, centre, largest_limit + extent_m) {
                let Some(hazard_geometry) = geoms.get(h) else {
                    continue;
                };
                let limit = match hazard.kind {
                    HazardKind::Pipeline if site_polygonal => 0.0,
                    HazardKind::Waterlogging if is_polygonal(hazard_geometry) => 0.0,
                    _ => largest_limit,
                };
                let distance_m = if site_polygonal {
                    Euclidean.distance(&site_m, &hazard_geometry.map_coords(project))
                } else {
                    centre_m
                };
                if distance_m <= limit {
                    let hazard_id = station_id(hazard.layer, h);
                    let label = hazard.layer.feature_label(h);
                    found.push(SitingReason {
                        kind: hazard.kind,
                        layer: hazard.layer.name.clone(),
                        hazard_name: (label != hazard_id).then_some(label),
                        hazard_id,
                        distance_m,
                        limit_m: limit,
                    });
                }
            }
            found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
            reasons.extend(found);
        }
        if !reasons.is_empty() {
            flags.push(ShelterFlag {
                row,
                id: station_id(shelters, row),
                reasons,
            });
        }
    }
    flags
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{AttributeTable, Value};

    fn shelters(rows: &[Vec<(&str, Value)>]) -> Layer {
        let mut attributes = AttributeTable::new();
        for row in rows {
            attributes.push_row(row.iter().map(|(k, v)| (*k, v.as_ref())));
        }
        Layer {
            name: "shelters".into(),
            geometries: vec![geo::Geometry::Point(geo::Point::new(0.0, 0.0)); rows.len()],
            source_index: (0..rows.len() as u32).collect(),
            attributes,
            ..Layer::default()
        }
    }

    #[test]
    fn capacity_then_area_then_none() {
        let l = shelters(&[
            vec![
                ("capacity", Value::Number(300.0)),
                ("area_m2", Value::Number(1000.0)),
            ],
            vec![("area_m2", Value::Number(1000.0))],
            vec![("name", Value::Text("x".into()))],
            vec![
                ("capacity", Value::Text("n/a".into())),
                ("area_m2", Value::Text("250".into())),
            ],
            vec![("capacity", Value::Number(-5.0))],
        ]);
        assert_eq!(shelter_capacity(&l, 0, 2.5), Some(300.0));
        assert_eq!(shelter_capacity(&l, 1, 2.5), Some(400.0));
        assert_eq!(shelter_capacity(&l, 1, 2.0), Some(500.0));
        assert_eq!(shelter_capacity(&l, 1, 0.0), None);
        assert_eq!(shelter_capacity(&l, 2, 2.5), None);
        assert_eq!(shelter_capacity(&l, 3, 2.5), Some(100.0));
        assert_eq!(shelter_capacity(&l, 4, 2.5), None);
        assert_eq!(shelter_capacity(&l, 99, 2.5), None);
    }

    #[test]
    fn status_words_close_a_shelter_and_missing_means_open() {
        let statuses = [
            (Value::Null, true),
            (Value::Text("open".into()), true),
            (Value::Text("开放".into()), true),
            (Value::Text(" Closed ".into()), false),
            (Value::Text("FULL".into()), false),
            (Value::Text("unavailable".into()), false),
            (Value::Text("关闭".into()), false),
            (Value::Text("停用".into()), false),
            (Value::Text("已满".into()), false),
            (Value::Bool(false), false),
            (Value::Bool(true), true),
        ];
        let l = shelters(
            &statuses
                .iter()
                .map(|(v, _)| vec![("status", v.clone())])
                .collect::<Vec<_>>(),
        );
        for (row, (value, open)) in statuses.iter().enumerate() {
            assert_eq!(shelter_is_open(&l, row), *open, "{value:?}");
        }
    }
    const M: f64 = 1.0 / 111_195.0;

    fn hazard_layer(name: &str, geometries: Vec<Geometry<f64>>) -> Layer {
        let mut attributes = AttributeTable::new();
        for i in 0..geometries.len() {
            let id = Value::Text(format!("{name}-{i}"));
            attributes.push_row([("id", id.as_ref())]);
        }
        Layer {
            name: name.into(),
            source_index: (0..geometries.len() as u32).collect(),
            geometries,
            attributes,
            ..Layer::default()
        }
    }

    fn north(m: f64) -> Geometry<f64> {
        Geometry::Point(geo::Point::new(117.0, 36.0 + m * M))
    }

    fn square(cx: f64, cy: f64, half_m: f64) -> geo::Polygon<f64> {
        let dx = half_m * M / 36f64.to_radians().cos();
        let dy = half_m * M;
        geo::Rect::new(
            geo::coord! { x: cx - dx, y: cy - dy },
            geo::coord! { x: cx + dx, y: cy + dy },
        )
        .to_polygon()
    }

    #[test]
    fn siting_checks_flag_each_hazard_at_its_distance() {
        let mut sites = shelters(&[
            vec![("id", Value::Text("point".into()))],
            vec![("id", Value::Text("square".into()))],
        ]);
        // A point shelter at the origin and a 100 m square shelter 5 km east.
        let east = 117.0 + 5000.0 * M / 36f64.to_radians().cos();
        sites.geometries = vec![north(0.0), Geometry::Polygon(square(east, 36.0, 50.0))];
        let line = |x0: f64, y0: f64, x1: f64, y1: f64| {
            Geometry::LineString(geo::LineString::from(vec![(x0, y0), (x1, y1)]))
        };
        let pipelines = hazard_layer(
            "pl",
            vec![
                // 30 m north of the point shelter, east-west: flagged (limit 50 m).
                line(116.99, 36.0 + 30.0 * M, 117.01, 36.0 + 30.0 * M),
                // Crosses the square's north part.
                line(east, 36.0 + 40.0 * M, east + 0.01, 36.0 + 40.0 * M),
                // 80 m north of the point and 30 m north of the square: neither.
                line(116.99, 36.0 + 80.0 * M, east + 0.01, 36.0 + 80.0 * M),
            ],
        );
        let waterlogging = hazard_layer(
            "wl",
            vec![
                north(-90.0),
                north(-150.0),
                Geometry::Polygon(square(east, 36.0 - 90.0 * M, 20.0)),
                Geometry::Polygon(square(east, 36.0 - 60.0 * M, 20.0)),
            ],
        );
        let geohazards = hazard_layer("gh", vec![north(190.0), north(-210.0)]);
        let hazchem = hazard_layer(
            "hc",
            vec![
                north(199.0),
                north(-201.0),
                Geometry::Point(geo::Point::new(east, 36.0 + 240.0 * M)),
            ],
        );
        let hazards = [
            HazardLayer {
                kind: HazardKind::Pipeline,
                layer: &pipelines,
            },
            HazardLayer {
                kind: HazardKind::Waterlogging,
                layer: &waterlogging,
            },
            HazardLayer {
                kind: HazardKind::Geohazard,
                layer: &geohazards,
            },
            HazardLayer {
                kind: HazardKind::Hazchem,
                layer: &hazchem,
            },
        ];
        let flags = siting_flags(&sites, &hazards, &SitingOptions::default());
        let ids = |f: &ShelterFlag| {
            f.reasons
                .iter()
                .map(|r| r.hazard_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(flags.len(), 2);
        assert_eq!(ids(&flags[0]), vec!["pl-0", "wl-0", "gh-0", "hc-0"]);
        // wl-2 lies 20 m south of the square (not touching), wl-3 overlaps its south edge.
        // The hazchem point is 190 m north of the square's edge.
        assert_eq!(ids(&flags[1]), vec!["pl-1", "wl-3", "hc-2"]);
        assert_eq!(flags[1].reasons[0].distance_m, 0.0);
        assert_eq!(flags[1].reasons[1].distance_m, 0.0);
        assert!((flags[1].reasons[2].distance_m - 190.0).abs() < 1.0);
        assert!((flags[0].reasons[0].distance_m - 30.0).abs() < 0.5);
        let text = flags[1].reasons[0].text(Lang::En);
        assert!(text.contains("pl-1") && text.contains("crosses"), "{text}");
        assert!(flags[0].reasons[3].text(Lang::En).contains("199 m"));
    }

    #[test]
    fn hazchem_flags_match_brute_force_on_random_points() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let random_points = |rng: &mut rand_chacha::ChaCha8Rng, n: usize| {
            (0..n)
                .map(|_| {
                    Geometry::Point(geo::Point::new(
                        rng.random_range(117.0..117.03),
                        rng.random_range(36.0..36.03),
                    ))
                })
                .collect::<Vec<_>>()
        };
        let mut sites = shelters(&vec![vec![]; 60]);
        sites.geometries = random_points(&mut rng, 60);
        let hazchem = hazard_layer("hc", random_points(&mut rng, 80));
        let options = SitingOptions::default();
        let flags = siting_flags(
            &sites,
            &[HazardLayer {
                kind: HazardKind::Hazchem,
                layer: &hazchem,
            }],
            &options,
        );
        let mut expected = Vec::new();
        for (row, site) in sites.geometries.iter().enumerate() {
            let Geometry::Point(p) = site else {
                unreachable!()
            };
            let near: Vec<usize> = hazchem
                .geometries
                .iter()
                .enumerate()
                .filter_map(|(h, g)| {
                    let Geometry::Point(q) = g else {
                        unreachable!()
                    };
                    (Haversine.distance(*p, *q) <= options.hazchem_radius_m).then_some(h)
                })
                .collect();
            if !near.is_empty() {
                expected.push((row, near.len()));
            }
        }
        let got: Vec<(usize, usize)> = flags.iter().map(|f| (f.row, f.reasons.len())).collect();
        assert!(!expected.is_empty());
        assert_eq!(got, expected);
    }
}
