"""Where the panel's units lie: their gemeente, their neighbours and their map, from the
boundaries sources (pure functions on GeoDataFrames; ``features.build`` does the I/O).

For a level whose codes do not name their gemeente (PC4), the gemeente comes from the
location: a point inside each unit's polygon, within the gemeente polygons
(``features.geo.gemeente_of``). Neighbours share a border (``features.geo.adjacency``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely

from features import geo
from wijkradar.records import PlaceNote

MAP_PRECISION = 1e-5  # degrees, about 1 m: enough for a map of wijken or postcode areas
MAP_SIMPLIFY = 1e-4  # degrees, about 10 m


@dataclass(frozen=True)
class Places:
    """What the boundaries say of one level's units: their gemeente (for levels whose codes
    don't say it), their neighbour pairs, and their polygons."""

    units: gpd.GeoDataFrame  # unit_code, unit_name, geometry (EPSG:4326)
    gemeenten: pd.DataFrame | None  # unit_code, gemeente_code, gemeente_name
    adjacency: pd.DataFrame  # unit_code, neighbour_code (both directions)


def places_of(boundaries: dict[str, gpd.GeoDataFrame], level: str) -> Places | None:
    """The places of the panel's level, or None when no boundaries source covers it."""
    units = boundaries.get(level)
    if units is None:
        return None
    gemeenten = boundaries.get("gemeente")
    located = None
    if level == "pc4" and gemeenten is not None:
        located = geo.gemeente_of(units, gemeenten)
    return Places(units=units, gemeenten=located, adjacency=geo.adjacency(units))


def place_note(places: Places, level: str, panel_units: pd.Series) -> PlaceNote:
    """Counts for the panel meta: how the panel's units and the polygons met."""
    have = set(panel_units.astype(str))
    polygons = set(places.units["unit_code"].astype(str))
    with_gemeente = (
        int(places.gemeenten.loc[places.gemeenten["unit_code"].isin(have), "gemeente_code"]
            .notna().sum())
        if places.gemeenten is not None
        else 0
    )
    pairs = places.adjacency
    inside = pairs["unit_code"].isin(have) & pairs["neighbour_code"].isin(have)
    return PlaceNote(
        level=level,
        polygons=len(polygons),
        units_with_polygon=len(have & polygons),
        units_without_polygon=len(have - polygons),
        polygons_without_unit=len(polygons - have),
        units_with_gemeente=with_gemeente,
        neighbour_pairs=int(inside.sum()) // 2,
    )


def map_geojson(places: Places, ids: pd.DataFrame) -> str:
    """The map file (``boundaries/units.geojson``): one feature per unit of ``ids``
    (unit_code, unit_name, gemeente_code, gemeente_name) that has a polygon, simplified to
    about 10 m and rounded to about 1 m, in WGS84."""
    frame = places.units[["unit_code", "geometry"]].merge(
        ids.drop_duplicates("unit_code"), on="unit_code", how="inner", validate="1:1"
    )
    geometry = shapely.set_precision(
        frame.geometry.simplify(MAP_SIMPLIFY, preserve_topology=True).values, MAP_PRECISION
    )
    out = gpd.GeoDataFrame(
        frame.drop(columns="geometry"), geometry=geometry, crs=places.units.crs
    )
    return out.to_json(drop_id=True, na="null")
