//! How a layer is drawn: preset symbols per layer kind and categorized styling by an
//! attribute. Styles live apart from the data: a feature never carries its colour.

use std::collections::HashMap;

use egui::Color32;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::model::{AttributeTable, LayerKind};

/// The marker drawn for a point feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Marker {
    #[default]
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    Star,
}

/// One class of a categorized style: features whose field value is `value` get `color`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub value: String,
    pub color: [u8; 4],
}

/// Style of one layer. Colours are sRGBA with unmultiplied alpha.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LayerStyle {
    pub fill: [u8; 4],
    pub stroke: [u8; 4],
    pub stroke_width: f32,
    pub marker: Marker,
    pub marker_size: f32,
    /// Multiplies every alpha, in [0, 1].
    pub opacity: f32,
    /// Dashed lines (pipelines) are drawn as dashes.
    pub dashed: bool,
    /// When set, features are coloured by the value of this field.
    pub category_field: Option<String>,
    pub categories: Vec<Category>,
    /// When set, each feature is labelled with this field's value.
    pub label_field: Option<String>,
    /// Point layers with a numeric weight (population) scale their markers by it.
    pub size_field: Option<String>,
}

impl Default for LayerStyle {
    fn default() -> Self {
        LayerStyle {
            fill: [66, 133, 244, 160],
            stroke: [30, 70, 160, 255],
            stroke_width: 1.5,
            marker: Marker::Circle,
            marker_size: 6.0,
            opacity: 1.0,
            dashed: false,
            category_field: None,
            categories: Vec::new(),
            label_field: None,
            size_field: None,
        }
    }
}

/// Colours handed out to categories, chosen to stay distinct on light basemaps.
pub const CATEGORY_PALETTE: [[u8; 4]; 12] = [
    [228, 26, 28, 220],
    [55, 126, 184, 220],
    [77, 175, 74, 220],
    [152, 78, 163, 220],
    [255, 127, 0, 220],
    [166, 86, 40, 220],
    [247, 129, 191, 220],
    [0, 150, 150, 220],
    [200, 180, 0, 220],
    [100, 100, 100, 220],
    [31, 60, 120, 220],
    [120, 200, 200, 220],
];

/// Colour of values that fall outside the listed categories.
pub const OTHER_CATEGORY_COLOR: [u8; 4] = [160, 160, 160, 200];

impl LayerStyle {
    /// The preset style for a kind of layer.
    pub fn preset(kind: LayerKind) -> LayerStyle {
        let base = LayerStyle::default();
        let s =
            |fill: [u8; 4], stroke: [u8; 4], width: f32, marker: Marker, size: f32| LayerStyle {
                fill,
                stroke,
                stroke_width: width,
                marker,
                marker_size: size,
                ..LayerStyle::default()
            };
        let label = |mut style: LayerStyle| {
            style.label_field = Some("name".to_owned());
            style
        };
        match kind {
            LayerKind::FireStation => label(s(
                [220, 30, 30, 255],
                [255, 255, 255, 255],
                1.5,
                Marker::Square,
                11.0,
            )),
            LayerKind::Shelter => label(s(
                [30, 160, 60, 255],
                [255, 255, 255, 255],
                1.5,
                Marker::Triangle,
                10.0,
            )),
            LayerKind::GeohazardPoint => s(
                [150, 80, 20, 255],
                [255, 230, 180, 255],
                1.0,
                Marker::Triangle,
                10.0,
            ),
            LayerKind::WaterloggingSpot => s(
                [0, 110, 255, 140],
                [0, 60, 200, 255],
                1.5,
                Marker::Diamond,
                10.0,
            ),
            LayerKind::Reservoir => label(s(
                [90, 160, 230, 200],
                [40, 100, 190, 255],
                1.2,
                Marker::Circle,
                9.0,
            )),
            LayerKind::Pond => s(
                [120, 185, 240, 200],
                [60, 130, 210, 255],
                0.8,
                Marker::Circle,
                5.0,
            ),
            LayerKind::River => s(
                [90, 160, 230, 255],
                [60, 140, 225, 255],
                2.5,
                Marker::Circle,
                4.0,
            ),
            LayerKind::Water => s(
                [150, 200, 240, 255],
                [100, 160, 220, 255],
                0.8,
                Marker::Circle,
                4.0,
            ),
            LayerKind::Forest => s(
                [60, 150, 70, 110],
                [40, 110, 50, 200],
                1.0,
                Marker::Circle,
                5.0,
            ),
            LayerKind::Pipeline => LayerStyle {
                dashed: true,
                ..s(
                    [255, 140, 0, 255],
                    [230, 110, 0, 255],
                    2.5,
                    Marker::Circle,
                    4.0,
                )
            },
            LayerKind::HazchemEnterprise => s(
                [250, 170, 0, 255],
                [120, 60, 0, 255],
                1.0,
                Marker::Diamond,
                8.0,
            ),
            LayerKind::MajorHazardSource => label(s(
                [200, 0, 120, 255],
                [255, 255, 255, 255],
                1.5,
                Marker::Star,
                12.0,
            )),
            LayerKind::Mine => label(s(
                [90, 60, 40, 255],
                [255, 255, 255, 255],
                1.5,
                Marker::Cross,
                11.0,
            )),
            LayerKind::MinedOutArea => s(
                [120, 90, 60, 90],
                [90, 60, 40, 230],
                1.5,
                Marker::Circle,
                5.0,
            ),
            LayerKind::Hospital => label(s(
                [255, 255, 255, 255],
                [220, 0, 0, 255],
                2.5,
                Marker::Cross,
                12.0,
            )),
            LayerKind::School => s(
                [110, 70, 200, 255],
                [255, 255, 255, 255],
                1.0,
                Marker::Square,
                8.0,
            ),
            LayerKind::DistrictBorder => {
                s([0, 0, 0, 0], [170, 30, 170, 255], 3.0, Marker::Circle, 4.0)
            }
            LayerKind::NeighbourBorder => label(s(
                [240, 240, 235, 120],
                [150, 150, 150, 255],
                1.2,
                Marker::Circle,
                4.0,
            )),
            LayerKind::Division => label(s(
                [60, 60, 60, 255],
                [255, 255, 255, 255],
                1.0,
                Marker::Circle,
                5.0,
            )),
            LayerKind::Road => LayerStyle {
                category_field: Some("highway".to_owned()),
                categories: road_categories(),
                ..s(
                    [200, 200, 200, 255],
                    [150, 150, 150, 255],
                    1.2,
                    Marker::Circle,
                    3.0,
                )
            },
            LayerKind::Population => LayerStyle {
                size_field: Some("population".to_owned()),
                ..s([230, 80, 40, 110], [0, 0, 0, 0], 0.0, Marker::Circle, 4.0)
            },
            LayerKind::BuiltUp => s(
                [240, 200, 160, 70],
                [200, 140, 90, 200],
                1.0,
                Marker::Circle,
                5.0,
            ),
            LayerKind::Generic => base,
        }
    }

    /// The muted look of reference layers in the built-in vector basemap.
    pub fn basemap(kind: LayerKind) -> LayerStyle {
        let plain = |fill: [u8; 4], stroke: [u8; 4], width: f32| LayerStyle {
            fill,
            stroke,
            stroke_width: width,
            ..LayerStyle::default()
        };
        match kind {
            LayerKind::NeighbourBorder => LayerStyle {
                label_field: Some("name".to_owned()),
                ..plain([232, 229, 220, 255], [185, 180, 170, 255], 1.0)
            },
            LayerKind::DistrictBorder => plain([250, 248, 242, 255], [175, 165, 175, 255], 1.2),
            LayerKind::Water => plain([170, 211, 223, 255], [150, 195, 215, 255], 0.5),
            LayerKind::River => plain([170, 211, 223, 255], [150, 195, 220, 255], 2.0),
            LayerKind::Road => LayerStyle {
                category_field: Some("highway".to_owned()),
                categories: [
                    ("motorway", [248, 190, 140, 255]),
                    ("motorway_link", [248, 190, 140, 255]),
                    ("trunk", [250, 205, 150, 255]),
                    ("primary", [252, 222, 160, 255]),
                    ("secondary", [250, 240, 185, 255]),
                    ("tertiary", [214, 208, 200, 255]),
                    ("residential", [222, 217, 210, 255]),
                    ("unclassified", [222, 217, 210, 255]),
                    ("service", [228, 224, 218, 255]),
                ]
                .into_iter()
                .map(|(value, color)| Category {
                    value: value.to_owned(),
                    color,
                })
                .collect(),
                ..plain([222, 217, 210, 255], [222, 217, 210, 255], 1.3)
            },
            other => {
                let mut style = LayerStyle::preset(other);
                style.opacity = 0.5;
                style
            }
        }
    }

    /// Colours features by the distinct values of `field` (the most frequent first, up to
    /// the palette's size; the rest share the "other" colour).
    pub fn categorize_by(&mut self, table: &AttributeTable, field: &str) {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for row in 0..table.len() {
            let v = table.get(row, field);
            if !v.is_null() {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
        let mut values: Vec<(String, usize)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.category_field = Some(field.to_owned());
        self.categories = values
            .into_iter()
            .take(CATEGORY_PALETTE.len())
            .zip(CATEGORY_PALETTE)
            .map(|((value, _), color)| Category { value, color })
            .collect();
    }

    /// Drops categorized styling.
    pub fn clear_categories(&mut self) {
        self.category_field = None;
        self.categories.clear();
    }

    /// The colour a feature with this category value gets, or None when the style is not
    /// categorized.
    pub fn category_color(&self, value: &str) -> Option<[u8; 4]> {
        self.category_field.as_ref()?;
        Some(
            self.categories
                .iter()
                .find(|c| c.value == value)
                .map(|c| c.color)
                .unwrap_or(OTHER_CATEGORY_COLOR),
        )
    }

    /// The category of every row: an index into `categories`, or `u16::MAX` for values
    /// outside them. Empty when the style is not categorized. Computed when the style
    /// changes, so drawing never formats attribute values.
    pub fn feature_classes(&self, table: &AttributeTable) -> Vec<u16> {
        let Some(field) = self.category_field.as_deref() else {
            return Vec::new();
        };
        let Some(field) = table.field_index(field) else {
            return vec![u16::MAX; table.len()];
        };
        let lookup: HashMap<&str, u16> = self
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.value.as_str(), i as u16))
            .collect();
        (0..table.len())
            .map(|row| match table.value(row, field) {
                crate::model::ValueRef::Text(s) => lookup.get(s).copied().unwrap_or(u16::MAX),
                crate::model::ValueRef::Null => u16::MAX,
                other => lookup
                    .get(other.to_string().as_str())
                    .copied()
                    .unwrap_or(u16::MAX),
            })
            .collect()
    }

    /// Width multiplier for road classes, so motorways read heavier than lanes.
    pub fn width_for_category(&self, value: &str) -> f32 {
        if self.category_field.as_deref() != Some("highway") {
            return 1.0;
        }
        match value {
            "motorway" | "trunk" => 2.6,
            "motorway_link" | "trunk_link" => 1.4,
            "primary" => 2.0,
            "secondary" => 1.6,
            "tertiary" => 1.3,
            "residential" | "unclassified" => 0.9,
            _ => 0.7,
        }
    }
}

fn road_categories() -> Vec<Category> {
    [
        ("motorway", [230, 80, 60, 255]),
        ("motorway_link", [230, 80, 60, 255]),
        ("trunk", [240, 130, 60, 255]),
        ("primary", [245, 170, 70, 255]),
        ("secondary", [240, 210, 90, 255]),
        ("tertiary", [200, 200, 120, 255]),
        ("residential", [170, 170, 170, 255]),
        ("unclassified", [170, 170, 170, 255]),
        ("service", [190, 190, 190, 255]),
    ]
    .into_iter()
    .map(|(value, color)| Category {
        value: value.to_owned(),
        color,
    })
    .collect()
}

/// Applies an opacity factor to an sRGBA colour.
pub fn color(rgba: [u8; 4], opacity: f32) -> Color32 {
    let alpha = (f32::from(rgba[3]) * opacity.clamp(0.0, 1.0)).round() as u8;
    Color32::from_rgba_unmultiplied(rgba[0], rgba[1], rgba[2], alpha)
}

/// The name of a layer kind in the UI language.
pub fn kind_name(kind: LayerKind, lang: Lang) -> &'static str {
    let (zh, en) = match kind {
        LayerKind::FireStation => ("消防站", "Fire station"),
        LayerKind::Shelter => ("应急避难场所", "Shelter"),
        LayerKind::GeohazardPoint => ("地质灾害隐患点", "Geological hazard point"),
        LayerKind::WaterloggingSpot => ("城市内涝点", "Waterlogging spot"),
        LayerKind::Reservoir => ("水库", "Reservoir"),
        LayerKind::Pond => ("塘坝", "Pond"),
        LayerKind::River => ("河流", "River"),
        LayerKind::Water => ("水体", "Water"),
        LayerKind::Forest => ("林地", "Forest"),
        LayerKind::Pipeline => ("油气管道", "Pipeline"),
        LayerKind::HazchemEnterprise => ("危化品企业", "Hazchem enterprise"),
        LayerKind::MajorHazardSource => ("重大危险源", "Major hazard source"),
        LayerKind::Mine => ("非煤矿山", "Mine"),
        LayerKind::MinedOutArea => ("采空区", "Mined-out area"),
        LayerKind::Hospital => ("医院", "Hospital"),
        LayerKind::School => ("学校", "School"),
        LayerKind::DistrictBorder => ("区界", "District border"),
        LayerKind::NeighbourBorder => ("相邻区县", "Neighbouring districts"),
        LayerKind::Division => ("镇街", "Towns and sub-districts"),
        LayerKind::Road => ("道路", "Road"),
        LayerKind::Population => ("人口", "Population"),
        LayerKind::BuiltUp => ("建成区", "Built-up area"),
        LayerKind::Generic => ("一般图层", "Generic"),
    };
    lang.pick(zh, en)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ValueRef;

    #[test]
    fn every_kind_has_a_distinct_preset_and_a_name_in_both_languages() {
        let mut seen = Vec::new();
        for kind in LayerKind::ALL {
            let style = LayerStyle::preset(kind);
            let signature = (style.fill, style.stroke, style.marker, style.dashed);
            if kind != LayerKind::Generic {
                assert!(
                    !seen.contains(&signature),
                    "{kind:?} looks like another kind"
                );
            }
            seen.push(signature);
            assert_ne!(kind_name(kind, Lang::Zh), kind_name(kind, Lang::En));
        }
    }

    #[test]
    fn categorize_orders_by_frequency_and_greys_the_rest() {
        let mut table = AttributeTable::new();
        for v in ["a", "b", "b", "c", "b", "a"] {
            table.push_row([("class", ValueRef::Text(v))]);
        }
        for i in 0..20 {
            let text = format!("rare{i}");
            table.push_row([("class", ValueRef::Text(&text))]);
        }
        let mut style = LayerStyle::default();
        assert_eq!(style.category_color("a"), None);
        style.categorize_by(&table, "class");
        assert_eq!(style.categories[0].value, "b");
        assert_eq!(style.categories[1].value, "a");
        assert_eq!(style.categories.len(), CATEGORY_PALETTE.len());
        assert_eq!(style.category_color("b"), Some(CATEGORY_PALETTE[0]));
        assert_eq!(style.category_color("zzz"), Some(OTHER_CATEGORY_COLOR));
        let classes = style.feature_classes(&table);
        assert_eq!(&classes[..3], &[1, 0, 0]);
        assert_eq!(classes[25], u16::MAX);
        style.clear_categories();
        assert_eq!(style.category_color("b"), None);
        assert!(style.feature_classes(&table).is_empty());
    }

    #[test]
    fn opacity_scales_alpha() {
        assert_eq!(color([10, 20, 30, 200], 0.5).a(), 100);
        assert_eq!(color([10, 20, 30, 200], 2.0).a(), 200);
    }
}
