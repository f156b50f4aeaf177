//! A layer: features (geometry + attributes) read from one source, with the kind of thing
//! they are (fire stations, roads...), which picks their preset symbology.

use std::path::PathBuf;

use geo::{BoundingRect, Geometry, Rect};
use serde::{Deserialize, Serialize};

use super::attributes::AttributeTable;

/// What a layer's features are. Chosen from the file (a `onemap_kind` member of the
/// FeatureCollection, else the file name), and changeable by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    FireStation,
    Shelter,
    GeohazardPoint,
    WaterloggingSpot,
    Reservoir,
    Pond,
    River,
    Water,
    Forest,
    Pipeline,
    HazchemEnterprise,
    MajorHazardSource,
    Mine,
    MinedOutArea,
    Hospital,
    School,
    DistrictBorder,
    NeighbourBorder,
    Division,
    Road,
    Population,
    BuiltUp,
    #[default]
    Generic,
}

impl LayerKind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [LayerKind; 23] = [
        LayerKind::FireStation,
        LayerKind::Shelter,
        LayerKind::GeohazardPoint,
        LayerKind::WaterloggingSpot,
        LayerKind::Reservoir,
        LayerKind::Pond,
        LayerKind::River,
        LayerKind::Water,
        LayerKind::Forest,
        LayerKind::Pipeline,
        LayerKind::HazchemEnterprise,
        LayerKind::MajorHazardSource,
        LayerKind::Mine,
        LayerKind::MinedOutArea,
        LayerKind::Hospital,
        LayerKind::School,
        LayerKind::DistrictBorder,
        LayerKind::NeighbourBorder,
        LayerKind::Division,
        LayerKind::Road,
        LayerKind::Population,
        LayerKind::BuiltUp,
        LayerKind::Generic,
    ];

    /// The snake_case name used in files (`onemap_kind`) and project settings.
    pub fn key(self) -> &'static str {
        match self {
            LayerKind::FireStation => "fire_station",
            LayerKind::Shelter => "shelter",
            LayerKind::GeohazardPoint => "geohazard_point",
            LayerKind::WaterloggingSpot => "waterlogging_spot",
            LayerKind::Reservoir => "reservoir",
            LayerKind::Pond => "pond",
            LayerKind::River => "river",
            LayerKind::Water => "water",
            LayerKind::Forest => "forest",
            LayerKind::Pipeline => "pipeline",
            LayerKind::HazchemEnterprise => "hazchem_enterprise",
            LayerKind::MajorHazardSource => "major_hazard_source",
            LayerKind::Mine => "mine",
            LayerKind::MinedOutArea => "mined_out_area",
            LayerKind::Hospital => "hospital",
            LayerKind::School => "school",
            LayerKind::DistrictBorder => "district_border",
            LayerKind::NeighbourBorder => "neighbour_border",
            LayerKind::Division => "division",
            LayerKind::Road => "road",
            LayerKind::Population => "population",
            LayerKind::BuiltUp => "builtup",
            LayerKind::Generic => "generic",
        }
    }

    pub fn from_key(key: &str) -> Option<LayerKind> {
        LayerKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Guesses the kind from a file name such as `fire_stations.geojson` or `消防站.geojson`.
    pub fn guess_from_name(name: &str) -> LayerKind {
        let n = name.to_lowercase();
        let rules: &[(&[&str], LayerKind)] = &[
            (
                &["major_hazard", "重大危险源"],
                LayerKind::MajorHazardSource,
            ),
            (
                &["hazchem", "危化", "危险化学品"],
                LayerKind::HazchemEnterprise,
            ),
            (&["mined_out", "goaf", "采空区"], LayerKind::MinedOutArea),
            (&["fire_station", "消防"], LayerKind::FireStation),
            (&["shelter", "避难", "避险"], LayerKind::Shelter),
            (
                &["geohazard", "geological", "地质灾害"],
                LayerKind::GeohazardPoint,
            ),
            (&["waterlog", "内涝", "积水"], LayerKind::WaterloggingSpot),
            (&["reservoir", "水库"], LayerKind::Reservoir),
            (&["pond", "塘坝"], LayerKind::Pond),
            (&["river", "河流", "河道"], LayerKind::River),
            (&["forest", "林地", "山林"], LayerKind::Forest),
            (&["pipeline", "管道", "管线"], LayerKind::Pipeline),
            (&["mine", "矿山"], LayerKind::Mine),
            (&["hospital", "医院"], LayerKind::Hospital),
            (&["school", "学校"], LayerKind::School),
            (
                &["neighbour", "neighbor", "邻区"],
                LayerKind::NeighbourBorder,
            ),
            (
                &["district_border", "boundary", "border", "边界"],
                LayerKind::DistrictBorder,
            ),
            (&["division", "town", "街道", "乡镇"], LayerKind::Division),
            (&["road", "道路"], LayerKind::Road),
            (&["population", "人口"], LayerKind::Population),
            (&["builtup", "built_up", "建成区"], LayerKind::BuiltUp),
            (&["water", "水体"], LayerKind::Water),
        ];
        rules
            .iter()
            .find(|(words, _)| words.iter().any(|w| n.contains(w)))
            .map(|(_, kind)| *kind)
            .unwrap_or(LayerKind::Generic)
    }
}

/// Features read from one source. Geometry and attribute row `i` belong to feature `i`.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// Display name (the file stem, or a `name` member of the FeatureCollection).
    pub name: String,
    /// Where the layer was read from, when it came from a file.
    pub path: Option<PathBuf>,
    pub kind: LayerKind,
    pub geometries: Vec<Geometry<f64>>,
    pub attributes: AttributeTable,
    /// Index of each feature in its source file, so messages and ids refer to the file.
    pub source_index: Vec<u32>,
}

impl Layer {
    pub fn len(&self) -> usize {
        self.geometries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.geometries.is_empty()
    }

    /// Bounding box of every feature, in lon/lat degrees.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        let mut boxes = self.geometries.iter().filter_map(|g| g.bounding_rect());
        let first = boxes.next()?;
        Some(boxes.fold(first, |acc, r| {
            Rect::new(
                geo::coord! { x: acc.min().x.min(r.min().x), y: acc.min().y.min(r.min().y) },
                geo::coord! { x: acc.max().x.max(r.max().x), y: acc.max().y.max(r.max().y) },
            )
        }))
    }

    /// A short label for feature `i`: its `name` (or 名称), else its `id`, else its index.
    pub fn feature_label(&self, i: usize) -> String {
        for field in ["name", "名称", "NAME", "name_zh", "id"] {
            let v = self.attributes.get(i, field);
            if !v.is_null() {
                return v.to_string();
            }
        }
        format!("#{}", self.source_index.get(i).copied().unwrap_or(i as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_their_keys_and_are_guessed_from_names() {
        for kind in LayerKind::ALL {
            assert_eq!(LayerKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(
            LayerKind::guess_from_name("fire_stations.geojson"),
            LayerKind::FireStation
        );
        assert_eq!(
            LayerKind::guess_from_name("major_hazard_sources"),
            LayerKind::MajorHazardSource
        );
        assert_eq!(LayerKind::guess_from_name("消防站"), LayerKind::FireStation);
        assert_eq!(
            LayerKind::guess_from_name("mined_out_areas"),
            LayerKind::MinedOutArea
        );
        assert_eq!(LayerKind::guess_from_name("mines"), LayerKind::Mine);
        assert_eq!(LayerKind::guess_from_name("misc"), LayerKind::Generic);
    }
}
