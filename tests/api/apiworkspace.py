"""A hand-made published workspace for the API tests (no training: seconds, not minutes).

Two as-of years: 2022 with one run, 2024 with two (an older and the latest, so ranks change
and some units are new in the top 10 %). A panel with the model's features, synthetic
boundaries, and an MLflow store with two registered versions whose training runs logged an
evaluation table, PR curves and (v2 only) a model card. ``build_workspace`` is also used by
``bench/api.py``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.describe import driver_text
from features.synth.boundaries import synthetic_boundaries

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
PANEL_YEARS = (2016, 2018, 2020, 2022, 2024)
HOSTILE_NAME = '<img src=x onerror="alert(1)"> & </script>'
FORMULA_NAME = '=HYPERLINK("http://evil")'
FINGERPRINT = "f" * 64
CONFIG = """
[[source]]
kind = "cbs_kwb_csv"
path = "sources/cbs"
"""


def unit_frame(n_units: int, n_gemeenten: int) -> pd.DataFrame:
    """Unit and gemeente codes and names: WK codes when they fit (< 100 per gemeente)."""
    per = math.ceil(n_units / n_gemeenten)
    rows = []
    for i in range(n_units):
        g, k = divmod(i, per)
        gm = 100 + 7 * g
        code = f"WK{gm:04d}{k:02d}" if per <= 100 else f"BU{gm:04d}{k:04d}"
        rows.append((code, f"Wijk {k + 1}", f"GM{gm:04d}", f"Gemeente {chr(65 + g % 26)}{g}"))
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
        frames.append(frame)
    panel = pd.concat(frames, ignore_index=True)
    panel.loc[panel.index[::11], "crimes_per_1000"] = np.nan
    return panel


def make_ranking(
    units: pd.DataFrame, features: pd.DataFrame, year: int, rng: np.random.Generator
) -> pd.DataFrame:
    """A ranking as ``serving.ranking.build_ranking`` makes it, from random SHAP values."""
    shap = rng.normal(0, 0.5, (len(units), len(FEATURES)))
    base = -1.0
    margin = shap.sum(axis=1) + base
    out = units.copy()
    out["as_of_year"] = year
    out["risk"] = 1.0 / (1.0 + np.exp(-margin))
    out["margin"] = margin
    out["rank"] = out["risk"].rank(ascending=False, method="first").astype("int64")
    out["rank_in_gemeente"] = (
        out.groupby("gemeente_code")["risk"].rank(ascending=False, method="first").astype("int64")
    )
    values = features.set_index("unit_code").loc[units["unit_code"], list(FEATURES)].to_numpy()
    order = np.argsort(-shap, axis=1, kind="stable")[:, :3]
    out["top_drivers"] = [
        "; ".join(
            driver_text(FEATURES[j], float(values[i, j]), float(shap[i, j]))
            for j in idx
            if shap[i, j] > 0
        )
        for i, idx in enumerate(order)
    ]
    for j, feature in enumerate(FEATURES):
        out[f"shap__{feature}"] = shap[:, j]
    out["shap__base"] = base
    return out.sort_values("rank", ignore_index=True)


def publish(
    root: Path, ranking: pd.DataFrame, run_id: str, created: str, model: tuple[str, str, str]
) -> None:
    year = int(ranking["as_of_year"].iloc[0])
    folder = root / "scores" / str(year) / "runs" / run_id
    folder.mkdir(parents=True)
    ranking.to_parquet(folder / "ranking.parquet", index=False)
    ranking.to_csv(folder / "ranking.csv", index=False)
    manifest = {
        "run_id": run_id,
        "as_of_year": year,
        "model_name": model[0],
        "model_version": model[1],
        "model_run_id": model[2],
        "panel_fingerprint": FINGERPRINT,
        "row_count": len(ranking),
        "features": list(FEATURES),
        "additivity_max_error": 1e-15,
        "created": created,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (root / "scores" / str(year) / "latest").write_text(run_id + "\n", encoding="utf-8")


def build_workspace(
    root: Path,
    n_units: int = 300,
    n_gemeenten: int = 12,
    seed: int = 0,
    model_runs: tuple[str, str] = ("run-v1", "run-v2"),
    boundaries: bool = True,
) -> dict[str, Any]:
    """Write the workspace; returns the units and the rankings by run id."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "wijkradar.toml").write_text(CONFIG, encoding="utf-8")
    units = unit_frame(n_units, n_gemeenten)
    units.loc[3, "unit_name"] = HOSTILE_NAME
    units.loc[5, "unit_name"] = FORMULA_NAME
    panel = _panel(units, rng)
    (root / "panel").mkdir()
    panel.to_parquet(root / "panel" / "panel.parquet", index=False)
    (root / "panel" / "panel.json").write_text(json.dumps({"fingerprint": FINGERPRINT}))
    rankings = {}
    for run_id, year, created, version in (
        ("a2022", 2022, "2025-01-01T10:00:00+0000", "1"),
        ("b2024old", 2024, "2025-01-01T10:00:00+0000", "1"),
        ("c2024new", 2024, "2025-02-01T10:00:00+0000", "2"),
    ):
        rows = panel[panel["as_of_year"] == year]
        rankings[run_id] = make_ranking(units, rows, year, rng)
        model_run = model_runs[int(version) - 1]
        publish(root, rankings[run_id], run_id, created, ("wijkradar", version, model_run))
    if boundaries:
        (root / "boundaries").mkdir()
        geojson = synthetic_boundaries(units.iloc[: n_units - 2], seed)  # two units unmapped
        (root / "boundaries" / "units.geojson").write_text(json.dumps(geojson))
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


def register_models(root: Path) -> tuple[str, str]:
    """Two training runs in the workspace's MLflow store, registered as v1 and v2 (champion)."""
    import mlflow
    from mlflow import MlflowClient

    from ml import registry
    from wijkradar.catalog import Workspace
    from wijkradar.config import load_config

    ws = Workspace(root)
    tracking = registry.tracking_for(ws, load_config(ws.config))
    rng = np.random.default_rng(1)
    run_ids = []
    for i, card in enumerate((None, "# Model card\n\nwijkradar v2: *synthetic* test model.\n")):
        y = rng.integers(0, 2, 200)
        curves = pd.DataFrame({"model": "lightgbm", "y_true": y, "score": rng.random(200) + y})
        record = registry.RunRecord(
            tables={"evaluation": evaluation_table(0.01 * i), "pr_curves": curves},
            texts={"model_card.md": card} if card else {},
        )
        run_ids.append(registry.log_evaluation(tracking, record, run_name=f"train-{i + 1}"))
    client = MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)
    client.create_registered_model(tracking.model_name)
    for run_id in run_ids:
        source = mlflow.get_run(run_id).info.artifact_uri + "/evaluation"
        mv = client.create_model_version(tracking.model_name, source, run_id=run_id)
    client.set_registered_model_alias(tracking.model_name, registry.CHAMPION, mv.version)
    return run_ids[0], run_ids[1]
