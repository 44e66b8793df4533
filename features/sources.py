"""Sources: every file the config lists, read through the readers and assembled.

This is the one place that opens source files (``features.readers`` holds the pure parsers;
``features.cbs_pc4``, ``features.boundaries`` and ``features.lbm2`` the ones of their kinds).
Boundaries are no Leefbarometer or CBS part: they go to ``Sources.boundaries`` by level.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from features import schema
from features.readers import CROSSWALK_COLUMNS, PARSERS, decode
from wijkradar.calendar import Calendar
from wijkradar.config import Config, SourceConfig
from wijkradar.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from features.cbs_pc4 import CbsFileInfo


@dataclass(frozen=True)
class SourceFrame:
    """What one file (or lbm2_pc4 folder) gave one part: the part ('cbs', 'lbm',
    'investment'), the source's kind and calendar (None: the kind's default), the variables
    its frame has, the (level, reference year) pairs it covers, and the publication date the
    file states about itself (CBS per postcode), which wins over any calendar."""

    part: str
    kind: str
    file: str
    calendar: Calendar | None
    variables: tuple[str, ...]
    years: tuple[tuple[str | None, int], ...]
    published: date | None = None


@dataclass(frozen=True)
class Sources:
    """Everything the panel is built from, already validated."""

    cbs: pd.DataFrame
    lbm: pd.DataFrame  # Leefbarometer scores (and classes, where a release has them)
    investment: pd.DataFrame | None
    crosswalk: pd.DataFrame  # old_code, new_code, year, weight (empty: no code changes)
    development: pd.DataFrame | None  # unit_code, from_year, to_year, development_class
    fingerprint: str  # sha256 over the files' names and bytes
    # One per cbs_pc4_xlsx file: its peildatum, publication date and -99997/-99995 counts.
    cbs_files: tuple[CbsFileInfo, ...] = ()
    # level -> GeoDataFrame[unit_code, unit_name, geometry] in EPSG:4326.
    boundaries: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    # Per file and part, what its publication calendar applies to (features.calendar).
    frames: tuple[SourceFrame, ...] = ()


def empty_cbs() -> pd.DataFrame:
    columns = ["unit_code", "unit_name", "level", "year", *(v.name for v in schema.CBS_VARIABLES)]
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}).astype(
        {"unit_code": object, "unit_name": object, "level": object, "year": "int64"}
    )


def _files_of(source: SourceConfig) -> list[Path]:
    if source.path.is_dir():
        files = sorted(
            p for p in source.path.iterdir() if p.is_file() and not p.name.startswith(".")
        )
        if not files:
            raise InputError("the source folder holds no files", file=str(source.path))
        return files
    if not source.path.exists():
        raise InputError("the source file does not exist", file=str(source.path))
    return [source.path]


def source_files(cfg: Config) -> list[tuple[str, Path]]:
    """(kind, file) for every file the config names, in a stable order."""
    out = []
    for s in cfg.sources:
        out += [(s.kind, f) for f in _files_of(s)]
        if s.names is not None:
            out.append(("names", s.names))
    return out


def _text(path: Path) -> str:
    return decode(path.read_bytes(), str(path))


def _read_one(source: SourceConfig, path: Path) -> dict[str, pd.DataFrame]:
    """One file of a source, as {part: frame} (parts: cbs, lbm, investment, crosswalk,
    development)."""
    kind, name = source.kind, str(path)
    if kind == "cbs_kwb_json":
        from features.odata import parse_cbs_kwb_json

        return {"cbs": parse_cbs_kwb_json(_text(path), name, source.year)}
    if kind == "investment_csv" and source.names is not None:
        from features.namelist import join_name_keyed, parse_name_table

        names = parse_name_table(_text(source.names), str(source.names))
        return {
            "investment": join_name_keyed(
                _text(path), name, names, name_column=source.name_column, years=source.years
            )
        }
    if kind == "lbm2_json":
        from features.lbm2 import parse_lbm2_json

        result = parse_lbm2_json(_text(path), name, source.level)
        return {"lbm": result.scores, "development": result.development}
    part = {
        "cbs_kwb_csv": "cbs",
        "lbm3_scores": "lbm",
        "investment_csv": "investment",
        "crosswalk": "crosswalk",
    }[kind]
    return {part: PARSERS[kind](_text(path), name)}


def _read_lbm2(source: SourceConfig, files: list[Path]) -> dict[str, pd.DataFrame]:
    from features.lbm2 import parse_lbm2_pc4

    by_name = {f.name.upper(): f for f in files}
    dim, cls = by_name.get("PC4DIMENSIE.CSV"), by_name.get("PC4LBR.CSV")
    if dim is None and cls is None:
        raise InputError(
            "an lbm2_pc4 source needs PC4DIMENSIE.csv and/or PC4LBR.csv",
            file=str(source.path),
        )
    result = parse_lbm2_pc4(
        _text(dim) if dim else None,
        _text(cls) if cls else None,
        str(dim or "PC4DIMENSIE.csv"),
        str(cls or "PC4LBR.csv"),
    )
    return {"lbm": result.scores, "development": result.development}


def _boundaries(tables: Sequence[tuple[str, str, gpd.GeoDataFrame]]) -> dict[str, gpd.GeoDataFrame]:
    """level -> the boundaries of that level's files; a unit in two files is rejected."""
    import geopandas as gpd

    out: dict[str, gpd.GeoDataFrame] = {}
    seen: dict[tuple[str, str], str] = {}
    for file, level, frame in tables:
        for pos, code in enumerate(frame["unit_code"].tolist()):
            first = seen.setdefault((level, code), file)
            if first != file:
                raise InputError(
                    f"feature {pos + 1}: {level} {code} also has a polygon in {first}; "
                    "boundaries sources of one level must not overlap",
                    file=file, row=pos + 1,
                )
        previous = out.get(level)
        out[level] = frame if previous is None else gpd.GeoDataFrame(
            pd.concat([previous, frame], ignore_index=True), crs=frame.crs
        )
    return out


def fingerprint_files(files: Sequence[tuple[str, Path]]) -> str:
    h = hashlib.sha256()
    for kind, path in files:
        h.update(f"{kind}\0{path.name}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _concat_unique(parts: Sequence[tuple[str, pd.DataFrame]], kind: str) -> pd.DataFrame:
    """Concatenate one kind's files; a (unit, year) held by two files is rejected naming the
    second file and its row. (Each parser has already rejected duplicates within a file.)"""
    seen: dict[tuple[str, int], int] = {}
    for i, (file, df) in enumerate(parts):
        for pos, key in enumerate(zip(df["unit_code"].tolist(), df["year"].tolist(), strict=True)):
            first = seen.setdefault(key, i)
            if first != i:
                raise InputError(
                    f"({key[0]}, {key[1]}) is also in {parts[first][0]}; "
                    f"{kind} sources must not overlap",
                    file=file,
                    row=pos + 2,
                )
    return pd.concat([df for _, df in parts], ignore_index=True)


def _combine_investment(parts: Sequence[tuple[str, pd.DataFrame]]) -> pd.DataFrame | None:
    """Investment files with the same columns are stacked (and must not overlap); files with
    different columns (a full schema and a name-keyed list) are joined on (unit, year)."""
    if not parts:
        return None
    groups: dict[tuple[str, ...], list[tuple[str, pd.DataFrame]]] = {}
    for file, df in parts:
        groups.setdefault(tuple(df.columns), []).append((file, df))
    frames = [_concat_unique(group, "investment_csv") for group in groups.values()]
    out = frames[0]
    for other in frames[1:]:
        out = out.merge(other, on=["unit_code", "year"], how="outer", suffixes=("", "__list"))
        for col in [c for c in out.columns if c.endswith("__list")]:
            base = col[: -len("__list")]
            out[base] = out[base].where(out[base].notna(), out[col])
            out = out.drop(columns=col)
    return out


CALENDAR_PARTS = ("cbs", "lbm", "investment")
_NOT_VARIABLES = frozenset({"unit_code", "unit_name", "level", "year"})


def source_frame(
    source: SourceConfig, part: str, file: str, frame: pd.DataFrame, published: date | None = None
) -> SourceFrame:
    """The ``SourceFrame`` of one part of one file. Development classes (lbm2) go with the
    Leefbarometer measurement they end in, so they are the part 'lbm' of the same calendar."""
    year_col = "to_year" if part == "development" else "year"
    levels = frame["level"] if "level" in frame.columns else pd.Series(None, index=frame.index)
    pairs = {
        (None if pd.isna(lv) else str(lv), int(y))
        for lv, y in zip(levels.tolist(), frame[year_col].tolist(), strict=True)
        if not pd.isna(y)
    }
    variables = tuple(
        c for c in frame.columns
        if c not in _NOT_VARIABLES and c not in ("from_year", "to_year", "development_class")
    )
    return SourceFrame(
        part="lbm" if part == "development" else part, kind=source.kind, file=file,
        calendar=source.calendar, variables=variables,
        years=tuple(sorted(pairs, key=lambda p: (p[0] or "", p[1]))), published=published,
    )


def read_sources(cfg: Config) -> Sources:
    """Read and validate every source the config lists."""
    parts: dict[str, list[tuple[str, pd.DataFrame]]] = {
        k: [] for k in ("cbs", "lbm", "investment", "crosswalk", "development")
    }
    cbs_files: list[CbsFileInfo] = []
    frames: list[SourceFrame] = []
    boundaries: list[tuple[str, str, gpd.GeoDataFrame]] = []
    for source in cfg.sources:
        files = _files_of(source)
        if source.kind == "lbm2_pc4":
            for part, frame in _read_lbm2(source, files).items():
                parts[part].append((str(source.path), frame))
                if part == "lbm":
                    frames.append(source_frame(source, part, str(source.path), frame))
            continue
        for path in files:
            if source.kind == "cbs_pc4_xlsx":
                from features.cbs_pc4 import parse_cbs_pc4_xlsx

                table = parse_cbs_pc4_xlsx(path.read_bytes(), str(path))
                parts["cbs"].append((str(path), table.frame))
                cbs_files.append(table.info)
                frames.append(
                    source_frame(source, "cbs", str(path), table.frame, table.info.published)
                )
                continue
            if source.kind == "boundaries":
                from features.boundaries import parse_boundaries

                level, code_field = str(source.level), str(source.code_field)
                geo = parse_boundaries(
                    path.read_bytes(), str(path), level, code_field, source.name_field
                )
                boundaries.append((str(path), level, geo.frame))
                continue
            for part, frame in _read_one(source, path).items():
                parts[part].append((str(path), frame))
                if part in CALENDAR_PARTS:
                    frames.append(source_frame(source, part, str(path), frame))
    if not parts["lbm"]:
        raise InputError(
            "the config lists no Leefbarometer source (lbm3_scores, lbm2_pc4 or lbm2_json)",
            file=str(cfg.root),
        )
    cbs = _concat_unique(parts["cbs"], "cbs") if parts["cbs"] else empty_cbs()
    lbm = _concat_unique(parts["lbm"], "Leefbarometer")
    crosswalk = (
        pd.concat([df for _, df in parts["crosswalk"]], ignore_index=True)
        if parts["crosswalk"]
        else pd.DataFrame(columns=list(CROSSWALK_COLUMNS))
    )
    development = (
        pd.concat([df for _, df in parts["development"]], ignore_index=True)
        if parts["development"]
        else None
    )
    return Sources(
        cbs=cbs,
        lbm=lbm,
        investment=_combine_investment(parts["investment"]),
        crosswalk=crosswalk,
        development=development,
        fingerprint=fingerprint_files(source_files(cfg)),
        cbs_files=tuple(cbs_files),
        boundaries=_boundaries(boundaries),
        frames=tuple(frames),
    )
