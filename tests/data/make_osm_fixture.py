#!/usr/bin/env python3
"""Writes tests/data/zhoucun_small.osm.pbf, the fixture of tests/osm_reader.rs.

Needs pyosmium (pip install osmium). Every element below is there for one assertion in the
test: keep the two in step.
"""

from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Relation, Way

OUT = Path(__file__).with_name("zhoucun_small.osm.pbf")

NODES = {
    # roads: a primary road 1-2-3 and a residential road 3-4 sharing node 3
    1: (117.860, 36.800), 2: (117.870, 36.800), 3: (117.880, 36.800), 4: (117.880, 36.810),
    # a proposed road (not kept)
    5: (117.860, 36.790), 6: (117.870, 36.790),
    # a track far east, outside the test's clip box
    20: (118.500, 36.800), 21: (118.510, 36.800),
    # river 30-31-32, a ditch 33-34 (not kept)
    30: (117.850, 36.820), 31: (117.860, 36.825), 32: (117.870, 36.830),
    33: (117.850, 36.830), 34: (117.855, 36.835),
    # a pond (closed natural=water) 40-41-42-40 and an open natural=water way 43-44
    40: (117.890, 36.820), 41: (117.892, 36.820), 42: (117.892, 36.822),
    43: (117.895, 36.820), 44: (117.896, 36.821),
    # a school outline 50-51-52-53-50
    50: (117.870, 36.805), 51: (117.872, 36.805), 52: (117.872, 36.807), 53: (117.870, 36.807),
}

TAGGED_NODES = [
    (100, (117.865, 36.801), {"amenity": "fire_station", "name": "周村消防救援站"}),
    (101, (117.875, 36.802), {"amenity": "hospital", "name": "周村区人民医院"}),
    (102, (117.878, 36.803), {"emergency": "assembly_point", "name": "应急避难场所"}),
    (103, (117.879, 36.803), {"amenity": "bench"}),
    (104, (118.600, 36.900), {"amenity": "clinic", "name": "far clinic"}),
]

WAYS = [
    (1001, [1, 2, 3], {"highway": "primary", "oneway": "yes", "name": "正阳路", "maxspeed": "60", "lanes": "2"}),
    (1002, [3, 4], {"highway": "residential"}),
    (1003, [5, 6], {"highway": "proposed"}),
    (1004, [20, 21], {"highway": "track"}),
    # a road whose middle node is not in the extract: two pieces remain
    (1005, [1, 2, 999, 4, 3], {"highway": "service"}),
    (2001, [30, 31, 32], {"waterway": "river", "name": "孝妇河"}),
    (2002, [33, 34], {"waterway": "ditch"}),
    (2003, [40, 41, 42, 40], {"natural": "water", "water": "pond"}),
    (2004, [43, 44], {"natural": "water"}),
    (3001, [50, 51, 52, 53, 50], {"amenity": "school", "name": "周村实验小学"}),
    (3002, [1, 2], {"building": "yes"}),
]


def main() -> None:
    OUT.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(OUT))
    try:
        for node_id in sorted(list(NODES) + [n[0] for n in TAGGED_NODES]):
            tagged = [n for n in TAGGED_NODES if n[0] == node_id]
            if tagged:
                _, location, tags = tagged[0]
                writer.add_node(Node(id=node_id, location=location, tags=tags, version=1))
            else:
                writer.add_node(Node(id=node_id, location=NODES[node_id], version=1))
        for way_id, refs, tags in WAYS:
            writer.add_way(Way(id=way_id, nodes=refs, tags=tags, version=1))
        writer.add_relation(
            Relation(
                id=5001,
                members=[("w", 2004, "outer")],
                tags={"type": "multipolygon", "natural": "water"},
                version=1,
            )
        )
    finally:
        writer.close()
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
