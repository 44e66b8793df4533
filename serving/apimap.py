"""The map's geometry: the units' polygons and their gemeenten's outlines, simplified for the
view and written as one TopoJSON topology (quantized, delta-encoded arcs), which the page
turns back into GeoJSON with the vendored ``topojson-client`` and draws with ``d3-geo``.

Pure functions on shapely geometries (WGS84 longitude/latitude). A national map of thousands
of units is simplified more than a gemeente's (its polygons are a few pixels wide on screen),
so the response stays under about a megabyte. Rings are written with the exterior clockwise
(d3-geo's spherical convention: a counter-clockwise exterior would cover the rest of the
globe) and each ring is its own arc.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from features.describe import feature_label
from models.explain import shap_column, top_contributions
from serving import context as ctx
from serving.apistore import PanelYear, RankingView, Store
from serving.apiviews import bands, features_of, run_context
from serving.formatting import Lang

NATIONAL_TOLERANCE = 0.003  # degrees, about 200 m: under a pixel of a national map
REGIONAL_TOLERANCE = 0.0004  # degrees, about 30 m: a few hundred units
LOCAL_TOLERANCE = 0.0  # the map file's own detail (about 10 m): one gemeente
OUTLINE_TOLERANCE = 0.003  # gemeente outlines on the national map
LOCAL_OUTLINE = 0.0001  # and around one gemeente
MIN_STEP = 1e-5  # degrees, about 1 m: the finest quantization step
_SLIVER = 2e-4  # degrees: gaps between neighbouring units closed before outlines are drawn
_MIN_AREA = 1e-6  # square degrees (about 0.007 km²): smaller holes and parts are dropped


@dataclass(frozen=True)
class Shape:
    """One feature of the topology: its code (the TopoJSON ``id``) and its geometry."""

    code: str
    geometry: Any  # a shapely Polygon or MultiPolygon


def tolerance_for(n_units: int, local: bool) -> float:
    """How far the units' polygons may be simplified: not for one gemeente, a little for a
    few hundred units, more for a national map."""
    if local:
        return LOCAL_TOLERANCE
    return NATIONAL_TOLERANCE if n_units > 1500 else REGIONAL_TOLERANCE if n_units > 300 else 0.0


def simplified(geometries: Sequence[Any], tolerance: float) -> list[Any]:
    """The geometries simplified to ``tolerance`` degrees, keeping every polygon valid."""
    array = np.asarray(geometries, dtype=object)
    if tolerance <= 0 or len(array) == 0:
        return list(array)
    return list(shapely.simplify(array, tolerance, preserve_topology=True))


def outlines(geometries: Sequence[Any], group: Sequence[str]) -> list[Shape]:
    """The outline of each group (gemeente) of units: their union, with the slivers between
    separately simplified neighbours closed and tiny holes and parts dropped."""
    array = np.asarray(geometries, dtype=object)
    keys = np.asarray(group, dtype=object)
    out = []
    for key in sorted({k for k in keys if isinstance(k, str)}):
        members = array[keys == key]
        grown = shapely.union_all(shapely.buffer(members, _SLIVER, quad_segs=1))
        shape = _without_specks(shapely.buffer(grown, -_SLIVER, quad_segs=1))
        if shape is not None:
            out.append(Shape(key, shape))
    return out


def label_points(shapes: Iterable[Shape]) -> dict[str, tuple[float, float]]:
    """A point inside each shape (of its largest part), where its name is written."""
    out = {}
    for shape in shapes:
        parts = shapely.get_parts(shape.geometry)
        largest = parts[int(np.argmax(shapely.area(parts)))]
        point = shapely.point_on_surface(largest)
        out[shape.code] = (round(point.x, 5), round(point.y, 5))
    return out


def topology(layers: dict[str, list[Shape]], step: float) -> dict[str, Any]:
    """A TopoJSON Topology of the layers (one GeometryCollection each), quantized to ``step``
    degrees; a ring that collapses at that step is left out, a shape left empty too."""
    step = max(step, MIN_STEP)
    bounds = _bounds(s.geometry for shapes in layers.values() for s in shapes)
    x0, y0 = bounds[0], bounds[1]
    arcs: list[list[list[int]]] = []
    objects = {}
    for name, shapes in layers.items():
        geometries = []
        for shape in shapes:
            polygons = []
            for part in shapely.get_parts(shape.geometry):
                rings = _polygon_arcs(part, x0, y0, step, arcs)
                if rings:
                    polygons.append(rings)
            if polygons:
                kind = "Polygon" if len(polygons) == 1 else "MultiPolygon"
                geometries.append(
                    {"type": kind, "id": shape.code, "arcs": polygons[0] if kind == "Polygon"
                     else polygons}
                )
        objects[name] = {"type": "GeometryCollection", "geometries": geometries}
    return {
        "type": "Topology",
        "bbox": [round(v, 6) for v in bounds],
        "transform": {"scale": [step, step], "translate": [x0, y0]},
        "objects": objects,
        "arcs": arcs,
    }


def step_for(tolerance: float) -> float:
    """The quantization step that goes with a simplification tolerance."""
    return max(tolerance / 2.0, MIN_STEP)


# ---------------------------------------------------------------------------------------------


def _bounds(geometries: Iterable[Any]) -> tuple[float, float, float, float]:
    array = np.asarray(list(geometries), dtype=object)
    if len(array) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    box = shapely.total_bounds(array)
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))


def _polygon_arcs(
    polygon: Any, x0: float, y0: float, step: float, arcs: list[list[list[int]]]
) -> list[list[int]]:
    """The polygon's rings as new arcs (exterior clockwise, holes counter-clockwise)."""
    out = []
    rings = [polygon.exterior, *polygon.interiors]
    for i, ring in enumerate(rings):
        points = _quantized(np.asarray(ring.coords), x0, y0, step)
        if points is None:
            if i == 0:
                return []  # no exterior: no polygon
            continue
        area = _signed_area(points)
        if (area > 0) == (i == 0):  # d3: exterior clockwise, holes counter-clockwise
            points = points[::-1]
        deltas = np.vstack([points[:1], np.diff(points, axis=0)])
        out.append([len(arcs)])
        arcs.append(deltas.tolist())
    return out


def _quantized(coords: np.ndarray, x0: float, y0: float, step: float) -> np.ndarray | None:
    """The ring on the integer grid, repeated points dropped, closed; None if it collapses."""
    grid = np.rint((coords[:, :2] - (x0, y0)) / step).astype(np.int64)
    keep = np.ones(len(grid), dtype=bool)
    keep[1:] = np.any(grid[1:] != grid[:-1], axis=1)
    grid = grid[keep]
    if len(grid) < 4 or _signed_area(grid) == 0:
        return None
    if np.any(grid[0] != grid[-1]):
        grid = np.vstack([grid, grid[:1]])
    return grid


def _signed_area(points: np.ndarray) -> float:
    """Twice the signed area (positive: counter-clockwise with y pointing north)."""
    x, y = points[:, 0].astype(float), points[:, 1].astype(float)
    return float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def _without_specks(geometry: Any) -> Any | None:
    """The geometry without holes or parts smaller than about 0.007 km²."""
    kept = []
    for part in shapely.get_parts(geometry):
        if part.geom_type != "Polygon" or part.area < _MIN_AREA:
            continue
        holes = [h for h in part.interiors if shapely.Polygon(h).area >= _MIN_AREA]
        kept.append(shapely.Polygon(part.exterior, holes))
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


# --- the response -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MapUnits:
    """The units to draw, in one order: their codes, polygons and shown values."""

    codes: list[str]
    geometries: list[Any]
    columns: dict[str, list[Any]]  # unit_name, gemeente_code, risk, rank, band, lbm, ...


@dataclass(frozen=True)
class Outlines:
    """The gemeenten's outlines, names and label points."""

    shapes: list[Shape]
    names: dict[str, str | None]
    labels: dict[str, tuple[float, float]]


def shapes_of(geometries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """unit_code -> shapely geometry, from the map file's GeoJSON geometries."""
    return {code: shapely.geometry.shape(g) for code, g in geometries.items()}


def outline_set(
    polygons: dict[str, Any], gemeente_of: dict[str, str], names: dict[str, str | None]
) -> Outlines:
    """The outlines of the gemeenten the units lie in (dissolved from the units' polygons)."""
    codes = [c for c in polygons if c in gemeente_of]
    shapes = outlines([polygons[c] for c in codes], [gemeente_of[c] for c in codes])
    return Outlines(shapes=shapes, names=names, labels=label_points(shapes))


def map_body(units: MapUnits, gemeenten: Outlines, local: bool, head: dict[str, Any]) -> bytes:
    """The /api/map response: ``head`` (year, run, counts, bands...), the topology of the
    units and of the gemeente outlines near them, and the units' and gemeenten's values as
    columns in the order of the topology's geometries."""
    import json

    tolerance = tolerance_for(len(units.codes), local)
    geometries = simplified(units.geometries, tolerance)
    unit_shapes = [Shape(c, g) for c, g in zip(units.codes, geometries, strict=True)]
    near = _near(gemeenten.shapes, geometries) if local else gemeenten.shapes
    coarse = simplified([s.geometry for s in near], LOCAL_OUTLINE if local else OUTLINE_TOLERANCE)
    near = [Shape(s.code, g) for s, g in zip(near, coarse, strict=True)]
    topo = topology({"units": unit_shapes, "gemeenten": near}, step_for(tolerance))
    drawn = {g["id"] for g in topo["objects"]["units"]["geometries"]}
    keep = [i for i, c in enumerate(units.codes) if c in drawn]
    columns = {k: [v[i] for i in keep] for k, v in units.columns.items()}
    outlined = [g["id"] for g in topo["objects"]["gemeenten"]["geometries"]]
    body = {
        **head,
        "n_shown": len(keep),
        "topology": topo,
        "units": {"unit_code": [units.codes[i] for i in keep], **columns},
        "gemeenten": {
            "gemeente_code": outlined,
            "gemeente_name": [gemeenten.names.get(c) for c in outlined],
            "label": [list(gemeenten.labels[c]) for c in outlined],
        },
    }
    return json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _near(shapes: list[Shape], geometries: Sequence[Any]) -> list[Shape]:
    """The shapes that meet the units' bounding box, widened by half its size."""
    if not geometries:
        return []
    x0, y0, x1, y1 = _bounds(geometries)
    pad = 0.5 * max(x1 - x0, y1 - y0, 0.01)
    box = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    return [s for s in shapes if shapely.intersects(s.geometry, box)]


# --- the response from the store --------------------------------------------------------------


def map_response(store: Store, view: RankingView, gemeente: str | None, lang: Lang) -> bytes:
    """The /api/map body (``serving.apimap``): the units shown, with their risk, band,
    Leefbarometer score, last change and top driver, and the gemeente outlines."""
    geometries = store.boundaries() or {}
    key = ("shapes", store.file_key(store.boundaries_path))
    shapes = store.derived.get(key, lambda: shapes_of(geometries))
    gemeente_of = {r["unit_code"]: r["gemeente_code"] for r in view.records if r["gemeente_code"]}
    names = {r["gemeente_code"]: r["gemeente_name"] for r in view.records}
    outline_key = ("outlines", *key, str(view.run.path), view.run.mtime_ns)
    outlines = store.derived.get(outline_key,
                                 lambda: outline_set(shapes, gemeente_of, names))
    features = features_of(view)
    year = store.panel_year(view.run.year, ["lbm", "lbm_chg_prev"])
    context = run_context(store, view)
    shap = view.frame[[shap_column(f) for f in features]].to_numpy(dtype="float64")
    terms = store.terms()
    labels = [feature_label(f, lang, terms) for f in features]
    chosen = [i for i, r in enumerate(view.records) if r["unit_code"] in shapes
              and (not gemeente or r["gemeente_code"] == gemeente)]
    codes = [view.records[i]["unit_code"] for i in chosen]
    top = top_contributions(shap[chosen], 1) if chosen else []
    lbm = _column(year, "lbm", codes)
    change = _column(year, "lbm_chg_prev", codes)
    risks = [view.records[i]["risk"] for i in chosen]
    columns = {
        "unit_name": [view.records[i]["unit_name"] for i in chosen],
        "gemeente_code": [view.records[i]["gemeente_code"] for i in chosen],
        "rank": [view.records[i]["rank"] for i in chosen],
        "risk": [None if r is None else round(r, 4) for r in risks],
        "band": [None if r is None else ctx.band_of(r, context.base_rate).key for r in risks],
        "lbm": lbm,
        "lbm_change": change,
        "top_driver": [t[0] if t else None for t in top],
    }
    units = MapUnits(codes=codes, geometries=[shapes[c] for c in codes], columns=columns)
    head = {
        "as_of_year": view.run.year, "run_id": view.run.run_id, "n_units": len(view.records),
        "gemeente": gemeente, "base_rate": context.base_rate,
        "delta": context.delta if context.delta == context.delta else None,
        "context_line": context.line(view.run.year, lang),
        "bands": [b.model_dump() for b in bands(lang)], "driver_labels": labels,
    }
    return map_body(units, outlines, bool(gemeente), head)


def _column(year: PanelYear | None, feature: str, codes: Sequence[str]) -> list[float | None]:
    if year is None or feature not in year.values.columns:
        return [None] * len(codes)
    values = year.values[feature].reindex(list(codes))
    return [None if pd.isna(v) else round(float(v), 3) for v in values]
