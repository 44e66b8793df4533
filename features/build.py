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

import pandas as pd

import wijkradar
from features import sources
from features.harmonize import harmonize
from features.panel import build_panel, feature_columns
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.errors import ConfigError
from wijkradar.records import PanelMeta


def panel_fingerprint(cfg: Config, sources_fingerprint: str) -> str:
    """SHA-256 of the source files' fingerprint, the panel and label settings and the code
    version: equal fingerprints mean an equal panel."""
    settings = json.dumps(
        {"panel": asdict(cfg.panel), "label": asdict(cfg.label), "code": wijkradar.__version__},
        sort_keys=True,
    )
    return hashlib.sha256(f"{sources_fingerprint}\0{settings}".encode()).hexdigest()


def ensure_panel(
    ws: Workspace, cfg: Config, force: bool = False
) -> tuple[pd.DataFrame, PanelMeta]:
    """The panel, rebuilt only when the sources or the panel/label settings changed."""
    files = sources.source_files(cfg)
    fingerprint = panel_fingerprint(cfg, sources.fingerprint_files(files))
    if not force and ws.panel.exists() and ws.panel_meta.exists():
        meta = catalog.read_panel_meta(ws)
        if meta.fingerprint == fingerprint:
            return catalog.read_parquet(ws.panel), meta
    src = sources.read_sources(cfg)
    cbs, lbm, investment = harmonize(src.cbs, src.lbm, src.investment, src.crosswalk)
    try:
        panel = build_panel(
            cbs,
            lbm,
            investment,
            level=cfg.panel.level,
            change_lags=cfg.panel.change_lags,
            delta=cfg.label.delta,
            label_kind=cfg.label.kind,
            max_class=cfg.label.max_class,
            development=src.development,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    meta = PanelMeta(
        fingerprint=fingerprint,
        sources_fingerprint=src.fingerprint,
        rows=len(panel),
        units=int(panel["unit_code"].nunique()),
        as_of_years=sorted(int(y) for y in panel["as_of_year"].unique()),
        features=feature_columns(panel),
        level=cfg.panel.level,
        delta=cfg.label.delta,
        built=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    catalog.write_parquet(panel, ws.panel)
    catalog.write_panel_meta(ws, meta)
    return panel, meta
