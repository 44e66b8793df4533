"""Synthetic unit boundaries: a GeoJSON FeatureCollection with one polygon per unit.

Gemeenten are laid out on a jittered grid across a rough bounding box of the Netherlands; the
Voronoi tessellation of their centres (bounded by the box) gives each gemeente a convex cell,
and a second Voronoi tessellation of random points inside that cell, clipped to it, splits it
into the gemeente's units. The cells of a gemeente tile it exactly, and the gemeenten tile the
box, so no two units overlap and there are no holes.

The geometry is computed in a locally isotropic plane (longitude scaled by cos(latitude)) and
written as WGS84 longitude/latitude (RFC 7946: exterior rings counter-clockwise, closed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from wijkradar.catalog import plain

# Roughly the Netherlands (lon_min, lat_min, lon_max, lat_max).
BBOX = (3.36, 50.75, 7.23, 53.55)
DECIMALS = 5  # about a metre
_COS = math.cos(math.radians((BBOX[1] + BBOX[3]) / 2.0))
_PROPERTIES = ("unit_name", "gemeente_code", "gemeente_name")

Point = tuple[float, float]


def synthetic_boundaries(units: pd.DataFrame, seed: int) -> dict[str, Any]:
    """One Polygon feature per unit (``properties.unit_code``), deterministic for ``seed``.

    ``units`` needs ``unit_code`` (unique) and ``gemeente_code``; ``unit_name`` and
    ``gemeente_name`` are copied into the properties when present. The row order of ``units``
    does not matter.
    """
    for column in ("unit_code", "gemeente_code"):
        if column not in units.columns:
            raise ValueError(f"units lacks the column {column!r}.")
    codes = units["unit_code"].astype(str)
    if codes.duplicated().any():
        dupes = sorted(set(codes[codes.duplicated()]))[:5]
        raise ValueError(f"unit_code must be unique; repeated: {', '.join(dupes)}.")
    keep = ["unit_code", *(c for c in _PROPERTIES if c in units.columns)]
    frame = units[keep].assign(unit_code=codes, gemeente_code=units["gemeente_code"].astype(str))
    frame = frame.sort_values(["gemeente_code", "unit_code"], kind="mergesort")
    rng = np.random.default_rng(seed)
    groups = list(frame.groupby("gemeente_code", sort=True))
    box = _plane_box()
    gemeente_cells = _voronoi_cells(_grid_points(rng, len(groups), box), box)
    features = []
    for (_, members), cell in zip(groups, gemeente_cells, strict=True):
        unit_cells = _split(rng, cell, len(members))
        for record, polygon in zip(members.to_dict(orient="records"), unit_cells, strict=True):
            props = {"unit_code": record["unit_code"]}
            props.update({k: plain(record[k]) for k in _PROPERTIES if k in record})
            features.append(
                {
                    "type": "Feature",
                    "id": record["unit_code"],
                    "properties": props,
                    "geometry": {"type": "Polygon", "coordinates": [_to_lonlat(polygon)]},
                }
            )
    return {"type": "FeatureCollection", "bbox": list(BBOX), "features": features}


def polygon_area(ring: list[Point]) -> float:
    """Signed shoelace area of a ring (positive when counter-clockwise); closing point optional."""
    pts = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    total = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        total += x0 * y1 - x1 * y0
    return total / 2.0


# ---------------------------------------------------------------------------------------------


def _plane_box() -> list[Point]:
    x0, y0, x1, y1 = BBOX[0] * _COS, BBOX[1], BBOX[2] * _COS, BBOX[3]
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _grid_points(rng: np.random.Generator, n: int, box: list[Point]) -> np.ndarray:
    """``n`` distinct points on a jittered grid that fills ``box`` (aspect kept)."""
    (x0, y0), (x1, y1) = box[0], box[2]
    width, height = x1 - x0, y1 - y0
    cols = max(1, math.ceil(math.sqrt(n * width / height)))
    rows = max(1, math.ceil(n / cols))
    cells = np.sort(rng.choice(cols * rows, size=n, replace=False))
    col, row = cells % cols, cells // cols
    jitter = rng.uniform(-0.35, 0.35, size=(n, 2))
    xs = x0 + (col + 0.5 + jitter[:, 0]) * width / cols
    ys = y0 + (row + 0.5 + jitter[:, 1]) * height / rows
    return np.column_stack([xs, ys])


def _split(rng: np.random.Generator, cell: list[Point], k: int) -> list[list[Point]]:
    """``k`` convex pieces that tile the convex polygon ``cell``."""
    if k == 1:
        return [cell]
    return _voronoi_cells(_points_inside(rng, cell, k), cell)


def _points_inside(rng: np.random.Generator, cell: list[Point], k: int) -> np.ndarray:
    xs, ys = [p[0] for p in cell], [p[1] for p in cell]
    found: list[Point] = []
    while len(found) < k:
        cand = rng.uniform((min(xs), min(ys)), (max(xs), max(ys)), size=(4 * k, 2))
        found.extend((float(x), float(y)) for x, y in cand if _inside(cell, (x, y)))
    return np.array(found[:k])


def _voronoi_cells(points: np.ndarray, clip: list[Point]) -> list[list[Point]]:
    """The Voronoi cell of each point, clipped to the convex counter-clockwise ``clip``.

    Mirror images of the points across the edges of a box around ``clip`` bound every
    original point's region, so all the cells needed are finite.
    """
    from scipy.spatial import Voronoi

    xs, ys = [p[0] for p in clip], [p[1] for p in clip]
    pad = max(max(xs) - min(xs), max(ys) - min(ys))
    lo_x, hi_x, lo_y, hi_y = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    px, py = points[:, 0], points[:, 1]
    mirrored = np.vstack(
        [
            points,
            np.column_stack([2 * lo_x - px, py]),
            np.column_stack([2 * hi_x - px, py]),
            np.column_stack([px, 2 * lo_y - py]),
            np.column_stack([px, 2 * hi_y - py]),
        ]
    )
    vor = Voronoi(mirrored)
    cells = []
    for i in range(len(points)):
        region = vor.regions[vor.point_region[i]]
        if not region or -1 in region:  # cannot happen with the mirrors; fail loudly if it does
            raise RuntimeError("unbounded Voronoi region despite mirrored points")
        ring = [(float(x), float(y)) for x, y in vor.vertices[region]]
        cells.append(_clip(_counter_clockwise(ring), clip))
    return cells


def _counter_clockwise(ring: list[Point]) -> list[Point]:
    return ring if polygon_area(ring) > 0 else ring[::-1]


def _clip(subject: list[Point], clip: list[Point]) -> list[Point]:
    """Sutherland-Hodgman: ``subject`` clipped to the convex counter-clockwise ``clip``."""
    out = subject
    for a, b in zip(clip, clip[1:] + clip[:1], strict=True):
        if not out:
            break
        pts, out = out, []
        for p, q in zip(pts, pts[1:] + pts[:1], strict=True):
            p_in, q_in = _left_of(a, b, p) >= 0, _left_of(a, b, q) >= 0
            if p_in:
                out.append(p)
            if p_in != q_in:
                out.append(_intersection(a, b, p, q))
    return _dedupe(out)


def _left_of(a: Point, b: Point, p: Point) -> float:
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _intersection(a: Point, b: Point, p: Point, q: Point) -> Point:
    dp, dq = _left_of(a, b, p), _left_of(a, b, q)
    t = dp / (dp - dq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def _inside(cell: list[Point], p: Point) -> bool:
    return all(_left_of(a, b, p) > 0 for a, b in zip(cell, cell[1:] + cell[:1], strict=True))


def _dedupe(ring: list[Point], eps: float = 1e-12) -> list[Point]:
    out: list[Point] = []
    for p in ring:
        if not out or abs(p[0] - out[-1][0]) > eps or abs(p[1] - out[-1][1]) > eps:
            out.append(p)
    if len(out) > 1 and abs(out[0][0] - out[-1][0]) <= eps and abs(out[0][1] - out[-1][1]) <= eps:
        out.pop()
    return out


def _to_lonlat(ring: list[Point]) -> list[list[float]]:
    """A closed GeoJSON ring in lon/lat, rounded; consecutive repeats after rounding dropped."""
    coords: list[list[float]] = []
    for x, y in ring:
        point = [round(x / _COS, DECIMALS), round(y, DECIMALS)]
        if not coords or point != coords[-1]:
            coords.append(point)
    if len(coords) > 1 and coords[0] == coords[-1]:
        coords.pop()
    return [*coords, coords[0]]
