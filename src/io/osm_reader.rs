//! OpenStreetMap `.osm.pbf` in: three layers for emergency work — "roads" (every way with a
//! `highway` tag, as line strings the road graph joins on shared vertices), "waterways"
//! (rivers, streams, canals and drains as lines; closed water areas as polygons) and
//! "amenities" (fire stations, hospitals, clinics, schools, kindergartens, shelters and
//! assembly points, as points; mapped areas give their centroid). Optionally clipped to a box.
//!
//! Two passes over the file keep memory to what is needed: the first keeps the interesting
//! ways (tags and node ids) and amenity nodes, the second looks up the coordinates of just
//! the nodes those ways use. Single-threaded; cancel is checked between blocks.

use std::path::Path;
use std::sync::atomic::Ordering;

use geo::{Centroid, Coord, Geometry, LineString, MultiLineString, Point, Polygon, Rect};
use osmpbf::{BlobDecode, BlobReader, Element};

use super::{LoadError, LoadWarning, Loaded, Progress, ReadOptions, ReadResult, SourceInfo};
use crate::crs::Crs;
use crate::model::{AttributeTable, Layer, LayerKind, ValueRef};

/// `highway` values that are not (yet, or any more) a way anyone can travel.
const NOT_A_ROAD: [&str; 7] = [
    "proposed",
    "construction",
    "abandoned",
    "disused",
    "razed",
    "platform",
    "bus_stop",
];
/// `waterway` values kept as lines.
const WATERWAY_LINES: [&str; 4] = ["river", "stream", "canal", "drain"];
/// `amenity` values kept as amenities.
const AMENITIES: [&str; 6] = [
    "fire_station",
    "hospital",
    "clinic",
    "school",
    "kindergarten",
    "shelter",
];

/// Which layer a way or node goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Road,
    WaterLine,
    WaterArea,
    AmenityArea,
}

/// The tags OneMap keeps, borrowed from the block being read.
#[derive(Debug, Default)]
struct Tags<'a> {
    highway: Option<&'a str>,
    oneway: Option<&'a str>,
    name: Option<&'a str>,
    maxspeed: Option<&'a str>,
    waterway: Option<&'a str>,
    natural: Option<&'a str>,
    water: Option<&'a str>,
    landuse: Option<&'a str>,
    amenity: Option<&'a str>,
    emergency: Option<&'a str>,
    area: Option<&'a str>,
    relation_type: Option<&'a str>,
}

impl<'a> Tags<'a> {
    fn read(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut t = Tags::default();
        for (key, value) in tags {
            let slot = match key {
                "highway" => &mut t.highway,
                "oneway" => &mut t.oneway,
                "name" => &mut t.name,
                "maxspeed" => &mut t.maxspeed,
                "waterway" => &mut t.waterway,
                "natural" => &mut t.natural,
                "water" => &mut t.water,
                "landuse" => &mut t.landuse,
                "amenity" => &mut t.amenity,
                "emergency" => &mut t.emergency,
                "area" => &mut t.area,
                "type" => &mut t.relation_type,
                _ => continue,
            };
            *slot = Some(value);
        }
        t
    }

    /// The amenity this feature is, as OneMap names it ("assembly_point" for
    /// emergency=assembly_point), when it is one OneMap keeps.
    fn amenity_value(&self) -> Option<&'a str> {
        if let Some(a) = self.amenity.filter(|a| AMENITIES.contains(a)) {
            return Some(a);
        }
        self.emergency.filter(|e| *e == "assembly_point")
    }

    fn is_road(&self) -> bool {
        self.highway.is_some_and(|h| !NOT_A_ROAD.contains(&h)) && self.area != Some("yes")
    }

    fn is_water_line(&self) -> bool {
        self.waterway.is_some_and(|w| WATERWAY_LINES.contains(&w))
    }

    fn is_water_area(&self) -> bool {
        self.natural == Some("water")
            || self.waterway == Some("riverbank")
            || matches!(self.landuse, Some("reservoir" | "basin"))
    }

    /// The layer a way belongs to, if any (closed amenity areas first: a school's outline
    /// tagged with `highway` is rare, a school is what matters).
    fn way_theme(&self, closed: bool) -> Option<Theme> {
        if closed && self.amenity_value().is_some() {
            Some(Theme::AmenityArea)
        } else if self.is_road() {
            Some(Theme::Road)
        } else if self.is_water_line() {
            Some(Theme::WaterLine)
        } else if closed && self.is_water_area() {
            Some(Theme::WaterArea)
        } else {
            None
        }
    }
}

/// The fields each layer keeps (besides `osm_id`), in column order.
const ROAD_FIELDS: [&str; 4] = ["highway", "oneway", "name", "maxspeed"];
const WATER_FIELDS: [&str; 5] = ["waterway", "natural", "water", "landuse", "name"];
const AMENITY_FIELDS: [&str; 3] = ["amenity", "kind", "name"];

fn field_values<'a>(theme: Theme, tags: &Tags<'a>) -> Vec<Option<&'a str>> {
    match theme {
        Theme::Road => vec![tags.highway, tags.oneway, tags.name, tags.maxspeed],
        Theme::WaterLine | Theme::WaterArea => vec![
            tags.waterway,
            tags.natural,
            tags.water,
            tags.landuse,
            tags.name,
        ],
        Theme::AmenityArea => {
            let amenity = tags.amenity_value();
            vec![amenity, amenity.map(|a| amenity_kind(a).key()), tags.name]
        }
    }
}

/// The layer kind an amenity value stands for.
fn amenity_kind(amenity: &str) -> LayerKind {
    match amenity {
        "fire_station" => LayerKind::FireStation,
        "hospital" | "clinic" => LayerKind::Hospital,
        "school" | "kindergarten" => LayerKind::School,
        "shelter" | "assembly_point" => LayerKind::Shelter,
        _ => LayerKind::Generic,
    }
}

/// A way kept by the first pass: its node ids live in `Pass1::refs[refs_start..refs_end]`.
struct WayRecord {
    id: i64,
    theme: Theme,
    refs_start: usize,
    refs_end: usize,
    values: Vec<Option<Box<str>>>,
}

/// An amenity mapped as a node.
struct AmenityNode {
    id: i64,
    point: Coord<f64>,
    values: Vec<Option<Box<str>>>,
}

#[derive(Default)]
struct Pass1 {
    ways: Vec<WayRecord>,
    refs: Vec<i64>,
    amenity_nodes: Vec<AmenityNode>,
    water_relations: usize,
    blocks: usize,
}

fn owned(values: Vec<Option<&str>>) -> Vec<Option<Box<str>>> {
    values.into_iter().map(|v| v.map(Box::from)).collect()
}

fn inside(clip: Option<&Rect<f64>>, c: Coord<f64>) -> bool {
    clip.is_none_or(|r| {
        c.x >= r.min().x && c.x <= r.max().x && c.y >= r.min().y && c.y <= r.max().y
    })
}

/// Reads an `.osm.pbf` extract into the "roads", "waterways" and "amenities" layers (always
/// in that order, possibly empty), keeping only features with a node inside `options.clip`.
pub fn read_osm_pbf(
    path: &Path,
    options: &ReadOptions,
    progress: &Progress,
) -> Result<ReadResult, LoadError> {
    let file_len = std::fs::metadata(path)
        .map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    // Two passes over the file.
    progress
        .bytes_total
        .store(file_len.saturating_mul(2), Ordering::Relaxed);
    let clip = options.clip.as_ref();

    let mut first = Pass1::default();
    for_each_block(path, progress, 0, |block| {
        first.blocks += 1;
        block.for_each_element(|element| match element {
            Element::Node(node) => {
                let tags = Tags::read(node.tags());
                amenity_node(
                    &mut first,
                    node.id(),
                    degrees(node.nano_lon()),
                    degrees(node.nano_lat()),
                    &tags,
                    clip,
                );
            }
            Element::DenseNode(node) => {
                if node.raw_tags().len() == 0 {
                    return;
                }
                let tags = Tags::read(node.tags());
                amenity_node(
                    &mut first,
                    node.id(),
                    degrees(node.nano_lon()),
                    degrees(node.nano_lat()),
                    &tags,
                    clip,
                );
            }
            Element::Way(way) => {
                let refs_start = first.refs.len();
                first.refs.extend(way.refs());
                let refs = &first.refs[refs_start..];
                let closed = refs.len() >= 4 && refs.first() == refs.last();
                let tags = Tags::read(way.tags());
                let Some(theme) = tags.way_theme(closed) else {
                    first.refs.truncate(refs_start);
                    return;
                };
                first.ways.push(WayRecord {
                    id: way.id(),
                    theme,
                    refs_start,
                    refs_end: first.refs.len(),
                    values: owned(field_values(theme, &tags)),
                });
            }
            Element::Relation(relation) => {
                let tags = Tags::read(relation.tags());
                if tags.relation_type == Some("multipolygon") && tags.is_water_area() {
                    first.water_relations += 1;
                }
            }
        });
    })?;
    if first.blocks == 0 {
        return Err(LoadError::Format {
            path: path.to_owned(),
            message: "not an OpenStreetMap PBF file: it holds no OSM data block".to_string(),
        });
    }

    // Second pass: coordinates of just the nodes the kept ways use.
    let mut needed: Vec<i64> = first.refs.clone();
    needed.sort_unstable();
    needed.dedup();
    let mut coords = vec![
        Coord {
            x: f64::NAN,
            y: f64::NAN
        };
        needed.len()
    ];
    if !needed.is_empty() {
        let (lowest, highest) = (needed[0], needed[needed.len() - 1]);
        let mut store = |id: i64, lon: f64, lat: f64| {
            if id < lowest || id > highest {
                return;
            }
            if let Ok(i) = needed.binary_search(&id) {
                coords[i] = Coord { x: lon, y: lat };
            }
        };
        for_each_block(path, progress, file_len, |block| {
            for group in block.groups() {
                for node in group.dense_nodes() {
                    store(
                        node.id(),
                        degrees(node.nano_lon()),
                        degrees(node.nano_lat()),
                    );
                }
                for node in group.nodes() {
                    store(
                        node.id(),
                        degrees(node.nano_lon()),
                        degrees(node.nano_lat()),
                    );
                }
            }
        })?;
    }
    let coord_of = |id: i64| {
        needed
            .binary_search(&id)
            .ok()
            .map(|i| coords[i])
            .filter(|c| c.x.is_finite() && c.y.is_finite())
    };

    let mut roads = ThemeLayer::new(path, "roads", LayerKind::Road, &ROAD_FIELDS);
    let mut waterways = ThemeLayer::new(path, "waterways", LayerKind::River, &WATER_FIELDS);
    let mut amenities = ThemeLayer::new(path, "amenities", LayerKind::Generic, &AMENITY_FIELDS);
    let mut missing_nodes = 0usize;
    let mut too_short = 0usize;
    for way in &first.ways {
        let ids = &first.refs[way.refs_start..way.refs_end];
        // Runs of consecutive nodes present in the file: a missing node splits a line rather
        // than joining its neighbours with a straight segment that is not there.
        let mut runs: Vec<Vec<Coord<f64>>> = vec![Vec::with_capacity(ids.len())];
        let mut missing = 0usize;
        for &id in ids {
            match coord_of(id) {
                Some(c) => {
                    if let Some(run) = runs.last_mut() {
                        run.push(c);
                    }
                }
                None => {
                    missing += 1;
                    if runs.last().is_some_and(|r| !r.is_empty()) {
                        runs.push(Vec::new());
                    }
                }
            }
        }
        missing_nodes += missing;
        if !runs.iter().flatten().any(|&c| inside(clip, c)) {
            continue;
        }
        let geometry = match way.theme {
            Theme::Road | Theme::WaterLine => {
                runs.retain(|r| r.len() >= 2);
                match runs.len() {
                    0 => {
                        too_short += 1;
                        continue;
                    }
                    1 => Geometry::LineString(LineString(runs.remove(0))),
                    _ => Geometry::MultiLineString(MultiLineString(
                        runs.into_iter().map(LineString).collect(),
                    )),
                }
            }
            Theme::WaterArea | Theme::AmenityArea => {
                // An area missing a node has no trustworthy outline.
                if missing > 0 || runs.len() != 1 || runs[0].len() < 4 {
                    too_short += 1;
                    continue;
                }
                let polygon = Polygon::new(LineString(runs.remove(0)), Vec::new());
                if way.theme == Theme::AmenityArea {
                    let centre = polygon
                        .centroid()
                        .unwrap_or_else(|| Point(polygon.exterior().0[0]));
                    Geometry::Point(centre)
                } else {
                    Geometry::Polygon(polygon)
                }
            }
        };
        let target = match way.theme {
            Theme::Road => &mut roads,
            Theme::WaterLine | Theme::WaterArea => &mut waterways,
            Theme::AmenityArea => &mut amenities,
        };
        target.push(geometry, way.id, "way", &way.values);
    }
    for node in &first.amenity_nodes {
        amenities.push(
            Geometry::Point(Point(node.point)),
            node.id,
            "node",
            &node.values,
        );
    }

    let mut notes = Vec::new();
    if missing_nodes > 0 {
        notes.push(format!(
            "{missing_nodes} node references point to nodes not in the file (cut off by the extract); those vertices were left out"
        ));
    }
    if too_short > 0 {
        notes.push(format!(
            "{too_short} ways had too few of their nodes in the file to draw and were left out"
        ));
    }
    if first.water_relations > 0 {
        notes.push(format!(
            "{} water areas mapped as multipolygon relations are not read (only closed ways)",
            first.water_relations
        ));
    }
    let mut layers: Vec<Loaded> = [roads, waterways, amenities]
        .into_iter()
        .map(ThemeLayer::finish)
        .collect();
    if let Some(roads) = layers.first_mut() {
        roads
            .warnings
            .extend(notes.into_iter().map(|message| LoadWarning {
                file: path.to_owned(),
                feature: None,
                message,
            }));
    }
    progress
        .bytes_done
        .store(file_len.saturating_mul(2), Ordering::Relaxed);
    let info = SourceInfo {
        format: "OpenStreetMap PBF".to_string(),
        crs: Some(Crs::Wgs84),
        crs_reason: "OpenStreetMap coordinates are WGS 84 longitude/latitude".to_string(),
        encoding: Some("UTF-8".to_string()),
        encoding_reason: "OpenStreetMap text is UTF-8".to_string(),
        ..SourceInfo::default()
    };
    Ok(ReadResult { layers, info })
}

/// Nanodegrees to degrees, correctly rounded (osmpbf's `lon()` multiplies by 1e-9, which
/// turns 117.86 into 117.86000000000001).
fn degrees(nano: i64) -> f64 {
    nano as f64 / 1e9
}

fn amenity_node(
    first: &mut Pass1,
    id: i64,
    lon: f64,
    lat: f64,
    tags: &Tags<'_>,
    clip: Option<&Rect<f64>>,
) {
    if tags.amenity_value().is_none() {
        return;
    }
    let point = Coord { x: lon, y: lat };
    if !point.x.is_finite() || !point.y.is_finite() || !inside(clip, point) {
        return;
    }
    first.amenity_nodes.push(AmenityNode {
        id,
        point,
        values: owned(field_values(Theme::AmenityArea, tags)),
    });
}

/// Calls `visit` on every OSM data block of the file, publishing progress from `base` bytes
/// and checking cancel between blocks. The first block must be the OSM header.
fn for_each_block(
    path: &Path,
    progress: &Progress,
    base: u64,
    mut visit: impl FnMut(&osmpbf::PrimitiveBlock),
) -> Result<(), LoadError> {
    let format_error = |message: String| LoadError::Format {
        path: path.to_owned(),
        message,
    };
    let reader =
        BlobReader::from_path(path).map_err(|e| format_error(format!("cannot open: {e}")))?;
    for (index, blob) in reader.enumerate() {
        if progress.is_cancelled() {
            return Err(LoadError::Cancelled {
                path: path.to_owned(),
            });
        }
        let damaged = |e: osmpbf::Error| {
            if index == 0 {
                format_error(format!("not an OpenStreetMap PBF file: {e}"))
            } else {
                format_error(format!(
                    "the file is truncated or damaged at block {index}: {e}"
                ))
            }
        };
        let blob = blob.map_err(damaged)?;
        if let Some(offset) = blob.offset() {
            progress
                .bytes_done
                .store(base + offset.0, Ordering::Relaxed);
        }
        match blob.decode().map_err(damaged)? {
            BlobDecode::OsmHeader(_) => {}
            _ if index == 0 => {
                return Err(format_error(
                    "not an OpenStreetMap PBF file: it does not start with an OSM header block"
                        .to_string(),
                ));
            }
            BlobDecode::OsmData(block) => visit(&block),
            BlobDecode::Unknown(_) => {}
        }
    }
    Ok(())
}

/// One output layer being filled.
struct ThemeLayer {
    layer: Layer,
    fields: &'static [&'static str],
    kinds: Vec<LayerKind>,
}

impl ThemeLayer {
    fn new(path: &Path, name: &str, kind: LayerKind, fields: &'static [&'static str]) -> Self {
        ThemeLayer {
            layer: Layer {
                name: name.to_string(),
                path: Some(path.to_owned()),
                kind,
                geometries: Vec::new(),
                attributes: AttributeTable::new(),
                source_index: Vec::new(),
            },
            fields,
            kinds: Vec::new(),
        }
    }

    fn push(
        &mut self,
        geometry: Geometry<f64>,
        osm_id: i64,
        osm_type: &str,
        values: &[Option<Box<str>>],
    ) {
        let index = self.layer.geometries.len();
        self.layer.geometries.push(geometry);
        self.layer.source_index.push(index as u32);
        if self.fields == AMENITY_FIELDS {
            let amenity = values.first().and_then(|v| v.as_deref()).unwrap_or("");
            self.kinds.push(amenity_kind(amenity));
        }
        let id_text = format!("{osm_type}/{osm_id}");
        let row = std::iter::once(("osm_id", ValueRef::Text(&id_text))).chain(
            self.fields.iter().zip(values).map(|(field, value)| {
                (
                    *field,
                    value.as_deref().map_or(ValueRef::Null, ValueRef::Text),
                )
            }),
        );
        self.layer.attributes.push_row(row);
    }

    /// The finished layer; an amenities layer whose features are all one kind takes that kind.
    fn finish(mut self) -> Loaded {
        if let Some(&first) = self.kinds.first()
            && self.kinds.iter().all(|&k| k == first)
        {
            self.layer.kind = first;
        }
        Loaded {
            layer: self.layer,
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ways_are_themed_by_their_tags() {
        let tags = |pairs: &[(&'static str, &'static str)]| Tags::read(pairs.iter().copied());
        assert_eq!(
            tags(&[("highway", "primary")]).way_theme(false),
            Some(Theme::Road)
        );
        assert_eq!(tags(&[("highway", "proposed")]).way_theme(false), None);
        assert_eq!(
            tags(&[("highway", "pedestrian"), ("area", "yes")]).way_theme(true),
            None
        );
        assert_eq!(
            tags(&[("waterway", "canal")]).way_theme(false),
            Some(Theme::WaterLine)
        );
        assert_eq!(tags(&[("natural", "water")]).way_theme(false), None);
        assert_eq!(
            tags(&[("natural", "water")]).way_theme(true),
            Some(Theme::WaterArea)
        );
        assert_eq!(
            tags(&[("amenity", "school")]).way_theme(true),
            Some(Theme::AmenityArea)
        );
        assert_eq!(tags(&[("amenity", "bench")]).way_theme(true), None);
        assert_eq!(
            tags(&[("emergency", "assembly_point")]).amenity_value(),
            Some("assembly_point")
        );
        assert_eq!(amenity_kind("kindergarten"), LayerKind::School);
    }
}
