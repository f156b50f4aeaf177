//! Every index query checked against brute force over all features, on seeded random layers
//! of points, lines, polygons with holes and multi-geometries, near Zhoucun and worldwide
//! (poles and antimeridian included).
#![allow(clippy::unwrap_used)]

use geo::{
    BoundingRect, Coord, Destination, Distance, Geometry, GeometryCollection, Haversine,
    Intersects, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, Rect,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::LayerIndex;
use super::sphere::{Origin, hav_to_m};

const LON0: f64 = 117.87;
const LAT0: f64 = 36.80;

/// Where a random layer lives.
#[derive(Clone, Copy)]
enum Region {
    /// A 0.3° square around Zhoucun.
    Local,
    /// Anywhere, with extra weight near the poles and the antimeridian.
    World,
}

fn random_coord(rng: &mut ChaCha8Rng, region: Region) -> Coord<f64> {
    match region {
        Region::Local => Coord {
            x: LON0 + rng.random_range(-0.15..0.15),
            y: LAT0 + rng.random_range(-0.15..0.15),
        },
        Region::World => match rng.random_range(0..4) {
            0 => Coord {
                x: rng.random_range(-180.0..180.0),
                y: rng.random_range(-89.9..89.9),
            },
            1 => Coord {
                x: rng.random_range(-180.0..180.0),
                y: if rng.random_bool(0.5) { 1.0 } else { -1.0 } * rng.random_range(85.0..89.99),
            },
            _ => Coord {
                x: if rng.random_bool(0.5) { 1.0 } else { -1.0 } * rng.random_range(178.0..180.0),
                y: rng.random_range(-70.0..70.0),
            },
        },
    }
}

/// A step of up to `max` degrees that keeps latitude on the globe.
fn near(rng: &mut ChaCha8Rng, c: Coord<f64>, max: f64) -> Coord<f64> {
    Coord {
        x: c.x + rng.random_range(-max..max),
        y: (c.y + rng.random_range(-max..max)).clamp(-89.99, 89.99),
    }
}

fn random_line(rng: &mut ChaCha8Rng, region: Region) -> LineString<f64> {
    let mut c = random_coord(rng, region);
    let n = rng.random_range(2..7);
    let mut coords = vec![c];
    for _ in 1..n {
        c = near(rng, c, 0.01);
        coords.push(c);
    }
    LineString::new(coords)
}

/// A star-shaped ring around `centre` with radius between `r_min` and `r_max` degrees.
fn star_ring(rng: &mut ChaCha8Rng, centre: Coord<f64>, r_min: f64, r_max: f64) -> LineString<f64> {
    let n = rng.random_range(6..12);
    let mut angles: Vec<f64> = (0..n)
        .map(|_| rng.random_range(0.0..std::f64::consts::TAU))
        .collect();
    angles.sort_by(f64::total_cmp);
    let mut coords: Vec<Coord<f64>> = angles
        .iter()
        .map(|a| {
            let r = rng.random_range(r_min..r_max);
            Coord {
                x: centre.x + r * a.cos(),
                y: centre.y + r * a.sin(),
            }
        })
        .collect();
    coords.push(coords[0]);
    LineString::new(coords)
}

fn random_polygon(rng: &mut ChaCha8Rng, region: Region) -> Polygon<f64> {
    let mut centre = random_coord(rng, region);
    centre.y = centre.y.clamp(-89.0, 89.0);
    let r = rng.random_range(0.001..0.02);
    let exterior = star_ring(rng, centre, 0.6 * r, r);
    let holes = if rng.random_bool(0.5) {
        vec![star_ring(rng, centre, 0.1 * r, 0.3 * r)]
    } else {
        Vec::new()
    };
    Polygon::new(exterior, holes)
}

fn random_geometry(rng: &mut ChaCha8Rng, region: Region) -> Geometry<f64> {
    match rng.random_range(0..8) {
        0 | 1 => Geometry::Point(Point::from(random_coord(rng, region))),
        2 => Geometry::LineString(random_line(rng, region)),
        3 => Geometry::Polygon(random_polygon(rng, region)),
        4 => {
            let c = random_coord(rng, region);
            let pts = (0..3).map(|_| Point::from(near(rng, c, 0.01))).collect();
            Geometry::MultiPoint(MultiPoint::new(pts))
        }
        5 => Geometry::MultiLineString(MultiLineString::new(vec![
            random_line(rng, region),
            random_line(rng, region),
        ])),
        6 => Geometry::MultiPolygon(MultiPolygon::new(vec![
            random_polygon(rng, region),
            random_polygon(rng, region),
        ])),
        _ => Geometry::GeometryCollection(GeometryCollection::new_from(vec![
            Geometry::Point(Point::from(random_coord(rng, region))),
            Geometry::Polygon(random_polygon(rng, region)),
        ])),
    }
}

fn point_layer(rng: &mut ChaCha8Rng, region: Region, n: usize) -> Vec<Geometry<f64>> {
    (0..n)
        .map(|_| Geometry::Point(Point::from(random_coord(rng, region))))
        .collect()
}

fn mixed_layer(rng: &mut ChaCha8Rng, region: Region, n: usize) -> Vec<Geometry<f64>> {
    (0..n).map(|_| random_geometry(rng, region)).collect()
}

/// A query point: anywhere in the region, or right next to a feature.
fn query_point(rng: &mut ChaCha8Rng, region: Region, geoms: &[Geometry<f64>]) -> Point<f64> {
    if rng.random_bool(0.5) && !geoms.is_empty() {
        let g = &geoms[rng.random_range(0..geoms.len())];
        if let Some(r) = g.bounding_rect() {
            return Point::from(near(rng, r.center(), 0.002));
        }
    }
    Point::from(random_coord(rng, region))
}

fn random_radius(rng: &mut ChaCha8Rng, region: Region) -> f64 {
    match (region, rng.random_range(0..3)) {
        (_, 0) => rng.random_range(0.0..100.0),
        (Region::Local, _) => rng.random_range(0.0..5_000.0),
        (Region::World, 1) => rng.random_range(0.0..50_000.0),
        (Region::World, _) => rng.random_range(0.0..3_000_000.0),
    }
}

/// Brute force: every feature's distance in metres with the index's own measure.
fn brute_distances(geoms: &[Geometry<f64>], p: Point<f64>) -> Vec<(usize, f64)> {
    let origin = Origin::new(p.x(), p.y()).unwrap();
    geoms
        .iter()
        .enumerate()
        .map(|(i, g)| (i, hav_to_m(origin.geometry_hav(g))))
        .filter(|(_, d)| d.is_finite())
        .collect()
}

fn check_within(index: &LayerIndex, geoms: &[Geometry<f64>], p: Point<f64>, r: f64) {
    let got = index.within_distance(geoms, p, r);
    let truth = brute_distances(geoms, p);
    let slack = 1e-9 * r + 1e-6;
    for w in got.windows(2) {
        assert!(
            w[0].1 <= w[1].1,
            "not nearest first at {p:?} r={r}: {got:?}"
        );
    }
    let mut got_ids: Vec<usize> = got.iter().map(|x| x.0).collect();
    got_ids.sort_unstable();
    got_ids.dedup();
    assert_eq!(got_ids.len(), got.len(), "duplicates at {p:?} r={r}");
    for &(i, d) in &got {
        let true_d = truth.iter().find(|t| t.0 == i).unwrap().1;
        assert!(
            (d - true_d).abs() <= 1e-9 * true_d + 1e-6,
            "feature {i}: {d} vs {true_d}"
        );
        assert!(
            d <= r + slack,
            "feature {i} at {d} m beyond r={r} from {p:?}"
        );
    }
    for &(i, d) in &truth {
        if d <= r - slack {
            assert!(
                got_ids.binary_search(&i).is_ok(),
                "feature {i} at {d} m missed for r={r} from {p:?}"
            );
        }
    }
}

fn check_nearest(index: &LayerIndex, geoms: &[Geometry<f64>], p: Point<f64>, k: usize) {
    let got = index.nearest(geoms, p, k);
    let mut truth = brute_distances(geoms, p);
    truth.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(got.len(), k.min(truth.len()), "k={k} at {p:?}");
    let mut ids: Vec<usize> = got.iter().map(|x| x.0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "duplicates for k={k} at {p:?}");
    for (j, &(i, d)) in got.iter().enumerate() {
        let expected = truth[j].1;
        assert!(
            (d - expected).abs() <= 1e-9 * expected + 1e-6,
            "rank {j}: got feature {i} at {d} m, brute force has {expected} m (k={k}, {p:?})"
        );
        let own = truth.iter().find(|t| t.0 == i).unwrap().1;
        assert!(
            (d - own).abs() <= 1e-9 * own + 1e-6,
            "feature {i}: {d} vs {own}"
        );
    }
}

fn random_rect(rng: &mut ChaCha8Rng, region: Region) -> Rect<f64> {
    let a = random_coord(rng, region);
    let size = match region {
        Region::Local => rng.random_range(0.0..0.1),
        Region::World => rng.random_range(0.0..5.0),
    };
    let b = near(rng, a, size);
    Rect::new(a, b)
}

fn check_boxes(index: &LayerIndex, geoms: &[Geometry<f64>], rect: Rect<f64>) {
    let mut candidates = index.candidates_in_bbox(rect);
    candidates.sort_unstable();
    let expected: Vec<usize> = (0..geoms.len())
        .filter(|&i| {
            super::general::coords_box(&geoms[i])
                .is_some_and(|(min, max)| Rect::new(min, max).intersects(&rect))
        })
        .collect();
    assert_eq!(candidates, expected, "candidates in {rect:?}");
    let exact = index.in_bbox(geoms, rect);
    let expected: Vec<usize> = (0..geoms.len())
        .filter(|&i| geoms[i].intersects(&rect))
        .collect();
    assert_eq!(exact, expected, "in_bbox {rect:?}");
}

fn check_polygon(index: &LayerIndex, geoms: &[Geometry<f64>], polygon: &Polygon<f64>) {
    let got = index.in_polygon(geoms, polygon);
    let expected: Vec<usize> = (0..geoms.len())
        .filter(|&i| geoms[i].intersects(polygon))
        .collect();
    assert_eq!(got, expected, "in_polygon");
}

fn query_polygon(rng: &mut ChaCha8Rng, region: Region) -> Polygon<f64> {
    let mut centre = random_coord(rng, region);
    centre.y = centre.y.clamp(-85.0, 85.0);
    let r = match region {
        Region::Local => rng.random_range(0.005..0.08),
        Region::World => rng.random_range(0.5..4.0),
    };
    let exterior = star_ring(rng, centre, 0.3 * r, r);
    let holes = if rng.random_bool(0.5) {
        vec![star_ring(rng, centre, 0.05 * r, 0.25 * r)]
    } else {
        Vec::new()
    };
    Polygon::new(exterior, holes)
}

fn run_all_queries(seed: u64, region: Region, geoms: &[Geometry<f64>], queries: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let index = LayerIndex::build(geoms);
    assert_eq!(index.len(), geoms.len());
    for _ in 0..queries {
        let p = query_point(&mut rng, region, geoms);
        let r = random_radius(&mut rng, region);
        check_within(&index, geoms, p, r);
        let tol = rng.random_range(0.0..300.0);
        let at: Vec<usize> = index
            .within_distance(geoms, p, tol)
            .iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(index.at_point(geoms, p, tol), at);
        let k = match rng.random_range(0..3) {
            0 => 1,
            1 => rng.random_range(1..20),
            _ => rng.random_range(0..geoms.len() + 5),
        };
        check_nearest(&index, geoms, p, k);
        check_boxes(&index, geoms, random_rect(&mut rng, region));
        check_polygon(&index, geoms, &query_polygon(&mut rng, region));
    }
}

#[test]
fn local_points_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let geoms = point_layer(&mut rng, Region::Local, 3000);
    run_all_queries(2, Region::Local, &geoms, 150);
}

#[test]
fn world_points_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let geoms = point_layer(&mut rng, Region::World, 2000);
    run_all_queries(4, Region::World, &geoms, 150);
}

#[test]
fn local_mixed_geometries_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let geoms = mixed_layer(&mut rng, Region::Local, 1500);
    run_all_queries(6, Region::Local, &geoms, 120);
}

#[test]
fn world_mixed_geometries_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let geoms = mixed_layer(&mut rng, Region::World, 1000);
    run_all_queries(8, Region::World, &geoms, 120);
}

#[test]
fn point_distances_agree_with_geo_haversine() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for region in [Region::Local, Region::World] {
        let geoms = point_layer(&mut rng, region, 2000);
        let index = LayerIndex::build(&geoms);
        for _ in 0..50 {
            let p = query_point(&mut rng, region, &geoms);
            let r = random_radius(&mut rng, region);
            let got = index.within_distance(&geoms, p, r);
            let mut got_ids: Vec<usize> = got.iter().map(|x| x.0).collect();
            got_ids.sort_unstable();
            for (i, g) in geoms.iter().enumerate() {
                let Geometry::Point(q) = g else {
                    unreachable!()
                };
                let d = Haversine.distance(p, *q);
                let listed = got_ids.binary_search(&i).is_ok();
                if (d - r).abs() > 1e-6 * r.max(1.0) {
                    assert_eq!(listed, d <= r, "point {i} at {d} m, r={r}, from {p:?}");
                }
                if let Some(&(_, dd)) = got.iter().find(|x| x.0 == i) {
                    assert!((dd - d).abs() <= 1e-9 * d + 1e-6, "point {i}: {dd} vs {d}");
                }
            }
        }
    }
}

/// Independent oracle for a geometry's distance: geo's Haversine to finely sampled edges,
/// geo's Intersects for polygon insideness. Returns (distance, largest sampling gap in m).
fn sampled_distance(g: &Geometry<f64>, p: Point<f64>) -> (f64, f64) {
    fn sample_line(ls: &LineString<f64>, p: Point<f64>, best: &mut (f64, f64)) {
        for w in ls.0.windows(2) {
            const STEPS: usize = 400;
            let step = Haversine.distance(Point::from(w[0]), Point::from(w[1])) / STEPS as f64;
            best.1 = best.1.max(step);
            for s in 0..=STEPS {
                let t = s as f64 / STEPS as f64;
                let c = Point::new(
                    w[0].x + t * (w[1].x - w[0].x),
                    w[0].y + t * (w[1].y - w[0].y),
                );
                best.0 = best.0.min(Haversine.distance(p, c));
            }
        }
        if let [only] = ls.0.as_slice() {
            best.0 = best.0.min(Haversine.distance(p, Point::from(*only)));
        }
    }
    fn polygon(poly: &Polygon<f64>, p: Point<f64>, best: &mut (f64, f64)) {
        if poly.intersects(&p) {
            best.0 = 0.0;
        }
        sample_line(poly.exterior(), p, best);
        for hole in poly.interiors() {
            sample_line(hole, p, best);
        }
    }
    let mut best = (f64::INFINITY, 0.0);
    match g {
        Geometry::Point(q) => best.0 = Haversine.distance(p, *q),
        Geometry::MultiPoint(mp) => {
            for q in mp {
                best.0 = best.0.min(Haversine.distance(p, *q));
            }
        }
        Geometry::LineString(ls) => sample_line(ls, p, &mut best),
        Geometry::MultiLineString(mls) => mls.iter().for_each(|ls| sample_line(ls, p, &mut best)),
        Geometry::Polygon(poly) => polygon(poly, p, &mut best),
        Geometry::MultiPolygon(mp) => mp.iter().for_each(|poly| polygon(poly, p, &mut best)),
        Geometry::GeometryCollection(gc) => {
            for inner in gc {
                let (d, gap) = sampled_distance(inner, p);
                best.0 = best.0.min(d);
                best.1 = f64::max(best.1, gap);
            }
        }
        other => panic!("not generated: {other:?}"),
    }
    best
}

#[test]
fn geometry_distances_agree_with_sampled_haversine() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    for region in [Region::Local, Region::World] {
        let geoms = mixed_layer(&mut rng, region, 300);
        for _ in 0..20 {
            let p = query_point(&mut rng, region, &geoms);
            let origin = Origin::new(p.x(), p.y()).unwrap();
            for g in &geoms {
                let ours = hav_to_m(origin.geometry_hav(g));
                let (sampled, gap) = sampled_distance(g, p);
                // Ours is the exact minimum (up to a second-order frame error); sampling
                // can only overshoot it, by at most half a sampling step.
                assert!(
                    ours <= sampled * (1.0 + 1e-4) + 1e-6,
                    "{ours} > {sampled} for {g:?}"
                );
                assert!(
                    ours >= sampled - gap / 2.0 - 1e-6,
                    "{ours} << {sampled} for {g:?}"
                );
            }
        }
    }
}

#[test]
fn radius_boxes_contain_the_whole_circle() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..20_000 {
        let c = random_coord(&mut rng, Region::World);
        let r = random_radius(&mut rng, Region::World);
        let origin = Origin::new(c.x, c.y).unwrap();
        let boxes = origin.boxes_within(r);
        let bearing = rng.random_range(0.0..360.0);
        let d = r * rng.random_range(0.0..1.0f64).sqrt();
        let q = Haversine.destination(Point::from(c), bearing, d);
        let lon = (q.x() + 180.0).rem_euclid(360.0) - 180.0;
        let inside = boxes
            .as_slice()
            .iter()
            .any(|b| lon >= b[0] && lon <= b[2] && q.y() >= b[1] && q.y() <= b[3]);
        assert!(inside, "{q:?} at {d} m from {c:?} is outside {boxes:?}");
    }
}

#[test]
fn edge_cases_never_panic() {
    let empty: Vec<Geometry<f64>> = Vec::new();
    let index = LayerIndex::build(&empty);
    let p = Point::new(LON0, LAT0);
    assert!(index.is_empty());
    assert!(index.nearest(&empty, p, 3).is_empty());
    assert!(index.within_distance(&empty, p, 1e6).is_empty());
    assert!(index.at_point(&empty, p, 10.0).is_empty());
    let rect = Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 180.0, y: 90.0 });
    assert!(index.in_bbox(&empty, rect).is_empty());

    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for geoms in [
        point_layer(&mut rng, Region::Local, 50),
        mixed_layer(&mut rng, Region::Local, 50),
    ] {
        let index = LayerIndex::build(&geoms);
        assert!(index.nearest(&geoms, p, 0).is_empty());
        assert_eq!(index.nearest(&geoms, p, 500).len(), 50);
        let nan = Point::new(f64::NAN, LAT0);
        assert!(index.nearest(&geoms, nan, 3).is_empty());
        assert!(index.within_distance(&geoms, nan, 100.0).is_empty());
        assert!(index.within_distance(&geoms, p, f64::NAN).is_empty());
        assert!(index.within_distance(&geoms, p, -1.0).is_empty());
        assert!(index.at_point(&geoms, p, f64::NAN).is_empty());
        assert!(index.nearest(&geoms, Point::new(LON0, 91.0), 3).is_empty());
        assert_eq!(index.within_distance(&geoms, p, f64::INFINITY).len(), 50);
        let nan_rect = Rect::new(
            Coord {
                x: f64::NAN,
                y: 0.0,
            },
            Coord { x: 1.0, y: 1.0 },
        );
        assert!(index.candidates_in_bbox(nan_rect).is_empty());
        let nan_poly = Polygon::new(
            LineString::from(vec![
                (f64::NAN, 0.0),
                (1.0, 1.0),
                (0.0, 1.0),
                (f64::NAN, 0.0),
            ]),
            vec![],
        );
        assert!(index.in_polygon(&geoms, &nan_poly).is_empty());
        // Querying with a shorter slice than the index was built from drops, never panics.
        let _ = index.within_distance(&geoms[..10], p, 1e7);
        let _ = index.nearest(&geoms[..10], p, 50);
    }

    // Unindexable features are skipped, indices stay those of the input.
    let geoms = vec![
        Geometry::Point(Point::new(f64::NAN, 1.0)),
        Geometry::Point(Point::new(10.0, 10.0)),
        Geometry::Point(Point::new(10.0, 95.0)),
    ];
    let index = LayerIndex::build(&geoms);
    assert_eq!(index.indexed_len(), 1);
    assert_eq!(index.nearest(&geoms, Point::new(0.0, 0.0), 5).len(), 1);
    assert_eq!(index.nearest(&geoms, Point::new(0.0, 0.0), 5)[0].0, 1);
    let geoms = vec![
        Geometry::LineString(LineString::new(vec![])),
        Geometry::Point(Point::new(10.0, 10.0)),
    ];
    let index = LayerIndex::build(&geoms);
    assert_eq!(index.indexed_len(), 1);
    assert_eq!(index.at_point(&geoms, Point::new(10.0, 10.0), 1.0), vec![1]);
}

#[test]
fn ties_in_nearest_are_reported_by_distance() {
    // Four points at the same distance from the query, plus a duplicate.
    let c = Point::new(LON0, LAT0);
    let geoms: Vec<Geometry<f64>> = [0.0, 90.0, 180.0, 270.0, 0.0]
        .iter()
        .map(|&b| Geometry::Point(Haversine.destination(c, b, 100.0)))
        .collect();
    let index = LayerIndex::build(&geoms);
    let got = index.nearest(&geoms, c, 3);
    assert_eq!(got.len(), 3);
    for (_, d) in got {
        assert!((d - 100.0).abs() < 1e-6, "{d}");
    }
}

#[test]
fn polygon_contains_point_means_distance_zero_and_holes_do_not() {
    let exterior = LineString::from(vec![
        (0.0, 0.0),
        (0.1, 0.0),
        (0.1, 0.1),
        (0.0, 0.1),
        (0.0, 0.0),
    ]);
    let hole = LineString::from(vec![
        (0.04, 0.04),
        (0.06, 0.04),
        (0.06, 0.06),
        (0.04, 0.06),
        (0.04, 0.04),
    ]);
    let geoms = vec![Geometry::Polygon(Polygon::new(exterior, vec![hole]))];
    let index = LayerIndex::build(&geoms);
    assert_eq!(index.at_point(&geoms, Point::new(0.02, 0.02), 0.0), vec![0]);
    // The hole's centre is 0.01° (about 1.1 km) from the hole's edge.
    let centre = Point::new(0.05, 0.05);
    assert!(index.at_point(&geoms, centre, 1000.0).is_empty());
    let d = index.nearest(&geoms, centre, 1)[0].1;
    let expected = Haversine.distance(centre, Point::new(0.05, 0.04));
    assert!((d - expected).abs() < 1e-3 * expected, "{d} vs {expected}");
}
