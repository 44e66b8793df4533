"""The panel stage at its I/O edge: read the configured sources, harmonise them, build the
panel, and keep it in the workspace with its typed meta (``wijkradar.records.PanelMeta``).

The panel is rebuilt only when the source files or the panel/label settings changed; their
combined fingerprint is the panel's identity, which scoring runs carry in their id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

import wijkradar
from features import panel as panel_rules
from features import schema, sources
from features.calendar import knowledge_notes, publication_table
from features.harmonize import harmonize
from features.panel import (
    ID_COLUMNS,
    KNOWLEDGE_DATE,
    LABEL_COLUMNS,
    build_panel,
    feature_columns,
    shown_columns,
)
from features.panelfile import content_hash, damaged, panel_bytes, parse_panel, verified_panel
from features.vocabulary import FeatureName, parse
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.errors import ConfigError, InputError, WijkradarError
from wijkradar.records import (
    IgnoredColumn,
    KnowledgeNote,
    MappedColumn,
    PanelMeta,
    SourceFileNote,
)
from wijkradar.sourceconfig import UNIT_LEVELS

if TYPE_CHECKING:
    from features.places import Places

Progress = Callable[[str], None]
_LOG = logging.getLogger(__name__)


def panel_fingerprint(cfg: Config, sources_fingerprint: str) -> str:
    """SHA-256 of the source files' fingerprint, the panel and label settings and the code
    version: equal fingerprints mean an equal panel."""
    calendars = [asdict(s.calendar) if s.calendar else None for s in cfg.sources]
    identity: dict[str, object] = {
        "panel": asdict(cfg.panel), "label": asdict(cfg.label), "code": wijkradar.__version__,
        "calendars": calendars,
    }
    if any(s.columns for s in cfg.sources):  # the mapped columns make the panel too
        identity["columns"] = [[asdict(c) for c in s.columns] for s in cfg.sources]
    if panel_rules.RELATIVE_TO_YEAR:  # a panel of nominal amounts is another panel
        identity["relative_to_year"] = True
    settings = json.dumps(identity, sort_keys=True)
    return hashlib.sha256(f"{sources_fingerprint}\0{settings}".encode()).hexdigest()


def current_fingerprint(cfg: Config) -> str:
    """The fingerprint a panel built now from ``cfg``'s sources and settings would have."""
    return panel_fingerprint(cfg, sources.fingerprint_files(sources.source_files(cfg)))


def kept_panel_meta(ws: Workspace, cfg: Config) -> tuple[str, PanelMeta | None]:
    """The panel fingerprint of the current sources and settings, and the kept panel's meta
    when it was built from exactly those; None when the panel is missing, stale or its meta
    unreadable (``ensure_panel`` then builds). The panel's bytes are not read: this answers
    "is there anything new to do?" without reading a panel that may not be needed. Anything
    that uses the panel gets it from ``ensure_panel``, which checks its hash."""
    fingerprint = current_fingerprint(cfg)
    if not ws.panel.exists() or not ws.panel_meta.exists():
        return fingerprint, None
    try:
        meta = catalog.read_panel_meta(ws)
    except (OSError, ValueError, TypeError, WijkradarError):
        return fingerprint, None
    return fingerprint, meta if meta.fingerprint == fingerprint else None


def ensure_panel(
    ws: Workspace, cfg: Config, force: bool = False, progress: Progress | None = None,
    fingerprint: str | None = None,
) -> tuple[pd.DataFrame, PanelMeta]:
    """The panel, rebuilt only when the sources or the panel/label settings changed. With a
    boundaries source of the panel's level it also writes the map (``boundaries/units.geojson``,
    unless that file is the source itself).

    A kept panel is used only after its bytes match the SHA-256 its meta recorded
    (``PanelMeta.content_hash``; the returned meta carries the hash of the panel returned). A
    mismatch or an unreadable panel is said through ``progress`` (default: this module's log)
    as an ``InputError`` and the panel is rebuilt from the sources; if that fails, the error
    names the damage and the rebuild's error (chained). Nothing is written before every
    source has been read and checked."""
    say = progress or _LOG.info
    if fingerprint is None:  # given by a caller that has just computed it (kept_panel_meta)
        fingerprint = current_fingerprint(cfg)
    if force or not ws.panel.exists() or not ws.panel_meta.exists():
        return build(ws, cfg, fingerprint, say)
    try:
        meta = catalog.read_panel_meta(ws)
    except (OSError, ValueError, TypeError, WijkradarError) as exc:
        damage = damaged(ws.panel_meta, f"its meta cannot be read ({exc})")
        damage.__cause__ = exc
        return rebuild(ws, cfg, fingerprint, say, damage)
    if meta.fingerprint != fingerprint:
        return build(ws, cfg, fingerprint, say)
    try:
        return verified_panel(ws.panel, meta), meta
    except InputError as damage:
        failure = damage
    return rebuild(ws, cfg, fingerprint, say, failure)


def rebuild(
    ws: Workspace, cfg: Config, fingerprint: str, say: Progress, damage: InputError
) -> tuple[pd.DataFrame, PanelMeta]:
    """Say ``damage`` and build the panel anew; a failing build names both."""
    say(f"warning: {damage}")
    try:
        return build(ws, cfg, fingerprint, say)
    except WijkradarError as exc:
        failure = exc
    error = InputError(f"{damage}. Rebuilding it failed: {failure}")
    error.__context__ = damage  # the damage, then (as the cause) the rebuild's error
    raise error from failure


def build(
    ws: Workspace, cfg: Config, fingerprint: str, say: Progress
) -> tuple[pd.DataFrame, PanelMeta]:
    """Read every source, build the panel and write it with its meta (panel first, atomically;
    the meta, with the panel file's SHA-256, last)."""
    from features.places import map_geojson, places_of  # geopandas: on a rebuild only

    check_mapped_names(cfg)
    src = sources.read_sources(cfg)
    say_ignored(src.ignored, say)
    check_level(src, cfg.panel.level)
    where = places_of(src.boundaries, cfg.panel.level)
    published = publication_table(src.frames)
    panel = panel_from_sources(cfg, src, published, where)
    meta = panel_meta(fingerprint, cfg, src, panel, where, published)
    catalog.write_parquet(panel, ws.panel)
    data = panel_bytes(ws.panel)
    meta = replace(meta, content_hash=content_hash(data))
    panel = parse_panel(data)  # the panel as every later use will read it
    if where is not None and not _is_source(ws.boundaries, cfg):
        ids = panel[["unit_code", "unit_name", "gemeente_code", "gemeente_name"]]
        catalog.write_text(map_geojson(where, ids), ws.boundaries)
    catalog.write_panel_meta(ws, meta)
    return panel, meta


def say_ignored(ignored: Sequence[IgnoredColumn], say: Progress) -> None:
    """One line per file: the columns it has that are neither built in nor mapped."""
    by_file: dict[str, list[str]] = {}
    for note in ignored:
        by_file.setdefault(note.file, []).append(note.column)
    for file, columns in by_file.items():
        shown = ", ".join(repr(c) for c in columns[:12])
        more = f" and {len(columns) - 12} more" if len(columns) > 12 else ""
        say(f"{file}: {len(columns)} column(s) ignored, neither built in nor mapped in the "
            f"source's 'columns': {shown}{more}")


def check_level(src: sources.Sources, level: str) -> None:
    """The panel's level must be one the Leefbarometer sources hold (its label comes from
    them); else a ``ConfigError`` naming the levels present."""
    lbm_levels = set(src.lbm["level"].dropna().astype(str))
    if level in lbm_levels:
        return
    cbs_levels = set(src.cbs["level"].dropna().astype(str))

    def listed(levels: set[str]) -> str:
        ordered = [lv for lv in UNIT_LEVELS if lv in levels]
        return ", ".join(ordered) if ordered else "none"

    raise ConfigError(
        f"The [panel] level is {level!r}, but the Leefbarometer sources hold no {level} units: "
        f"they hold {listed(lbm_levels)} (the CBS sources: {listed(cbs_levels)}). Set "
        f"[panel] level to one of {listed(lbm_levels)}, or add a source of {level} units."
    )


def check_mapped_names(cfg: Config) -> None:
    """A mapped column must not take the name of a panel id, label or Leefbarometer feature,
    nor a name the feature grammar reads as a change or a gemeente feature (its words would
    be another column's)."""
    reserved = {*ID_COLUMNS, *LABEL_COLUMNS, KNOWLEDGE_DATE}
    for source in cfg.sources:
        for column in source.columns:
            if column.name in reserved or column.name.startswith(("lbm", "label")):
                raise ConfigError(
                    f"Column {column.source!r} of {source.path} is mapped to {column.name!r}, "
                    "a name the panel keeps for its ids, labels and Leefbarometer features "
                    "(lbm..., label...); choose another."
                )
            if parse(column.name) != FeatureName(column.name):
                raise ConfigError(
                    f"Column {column.source!r} of {source.path} is mapped to {column.name!r}, "
                    "which reads as a change or a gemeente feature (..._chg<k>, ..._chg_prev, "
                    "gm_...); choose a name without them."
                )


def mapped_by_part(cfg: Config) -> dict[str, list[str]]:
    """part -> the names mapped through ``columns`` that are no built-in variable: 'cbs' for
    the CBS kinds, 'investment' (further yearly variables) for the others."""
    builtin = {*schema.CBS_BY_NAME, *schema.CBS_PC4_BY_NAME}
    out: dict[str, list[str]] = {"cbs": [], "investment": []}
    for source in cfg.sources:
        part = "cbs" if source.kind in sources.CBS_KINDS else "investment"
        out[part] += [c.name for c in source.columns
                      if c.name not in builtin and c.name not in out[part]]
    return out


def panel_from_sources(
    cfg: Config, src: sources.Sources, published: pd.DataFrame | None, where: Places | None = None
) -> pd.DataFrame:
    """The panel of read sources: harmonised over code changes, placed, and point in time by
    the publication table ``published`` (None: the as-of-year rule, for comparisons)."""
    mapped = [c for source in cfg.sources for c in source.columns]
    cbs, lbm, investment = harmonize(src.cbs, src.lbm, src.investment, src.crosswalk, mapped)
    try:
        return build_panel(
            cbs,
            lbm,
            investment,
            level=cfg.panel.level,
            change_lags=cfg.panel.change_lags,
            delta=cfg.label.delta,
            label_kind=cfg.label.kind,
            max_class=cfg.label.max_class,
            development=src.development,
            places=where.gemeenten if where else None,
            adjacency=where.adjacency if where else None,
            published=published,
            knowledge=cfg.panel.knowledge,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def panel_knowledge(
    panel: pd.DataFrame, published: pd.DataFrame, level: str,
    mapped: dict[str, list[str]] | None = None,
) -> tuple[KnowledgeNote, ...]:
    """Per as-of year of ``panel``: its knowledge date and, per source, the newest reference
    year its features use and when that was published. ``mapped``: part -> the names mapped
    through ``columns`` (``mapped_by_part``)."""
    if KNOWLEDGE_DATE not in panel.columns or panel.empty:
        return ()
    dates = panel.groupby("as_of_year")[KNOWLEDGE_DATE].first().sort_index()
    columns = set(panel.columns)
    mapped = mapped or {}
    cbs_names = [v.name for v in (*schema.CBS_VARIABLES, *schema.CBS_PC4_VARIABLES)]
    inv_names = [v.name for v in schema.INVESTMENT_VARIABLES]
    used = {
        "cbs": [v for v in [*cbs_names, *mapped.get("cbs", [])] if v in columns],
        "lbm": ["lbm"] if "lbm" in columns else [],
        "investment": [v for v in [*inv_names, *mapped.get("investment", [])] if v in columns],
    }
    return knowledge_notes(published, level, dates, used)


def panel_meta(
    fingerprint: str, cfg: Config, src: sources.Sources, panel: pd.DataFrame,
    where: Places | None, published: pd.DataFrame | None = None,
) -> PanelMeta:
    """The typed meta of a freshly built panel."""
    from features.places import place_note

    return PanelMeta(
        fingerprint=fingerprint,
        sources_fingerprint=src.fingerprint,
        rows=len(panel),
        units=int(panel["unit_code"].nunique()),
        as_of_years=sorted(int(y) for y in panel["as_of_year"].unique()),
        features=[*feature_columns(panel), *shown(panel)],
        level=cfg.panel.level,
        delta=cfg.label.delta,
        built=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        context_features=context_features(panel),
        source_files=tuple(
            SourceFileNote(
                file=info.file,
                reference_date=_iso(info.reference_date),
                published=_iso(info.published),
                secret=info.secret,
                unavailable=info.unavailable,
            )
            for info in src.cbs_files
        ),
        places=place_note(where, cfg.panel.level, panel["unit_code"]) if where else None,
        knowledge=(
            panel_knowledge(panel, published, cfg.panel.level, mapped_by_part(cfg))
            if published is not None else ()
        ),
        ignored_columns=src.ignored,
        mapped_columns=mapped_columns(cfg),
    )


def mapped_columns(cfg: Config) -> tuple[MappedColumn, ...]:
    """The columns the sources map through ``columns``, with their labels: the words the
    serving layer gives them (``features.describe.mapped_terms``). One per panel name."""
    out: dict[str, MappedColumn] = {}
    for source in cfg.sources:
        for c in source.columns:
            out.setdefault(c.name, MappedColumn(
                c.name, c.kind, c.label, c.label_nl, c.source, c.plural))
    return tuple(out.values())


def context_features(panel: pd.DataFrame) -> list[str]:
    """Features that some rows hold but no labelled row does (a source that covers only recent
    years), then the nominal amounts kept for people (``shown``). They are context for
    analysts; no model learns from them (``ml.folds.usable_features`` drops a feature
    missing in every training row, ``features.panel.feature_columns`` the nominal amounts)."""
    labelled = panel[panel["label"].notna()]
    recent = [
        f for f in feature_columns(panel)
        if panel[f].notna().any() and not labelled[f].notna().any()
    ]
    return recent + shown(panel)


def shown(panel: pd.DataFrame) -> list[str]:
    """The nominal amounts kept for people (``features.panel.shown_columns``: the WOZ value
    in euros beside its year-relative feature) that hold a value: context, never a model
    feature. One without a value is left out of the meta altogether, so that
    ``PanelMeta.model_features`` never names it."""
    return [c for c in shown_columns(panel) if panel[c].notna().any()]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _is_source(path: Path, cfg: Config) -> bool:
    return any(s.path.resolve() == path.resolve() for s in cfg.sources)
