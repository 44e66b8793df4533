"""What the read-only API reads: published runs, the panel, boundaries and the registry.

Nothing here writes to the workspace. A published run folder never changes once renamed into
place, so a run's ranking is loaded once and kept in memory (keyed by its path and mtime);
``scores/<year>/latest`` and the run folders are looked at on every request, so a newly
published run shows up without a restart. The change against the previous run (rank change,
new in the top 10 %) is read as the job published it. Unit codes reach this module only after
the API checked them against a strict pattern, and they are only ever used as keys of
in-memory tables, never in a path.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from features.describe import Extra, mapped_terms
from ml.metrics import top_count
from serving.report import TABLE_COLUMNS
from wijkradar import catalog
from wijkradar.catalog import RunFolder, Workspace, plain
from wijkradar.errors import WijkradarError
from wijkradar.records import Manifest, PanelMeta

T = TypeVar("T")
TOP_SHARE = 0.10
EXTRA_COLUMNS = ("previous_rank", "rank_change", "in_top10", "new_in_top10")
EXPORT_COLUMNS = ("as_of_year", *TABLE_COLUMNS, *EXTRA_COLUMNS)
NUMERIC_SORTS = frozenset({"rank", "risk", "rank_in_gemeente", "rank_change"})
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DIGITS = re.compile(r"(\d+)")


class NotFound(LookupError):
    """Something asked for is not in the workspace; the message says what."""


class Memo:
    """A bounded, thread-safe cache; each value is computed once, outside the global lock."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                if key in self._data:
                    return self._data[key]
            value = make()
            with self._lock:
                self._data[key] = value
                while len(self._data) > self._size:
                    self._data.popitem(last=False)
                self._pending.pop(key, None)
        return value


@dataclass(frozen=True)
class Run:
    year: int
    folder: RunFolder
    manifest: Manifest
    mtime_ns: int
    latest: bool

    @property
    def run_id(self) -> str:
        return self.folder.run_id

    @property
    def path(self) -> Path:
        return self.folder.path

    @property
    def created(self) -> str:
        return self.manifest.created


@dataclass
class RankingView:
    """The latest run of a year, with the change against the previous run, ready to page."""

    run: Run
    frame: pd.DataFrame  # rank order; TABLE_COLUMNS + EXTRA_COLUMNS + shap__*
    records: list[dict[str, Any]]  # the table rows (TABLE_COLUMNS + EXTRA_COLUMNS), plain
    top10_rank: int
    position: dict[str, int]  # unit_code -> row
    gemeente_codes: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    _search: list[str] = field(repr=False, default_factory=list)
    _orders: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    def select(self, gemeente: str | None, query: str | None, sort: str) -> np.ndarray:
        """Row positions matching the filter, in ``sort`` order."""
        order = self.order(sort)
        keep = np.ones(len(self.records), dtype=bool)
        if gemeente:
            keep &= self.gemeente_codes == gemeente
        needle = _fold(query or "").strip()
        if needle:
            keep &= np.fromiter((needle in s for s in self._search), bool, len(self._search))
        return order[keep[order]]

    @property
    def previous_run_id(self) -> str | None:
        """The run the rank changes compare with (None: nothing to compare with)."""
        return self.run.manifest.previous_run

    def order(self, sort: str) -> np.ndarray:
        if sort not in self._orders:
            key, desc = sort.lstrip("-"), sort.startswith("-")
            values = [r[key] for r in self.records]
            if key in NUMERIC_SORTS:
                keys = [(v is None, v if v is not None else 0) for v in values]
            else:
                keys = [(v is None, _natural(v)) for v in values]
            if desc:  # missing values stay last; ties stay in rank order (the sort is stable)
                keys = [(not m, k) for m, k in keys]
            positions = sorted(range(len(keys)), key=keys.__getitem__, reverse=desc)
            self._orders[sort] = np.asarray(positions, dtype=np.int64)
        return self._orders[sort]

    def export_frame(self, positions: np.ndarray) -> pd.DataFrame:
        out = self.frame.iloc[positions]
        return out.assign(as_of_year=self.run.year)[list(EXPORT_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True)
class PanelYear:
    """One as-of year of the panel: the features' values, and their medians nationally and
    per gemeente (a feature the panel lacks is all missing)."""

    values: pd.DataFrame  # unit_code index, feature columns
    national: pd.Series  # feature -> median
    by_gemeente: pd.DataFrame  # gemeente_code index, feature columns: medians

    def present(self, feature: str) -> bool:
        """Whether any unit of the year has a value of ``feature``."""
        return feature in self.values.columns and bool(self.values[feature].notna().any())

    def profile(
        self, code: str, gemeente_code: Any
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The unit's values, its gemeente's medians and the national medians (empty where
        the unit or the gemeente is not in the year)."""
        values = self.values.loc[code].to_dict() if code in self.values.index else {}
        known = gemeente_code is not None and gemeente_code in self.by_gemeente.index
        gemeente = self.by_gemeente.loc[gemeente_code].to_dict() if known else {}
        return values, gemeente, self.national.to_dict()


class Store:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._manifests = Memo(512)
        self._rankings = Memo(16)
        self._views = Memo(16)
        self._panel = Memo(2)
        self._panel_meta = Memo(2)
        self._panel_years = Memo(8)
        self._boundaries = Memo(2)
        self.charts = Memo(256)
        self.derived = Memo(64)

    # --- runs ------------------------------------------------------------------------------

    def years(self) -> list[int]:
        return catalog.scored_years(self.ws)

    def year_or_latest(self, as_of: int | None) -> int:
        years = self.years()
        if not years:
            raise NotFound("No published scoring run yet. Run `wijkradar score` first.")
        if as_of is None:
            return years[-1]
        if as_of not in years:
            raise NotFound(f"No published run for as-of year {as_of}. Published: {years}.")
        return as_of

    def runs(self, year: int) -> list[Run]:
        """The complete runs of ``year``, oldest first (by their manifest's ``created``); a run
        whose manifest cannot be read counts as incomplete."""
        latest = catalog.latest_run(self.ws, year)
        out = []
        for folder in catalog.run_folders(self.ws, year):
            if not _RUN_ID.match(folder.run_id) or not folder.ranking.is_file():
                continue
            try:
                mtime = folder.manifest.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            manifest = self._manifests.get(
                (str(folder.manifest), mtime), lambda f=folder: _manifest_or_none(f)
            )
            if manifest is None:
                continue
            is_latest = latest is not None and latest.run_id == folder.run_id
            out.append(Run(year, folder, manifest, mtime, is_latest))
        return sorted(out, key=lambda r: (r.created, r.mtime_ns, r.run_id))

    def runs_key(self) -> tuple[tuple[str, int, bool], ...]:
        """Changes whenever a run is published or ``latest`` moves, in any year."""
        return tuple(
            (str(r.path), r.mtime_ns, r.latest) for y in self.years() for r in self.runs(y)
        )

    def view(self, as_of: int | None) -> RankingView:
        year = self.year_or_latest(as_of)
        latest = [r for r in self.runs(year) if r.latest]
        if not latest:
            raise NotFound(f"The latest run of {year} is incomplete or missing.")
        run = latest[0]
        return self._views.get((run.path, run.mtime_ns), lambda: self._build_view(run))

    def ranking(self, run: Run) -> pd.DataFrame:
        path = run.folder.ranking
        key = (str(path), path.stat().st_mtime_ns)
        return self._rankings.get(key, lambda: catalog.read_parquet(path))

    def _build_view(self, run: Run) -> RankingView:
        frame = self.ranking(run).sort_values(["rank", "unit_code"], kind="mergesort")
        frame = with_change(frame.reset_index(drop=True), run.manifest.previous_run is not None)
        records = [
            {k: plain(v) for k, v in zip(TABLE_COLUMNS + EXTRA_COLUMNS, row, strict=True)}
            for row in frame[list(TABLE_COLUMNS + EXTRA_COLUMNS)].itertuples(index=False)
        ]
        search = [_fold(f"{r['unit_code']}\n{r['unit_name'] or ''}") for r in records]
        return RankingView(
            run=run,
            frame=frame,
            records=records,
            top10_rank=top_count(len(frame), TOP_SHARE),
            position={r["unit_code"]: i for i, r in enumerate(records)},
            _search=search,
            gemeente_codes=frame["gemeente_code"].astype(str).to_numpy(),
        )

    @staticmethod
    def file_key(path: Path) -> tuple[str, int | None]:
        """Identifies a file's current content for a cache key (None: no such file)."""
        try:
            return str(path), path.stat().st_mtime_ns
        except FileNotFoundError:
            return str(path), None

    # --- panel -----------------------------------------------------------------------------

    def panel(self) -> pd.DataFrame | None:
        path = self.ws.panel
        if not path.is_file():
            return None
        return self._panel.get((str(path), path.stat().st_mtime_ns), lambda: pd.read_parquet(path))

    def panel_meta(self) -> PanelMeta | None:
        """The panel meta (``panel/panel.json``), or None when it is missing or unreadable."""
        key = self.file_key(self.ws.panel_meta)
        if key[1] is None:
            return None
        return self._panel_meta.get(key, lambda: _panel_meta_or_none(self.ws))

    def terms(self) -> Extra:
        """The panel's mapped columns (``features.describe.mapped_terms``), which every text
        names by their labels; empty without a readable panel meta."""
        meta = self.panel_meta()
        return mapped_terms(meta.mapped_columns) if meta is not None else {}

    def panel_fingerprint(self) -> str | None:
        meta = self.panel_meta()
        return meta.fingerprint if meta is not None else None

    def context_features(self) -> list[str]:
        """The panel's context features: shown beside a unit's drivers, in no model."""
        meta = self.panel_meta()
        return list(meta.context_features) if meta is not None else []

    def panel_year(self, year: int, features: list[str]) -> PanelYear | None:
        panel = self.panel()
        if panel is None:
            return None
        key = (id(panel), year, tuple(features))
        return self._panel_years.get(key, lambda: _panel_year(panel, year, features))

    # --- boundaries ------------------------------------------------------------------------

    @property
    def boundaries_path(self) -> Path:
        return self.ws.boundaries

    def boundaries(self) -> dict[str, dict[str, Any]] | None:
        """unit_code -> GeoJSON geometry (Polygon or MultiPolygon), or None without a file."""
        path = self.boundaries_path
        if not path.is_file():
            return None
        key = (str(path), path.stat().st_mtime_ns)
        return self._boundaries.get(key, lambda: _read_boundaries(path))


# ---------------------------------------------------------------------------------------------


def with_change(frame: pd.DataFrame, compared: bool) -> pd.DataFrame:
    """The ranking with the API's view of the change the job published (``rank_change``,
    ``new_in_top10``): whole-number rank changes, the previous rank they imply, and whether
    the unit is in the top 10 % now. Without a previous run (``compared`` False), whether a
    unit is new in the top 10 % is unknown (None), not False."""
    change = frame["rank_change"].round().astype("Int64")
    return frame.assign(
        in_top10=frame["rank"] <= top_count(len(frame), TOP_SHARE),
        rank_change=change,
        previous_rank=frame["rank"].astype("Int64") + change,
        new_in_top10=frame["new_in_top10"].astype(bool) if compared else None,
    )


def _manifest_or_none(folder: RunFolder) -> Manifest | None:
    try:
        return catalog.read_manifest(folder)
    except (OSError, ValueError, TypeError, WijkradarError):  # unreadable: treat as incomplete
        return None


def _panel_meta_or_none(ws: Workspace) -> PanelMeta | None:
    try:
        return catalog.read_panel_meta(ws)
    except (OSError, ValueError, TypeError, WijkradarError):  # unreadable: as if missing
        return None


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for search and sort."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _natural(value: Any) -> tuple[Any, ...]:
    """'Wijk 9' before 'Wijk 10', case and accents ignored (as the report's collator)."""
    parts = _DIGITS.split(_fold(value if value is not None else ""))
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def _panel_year(panel: pd.DataFrame, year: int, features: list[str]) -> PanelYear:
    rows = panel[panel["as_of_year"] == year].drop_duplicates("unit_code")
    present = [f for f in features if f in rows.columns]
    values = rows.set_index("unit_code")[present].apply(pd.to_numeric, errors="coerce")
    values = values.reindex(columns=features)
    national = values.median(skipna=True)
    if "gemeente_code" in rows.columns:
        groups = rows.set_index("unit_code")["gemeente_code"]
        by_gemeente = values.groupby(groups).median()
    else:
        by_gemeente = pd.DataFrame(columns=features)
    return PanelYear(values=values, national=national, by_gemeente=by_gemeente)


def _read_boundaries(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, Any]] = {}
    for feature in data.get("features", []) if isinstance(data, dict) else []:
        if not isinstance(feature, dict):
            continue
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        code = _code(props.get("unit_code")) if isinstance(props, dict) else None
        if (
            code is not None
            and isinstance(geometry, dict)
            and geometry.get("type") in ("Polygon", "MultiPolygon")
            and isinstance(geometry.get("coordinates"), list)
        ):
            out[code] = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
    return out


def _code(value: Any) -> str | None:
    """A unit code of the map file: text, or a whole number as a PC4 code may be written
    (1011 is "1011"); anything else is no code."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
