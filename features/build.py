"""The panel stage at its I/O edge: read the configured sources, harmonise them, build the
panel, and keep it in the workspace with its typed meta (``wijkradar.records.PanelMeta``).

The panel is rebuilt only when the source files or the panel/label settings changed; their
combined fingerprint is the panel's identity, which scoring runs carry in their id.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

import wijkradar
from features import schema, sources
from features.calendar import knowledge_notes, publication_table
from features.harmonize import harmonize
from features.panel import KNOWLEDGE_DATE, build_panel, cbs_variables, feature_columns
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.errors import ConfigError
from wijkradar.records import KnowledgeNote, PanelMeta, SourceFileNote

if TYPE_CHECKING:
    from features.places import Places


def panel_fingerprint(cfg: Config, sources_fingerprint: str) -> str:
    """SHA-256 of the source files' fingerprint, the panel and label settings and the code
    version: equal fingerprints mean an equal panel."""
    calendars = [asdict(s.calendar) if s.calendar else None for s in cfg.sources]
    settings = json.dumps(
        {"panel": asdict(cfg.panel), "label": asdict(cfg.label), "code": wijkradar.__version__,
         "calendars": calendars},
        sort_keys=True,
    )
    return hashlib.sha256(f"{sources_fingerprint}\0{settings}".encode()).hexdigest()


def ensure_panel(
    ws: Workspace, cfg: Config, force: bool = False
) -> tuple[pd.DataFrame, PanelMeta]:
    """The panel, rebuilt only when the sources or the panel/label settings changed. With a
    boundaries source of the panel's level it also writes the map (``boundaries/units.geojson``,
    unless that file is the source itself)."""
    files = sources.source_files(cfg)
    fingerprint = panel_fingerprint(cfg, sources.fingerprint_files(files))
    if not force and ws.panel.exists() and ws.panel_meta.exists():
        meta = catalog.read_panel_meta(ws)
        if meta.fingerprint == fingerprint:
            return catalog.read_parquet(ws.panel), meta
    from features.places import map_geojson, places_of  # geopandas: on a rebuild only

    src = sources.read_sources(cfg)
    where = places_of(src.boundaries, cfg.panel.level)
    published = publication_table(src.frames)
    panel = panel_from_sources(cfg, src, published, where)
    meta = panel_meta(fingerprint, cfg, src, panel, where, published)
    catalog.write_parquet(panel, ws.panel)
    if where is not None and not _is_source(ws.boundaries, cfg):
        ids = panel[["unit_code", "unit_name", "gemeente_code", "gemeente_name"]]
        catalog.write_text(map_geojson(where, ids), ws.boundaries)
    catalog.write_panel_meta(ws, meta)
    return panel, meta


def panel_from_sources(
    cfg: Config, src: sources.Sources, published: pd.DataFrame | None, where: Places | None = None
) -> pd.DataFrame:
    """The panel of read sources: harmonised over code changes, placed, and point in time by
    the publication table ``published`` (None: the as-of-year rule, for comparisons)."""
    cbs, lbm, investment = harmonize(src.cbs, src.lbm, src.investment, src.crosswalk)
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
    panel: pd.DataFrame, published: pd.DataFrame, level: str
) -> tuple[KnowledgeNote, ...]:
    """Per as-of year of ``panel``: its knowledge date and, per source, the newest reference
    year its features use and when that was published."""
    if KNOWLEDGE_DATE not in panel.columns or panel.empty:
        return ()
    dates = panel.groupby("as_of_year")[KNOWLEDGE_DATE].first().sort_index()
    columns = set(panel.columns)
    used = {
        "cbs": [v for v in cbs_variables(panel) if v in columns],
        "lbm": ["lbm"] if "lbm" in columns else [],
        "investment": [v.name for v in schema.INVESTMENT_VARIABLES if v.name in columns],
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
        features=feature_columns(panel),
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
            panel_knowledge(panel, published, cfg.panel.level) if published is not None else ()
        ),
    )


def context_features(panel: pd.DataFrame) -> list[str]:
    """Features that some rows hold but no labelled row does: a source that covers only recent
    years. They are context for analysts; no model can learn from them
    (``ml.folds.usable_features`` drops a feature missing in every training row)."""
    labelled = panel[panel["label"].notna()]
    return [
        f for f in feature_columns(panel)
        if panel[f].notna().any() and not labelled[f].notna().any()
    ]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _is_source(path: Path, cfg: Config) -> bool:
    return any(s.path.resolve() == path.resolve() for s in cfg.sources)
