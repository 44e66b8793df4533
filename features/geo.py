"""Places and neighbours from boundaries: which gemeente a unit lies in, and which units share
a border. Pure functions on GeoDataFrames (``unit_code``, ``geometry``); the metric work is
done in the Dutch national grid (EPSG:28992, metres).

Worked example (a 3 x 3 grid of 100 m squares, numbered row by row)::

    1 2 3      adjacency: 1-2, 1-4, 2-3, 2-5, 3-6, 4-5, 4-7, 5-6, 5-8, 6-9, 7-8, 8-9
    4 5 6      (1 and 5 touch in one point only: no shared border, no neighbours)
    7 8 9

Polygons from different sources rarely meet exactly: a border counts when the boundary of one
unit runs within ``tolerance`` metres of the other for at least ``min_length`` metres, so that
small gaps and overlaps still make neighbours and a touching corner does not.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

METRIC_CRS = "EPSG:28992"
GEOGRAPHIC_CRS = "EPSG:4326"
PLACES_COLUMNS = ("unit_code", "gemeente_code", "gemeente_name", "placed_by")
ADJACENCY_COLUMNS = ("unit_code", "neighbour_code")


def metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in EPSG:28992 with valid (multi)polygons; a frame without a CRS is taken to
    be WGS84 longitude/latitude (GeoJSON's and TopoJSON's convention). Invalid rings (common
    in quantised TopoJSON) are repaired to polygons, dropping collapsed slivers."""
    if frame.crs is None:
        frame = frame.set_crs(GEOGRAPHIC_CRS)
    out = frame.to_crs(METRIC_CRS)
    geoms = out.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(
            geoms[invalid], method="structure", keep_collapsed=False
        )
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=METRIC_CRS))
    return out


def _codes(frame: gpd.GeoDataFrame, what: str) -> pd.Series:
    for column in ("unit_code", "geometry"):
        if column not in frame.columns:
            raise ValueError(f"{what} needs the column {column!r}; got {list(frame.columns)}.")
    return frame["unit_code"].astype(str)


def gemeente_of(units: gpd.GeoDataFrame, gemeenten: gpd.GeoDataFrame) -> pd.DataFrame:
    """The gemeente of each unit: the one a representative point inside the unit lies in.

    Returns one row per unit: ``unit_code``, ``gemeente_code``, ``gemeente_name`` and
    ``placed_by``: 'point'; 'overlap' where the point lies in no gemeente (or in more than
    one, where gemeente polygons overlap) and the gemeente of largest overlap is taken; missing
    where the unit overlaps no gemeente at all (then the gemeente columns are missing too).
    ``gemeenten`` has ``unit_code`` (GMxxxx) and ``unit_name``.
    """
    codes = _codes(units, "units")
    _codes(gemeenten, "gemeenten")
    u = metric(units).reset_index(drop=True)
    g = metric(gemeenten).reset_index(drop=True)
    points = shapely.point_on_surface(u.geometry.to_numpy())
    g_geoms = g.geometry.to_numpy()
    tree = shapely.STRtree(g_geoms)
    unit_idx, gem_idx = tree.query(points, predicate="within")
    hits = np.bincount(unit_idx, minlength=len(u))
    chosen = np.full(len(u), -1)
    single = hits[unit_idx] == 1
    chosen[unit_idx[single]] = gem_idx[single]
    placed_by = np.where(hits == 1, "point", None).astype(object)
    unsure = np.flatnonzero(hits != 1)
    if len(unsure):
        found = _largest_overlap(u.geometry.to_numpy()[unsure], g_geoms, tree)
        chosen[unsure] = found
        placed_by[unsure] = np.where(found >= 0, "overlap", None)
    ok = chosen >= 0
    gm_code = np.where(ok, g["unit_code"].astype(str).to_numpy()[np.maximum(chosen, 0)], None)
    gm_name = np.where(ok, g["unit_name"].astype(str).to_numpy()[np.maximum(chosen, 0)], None)
    return pd.DataFrame(
        {
            "unit_code": codes.to_numpy(),
            "gemeente_code": pd.array(gm_code, dtype="object"),
            "gemeente_name": pd.array(gm_name, dtype="object"),
            "placed_by": pd.array(placed_by, dtype="object"),
        }
    )


def _largest_overlap(
    geoms: np.ndarray, targets: np.ndarray, tree: shapely.STRtree
) -> np.ndarray:
    """Per geometry, the index of the target it overlaps most (-1 where it overlaps none)."""
    out = np.full(len(geoms), -1)
    src, dst = tree.query(geoms, predicate="intersects")
    if not len(src):
        return out
    area = shapely.area(shapely.intersection(geoms[src], targets[dst]))
    frame = pd.DataFrame({"src": src, "dst": dst, "area": area})
    frame = frame[frame["area"] > 0]
    best = frame.sort_values("area", kind="stable").drop_duplicates("src", keep="last")
    out[best["src"].to_numpy()] = best["dst"].to_numpy()
    return out


def adjacency(
    units: gpd.GeoDataFrame, tolerance: float = 1.0, min_length: float = 10.0
) -> pd.DataFrame:
    """Pairs of units that share a border, both ways round (``unit_code``, ``neighbour_code``),
    sorted.

    A and B share a border when B's boundary runs within ``tolerance`` metres of A for at
    least ``min_length`` metres (a touching corner gives about 2 x ``tolerance``). Candidate
    pairs come from an STRtree query, so the cost grows with the number of real neighbours.
    Units with the same code (parts of one unit) are not each other's neighbours.
    """
    if min_length <= 2 * tolerance:
        raise ValueError(
            f"min_length must exceed 2 x tolerance, or touching corners count as borders. "
            f"Got min_length={min_length}, tolerance={tolerance}."
        )
    codes = _codes(units, "units").to_numpy()
    geoms = metric(units).geometry.to_numpy()
    grown = shapely.buffer(geoms, tolerance, quad_segs=2)
    left, right = shapely.STRtree(geoms).query(grown, predicate="intersects")
    keep = (left < right) & (codes[left] != codes[right])
    left, right = left[keep], right[keep]
    shared = shapely.length(shapely.intersection(grown[left], shapely.boundary(geoms[right])))
    border = shared >= min_length
    a, b = codes[left[border]], codes[right[border]]
    pairs = pd.DataFrame(
        {"unit_code": np.concatenate([a, b]), "neighbour_code": np.concatenate([b, a])},
        dtype="object",
    )
    return pairs.drop_duplicates().sort_values(list(ADJACENCY_COLUMNS), ignore_index=True)
