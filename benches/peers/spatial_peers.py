#!/usr/bin/env python3
"""Peer figures for benches/spatial.rs: scipy cKDTree and shapely STRtree on the same 1M
points (points_1m.geojson) and the same kind of queries (10,000 points uniform over the
data's box; numpy's RNG, so not the identical points the Rust bench draws).

usage: /tmp/benchenv/bin/python benches/peers/spatial_peers.py /work/bench-data/points_1m.geojson
Both peers work in local metres (equirectangular about the data's centre), as they have no
geographic metric; prints medians of 5 runs.
"""
import math
import re
import statistics
import sys
import time

import numpy as np
import shapely
from scipy.spatial import cKDTree

RUNS = 5
NQ = 10_000


def median_time(fn):
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(path):
    text = open(path, encoding="utf-8").read()
    xy = np.array(re.findall(r'"coordinates":\[([-0-9.eE]+),([-0-9.eE]+)\]', text), dtype=float)
    del text
    lon, lat = xy[:, 0], xy[:, 1]
    lat0 = 0.5 * (lat.min() + lat.max())
    lon0 = 0.5 * (lon.min() + lon.max())
    r = 6_371_008.8
    kx = math.radians(1) * r * math.cos(math.radians(lat0))
    ky = math.radians(1) * r
    pts = np.column_stack(((lon - lon0) * kx, (lat - lat0) * ky))
    rng = np.random.default_rng(7)
    q = np.column_stack((rng.uniform(pts[:, 0].min(), pts[:, 0].max(), NQ),
                         rng.uniform(pts[:, 1].min(), pts[:, 1].max(), NQ)))
    print(f"{len(pts)} points, {NQ} queries")

    t = median_time(lambda: cKDTree(pts))
    print(f"cKDTree build: {t * 1e3:.0f} ms")
    tree = cKDTree(pts)
    t = median_time(lambda: tree.query(q, k=1))
    print(f"cKDTree nearest k=1: {NQ / t / 1e3:.0f}k queries/s")
    t = median_time(lambda: tree.query_ball_point(q, r=250.0))
    found = sum(len(x) for x in tree.query_ball_point(q, r=250.0))
    print(f"cKDTree within 250 m: {NQ / t / 1e3:.1f}k queries/s "
          f"(mean {found / NQ:.1f} points each, unsorted, no distances)")

    geoms = shapely.points(pts)
    t = median_time(lambda: shapely.STRtree(geoms))
    print(f"STRtree build: {t * 1e3:.0f} ms")
    st = shapely.STRtree(geoms)
    qg = shapely.points(q)
    t = median_time(lambda: st.query_nearest(qg))
    print(f"STRtree nearest: {NQ / t / 1e3:.0f}k queries/s")
    t = median_time(lambda: st.query(qg, predicate="dwithin", distance=250.0))
    print(f"STRtree dwithin 250 m: {NQ / t / 1e3:.1f}k queries/s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/bench-data/points_1m.geojson")
