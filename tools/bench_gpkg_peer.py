#!/usr/bin/env python3
"""Peer figure for benches/gpkg_load.rs: geopandas (pyogrio/GDAL) reading polys_100k.gpkg.

Creates <data>/polys_100k.gpkg from <data>/polys_100k.geojson with geopandas when it is missing
(the very file the criterion bench reads), then times geopandas.read_file on it and prints the
median of 5 runs. Run it in the same session as the bench:

    /tmp/benchenv/bin/python tools/bench_gpkg_peer.py /work/bench-data
    ONEMAP_BENCH_DATA=/work/bench-data cargo bench --bench gpkg_load

Needs geopandas and pyogrio (pip install geopandas pyogrio).
"""

import statistics
import sys
import time
from pathlib import Path

import geopandas


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/bench-data")
    source = data / "polys_100k.geojson"
    target = data / "polys_100k.gpkg"
    if not target.exists() or "--rebuild" in sys.argv:
        frame = geopandas.read_file(source, engine="pyogrio")
        target.unlink(missing_ok=True)
        frame.to_file(target, driver="GPKG", engine="pyogrio", layer="polys_100k")
        print(f"wrote {target} ({len(frame)} features)")
    times = []
    count = 0
    for _ in range(5):
        start = time.perf_counter()
        frame = geopandas.read_file(target, engine="pyogrio")
        times.append(time.perf_counter() - start)
        count = len(frame)
    print(
        f"geopandas {geopandas.__version__} read_file {target.name}: {count} features, "
        f"median {statistics.median(times) * 1000:.1f} ms of 5 "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})"
    )


if __name__ == "__main__":
    main()
