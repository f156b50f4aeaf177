//! GB 51080-2015 §4.1.5 siting checks for fire stations and candidate sites: at least
//! 200 m from hazardous-chemical sites, on a main or secondary road, and (when those
//! layers are given) at least 50 m from hospitals and schools. Every threshold is an
//! option. The wind rule (upwind or crosswind of hazchem sites) needs wind data and is not
//! checked.

use geo::{Coord, Distance, Euclidean, Geometry, MapCoords, Point};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

use crate::analysis::reach::station_id;
use crate::analysis::road_graph::{LocalProjection, RoadGraph};
use crate::model::Layer;

/// Road classes counted as main or secondary roads by default.
pub const DEFAULT_MAIN_ROAD_CLASSES: &[&str] = &[
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
];

/// Thresholds of the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    /// Least distance to a hazardous-chemical site, metres (GB 51080: 200).
    pub hazchem_min_m: f64,
    /// Road classes (`highway`) that count as main or secondary roads.
    pub main_road_classes: Vec<String>,
    /// A site is on such a road when one passes within this distance, metres (default 50).
    pub road_snap_m: f64,
    /// Least distance to a hospital or school, metres (GB 51080: 50 from their main
    /// exits; measured to the feature, as exits are rarely mapped).
    pub sensitive_min_m: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            hazchem_min_m: 200.0,
            main_road_classes: DEFAULT_MAIN_ROAD_CLASSES
                .iter()
                .map(|c| c.to_string())
                .collect(),
            road_snap_m: 50.0,
            sensitive_min_m: 50.0,
        }
    }
}

/// One rule applied to one site.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCheck {
    /// `hazchem_distance`, `main_road`, `hospital_distance` or `school_distance`.
    pub rule: &'static str,
    pub passed: bool,
    /// Distance to the nearest relevant feature, metres (None: there is none).
    pub distance_m: Option<f64>,
    /// The nearest feature's id (or the road class, for `main_road`).
    pub nearest: Option<String>,
    /// Why it passed or failed, in words.
    pub reason: String,
}

/// All checks of one site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteReport {
    pub id: String,
    /// Lon/lat.
    pub position: Coord<f64>,
    /// Every rule passed.
    pub passed: bool,
    pub checks: Vec<RuleCheck>,
}

impl SiteReport {
    /// The reasons of the failed rules.
    pub fn failures(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.reason.as_str())
            .collect()
    }
}

/// Features of one layer, projected to metres, with their ids.
struct Features {
    items: Vec<(String, Geometry<f64>)>,
}

impl Features {
    fn new(layer: &Layer, projection: &LocalProjection) -> Features {
        let items = layer
            .geometries
            .iter()
            .enumerate()
            .map(|(row, g)| {
                let projected = g.map_coords(|c| {
                    let [x, y] = projection.forward(c);
                    Coord { x, y }
                });
                (station_id(layer, row), projected)
            })
            .collect();
        Features { items }
    }

    fn nearest(&self, q: Point<f64>) -> Option<(f64, &str)> {
        self.items
            .iter()
            .map(|(id, g)| (Euclidean.distance(&q, g), id.as_str()))
            .filter(|(d, _)| d.is_finite())
            .min_by(|a, b| a.0.total_cmp(&b.0))
    }
}

/// Checks sites against the layers given once at construction.
pub struct SiteChecker<'g> {
    options: CheckOptions,
    projection: LocalProjection,
    graph: Option<&'g RoadGraph>,
    main_roads: RTree<GeomWithData<Line<[f64; 2]>, u32>>,
    hazchem: Option<Features>,
    hospitals: Option<Features>,
    schools: Option<Features>,
}

impl<'g> SiteChecker<'g> {
    /// A checker over the road graph (for the road rule; without it that rule is skipped)
    /// and the optional hazchem, hospital and school layers. `projection` measures
    /// distances when there is no graph.
    pub fn new(
        graph: Option<&'g RoadGraph>,
        projection: LocalProjection,
        hazchem: Option<&Layer>,
        hospitals: Option<&Layer>,
        schools: Option<&Layer>,
        options: CheckOptions,
    ) -> SiteChecker<'g> {
        let projection = graph.map_or(projection, |g| g.projection);
        let mut segments = Vec::new();
        if let Some(g) = graph {
            let main: Vec<bool> = g
                .classes
                .iter()
                .map(|c| options.main_road_classes.iter().any(|m| m == c))
                .collect();
            for (e, edge) in g.edges.iter().enumerate() {
                if main.get(edge.class as usize).copied().unwrap_or(false) {
                    for w in g.edge_xy(e).windows(2) {
                        segments.push(GeomWithData::new(Line::new(w[0], w[1]), e as u32));
                    }
                }
            }
        }
        SiteChecker {
            main_roads: RTree::bulk_load(segments),
            hazchem: hazchem.map(|l| Features::new(l, &projection)),
            hospitals: hospitals.map(|l| Features::new(l, &projection)),
            schools: schools.map(|l| Features::new(l, &projection)),
            options,
            projection,
            graph,
        }
    }

    fn distance_rule(
        &self,
        rule: &'static str,
        what: &str,
        features: &Features,
        q: Point<f64>,
        min_m: f64,
    ) -> RuleCheck {
        match features.nearest(q) {
            Some((d, id)) => {
                let passed = d >= min_m;
                RuleCheck {
                    rule,
                    passed,
                    distance_m: Some(d),
                    nearest: Some(id.to_string()),
                    reason: if passed {
                        format!("{d:.0} m from the nearest {what} ({id}), at least {min_m} m")
                    } else {
                        format!("only {d:.0} m from {what} {id}; needs at least {min_m} m")
                    },
                }
            }
            None => RuleCheck {
                rule,
                passed: true,
                distance_m: None,
                nearest: None,
                reason: format!("no {what} in the layer"),
            },
        }
    }

    /// Applies every rule the checker has data for to the site `id` at `position`.
    pub fn check(&self, id: &str, position: Coord<f64>) -> SiteReport {
        let [x, y] = self.projection.forward(position);
        let q = Point::new(x, y);
        let mut checks = Vec::new();
        if let Some(h) = &self.hazchem {
            checks.push(self.distance_rule(
                "hazchem_distance",
                "hazardous-chemical site",
                h,
                q,
                self.options.hazchem_min_m,
            ));
        }
        if let Some(graph) = self.graph {
            let max = self.options.road_snap_m;
            let nearest = self
                .main_roads
                .nearest_neighbor_iter_with_distance_2(&[x, y])
                .next()
                .map(|(seg, d2)| (d2.sqrt(), seg.data));
            let class_of = |e: u32| {
                graph
                    .edges
                    .get(e as usize)
                    .and_then(|edge| graph.classes.get(edge.class as usize))
                    .cloned()
                    .unwrap_or_default()
            };
            checks.push(match nearest {
                Some((d, e)) if d <= max => RuleCheck {
                    rule: "main_road",
                    passed: true,
                    distance_m: Some(d),
                    nearest: Some(class_of(e)),
                    reason: format!("on a {} road ({d:.0} m away)", class_of(e)),
                },
                Some((d, e)) => RuleCheck {
                    rule: "main_road",
                    passed: false,
                    distance_m: Some(d),
                    nearest: Some(class_of(e)),
                    reason: format!(
                        "not on a main or secondary road: the nearest ({}) is {d:.0} m away, more than {max} m",
                        class_of(e)
                    ),
                },
                None => RuleCheck {
                    rule: "main_road",
                    passed: false,
                    distance_m: None,
                    nearest: None,
                    reason: "not on a main or secondary road: the network has none".into(),
                },
            });
        }
        if let Some(h) = &self.hospitals {
            checks.push(self.distance_rule(
                "hospital_distance",
                "hospital",
                h,
                q,
                self.options.sensitive_min_m,
            ));
        }
        if let Some(s) = &self.schools {
            checks.push(self.distance_rule(
                "school_distance",
                "school",
                s,
                q,
                self.options.sensitive_min_m,
            ));
        }
        SiteReport {
            id: id.to_string(),
            position,
            passed: checks.iter().all(|c| c.passed),
            checks,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::{deg, layer};
    use crate::model::{AttributeTable, Value};

    const LAT0: f64 = 36.8;

    fn at(east: f64, north: f64) -> Coord<f64> {
        Coord {
            x: 117.9 + deg(east) / LAT0.to_radians().cos(),
            y: LAT0 + deg(north),
        }
    }

    fn points(places: &[(f64, f64)]) -> Layer {
        let mut attributes = AttributeTable::new();
        for i in 0..places.len() {
            let id = Value::Text(format!("P{i}"));
            attributes.push_row([("id", id.as_ref())]);
        }
        Layer {
            name: "points".into(),
            source_index: (0..places.len() as u32).collect(),
            geometries: places
                .iter()
                .map(|&(e, n)| Geometry::Point(Point(at(e, n))))
                .collect(),
            attributes,
            ..Layer::default()
        }
    }

    #[test]
    fn distances_and_road_class_decide_each_rule() {
        // A primary road running east at north = 0 and a residential one at north = 500.
        let line = |north: f64| {
            let (a, b) = (at(0.0, north), at(2000.0, north));
            vec![(a.x, a.y), (b.x, b.y)]
        };
        let roads = layer(&[("primary", "", line(0.0)), ("residential", "", line(500.0))]);
        let (graph, _) = RoadGraph::build(&[&roads], &SpeedTable::default()).unwrap();
        let hazchem = points(&[(1000.0, 150.0), (1800.0, 900.0)]);
        let schools = points(&[(300.0, 30.0)]);
        let checker = SiteChecker::new(
            Some(&graph),
            graph.projection,
            Some(&hazchem),
            None,
            Some(&schools),
            CheckOptions::default(),
        );
        // Beside the primary road, 250 m from P0, 100 m from the school: all pass.
        let ok = checker.check("A", at(750.0, 10.0));
        assert!(ok.passed, "{ok:?}");
        assert_eq!(ok.checks.len(), 3);
        let hazchem_check = &ok.checks[0];
        assert_eq!(hazchem_check.nearest.as_deref(), Some("P0"));
        let d = hazchem_check.distance_m.unwrap();
        assert!((d - f64::hypot(250.0, 140.0)).abs() < 1.0, "{d}");
        assert_eq!(ok.checks[1].nearest.as_deref(), Some("primary"));
        // On the residential road, 100 m from P0: fails two rules, says why.
        let bad = checker.check("B", at(1000.0, 250.0));
        assert!(!bad.passed);
        let failures = bad.failures();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(failures[0].contains("P0") && failures[0].contains("200"));
        assert!(failures[1].contains("not on a main"));
        // Near the school.
        let near_school = checker.check("C", at(310.0, 0.0));
        assert!(!near_school.passed);
        assert_eq!(near_school.checks[2].rule, "school_distance");
        assert!(!near_school.checks[2].passed);
        // Stricter options flip a pass.
        let strict = SiteChecker::new(
            Some(&graph),
            graph.projection,
            Some(&hazchem),
            None,
            None,
            CheckOptions {
                hazchem_min_m: 300.0,
                road_snap_m: 5.0,
                ..CheckOptions::default()
            },
        );
        let again = strict.check("A", at(750.0, 10.0));
        assert!(!again.checks[0].passed && !again.checks[1].passed);
    }

    #[test]
    fn without_data_the_rules_are_skipped() {
        let checker = SiteChecker::new(
            None,
            LocalProjection::new(117.9, LAT0),
            None,
            None,
            None,
            CheckOptions::default(),
        );
        let r = checker.check("X", at(0.0, 0.0));
        assert!(r.passed && r.checks.is_empty());
        let empty = points(&[]);
        let checker = SiteChecker::new(
            None,
            LocalProjection::new(117.9, LAT0),
            Some(&empty),
            None,
            None,
            CheckOptions::default(),
        );
        let r = checker.check("X", at(0.0, 0.0));
        assert!(r.passed && r.checks[0].distance_m.is_none());
    }
}
