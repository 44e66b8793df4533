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
from features.readers import (
    CROSSWALK_COLUMNS,
    decode,
    parse_crosswalk,
    read_cbs_kwb_csv,
    read_investment_csv,
    read_lbm3_scores,
)
from wijkradar.calendar import Calendar
from wijkradar.config import Config, SourceConfig
from wijkradar.errors import ConfigError, InputError
from wijkradar.records import IgnoredColumn
from wijkradar.sourceconfig import ColumnMap

if TYPE_CHECKING:
    import geopandas as gpd

    from features.cbs_pc4 import CbsFileInfo
    from features.lbm2 import Lbm2


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
    # Per file, each column that is neither built in nor mapped, in file order.
    ignored: tuple[IgnoredColumn, ...] = ()


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


@dataclass(frozen=True)
class FileRead:
    """What one file (or lbm2_pc4 folder) of a source gave: {part: frame} (parts: cbs, lbm,
    investment, crosswalk, development; mapped columns of a Leefbarometer file go to
    'investment', the part of further yearly variables) and the columns it ignored."""

    parts: dict[str, pd.DataFrame]
    ignored: tuple[IgnoredColumn, ...] = ()


def _ignored(file: str, headers: Sequence[str]) -> tuple[IgnoredColumn, ...]:
    return tuple(IgnoredColumn(file, h) for h in headers)


def _split_extra(frame: pd.DataFrame, columns: Sequence[ColumnMap]) -> dict[str, pd.DataFrame]:
    """A Leefbarometer frame without its mapped columns, and those as part 'investment'."""
    names = [c.name for c in columns if c.name in frame.columns]
    out = {"lbm": frame.drop(columns=names)}
    if names:
        out["investment"] = frame[["unit_code", "year", *names]].astype({"unit_code": object})
    return out


def _lbm2(result: Lbm2) -> FileRead:
    parts = {"lbm": result.scores, "development": result.development}
    if result.extra is not None:
        parts["investment"] = result.extra.astype({"unit_code": object})
    return FileRead(parts, result.ignored)


def _read_one(source: SourceConfig, path: Path) -> FileRead:
    """One file of a source."""
    kind, name, columns = source.kind, str(path), source.columns
    if kind == "cbs_kwb_json":
        from features.odata import read_cbs_kwb_json

        got = read_cbs_kwb_json(_text(path), name, source.year, columns)
        return FileRead({"cbs": got.frame}, _ignored(name, got.ignored))
    if kind == "investment_csv" and source.names is not None:
        from features.namelist import parse_name_table, read_name_keyed

        names = parse_name_table(_text(source.names), str(source.names))
        got = read_name_keyed(
            _text(path), name, names, name_column=source.name_column, years=source.years
        )
        return FileRead({"investment": got.frame}, _ignored(name, got.ignored))
    if kind == "lbm2_json":
        from features.lbm2 import parse_lbm2_json

        return _lbm2(parse_lbm2_json(_text(path), name, str(source.level), columns))
    if kind == "crosswalk":
        return FileRead({"crosswalk": parse_crosswalk(_text(path), name)})
    reader = {"cbs_kwb_csv": read_cbs_kwb_csv, "lbm3_scores": read_lbm3_scores,
              "investment_csv": read_investment_csv}[kind]
    got = reader(_text(path), name, columns)
    if kind == "lbm3_scores":
        return FileRead(_split_extra(got.frame, columns), _ignored(name, got.ignored))
    part = "cbs" if kind == "cbs_kwb_csv" else "investment"
    return FileRead({part: got.frame}, _ignored(name, got.ignored))


def _read_lbm2(source: SourceConfig, files: list[Path]) -> FileRead:
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
        source.columns,
    )
    return _lbm2(result)


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


CBS_KINDS = ("cbs_kwb_csv", "cbs_kwb_json", "cbs_pc4_xlsx")


def check_columns(cfg: Config) -> None:
    """The ``columns`` of every source: a name may be a built-in variable only in a CBS
    source (it then fills that variable), and one name has one kind everywhere."""
    cbs = {*schema.CBS_BY_NAME, *schema.CBS_PC4_BY_NAME}
    builtin = {*cbs, *schema.INVESTMENT_BY_NAME, *schema.LBM_SCORE_COLUMNS, "lbm_class",
               "unit_code", "unit_name", "level", "year"}
    kinds: dict[str, tuple[str, str]] = {}
    for source in cfg.sources:
        if source.columns and source.names is not None:
            raise ConfigError(
                f"The investment source {source.path} is a name-keyed list ('names'); such a "
                "list takes no 'columns'. Give the values per unit_code in an investment_csv."
            )
        for column in source.columns:
            if column.name in builtin and not (source.kind in CBS_KINDS and column.name in cbs):
                raise ConfigError(
                    f"Column {column.source!r} of the {source.kind} source {source.path} is "
                    f"mapped to {column.name!r}, a name the panel already has; choose another."
                )
            first = kinds.setdefault(column.name, (column.kind, str(source.path)))
            if first[0] != column.kind:
                raise ConfigError(
                    f"{column.name!r} is a {first[0]} in the columns of {first[1]} and a "
                    f"{column.kind} in those of {source.path}; one name needs one kind."
                )


def _check_found(source: SourceConfig, frames: Sequence[pd.DataFrame]) -> None:
    """A mapped column that no file of its source holds is a typo, not a silent gap."""
    held = {c for f in frames for c in f.columns}
    absent = [c for c in source.columns if c.name not in held]
    if absent:
        raise ConfigError(
            f"The 'columns' of the {source.kind} source {source.path} map "
            f"{', '.join(repr(c.source) for c in absent)}, which none of its files holds."
        )


def read_sources(cfg: Config) -> Sources:
    """Read and validate every source the config lists."""
    check_columns(cfg)
    parts: dict[str, list[tuple[str, pd.DataFrame]]] = {
        k: [] for k in ("cbs", "lbm", "investment", "crosswalk", "development")
    }
    cbs_files: list[CbsFileInfo] = []
    frames: list[SourceFrame] = []
    ignored: list[IgnoredColumn] = []
    boundaries: list[tuple[str, str, gpd.GeoDataFrame]] = []
    for source in cfg.sources:
        files = _files_of(source)
        reads: list[tuple[str, FileRead]] = []
        held: list[pd.DataFrame] = []
        if source.kind == "lbm2_pc4":
            reads.append((str(source.path), _read_lbm2(source, files)))
        for path in files if source.kind != "lbm2_pc4" else []:
            if source.kind == "cbs_pc4_xlsx":
                from features.cbs_pc4 import parse_cbs_pc4_xlsx

                table = parse_cbs_pc4_xlsx(path.read_bytes(), str(path), source.columns)
                parts["cbs"].append((str(path), table.frame))
                held.append(table.frame)
                cbs_files.append(table.info)
                ignored += _ignored(str(path), table.ignored)
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
            reads.append((str(path), _read_one(source, path)))
        for file, read in reads:
            ignored += read.ignored
            for part, frame in read.parts.items():
                parts[part].append((file, frame))
                if part in CALENDAR_PARTS:
                    frames.append(source_frame(source, part, file, frame))
        if source.columns:
            _check_found(source, held + [f for _, r in reads for f in r.parts.values()])
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
        ignored=tuple(ignored),
    )
