"""Build ``static/uk.geojson``, the map's outline, from Natural Earth (public domain) as packaged in
the npm ``world-atlas`` 2.x TopoJSON (``countries-50m.json``, ISC licence).

Run once by a maintainer, not at install or run time (the output ships in the package)::

    npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz
    python -m cashwatch.web.outline package/countries-50m.json > cashwatch/web/static/uk.geojson

Kept: the United Kingdom, the Isle of Man, the Channel Islands and Ireland (for context), coordinates
rounded to 0.001° (about 100 m, below the 1:50m source's own accuracy).
"""
from __future__ import annotations

import json
import sys

KEEP = {"826": "United Kingdom", "833": "Isle of Man", "831": "Guernsey", "832": "Jersey", "372": "Ireland"}


def _arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat arcs of a quantized TopoJSON topology (delta-encoded integers)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((round(x * sx + tx, 3), round(y * sy + ty, 3)))
        out.append(pts)
    return out


def _ring(arcs: list, indexes: list[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in indexes:
        pts = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        ring.extend(pts[1:] if ring else pts)
    return ring


def outline(topo: dict) -> dict:
    arcs = _arcs(topo)
    features = []
    for g in topo["objects"]["countries"]["geometries"]:
        if g.get("id") not in KEEP:
            continue
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        coords = [[_ring(arcs, ring) for ring in poly] for poly in polys]
        features.append({"type": "Feature", "id": g["id"], "properties": {"name": KEEP[g["id"]]},
                         "geometry": {"type": "MultiPolygon", "coordinates": coords}})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"source": "Natural Earth 1:50m admin 0 countries (public domain), via world-atlas 2"}}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        json.dump(outline(json.load(fh)), sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
