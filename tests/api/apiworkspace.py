"""A published workspace for the API tests, made without training (seconds, not minutes).

Only the model is stand-in: ``model_output`` makes risk, margin and SHAP contributions that
add up, as the packaged model returns them. Everything after it is the job's own code:
``serving.job.score_rows`` (additivity check and ``serving.ranking.build_ranking``),
``serving.job.with_guards`` (rank change, new in the top 10 %) and ``serving.job.publish_run``
(the run folder and its manifest). So the API tests read the output contract as the job
writes it.

Two as-of years: 2022 with one run, 2024 with two (an older and the latest, so ranks change
and some units are new in the top 10 %). A panel with the model's features and one context
feature (``CONTEXT``: values in 2024 only, as a source that covers only recent years; listed
in the panel meta's ``context_features``, in no model), synthetic boundaries, and an MLflow
store with two registered versions whose training runs logged an evaluation table, PR curves
and a model card (``MODEL_CARDS``): v1 as runs logged before the card was written in Dutch
(only an English ``model_card.md``), v2 as training logs it now (Dutch and English).
``build_workspace`` is also used by ``bench/api.py``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.synth.boundaries import synthetic_boundaries
from ml.drift import DRIFT_COLUMNS
from models.explain import SHAP_BASE, shap_column
from serving.exports import context_values
from serving.job import publish_run, score_rows, with_guards
from serving.writers import RunContent
from wijkradar import catalog
from wijkradar.catalog import Workspace
from wijkradar.config import ScoringConfig
from wijkradar.records import ALL_GEMEENTEN, KnowledgeNote, Manifest, PanelMeta, SourceUse

with warnings.catch_warnings():  # starlette's note that it prefers httpx2 to httpx
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient as TestClient

FEATURES = (
    "lbm",
    "lbm_chg_prev",
    "low_income_hh_pct_chg3",
    "bijstand_per_1000",
    "crimes_per_1000",
    "gm_lbm_chg_prev",
)
CONTEXT = ("woz_value",)  # declared in features.schema: gemiddelde WOZ-waarde, duizend euro
CONTEXT_YEARS = (2024,)
PANEL_YEARS = (2016, 2018, 2020, 2022, 2024)
HOSTILE_NAME = '<img src=x onerror="alert(1)"> & </script>'
FORMULA_NAME = '=HYPERLINK("http://evil")'
FINGERPRINT = "f" * 64
# What the rows of each as-of year knew, by hand (as a panel built with the default calendar
# records it): Leefbarometer and CBS of the as-of year published on 1 July of the next year,
# CBS income a year behind.
KNOWLEDGE = tuple(
    KnowledgeNote(
        as_of_year=year,
        knowledge_date=f"{year + 1}-07-01",
        sources=(
            SourceUse("Leefbarometer", year, f"{year + 1}-07-01"),
            SourceUse("CBS", year, f"{year + 1}-07-01"),
            SourceUse("CBS income", year - 1, f"{year + 1}-07-01"),
        ),
    )
    for year in PANEL_YEARS
)
KNOWLEDGE_LINE_2024 = (
    "Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024, CBS inkomen 2023"
)
CONFIG = """
[[source]]
kind = "cbs_kwb_csv"
path = "sources/cbs"
"""


def unit_frame(n_units: int, n_gemeenten: int, level: str = "wijk") -> pd.DataFrame:
    """Unit and gemeente codes and names: WK codes when they fit (< 100 per gemeente), else
    BU codes; at level ``pc4`` 4-digit postcodes from 1011 with names such as '1011 Gemeente
    A0'."""
    per = math.ceil(n_units / n_gemeenten)
    rows = []
    for i in range(n_units):
        g, k = divmod(i, per)
        gm, gemeente = 100 + 7 * g, f"Gemeente {chr(65 + g % 26)}{g}"
        if level == "pc4":
            code, name = f"{1011 + i}", f"{1011 + i} {gemeente}"
        else:
            code = f"WK{gm:04d}{k:02d}" if per <= 100 else f"BU{gm:04d}{k:04d}"
            name = f"Wijk {k + 1}"
        rows.append((code, name, f"GM{gm:04d}", gemeente))
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "gemeente_code", "gemeente_name"])


def _panel(units: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    for year in PANEL_YEARS:
        frame = units.copy()
        frame["as_of_year"] = year
        for feature in FEATURES:
            frame[feature] = rng.normal(size=len(units)).round(4)
        frame["lbm"] = 4.0 + rng.normal(0, 0.1, len(units))
        frame["lbm_years_since"] = 0 if year % 4 == 0 else 2
        own = np.random.default_rng([year, 7])  # leaves the model features' draws as they were
        for feature in CONTEXT:  # thousand euro; missing before the source's first year
            recent = year in CONTEXT_YEARS
            frame[feature] = (300 + 80 * own.normal(size=len(units))).round(1) if recent else np.nan
        frames.append(frame)
    panel = pd.concat(frames, ignore_index=True)
    panel.loc[panel.index[::11], "crimes_per_1000"] = np.nan
    panel.loc[panel.index[::13], list(CONTEXT)] = np.nan
    return panel


def _write_panel(ws: Workspace, panel: pd.DataFrame, level: str) -> None:
    catalog.write_parquet(panel, ws.panel)
    meta = PanelMeta(
        fingerprint=FINGERPRINT,
        sources_fingerprint="e" * 64,
        rows=len(panel),
        units=int(panel["unit_code"].nunique()),
        as_of_years=list(PANEL_YEARS),
        features=[*FEATURES, *CONTEXT],
        level=level,
        delta=0.05,
        built="2025-01-01T09:00:00+0000",
        context_features=list(CONTEXT),
        knowledge=KNOWLEDGE,
    )
    catalog.write_panel_meta(ws, meta)


def model_output(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """What the packaged model returns for ``n`` rows (``models.explain.predict_frame``):
    risk, margin, ``shap__<feature>`` and ``shap__base``, from random contributions that add
    up to the margin."""
    shap = rng.normal(0, 0.5, (n, len(FEATURES)))
    base = -1.0
    margin = shap.sum(axis=1) + base
    out = pd.DataFrame({"risk": 1.0 / (1.0 + np.exp(-margin)), "margin": margin})
    for j, feature in enumerate(FEATURES):
        out[shap_column(feature)] = shap[:, j]
    out[SHAP_BASE] = base
    return out


def publish(
    root: Path,
    panel: pd.DataFrame,
    year: int,
    run_id: str,
    created: str,
    model: tuple[str, str, str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Score ``year``'s rows of ``panel`` with a stand-in model and publish the run as the job
    does (against the latest run of the year, if any); returns the published ranking."""
    ws = Workspace(root)
    rows = panel[panel["as_of_year"] == year].reset_index(drop=True)
    features = list(FEATURES)
    ranking, error = score_rows(lambda X: model_output(len(X), rng), rows, features)
    current = catalog.latest_run(ws, year)
    previous = catalog.read_parquet(current.ranking) if current else None
    values = rows[["unit_code", *features]]
    limit = ScoringConfig().max_missing_share
    ranking = with_guards(ranking, values, previous, features, limit)
    note = next(n for n in KNOWLEDGE if n.as_of_year == year)
    manifest = Manifest(
        run_id=run_id,
        as_of_year=year,
        model_name=model[0],
        model_version=model[1],
        model_run_id=model[2],
        panel_fingerprint=FINGERPRINT,
        row_count=len(ranking),
        features=FEATURES,
        additivity_max_error=error,
        previous_run=current.run_id if current else None,
        drift_flagged=(),
        units_flagged_missing=int(ranking["flag_missing"].sum()),
        gemeenten=ALL_GEMEENTEN,
        created=created,
        knowledge_date=note.knowledge_date,
        sources=note.sources,
    )
    drift = pd.DataFrame(columns=list(DRIFT_COLUMNS))  # a model without a training profile
    context = context_values(rows, CONTEXT)
    content = RunContent(ranking=ranking, values=values, drift=drift, previous=previous,
                         context=context)
    publish_run(ws, manifest, content, lambda _: None)
    return ranking


def build_workspace(
    root: Path,
    n_units: int = 300,
    n_gemeenten: int = 12,
    seed: int = 0,
    model_runs: tuple[str, str] = ("run-v1", "run-v2"),
    boundaries: bool = True,
    level: str = "wijk",
) -> dict[str, Any]:
    """Write the workspace (of wijken, or of postcode areas with ``level="pc4"``); returns the
    units, the panel and the rankings by run id."""
    rng = np.random.default_rng(seed)
    ws = Workspace(root)
    catalog.write_text(CONFIG, ws.config)
    units = unit_frame(n_units, n_gemeenten, level)
    units.loc[3, "unit_name"] = HOSTILE_NAME
    units.loc[5, "unit_name"] = FORMULA_NAME
    panel = _panel(units, rng)
    _write_panel(ws, panel, level)
    rankings = {}
    for run_id, year, created, version in (
        ("a2022", 2022, "2025-01-01T10:00:00+0000", "1"),
        ("b2024old", 2024, "2025-01-01T10:00:00+0000", "1"),
        ("c2024new", 2024, "2025-02-01T10:00:00+0000", "2"),
    ):
        model = ("wijkradar", version, model_runs[int(version) - 1])
        rankings[run_id] = publish(root, panel, year, run_id, created, model, rng)
    if boundaries:
        geojson = synthetic_boundaries(units.iloc[: n_units - 2], seed)  # two units unmapped
        catalog.write_text(json.dumps(geojson), ws.boundaries)
    return {"units": units, "panel": panel, "rankings": rankings}


def evaluation_table(shift: float) -> pd.DataFrame:
    rows = []
    for year in (2018, 2020):
        for k, model in enumerate(("logistic", "lightgbm", "last_change")):
            rows.append(
                {
                    "test_year": year,
                    "model": model,
                    "n": 300,
                    "base_rate": 0.2,
                    "roc_auc": 0.7 + shift + 0.01 * k,
                    "pr_auc": 0.4 + shift,
                    "precision_at_10": 0.5,
                    "recall_at_10": 0.25,
                }
            )
    return pd.DataFrame(rows)


# The model card files each version's training run logged (``ml.modelcard.card_file``).
MODEL_CARDS: tuple[dict[str, str], dict[str, str]] = (
    {"model_card.md": "# Model card\n\nwijkradar v1: an *older* test model.\n"},
    {"model_card.md": "# Modelkaart\n\nwijkradar v2: *synthetisch* testmodel.\n",
     "model_card.en.md": "# Model card\n\nwijkradar v2: *synthetic* test model.\n"},
)


def register_models(root: Path) -> tuple[str, str]:
    """Two training runs in the workspace's MLflow store, registered as v1 and v2 (champion)."""
    from ml import registry
    from wijkradar.config import load_config

    ws = Workspace(root)
    tracking = registry.tracking_for(ws, load_config(ws.config))
    rng = np.random.default_rng(1)
    run_ids = []
    for i, cards in enumerate(MODEL_CARDS):
        y = rng.integers(0, 2, 200)
        curves = pd.DataFrame({"model": "lightgbm", "y_true": y, "score": rng.random(200) + y})
        record = registry.RunRecord(
            tables={"evaluation": evaluation_table(0.01 * i), "pr_curves": curves},
            texts=dict(cards),
        )
        run_ids.append(registry.log_evaluation(tracking, record, run_name=f"train-{i + 1}"))
    client = registry.client(tracking)
    client.create_registered_model(tracking.model_name)
    for run_id in run_ids:
        source = client.get_run(run_id).info.artifact_uri + "/evaluation"
        mv = client.create_model_version(tracking.model_name, source, run_id=run_id)
    client.set_registered_model_alias(tracking.model_name, registry.CHAMPION, mv.version)
    return run_ids[0], run_ids[1]
