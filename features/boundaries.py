"""Reader for unit boundaries (source kind ``boundaries``): GeoJSON, TopoJSON or GeoPackage.

The file is read with geopandas and pyogrio from its bytes; the ``[[source]]`` names the
``level`` of its units, the property that holds their code (``code_field``) and, optionally,
their name (``name_field``). PC4 codes stored as numbers become 4-digit text. Every code must
have the form of its level (``features.schema.UNIT_CODE_PATTERNS``); a feature of another
form (a gemeente file's "Buitenland", ``GM0998``, has the form) is kept, and the panel stage
ignores units it does not have.

The result is in EPSG:4326 (lon/lat). A file without a CRS is taken as lon/lat when its
coordinates are; other CRSs are transformed. An invalid polygon (a self-touching ring of a
quantised TopoJSON, say) is repaired with shapely's ``make_valid`` and counted; a feature
without a geometry, with an empty one, with one that is no polygon, or with a code another
feature has, is an ``InputError`` naming the file, the code field, the feature and the code.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from features import schema
from wijkradar.errors import InputError

CRS = "EPSG:4326"
POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class BoundaryTable:
    """``frame``: a GeoDataFrame ``unit_code, unit_name, geometry`` in EPSG:4326, one row per
    unit (file order); ``repaired``: how many invalid geometries ``make_valid`` repaired;
    ``crs_assumed``: the file had no CRS and lon/lat was assumed."""

    frame: gpd.GeoDataFrame
    level: str
    repaired: int
    crs_assumed: bool


def read_frame(data: bytes, file: str) -> gpd.GeoDataFrame:
    """The file's features, as geopandas reads them from bytes."""
    if not data.strip():
        raise InputError("the file is empty", file=file)
    try:
        return gpd.read_file(io.BytesIO(data))
    except Exception as exc:  # pyogrio raises DataSourceError/DataLayerError and others
        raise InputError(
            f"the file cannot be read as GeoJSON, TopoJSON or GeoPackage ({exc})", file=file
        ) from exc


def _topojson_nulls(data: bytes, file: str, code_field: str) -> None:
    """GDAL's TopoJSON driver drops a geometry of type null without a word; name it."""
    if b'"Topology"' not in data[:4096]:
        return
    try:
        doc = json.loads(data)
    except ValueError:
        return  # not JSON after all: read_frame says what is wrong
    objects = doc.get("objects") if isinstance(doc, dict) else None
    if not isinstance(objects, dict) or not objects or doc.get("type") != "Topology":
        return
    first = next(iter(objects.values()))
    geometries = first.get("geometries", []) if isinstance(first, dict) else []
    for pos, geometry in enumerate(geometries):
        if isinstance(geometry, dict) and geometry.get("type") is None:
            code = (geometry.get("properties") or {}).get(code_field)
            raise InputError(
                f"feature {pos + 1} ({code}): expected a Polygon or MultiPolygon, got no "
                "geometry (TopoJSON type null)",
                file=file, column=code_field, row=pos + 1,
            )


def _codes(cells: pd.Series, file: str, field: str, level: str) -> list[str]:
    pattern = schema.UNIT_CODE_PATTERNS[level]
    out = []
    for pos, value in enumerate(cells.tolist()):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = "" if value is None or value != value else str(value).strip()
        if not pattern.match(text):
            raise InputError(
                f"feature {pos + 1}: expected a {level} code of the form {pattern.pattern}, "
                f"got {repr(value) if text else 'no code'}",
                file=file, column=field, row=pos + 1,
            )
        out.append(text)
    return out


def _check_unique(codes: list[str], file: str, field: str) -> None:
    first: dict[str, int] = {}
    for pos, code in enumerate(codes):
        if code in first:
            raise InputError(
                f"feature {pos + 1}: code {code!r} is also feature {first[code] + 1}'s; "
                "expected one polygon per unit",
                file=file, column=field, row=pos + 1,
            )
        first[code] = pos


def _geometries(frame: gpd.GeoDataFrame, codes: list[str], file: str, field: str) -> tuple[
    np.ndarray, int
]:
    """Valid polygons, invalid ones repaired; (geometries, number repaired)."""
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.array([g.geom_type if g is not None else "" for g in geoms])
    for pos in np.flatnonzero(missing | ~np.isin(kinds, POLYGONAL)):
        what = "no geometry" if missing[pos] else f"a {kinds[pos]}"
        raise InputError(
            f"feature {pos + 1} ({codes[pos]}): expected a Polygon or MultiPolygon, got {what}",
            file=file, column=field, row=int(pos) + 1,
        )
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(
            geoms[invalid], method="structure", keep_collapsed=False
        )
        broken = invalid & (shapely.is_empty(geoms) | ~shapely.is_valid(geoms))
        for pos in np.flatnonzero(broken):
            raise InputError(
                f"feature {pos + 1} ({codes[pos]}): the polygon is invalid and cannot be "
                "repaired",
                file=file, column=field, row=int(pos) + 1,
            )
    return geoms, int(invalid.sum())


def _to_lonlat(frame: gpd.GeoDataFrame, file: str) -> tuple[gpd.GeoDataFrame, bool]:
    """In EPSG:4326; a file without a CRS is taken as lon/lat. GDAL reads every GeoJSON as
    EPSG:4326, so the coordinates are checked to be lon/lat in any case."""
    assumed = frame.crs is None
    out = frame.set_crs(CRS) if assumed else frame.to_crs(CRS)
    minx, miny, maxx, maxy = out.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(
            f"the coordinates are not lon/lat (bounds {minx:.1f}, {miny:.1f}, {maxx:.1f}, "
            f"{maxy:.1f}); {'the file has no CRS and ' if assumed else ''}a GeoJSON must be "
            "in EPSG:4326 (RFC 7946); other files must name their CRS",
            file=file,
        )
    return out, assumed


def parse_boundaries(
    data: bytes, file: str, level: str, code_field: str, name_field: str | None = None
) -> BoundaryTable:
    """Boundaries of ``level`` units from a GeoJSON, TopoJSON or GeoPackage file's bytes."""
    if level not in schema.UNIT_CODE_PATTERNS:
        raise ValueError(f"level must be one of {', '.join(schema.UNIT_CODE_PATTERNS)}")
    _topojson_nulls(data, file, code_field)
    raw = read_frame(data, file)
    for field in (code_field, name_field):
        if field is not None and field not in raw.columns:
            fields = ", ".join(repr(c) for c in raw.columns if c != raw.geometry.name)
            raise InputError(
                f"no property {field!r}; the features have {fields or 'no properties'}",
                file=file, column=field,
            )
    if raw.empty:
        raise InputError("the file holds no features", file=file)
    codes = _codes(raw[code_field], file, code_field, level)
    _check_unique(codes, file, code_field)
    geoms, repaired = _geometries(raw, codes, file, code_field)
    names = (
        raw[name_field].astype(object).where(raw[name_field].notna(), None).tolist()
        if name_field
        else codes
    )
    names = [str(n).strip() if n is not None and str(n).strip() else c for n, c in zip(
        names, codes, strict=True
    )]
    frame = gpd.GeoDataFrame(
        {
            "unit_code": pd.Series(codes, dtype=object),
            "unit_name": pd.Series(names, dtype=object),
        },
        geometry=gpd.GeoSeries(geoms, crs=raw.crs),
    )
    frame, assumed = _to_lonlat(frame, file)
    return BoundaryTable(frame=frame, level=level, repaired=repaired, crs_assumed=assumed)
