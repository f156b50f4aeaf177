//! Checks the bundled Zhoucun demo (`maps/zhoucun/`) against the figures in the district's
//! emergency plan and the promises of its README: counts, lengths, areas, a connected and
//! properly noded road network, and every feature inside the district border.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use geo::line_intersection::{LineIntersection, line_intersection};
use geo::{
    Contains, CoordsIter, Distance, Geodesic, GeodesicArea, Geometry, Length, Line, LineString,
    MultiPolygon, Point,
};
use onemap::io::{Progress, load_path};
use onemap::model::{Layer, LayerKind, ValueRef};
use rstar::RTree;
use rstar::primitives::GeomWithData;

/// The resident population the demo distributes (documented in maps/zhoucun/README.md).
const POPULATION_TOTAL: f64 = 384_000.0;
const WANGCUN_CENTRE: (f64, f64) = (117.733_333, 36.683_333);

const FILES: [(&str, LayerKind); 22] = [
    ("fire_stations", LayerKind::FireStation),
    ("shelters", LayerKind::Shelter),
    ("geohazard_points", LayerKind::GeohazardPoint),
    ("waterlogging_spots", LayerKind::WaterloggingSpot),
    ("reservoirs", LayerKind::Reservoir),
    ("ponds", LayerKind::Pond),
    ("rivers", LayerKind::River),
    ("water", LayerKind::Water),
    ("forest", LayerKind::Forest),
    ("pipelines", LayerKind::Pipeline),
    ("hazchem_enterprises", LayerKind::HazchemEnterprise),
    ("major_hazard_sources", LayerKind::MajorHazardSource),
    ("mines", LayerKind::Mine),
    ("mined_out_areas", LayerKind::MinedOutArea),
    ("hospitals", LayerKind::Hospital),
    ("schools", LayerKind::School),
    ("district_border", LayerKind::DistrictBorder),
    ("neighbour_borders", LayerKind::NeighbourBorder),
    ("divisions", LayerKind::Division),
    ("roads", LayerKind::Road),
    ("population", LayerKind::Population),
    ("builtup", LayerKind::BuiltUp),
];

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/zhoucun")
}

fn load(stem: &str) -> Layer {
    let path = demo_dir().join(format!("{stem}.geojson"));
    let loaded = load_path(&path, &Progress::default()).unwrap();
    assert!(
        loaded.warnings.is_empty(),
        "{stem}: unexpected warnings: {:?}",
        loaded.warnings
    );
    assert!(!loaded.layer.geometries.is_empty(), "{stem}: no features");
    loaded.layer
}

fn text<'a>(layer: &'a Layer, row: usize, field: &str) -> &'a str {
    match layer.attributes.get(row, field) {
        ValueRef::Text(s) => s,
        other => panic!("{}: feature {row}: {field} is {other:?}", layer.name),
    }
}

fn number(layer: &Layer, row: usize, field: &str) -> f64 {
    layer
        .attributes
        .get(row, field)
        .as_f64()
        .unwrap_or_else(|| panic!("{}: feature {row}: {field} is not a number", layer.name))
}

fn flag(layer: &Layer, row: usize, field: &str) -> bool {
    matches!(layer.attributes.get(row, field), ValueRef::Bool(true))
}

fn sum(layer: &Layer, field: &str) -> f64 {
    (0..layer.attributes.len())
        .map(|row| number(layer, row, field))
        .sum()
}

fn points(layer: &Layer) -> Vec<Point<f64>> {
    layer
        .geometries
        .iter()
        .map(|g| match g {
            Geometry::Point(p) => *p,
            other => panic!("{}: expected points, found {other:?}", layer.name),
        })
        .collect()
}

fn line_strings(layer: &Layer) -> Vec<&LineString<f64>> {
    layer
        .geometries
        .iter()
        .map(|g| match g {
            Geometry::LineString(l) => l,
            other => panic!("{}: expected line strings, found {other:?}", layer.name),
        })
        .collect()
}

fn geodesic_area_m2(layer: &Layer) -> f64 {
    layer
        .geometries
        .iter()
        .map(|g| match g {
            Geometry::Polygon(p) => p.geodesic_area_unsigned(),
            Geometry::MultiPolygon(p) => p.geodesic_area_unsigned(),
            other => panic!("{}: expected polygons, found {other:?}", layer.name),
        })
        .sum()
}

fn metres(a: Point<f64>, b: Point<f64>) -> f64 {
    Geodesic.distance(a, b)
}

fn border() -> MultiPolygon<f64> {
    let layer = load("district_border");
    assert_eq!(layer.geometries.len(), 1);
    match &layer.geometries[0] {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(m) => m.clone(),
        other => panic!("district border is {other:?}"),
    }
}

#[test]
fn every_file_loads_without_warnings_with_its_kind_and_unique_ids() {
    let mut total_bytes = 0;
    for (stem, kind) in FILES {
        let layer = load(stem);
        assert_eq!(layer.kind, kind, "{stem}");
        let path = demo_dir().join(format!("{stem}.geojson"));
        let raw: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(raw["onemap_kind"], kind.key(), "{stem}: onemap_kind");
        assert!(
            raw["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{stem}: name"
        );
        let mut ids = HashSet::new();
        for row in 0..layer.attributes.len() {
            let id = layer.attributes.get(row, "id").to_string();
            assert!(id != "null" && ids.insert(id.clone()), "{stem}: id {id}");
            // Roads are named where sensible (not every back street has a name).
            if kind != LayerKind::Road {
                assert!(
                    !text(&layer, row, "name").is_empty(),
                    "{stem}: row {row} name"
                );
            }
        }
        total_bytes += std::fs::metadata(&path).unwrap().len();
    }
    assert!(total_bytes < 8_000_000, "demo is {total_bytes} bytes");
}

#[test]
fn counts_match_the_emergency_plan() {
    let stations = load("fire_stations");
    assert_eq!(stations.geometries.len(), 5);
    assert_eq!(sum(&stations, "trucks"), 17.0);
    assert_eq!(sum(&stations, "personnel"), 128.0);

    let geohazards = load("geohazard_points");
    assert_eq!(points(&geohazards).len(), 9);
    let kinds = ["landslide", "collapse", "debris_flow", "subsidence"];
    for row in 0..9 {
        assert!(kinds.contains(&text(&geohazards, row, "type")));
    }

    let builtup = load("builtup");
    let in_builtup = |p: &Point<f64>| builtup.geometries.iter().any(|g| g.contains(p));
    let remote = points(&geohazards)
        .iter()
        .filter(|p| !in_builtup(p))
        .count();
    assert_eq!(remote, 9, "geological hazard points in the city");

    let waterlogging = load("waterlogging_spots");
    assert_eq!(points(&waterlogging).len(), 5);
    assert!(points(&waterlogging).iter().all(in_builtup));
    assert!((0..5).all(|row| number(&waterlogging, row, "depth_m") > 0.0));

    assert_eq!(load("reservoirs").geometries.len(), 4);
    let ponds = load("ponds");
    assert!(ponds.geometries.len() >= 50);
    assert!(sum(&ponds, "capacity_m3") > 0.0);

    let rivers = load("rivers");
    assert_eq!(line_strings(&rivers).len(), 5);
    let names: HashSet<&str> = (0..5).map(|row| text(&rivers, row, "name")).collect();
    for river in ["孝妇河", "米河", "涿河", "淦河"] {
        assert!(names.contains(river), "missing {river}");
    }

    let hospitals = load("hospitals");
    let names: HashSet<&str> = (0..hospitals.attributes.len())
        .map(|row| text(&hospitals, row, "name"))
        .collect();
    let expected = HashSet::from([
        "解放军第960医院淄博院区",
        "淄博市中医医院",
        "周村区人民医院",
    ]);
    assert_eq!(names, expected);

    let schools = load("schools");
    assert!((20..=40).contains(&schools.geometries.len()));
    assert!((0..schools.attributes.len()).all(|row| number(&schools, row, "students") > 0.0));

    let divisions = load("divisions");
    assert_eq!(points(&divisions).len(), 10);
    let levels: Vec<&str> = (0..10).map(|row| text(&divisions, row, "level")).collect();
    assert_eq!(levels.iter().filter(|l| **l == "街道").count(), 5);
    assert_eq!(levels.iter().filter(|l| **l == "镇").count(), 5);
    assert!((0..10).all(|row| text(&divisions, row, "code").starts_with("370306")));
}

#[test]
fn shelters_have_area_and_capacity_at_two_and_a_half_square_metres_a_person() {
    let shelters = load("shelters");
    assert!((15..=25).contains(&shelters.geometries.len()));
    for row in 0..shelters.attributes.len() {
        let area = number(&shelters, row, "area_m2");
        let capacity = number(&shelters, row, "capacity");
        assert_eq!(capacity, (area / 2.5).floor(), "shelter {row}");
        let kind = text(&shelters, row, "type");
        assert!(["emergency", "fixed", "central"].contains(&kind));
    }
}

#[test]
fn thirty_of_the_138_hazchem_enterprises_are_major_hazard_sources() {
    let hazchem = load("hazchem_enterprises");
    assert_eq!(points(&hazchem).len(), 138);
    let categories = ["produce", "use", "store", "trade"];
    let mut flagged = HashMap::new();
    for (row, p) in points(&hazchem).into_iter().enumerate() {
        assert!(categories.contains(&text(&hazchem, row, "category")));
        if flag(&hazchem, row, "major_hazard") {
            let level = number(&hazchem, row, "hazard_level");
            assert!((1.0..=4.0).contains(&level));
            flagged.insert(text(&hazchem, row, "id").to_owned(), p);
        }
    }
    assert_eq!(flagged.len(), 30);

    let majors = load("major_hazard_sources");
    assert_eq!(points(&majors).len(), 30);
    for (row, p) in points(&majors).into_iter().enumerate() {
        let id = text(&majors, row, "id");
        assert_eq!(flagged.get(id), Some(&p), "major hazard source {id}");
        assert!((1.0..=4.0).contains(&number(&majors, row, "hazard_level")));
    }
}

#[test]
fn mines_and_mined_out_areas_are_in_wangcun() {
    let centre = Point::new(WANGCUN_CENTRE.0, WANGCUN_CENTRE.1);
    let mines = load("mines");
    assert_eq!(points(&mines).len(), 4);
    for p in points(&mines) {
        assert!(metres(p, centre) < 6_000.0, "mine at {p:?}");
    }
    let goafs = load("mined_out_areas");
    assert!(goafs.geometries.len() >= 4);
    for g in &goafs.geometries {
        assert!(matches!(g, Geometry::Polygon(_)));
        for c in g.coords_iter() {
            assert!(metres(Point::from(c), centre) < 6_000.0);
        }
    }
}

#[test]
fn forest_covers_about_8000_mu() {
    let area = geodesic_area_m2(&load("forest"));
    assert!((5.0e6..=5.6e6).contains(&area), "forest {area} m2");
}

#[test]
fn pipelines_total_37_815_km() {
    let pipelines = load("pipelines");
    let total: f64 = line_strings(&pipelines)
        .iter()
        .map(|l| Geodesic.length(*l))
        .sum();
    assert!((total - 37_815.0).abs() <= 100.0, "pipelines {total} m");
    for row in 0..pipelines.attributes.len() {
        assert!(["oil", "gas"].contains(&text(&pipelines, row, "medium")));
        assert!(!text(&pipelines, row, "operator").is_empty());
    }
}

#[test]
fn population_sums_to_the_documented_total() {
    let population = load("population");
    assert_eq!(sum(&population, "population"), POPULATION_TOTAL);
    // Dense in the built-up area, thin elsewhere.
    let builtup = load("builtup");
    let inside: f64 = points(&population)
        .iter()
        .enumerate()
        .filter(|(_, p)| builtup.geometries.iter().any(|g| g.contains(*p)))
        .map(|(row, _)| number(&population, row, "population"))
        .sum();
    assert!(
        inside > POPULATION_TOTAL / 2.0,
        "built-up population {inside}"
    );
    let area = geodesic_area_m2(&builtup);
    assert!((25.0e6..=40.0e6).contains(&area), "built-up area {area} m2");
}

#[test]
fn border_is_simplified_and_neighbours_are_labelled() {
    let border = border();
    let vertices: usize = border.coords_count();
    assert!(vertices <= 300, "border has {vertices} vertices");
    // Faithful: the real district is 307.5 km2.
    let area = border.geodesic_area_unsigned();
    assert!((area / 307.5e6 - 1.0).abs() < 0.01, "border area {area} m2");

    let neighbours = load("neighbour_borders");
    assert_eq!(neighbours.geometries.len(), 5);
    // Zhoucun is surrounded by these five, and they were simplified with its vertices, so
    // each of its border vertices is also a vertex of a neighbour: no slivers or gaps.
    let neighbour_vertices: HashSet<Key> = neighbours
        .geometries
        .iter()
        .flat_map(|g| g.coords_iter())
        .map(key)
        .collect();
    for c in border.coords_iter() {
        assert!(neighbour_vertices.contains(&key(c)), "border vertex {c:?}");
    }
    for (row, g) in neighbours.geometries.iter().enumerate() {
        assert!(g.coords_count() <= 300);
        assert!(!text(&neighbours, row, "adcode").is_empty());
        assert!(!text(&neighbours, row, "name_en").is_empty());
        assert!(!text(&neighbours, row, "attribution").is_empty());
    }
}

/// Every vertex strictly inside, and no edge crossing the border: the feature is inside.
/// (Cheaper than a full DE-9IM `contains` per road, and as strict for these shapes.)
#[test]
fn every_feature_lies_inside_the_district_border() {
    let border = border();
    let border_edges: Vec<Line<f64>> = border
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.lines())
        .collect();
    let edge_tree = RTree::bulk_load(border_edges);
    for (stem, _) in FILES {
        if stem == "district_border" || stem == "neighbour_borders" {
            continue;
        }
        let layer = load(stem);
        for (row, g) in layer.geometries.iter().enumerate() {
            for c in g.coords_iter() {
                assert!(
                    border.contains(&Point::from(c)),
                    "{stem}: feature {row}: vertex {c:?} is outside the border"
                );
            }
            let edges: Vec<Line<f64>> = match g {
                Geometry::Point(_) => Vec::new(),
                Geometry::LineString(l) => l.lines().collect(),
                Geometry::Polygon(p) => p.exterior().lines().collect(),
                other => panic!("{stem}: feature {row}: unexpected {other:?}"),
            };
            for e in edges {
                let crossing = edge_tree
                    .locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(&e))
                    .any(|b| line_intersection(e, *b).is_some());
                assert!(
                    !crossing,
                    "{stem}: feature {row}: edge {e:?} crosses the border"
                );
            }
        }
    }
}

type Key = (u64, u64);

fn key(c: geo::Coord<f64>) -> Key {
    (c.x.to_bits(), c.y.to_bits())
}

fn find(parent: &mut HashMap<Key, Key>, mut k: Key) -> Key {
    while let Some(&p) = parent.get(&k) {
        if p == k {
            break;
        }
        k = p;
    }
    k
}

#[test]
fn road_network_is_connected_dense_and_reaches_every_division() {
    let roads = load("roads");
    let lines = line_strings(&roads);
    assert!(
        (3_000..=8_000).contains(&lines.len()),
        "{} road features",
        lines.len()
    );
    let classes = [
        "motorway",
        "motorway_link",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "residential",
        "unclassified",
        "service",
    ];
    for row in 0..roads.attributes.len() {
        assert!(classes.contains(&text(&roads, row, "highway")));
    }
    assert!((0..roads.attributes.len()).any(|row| text(&roads, row, "name") == "G20济青高速"));

    let mut parent: HashMap<Key, Key> = HashMap::new();
    for l in &lines {
        for c in l.coords() {
            parent.entry(key(*c)).or_insert(key(*c));
        }
        for w in l.0.windows(2) {
            let (a, b) = (find(&mut parent, key(w[0])), find(&mut parent, key(w[1])));
            if a != b {
                parent.insert(a, b);
            }
        }
    }
    let nodes: Vec<Key> = parent.keys().copied().collect();
    let roots: HashSet<Key> = nodes.iter().map(|k| find(&mut parent, *k)).collect();
    assert_eq!(
        roots.len(),
        1,
        "road network has {} components",
        roots.len()
    );

    let divisions = load("divisions");
    for (row, d) in points(&divisions).into_iter().enumerate() {
        let nearest = lines
            .iter()
            .flat_map(|l| l.points())
            .map(|p| metres(p, d))
            .fold(f64::INFINITY, f64::min);
        assert!(nearest < 500.0, "division {row} is {nearest} m from a road");
    }
}

/// At-grade roads meet only at shared vertices; the only crossings without one are bridges.
#[test]
fn roads_share_vertices_at_junctions_but_not_at_bridges() {
    let roads = load("roads");
    let lines = line_strings(&roads);
    let is_bridge: Vec<bool> = (0..lines.len())
        .map(|row| matches!(roads.attributes.get(row, "bridge"), ValueRef::Text("yes")))
        .collect();
    let segments: Vec<GeomWithData<Line<f64>, usize>> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.lines().map(move |s| GeomWithData::new(s, i)))
        .collect();
    let tree = RTree::bulk_load(segments.clone());
    let mut bridge_crossings = 0;
    for s in &segments {
        for t in tree.locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(s.geom())) {
            if s.data >= t.data {
                continue;
            }
            let Some(LineIntersection::SinglePoint { is_proper, .. }) =
                line_intersection(*s.geom(), *t.geom())
            else {
                continue;
            };
            if !is_proper {
                continue;
            }
            assert!(
                is_bridge[s.data] || is_bridge[t.data],
                "roads {} and {} cross without a junction",
                s.data,
                t.data
            );
            let shared = lines[s.data]
                .coords()
                .any(|a| lines[t.data].coords().any(|b| a == b));
            assert!(
                !shared,
                "bridge {} shares a vertex with road {}",
                s.data, t.data
            );
            bridge_crossings += 1;
        }
    }
    assert!(
        bridge_crossings >= 3,
        "{bridge_crossings} grade-separated crossings"
    );
}
