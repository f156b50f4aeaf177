#!/usr/bin/env python3
"""Writes tests/data/crs_reference.csv: projected coordinates computed by PROJ (via pyproj).

Each row is one point: the EPSG code of a projected CRS, a geographic position on that CRS's own
datum (lon, lat in degrees) and PROJ's easting/northing for it (x = easting, y = northing, metres,
`always_xy=True`). Only the map projection is exercised (geographic CRS of the same datum as
source), so no datum shift is involved; OneMap applies none either.

Usage: python3 -m venv /tmp/benchenv && /tmp/benchenv/bin/pip install pyproj
       /tmp/benchenv/bin/python tools/make_crs_reference.py > tests/data/crs_reference.csv
"""
import random

import pyproj

rng = random.Random(20261128)


def gk_codes():
    """(epsg, geographic epsg, central meridian, half zone width in degrees) of every GK code."""
    out = []
    for base_geo, groups in (
        # CGCS2000
        (4490, [(4491, 13, 6, True), (4502, 75, 6, False), (4513, 25, 3, True), (4534, 75, 3, False)]),
        # Xian 1980
        (4610, [(2327, 13, 6, True), (2338, 75, 6, False), (2349, 25, 3, True), (2370, 75, 3, False)]),
        # Beijing 1954
        (4214, [(21413, 13, 6, True), (21453, 75, 6, False), (2401, 25, 3, True), (2422, 75, 3, False)]),
    ):
        for first, start, width, prefixed in groups:
            count = 11 if width == 6 else 21
            for i in range(count):
                cm = 75 + width * i if width == 3 else 75 + 6 * i
                out.append((first + i, base_geo, cm, width / 2))
    return out


def main():
    print("epsg,lon,lat,x,y")
    codes = gk_codes()
    rows = []
    # Every GK code once, then the common bureau zones many times.
    picks = [c for c in codes] + [c for c in codes if c[0] in (4527, 4548, 4498, 4509, 2363, 2415)] * 12
    for epsg, geo, cm, half in picks:
        lon = cm + rng.uniform(-half, half)
        lat = rng.uniform(18.0, 53.5)
        rows.append((epsg, geo, lon, lat))
    # UTM zones over China (WGS84) and Web Mercator.
    for _ in range(40):
        zone = rng.randint(43, 53)
        lon = -183 + 6 * zone + rng.uniform(-3, 3)
        lat = rng.uniform(18.0, 53.5)
        rows.append((32600 + zone, 4326, lon, lat))
    for _ in range(5):
        zone = rng.randint(43, 53)
        lon = -183 + 6 * zone + rng.uniform(-3, 3)
        lat = rng.uniform(-40.0, -1.0)
        rows.append((32700 + zone, 4326, lon, lat))
    for _ in range(20):
        rows.append((3857, 4326, rng.uniform(73, 135), rng.uniform(-80, 80)))
    transformers = {}
    for epsg, geo, lon, lat in rows:
        key = (geo, epsg)
        if key not in transformers:
            transformers[key] = pyproj.Transformer.from_crs(geo, epsg, always_xy=True)
        x, y = transformers[key].transform(lon, lat)
        print(f"{epsg},{lon:.12f},{lat:.12f},{x:.6f},{y:.6f}")


if __name__ == "__main__":
    main()
