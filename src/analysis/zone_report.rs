//! The evacuation-zone report: people inside (area-weighted), features inside per layer,
//! shelters inside (unusable), the optimal shelter allocation, shelter siting flags and the
//! evacuees' minimum needs; rendered as Markdown or CSV text.

use std::fmt::Write as _;

use geo::MultiPolygon;
use serde::Serialize;

use super::allocation::{
    Allocation, EvacueeOrigin, RoadDistanceOptions, ShelterSite, allocate, evacuee_origins,
    geodesic_km, road_km, select_shelters,
};
use super::needs::{NeedAmount, NeedsProfile};
use super::population::PopulationInside;
use super::reach::{SnapIndex, station_id};
use super::road_graph::RoadGraph;
use super::shelters::{
    DEFAULT_M2_PER_PERSON, HazardLayer, ShelterFlag, SitingOptions, siting_flags,
};
use crate::i18n::Lang;
use crate::model::Layer;
use crate::spatial::LayerIndex;

/// Settings of a zone report.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneReportOptions {
    /// Population field giving each feature's people (default `population`).
    pub weight_field: String,
    /// Shelter area per person when a shelter has no `capacity`, m² (default 2.5).
    pub m2_per_person: f64,
    pub siting: SitingOptions,
    pub road: RoadDistanceOptions,
    /// Days of needs to report (default 1).
    pub needs_days: f64,
    /// Leave shelters that fail a siting check out of the allocation (default false: they
    /// are only flagged).
    pub exclude_flagged: bool,
}

impl Default for ZoneReportOptions {
    fn default() -> Self {
        ZoneReportOptions {
            weight_field: "population".into(),
            m2_per_person: DEFAULT_M2_PER_PERSON,
            siting: SitingOptions::default(),
            road: RoadDistanceOptions::default(),
            needs_days: 1.0,
            exclude_flagged: false,
        }
    }
}

/// What the report is made from. Layers are borrowed; nothing is copied.
#[derive(Clone, Copy)]
pub struct ZoneReportInput<'a> {
    /// The zone, lon/lat.
    pub zone: &'a MultiPolygon<f64>,
    pub population: Option<&'a Layer>,
    pub shelters: Option<&'a Layer>,
    /// Road graph and its snap index; geodesic distances without.
    pub roads: Option<(&'a RoadGraph, &'a SnapIndex)>,
    /// Layers whose features inside are listed.
    pub layers: &'a [&'a Layer],
    /// Hazard layers for the shelter siting checks.
    pub hazards: &'a [HazardLayer<'a>],
    pub needs: &'a NeedsProfile,
}

/// Features of one layer inside the zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerInside {
    pub name: String,
    /// Rows inside, ascending.
    pub rows: Vec<usize>,
    /// Their ids (as for stations), in row order.
    pub ids: Vec<String>,
}

/// One usable shelter's use in the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShelterUse {
    pub id: String,
    pub capacity: u64,
    pub assigned: u64,
}

/// How distances were measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceMode {
    Road,
    Geodesic,
}

/// The zone report.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneReport {
    /// People inside, area-weighted (fractional).
    pub population: PopulationInside,
    /// Whole evacuees: the origins' people, summing to the rounded population inside.
    pub evacuees: u64,
    pub origins: Vec<EvacueeOrigin>,
    pub layers: Vec<LayerInside>,
    /// Ids of shelters inside the zone (they cannot be used).
    pub shelters_inside: Vec<String>,
    /// Ids of closed shelters outside the zone.
    pub shelters_closed: Vec<String>,
    /// Open shelters outside the zone, in allocation order.
    pub shelters_usable: Vec<ShelterSite>,
    pub allocation: Allocation,
    pub distance_mode: DistanceMode,
    /// Siting flags of every shelter of the layer (usable or not).
    pub shelter_flags: Vec<ShelterFlag>,
    pub needs_days: f64,
    /// Needs of the evacuees over `needs_days`.
    pub needs: Vec<NeedAmount>,
    pub warnings: Vec<String>,
}

/// Features of `layer` inside `zone` (a line or polygon counts when any part is inside;
/// the boundary counts), via its spatial index.
pub fn features_inside(layer: &Layer, index: &LayerIndex, zone: &MultiPolygon<f64>) -> LayerInside {
    let mut rows: Vec<usize> = zone
        .0
        .iter()
        .flat_map(|polygon| index.in_polygon(&layer.geometries, polygon))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    LayerInside {
        name: layer.name.clone(),
        ids: rows.iter().map(|&r| station_id(layer, r)).collect(),
        rows,
    }
}

/// Builds the report.
pub fn zone_report(input: &ZoneReportInput<'_>, options: &ZoneReportOptions) -> ZoneReport {
    let mut warnings = Vec::new();
    let (origins, population) = match input.population {
        Some(layer) => evacuee_origins(layer, &options.weight_field, input.zone),
        None => (Vec::new(), PopulationInside::default()),
    };
    warnings.extend(population.warnings.iter().cloned());
    let evacuees: u64 = origins.iter().map(|o| o.people).sum();
    let layers = input
        .layers
        .iter()
        .map(|layer| features_inside(layer, &LayerIndex::build(&layer.geometries), input.zone))
        .collect();
    let mut report = ZoneReport {
        population,
        evacuees,
        layers,
        shelters_inside: Vec::new(),
        shelters_closed: Vec::new(),
        shelters_usable: Vec::new(),
        allocation: Allocation::default(),
        distance_mode: if input.roads.is_some() {
            DistanceMode::Road
        } else {
            DistanceMode::Geodesic
        },
        shelter_flags: Vec::new(),
        needs_days: options.needs_days,
        needs: input.needs.needs(evacuees, options.needs_days),
        warnings: Vec::new(),
        origins,
    };
    if let Some(shelters) = input.shelters {
        let mut selection = select_shelters(shelters, input.zone, options.m2_per_person);
        warnings.extend(std::mem::take(&mut selection.warnings));
        report.shelter_flags = siting_flags(shelters, input.hazards, &options.siting);
        if options.exclude_flagged {
            let flagged: Vec<usize> = report.shelter_flags.iter().map(|f| f.row).collect();
            selection.usable.retain(|site| {
                let keep = !flagged.contains(&site.row);
                if !keep {
                    warnings.push(format!(
                        "shelter {}: fails a siting check; left out of the plan",
                        site.id
                    ));
                }
                keep
            });
        }
        report.shelters_inside = selection
            .inside_zone
            .iter()
            .map(|&r| station_id(shelters, r))
            .collect();
        report.shelters_closed = selection
            .closed
            .iter()
            .map(|&r| station_id(shelters, r))
            .collect();
        let km = match input.roads {
            Some((graph, index)) => {
                let (km, road_warnings) = road_km(
                    graph,
                    index,
                    &report.origins,
                    &selection.usable,
                    &options.road,
                );
                warnings.extend(road_warnings);
                km
            }
            None => geodesic_km(&report.origins, &selection.usable),
        };
        report.allocation = allocate(&report.origins, &selection.usable, &km);
        report.shelters_usable = selection.usable;
    } else {
        report.allocation = allocate(&report.origins, &[], &[]);
        warnings.push("no shelter layer: nobody can be placed".into());
    }
    report.warnings = warnings;
    report
}

impl ZoneReport {
    /// Each usable shelter's capacity and the people the plan sends to it.
    pub fn shelter_uses(&self) -> Vec<ShelterUse> {
        self.shelters_usable
            .iter()
            .zip(&self.allocation.shelter_used)
            .map(|(s, used)| ShelterUse {
                id: s.id.clone(),
                capacity: s.capacity,
                assigned: *used,
            })
            .collect()
    }

    /// The report as Markdown, headings and labels in `lang`.
    pub fn to_markdown(&self, lang: Lang) -> String {
        let mut md = String::new();
        let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
        let _ = writeln!(md, "# {}\n", l("疏散区报告", "Evacuation zone report"));
        let _ = writeln!(md, "## {}\n", l("人口", "Population"));
        let mode = match self.distance_mode {
            DistanceMode::Road => l("道路距离", "road distance"),
            DistanceMode::Geodesic => l("直线（大地线）距离", "straight-line (geodesic) distance"),
        };
        let rows = [
            (
                l("区内人口（面积加权）", "Population inside (area-weighted)"),
                format!("{:.1}", self.population.total),
            ),
            (l("需疏散人数", "Evacuees"), self.evacuees.to_string()),
            (l("已安置", "Placed"), self.allocation.placed.to_string()),
            (
                l("无法安置", "Unplaced"),
                self.allocation.unplaced.to_string(),
            ),
            (
                l("总人公里", "Total person-km"),
                format!("{:.1}", self.allocation.total_person_km),
            ),
            (l("距离", "Distances"), mode.to_string()),
        ];
        let _ = writeln!(
            md,
            "| {} | {} |\n|---|---|",
            l("项目", "Item"),
            l("数值", "Value")
        );
        for (k, v) in rows {
            let _ = writeln!(md, "| {k} | {v} |");
        }
        let _ = writeln!(md, "\n## {}\n", l("区内要素", "Features inside"));
        let _ = writeln!(
            md,
            "| {} | {} | {} |\n|---|---:|---|",
            l("图层", "Layer"),
            l("数量", "Count"),
            l("编号", "Ids")
        );
        for layer in &self.layers {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                md_cell(&layer.name),
                layer.rows.len(),
                md_cell(&layer.ids.join(", "))
            );
        }
        let _ = writeln!(
            md,
            "\n## {}\n",
            l(
                "区内避难场所（不可使用）",
                "Shelters inside the zone (cannot be used)"
            )
        );
        let _ = writeln!(md, "{}", list_or_none(&self.shelters_inside, lang));
        if !self.shelters_closed.is_empty() {
            let _ = writeln!(
                md,
                "\n{}: {}",
                l("已关闭的避难场所", "Closed shelters"),
                md_cell(&self.shelters_closed.join(", "))
            );
        }
        let _ = writeln!(md, "\n## {}\n", l("安置方案", "Allocation"));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |\n|---|---|---:|---:|",
            l("出发地", "Origin"),
            l("避难场所", "Shelter"),
            l("人数", "People"),
            l("公里", "km")
        );
        for a in &self.allocation.assignments {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.2} |",
                md_cell(&self.origins[a.origin].id),
                md_cell(&self.shelters_usable[a.shelter].id),
                a.people,
                a.km
            );
        }
        let _ = writeln!(md, "\n## {}\n", l("各避难场所", "Per shelter"));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |\n|---|---:|---:|---:|",
            l("避难场所", "Shelter"),
            l("容量", "Capacity"),
            l("安置", "Assigned"),
            l("剩余", "Free")
        );
        for u in self.shelter_uses() {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                md_cell(&u.id),
                u.capacity,
                u.assigned,
                u.capacity - u.assigned
            );
        }
        let unplaced: Vec<String> = self
            .origins
            .iter()
            .zip(&self.allocation.origin_unplaced)
            .filter(|(_, n)| **n > 0)
            .map(|(o, n)| format!("{} ({n})", o.id))
            .collect();
        let _ = writeln!(md, "\n## {}\n", l("无法安置", "Unplaced"));
        let _ = writeln!(md, "{}", list_or_none(&unplaced, lang));
        let _ = writeln!(
            md,
            "\n## {}\n",
            l("避难场所选址问题", "Shelter siting flags")
        );
        if self.shelter_flags.is_empty() {
            let _ = writeln!(md, "{}", l("无", "None"));
        } else {
            let _ = writeln!(
                md,
                "| {} | {} |\n|---|---|",
                l("避难场所", "Shelter"),
                l("原因", "Reasons")
            );
            for f in &self.shelter_flags {
                let reasons: Vec<String> = f.reasons.iter().map(|r| r.text(lang)).collect();
                let _ = writeln!(
                    md,
                    "| {} | {} |",
                    md_cell(&f.id),
                    md_cell(&reasons.join("; "))
                );
            }
        }
        let _ = writeln!(
            md,
            "\n## {} ({} {}, {} {})\n",
            l("基本生活需求", "Minimum needs"),
            self.evacuees,
            l("人", "people"),
            self.needs_days,
            l("天", "days")
        );
        let _ = writeln!(
            md,
            "| {} | {} | {} |\n|---|---:|---|",
            l("物资", "Item"),
            l("数量", "Amount"),
            l("单位", "Unit")
        );
        for n in &self.needs {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                md_cell(lang.pick(&n.name_zh, &n.name_en)),
                format_amount(n.amount),
                md_cell(&n.unit)
            );
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(md, "\n## {}\n", l("警告", "Warnings"));
            for w in &self.warnings {
                let _ = writeln!(md, "- {w}");
            }
        }
        md
    }

    /// The report as CSV: blocks (summary, features inside, allocation, shelters, siting
    /// flags, needs), each a title row, a header row and its rows, separated by blank rows.
    /// Fields are quoted as RFC 4180 requires. The text has no BOM; a writer for Excel may
    /// prepend one.
    pub fn to_csv(&self, lang: Lang) -> String {
        let l = |zh: &'static str, en: &'static str| lang.pick(zh, en).to_string();
        let mut rows: Vec<Vec<String>> = Vec::new();
        rows.push(vec![l("汇总", "Summary")]);
        rows.push(vec![l("项目", "Item"), l("数值", "Value")]);
        rows.push(vec![
            l("区内人口（面积加权）", "Population inside (area-weighted)"),
            format!("{:.1}", self.population.total),
        ]);
        rows.push(vec![l("需疏散人数", "Evacuees"), self.evacuees.to_string()]);
        rows.push(vec![
            l("已安置", "Placed"),
            self.allocation.placed.to_string(),
        ]);
        rows.push(vec![
            l("无法安置", "Unplaced"),
            self.allocation.unplaced.to_string(),
        ]);
        rows.push(vec![
            l("总人公里", "Total person-km"),
            format!("{:.3}", self.allocation.total_person_km),
        ]);
        rows.push(vec![
            l(
                "区内避难场所（不可使用）",
                "Shelters inside (cannot be used)",
            ),
            self.shelters_inside.join(" "),
        ]);
        rows.push(Vec::new());
        rows.push(vec![l("区内要素", "Features inside")]);
        rows.push(vec![
            l("图层", "Layer"),
            l("数量", "Count"),
            l("编号", "Ids"),
        ]);
        for layer in &self.layers {
            rows.push(vec![
                layer.name.clone(),
                layer.rows.len().to_string(),
                layer.ids.join(" "),
            ]);
        }
        rows.push(Vec::new());
        rows.push(vec![l("安置方案", "Allocation")]);
        rows.push(vec![
            l("出发地", "Origin"),
            l("避难场所", "Shelter"),
            l("人数", "People"),
            l("公里", "km"),
        ]);
        for a in &self.allocation.assignments {
            rows.push(vec![
                self.origins[a.origin].id.clone(),
                self.shelters_usable[a.shelter].id.clone(),
                a.people.to_string(),
                format!("{:.3}", a.km),
            ]);
        }
        for (o, n) in self.origins.iter().zip(&self.allocation.origin_unplaced) {
            if *n > 0 {
                rows.push(vec![
                    o.id.clone(),
                    l("（无法安置）", "(unplaced)"),
                    n.to_string(),
                    String::new(),
                ]);
            }
        }
        rows.push(Vec::new());
        rows.push(vec![l("各避难场所", "Per shelter")]);
        rows.push(vec![
            l("避难场所", "Shelter"),
            l("容量", "Capacity"),
            l("安置", "Assigned"),
            l("剩余", "Free"),
        ]);
        for u in self.shelter_uses() {
            rows.push(vec![
                u.id,
                u.capacity.to_string(),
                u.assigned.to_string(),
                (u.capacity - u.assigned).to_string(),
            ]);
        }
        rows.push(Vec::new());
        rows.push(vec![l("避难场所选址问题", "Shelter siting flags")]);
        rows.push(vec![l("避难场所", "Shelter"), l("原因", "Reason")]);
        for f in &self.shelter_flags {
            for r in &f.reasons {
                rows.push(vec![f.id.clone(), r.text(lang)]);
            }
        }
        rows.push(Vec::new());
        rows.push(vec![
            l("基本生活需求", "Minimum needs"),
            format!("{} {}", self.evacuees, l("人", "people")),
            format!("{} {}", self.needs_days, l("天", "days")),
        ]);
        rows.push(vec![
            l("物资", "Item"),
            l("数量", "Amount"),
            l("单位", "Unit"),
        ]);
        for n in &self.needs {
            rows.push(vec![
                lang.pick(&n.name_zh, &n.name_en).to_string(),
                format_amount(n.amount),
                n.unit.clone(),
            ]);
        }
        let mut out = String::new();
        for row in rows {
            let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

fn format_amount(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn list_or_none(items: &[String], lang: Lang) -> String {
    if items.is_empty() {
        lang.pick("无", "None").to_string()
    } else {
        md_cell(&items.join(", "))
    }
}

/// Escapes what would break a Markdown table cell.
fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Quotes a CSV field when it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::shelters::HazardKind;
    use crate::model::{AttributeTable, LayerKind, Value};
    use geo::{Coord, Geometry, Intersects, LineString, Point, Polygon, Rect};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn layer(name: &str, geometries: Vec<Geometry<f64>>, props: Vec<Vec<(&str, Value)>>) -> Layer {
        let mut attributes = AttributeTable::new();
        for row in &props {
            attributes.push_row(row.iter().map(|(k, v)| (*k, v.as_ref())));
        }
        Layer {
            name: name.into(),
            kind: LayerKind::guess_from_name(name),
            source_index: (0..geometries.len() as u32).collect(),
            geometries,
            attributes,
            ..Layer::default()
        }
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }).to_polygon()
    }

    fn random_zone(rng: &mut ChaCha8Rng) -> MultiPolygon<f64> {
        // A random star-shaped polygon plus a rectangle, to exercise multipolygons.
        let (cx, cy) = (
            rng.random_range(117.02..117.05),
            rng.random_range(36.02..36.05),
        );
        let n = rng.random_range(5..12);
        let ring: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = rng.random_range(0.005..0.02);
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        let x0 = rng.random_range(117.0..117.07);
        let y0 = rng.random_range(36.0..36.07);
        MultiPolygon(vec![
            Polygon::new(LineString::from(ring), vec![]),
            rect(x0, y0, x0 + 0.01, y0 + 0.005),
        ])
    }

    fn random_geometry(rng: &mut ChaCha8Rng) -> Geometry<f64> {
        let (x, y) = (
            rng.random_range(117.0..117.08),
            rng.random_range(36.0..36.08),
        );
        match rng.random_range(0..3) {
            0 => Geometry::Point(Point::new(x, y)),
            1 => Geometry::LineString(LineString::from(vec![
                (x, y),
                (
                    x + rng.random_range(-0.01..0.01),
                    y + rng.random_range(-0.01..0.01),
                ),
            ])),
            _ => Geometry::Polygon(rect(x, y, x + 0.003, y + 0.002)),
        }
    }

    #[test]
    fn report_matches_brute_force_on_random_data() {
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        for case in 0..15 {
            let zone = random_zone(&mut rng);
            let features: Vec<Geometry<f64>> =
                (0..150).map(|_| random_geometry(&mut rng)).collect();
            let ids = (0..150)
                .map(|i| vec![("id", Value::Text(format!("F{i}")))])
                .collect();
            let schools = layer("schools", features.clone(), ids);
            let pop_points: Vec<Geometry<f64>> = (0..120)
                .map(|_| {
                    Geometry::Point(Point::new(
                        rng.random_range(117.0..117.08),
                        rng.random_range(36.0..36.08),
                    ))
                })
                .collect();
            let pop_weights: Vec<f64> = (0..120).map(|_| rng.random_range(0..200) as f64).collect();
            let population = layer(
                "population",
                pop_points.clone(),
                pop_weights
                    .iter()
                    .map(|w| vec![("population", Value::Number(*w))])
                    .collect(),
            );
            let shelter_points: Vec<Geometry<f64>> = (0..8)
                .map(|_| {
                    Geometry::Point(Point::new(
                        rng.random_range(116.98..117.1),
                        rng.random_range(35.98..36.1),
                    ))
                })
                .collect();
            let shelter_props = (0..8)
                .map(|i| {
                    let mut p = vec![
                        ("id", Value::Text(format!("S{i}"))),
                        ("capacity", Value::Number(rng.random_range(0..800) as f64)),
                    ];
                    if i == 3 {
                        p.push(("status", Value::Text("closed".into())));
                    }
                    p
                })
                .collect();
            let shelters = layer("shelters", shelter_points.clone(), shelter_props);
            let needs = NeedsProfile::default();
            let layers = [&schools];
            let input = ZoneReportInput {
                zone: &zone,
                population: Some(&population),
                shelters: Some(&shelters),
                roads: None,
                layers: &layers,
                hazards: &[],
                needs: &needs,
            };
            let report = zone_report(&input, &ZoneReportOptions::default());

            let expected_rows: Vec<usize> = (0..features.len())
                .filter(|&i| features[i].intersects(&zone))
                .collect();
            assert_eq!(report.layers[0].rows, expected_rows, "case {case}");
            assert_eq!(report.layers[0].ids.len(), expected_rows.len());
            let expected_people: f64 = pop_points
                .iter()
                .zip(&pop_weights)
                .filter(|(g, _)| g.intersects(&zone))
                .map(|(_, w)| w)
                .sum();
            assert_eq!(report.population.total, expected_people, "case {case}");
            assert_eq!(report.evacuees, expected_people as u64);
            let expected_inside: Vec<String> = (0..8)
                .filter(|&i| shelter_points[i].intersects(&zone))
                .map(|i| format!("S{i}"))
                .collect();
            assert_eq!(report.shelters_inside, expected_inside);
            assert!(
                report
                    .shelters_usable
                    .iter()
                    .all(|s| s.id != "S3" && !expected_inside.contains(&s.id))
            );
            let plan = &report.allocation;
            assert_eq!(plan.placed + plan.unplaced, report.evacuees, "case {case}");
            for (s, used) in plan.shelter_used.iter().enumerate() {
                assert!(*used <= report.shelters_usable[s].capacity);
            }
            // Every person is placed while any usable capacity is left.
            let capacity: u64 = report.shelters_usable.iter().map(|s| s.capacity).sum();
            assert_eq!(plan.placed, report.evacuees.min(capacity), "case {case}");
            let person_km: f64 = plan
                .assignments
                .iter()
                .map(|a| a.people as f64 * a.km)
                .sum();
            assert!((person_km - plan.total_person_km).abs() < 1e-6);
        }
    }

    #[test]
    fn renders_markdown_and_csv_with_the_plan() {
        let zone = MultiPolygon(vec![rect(117.0, 36.0, 117.01, 36.01)]);
        let population = layer(
            "population",
            vec![
                Geometry::Polygon(rect(117.005, 36.0, 117.015, 36.01)),
                Geometry::Point(Point::new(117.002, 36.002)),
            ],
            vec![
                vec![
                    ("id", Value::Text("P1".into())),
                    ("population", Value::Number(200.0)),
                ],
                vec![
                    ("id", Value::Text("P,2".into())),
                    ("population", Value::Number(30.0)),
                ],
            ],
        );
        let shelters = layer(
            "shelters",
            vec![
                Geometry::Point(Point::new(117.02, 36.005)),
                Geometry::Point(Point::new(117.005, 36.005)),
            ],
            vec![
                vec![
                    ("id", Value::Text("SH-1".into())),
                    ("area_m2", Value::Number(250.0)),
                ],
                vec![
                    ("id", Value::Text("SH-IN".into())),
                    ("capacity", Value::Number(999.0)),
                ],
            ],
        );
        let hazchem = layer(
            "hazchem",
            vec![Geometry::Point(Point::new(117.0201, 36.005))],
            vec![vec![("id", Value::Text("HC-1".into()))]],
        );
        let needs = NeedsProfile::default();
        let hazards = [HazardLayer {
            kind: HazardKind::Hazchem,
            layer: &hazchem,
        }];
        let input = ZoneReportInput {
            zone: &zone,
            population: Some(&population),
            shelters: Some(&shelters),
            roads: None,
            layers: &[],
            hazards: &hazards,
            needs: &needs,
        };
        let report = zone_report(&input, &ZoneReportOptions::default());
        // Half the cell (100) plus the point (30); SH-1 takes 250 / 2.5 = 100.
        assert!(
            (report.population.total - 130.0).abs() < 0.5,
            "{}",
            report.population.total
        );
        assert_eq!(report.evacuees, 130);
        assert_eq!(report.allocation.placed, 100);
        assert_eq!(report.allocation.unplaced, 30);
        assert_eq!(report.shelters_inside, vec!["SH-IN"]);
        assert_eq!(report.shelter_flags.len(), 1);
        assert_eq!(report.shelter_flags[0].id, "SH-1");

        let strict = zone_report(
            &input,
            &ZoneReportOptions {
                exclude_flagged: true,
                ..ZoneReportOptions::default()
            },
        );
        assert!(strict.shelters_usable.is_empty());
        assert_eq!(strict.allocation.unplaced, 130);

        let md = report.to_markdown(Lang::En);
        assert!(md.contains("# Evacuation zone report"));
        assert!(md.contains("| SH-1 | 100 | 100 | 0 |"), "{md}");
        assert!(md.contains("HC-1"));
        let zh = report.to_markdown(Lang::Zh);
        assert!(zh.contains("# 疏散区报告") && zh.contains("安置方案"));

        let csv_text = report.to_csv(Lang::En);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(csv_text.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let plan_rows: Vec<&csv::StringRecord> = records
            .iter()
            .filter(|r| {
                r.len() == 4 && (r.get(1) == Some("SH-1") || r.get(1) == Some("(unplaced)"))
            })
            .collect();
        let people: u64 = plan_rows.iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
        assert_eq!(people, 130);
        assert!(
            records.iter().any(|r| r.get(0) == Some("P,2")),
            "quoted id survives"
        );
    }
}
