"""How fast are the explanations? LightGBM predict, pred_contrib, the fast kernel and the
interventional paths, interleaved in one run.

Two boosters on ``bench/score.py``'s synthetic frame (~100 float features, ~2 % missing,
20k training rows): the default shape (binary, 8 leaves, depth 3, 400 trees) and a deep one
(31 leaves, no depth limit, 300 trees). For each row count, each method runs in turn on the
same float64 matrix, after a warm-up (tables built, numba loaded), ``--repeat`` rounds
interleaved so that a busy machine slows all alike; the best round counts. Columns:

* ``predict``: ``booster.predict(X, raw_score=True)``, the floor;
* ``pred_contrib``: LightGBM's TreeSHAP, the baseline of the ratios;
* ``fast``: ``models.explain.tree_shap``'s kernel (tables built once, like the packaged model);
* ``interventional``: the kernel's interventional tables, 200 background rows;
* ``shap_interventional``: ``shap.TreeExplainer(..., feature_perturbation="interventional")``,
  on the first ``--shap-rows`` rows only (single-threaded; its rate is reported as such).

``max|diff|`` is against ``pred_contrib`` (fast) or against shap (interventional). Table
build times are printed once per model.

With ``--workspace W [--config C]`` it checks instead the champion model of a trained
workspace (e.g. the demo's, or ``examples/lbm3_pc4.toml``'s): the kernel against
``pred_contrib`` on every panel row (max |diff|, rows/s of both), and the interventional
kernel's additivity (base + sum against the margin) with the background the packaged model
stores.

    python bench/explain.py [--rows 14500 100000] [--deep-rows 14500] [--repeat 2]
    python bench/explain.py --workspace /tmp/demo [--config examples/lbm3_pc4.toml]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score import PARAMS, TRAIN_ROWS, labels, matrix  # bench/score.py

BACKGROUND_ROWS = 200


def boosters() -> dict[str, object]:
    import lightgbm as lgb

    X = matrix(TRAIN_ROWS, 100, seed=1)
    y = labels(X, seed=1)
    params = {**PARAMS, "num_threads": 0}
    default = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=400)
    deep_params = {**params, "num_leaves": 31, "max_depth": -1}
    deep = lgb.train(deep_params, lgb.Dataset(X, label=y), num_boost_round=300)
    return {"default (400 x depth 3)": default, "deep (300 x 31 leaves)": deep}


def timed(fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def measure(booster: object, n: int, repeat: int, shap_rows: int) -> dict[str, tuple[float, float]]:
    from models.interventional import interventional_tables, shap_interventional
    from models.treeshap import path_tables, run_kernel

    X = matrix(n, 100, seed=2)
    background = matrix(BACKGROUND_ROWS, 100, seed=3)
    t0 = time.perf_counter()
    fast_tables = path_tables(booster)
    t1 = time.perf_counter()
    inter_tables = interventional_tables(booster, background)
    t2 = time.perf_counter()
    print(f"  tables: fast {t1 - t0:.2f} s, interventional {t2 - t1:.2f} s")
    run_kernel(fast_tables, X[:100])
    run_kernel(inter_tables, X[:100])
    small = X[:shap_rows]
    methods: dict[str, tuple[Callable[[], np.ndarray], int]] = {
        "predict": (lambda: booster.predict(X, raw_score=True), n),
        "pred_contrib": (lambda: booster.predict(X, pred_contrib=True), n),
        "fast": (lambda: run_kernel(fast_tables, X), n),
        "interventional": (lambda: run_kernel(inter_tables, X), n),
        "shap_interventional": (
            lambda: shap_interventional(booster, background, small), len(small)
        ),
    }
    best: dict[str, float] = {}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(repeat):
        for name, (fn, _rows) in methods.items():
            seconds, outputs[name] = timed(fn)
            best[name] = min(best.get(name, np.inf), seconds)
    ref = outputs["pred_contrib"]
    diff = {
        "fast": float(np.abs(outputs["fast"] - ref).max()),
        "interventional": float(np.abs(outputs["interventional"][:shap_rows]
                                       - outputs["shap_interventional"]).max()),
        "shap_interventional": float(np.abs(outputs["shap_interventional"].sum(axis=1)
                                            - outputs["predict"][:shap_rows]).max()),
    }
    return {name: (rows / best[name], diff.get(name, np.nan))
            for name, (_fn, rows) in methods.items()}


def check_workspace(path: Path, config: Path | None) -> None:
    """The kernel against pred_contrib on the panel rows of a trained workspace's champion."""
    from features.build import ensure_panel
    from ml import registry
    from models.explain import explainer, feature_matrix
    from wijkradar import catalog
    from wijkradar.config import load_config

    ws = catalog.Workspace(path)
    cfg = load_config(config or ws.config)
    panel, _ = ensure_panel(ws, cfg)
    tracking = registry.tracking_for(ws, cfg)
    ref = registry.resolve(tracking, None)
    model, features = registry.load(tracking, ref)
    packaged = model.unwrap_python_model()
    booster = packaged.booster_
    X = feature_matrix(panel, features)
    print(f"{path}: champion {ref.run_id[:8]}, {booster.num_trees()} trees, "
          f"{len(features)} features, {len(X):,} panel rows "
          f"({np.isnan(X).mean():.1%} missing, {(X == 0).mean():.1%} zeros)")
    fast = explainer(booster, "fast")
    fast(X[:10])
    seconds_native, native = timed(lambda: booster.predict(X, pred_contrib=True))
    seconds_fast, ours = timed(lambda: fast(X))
    print(f"  fast ({fast.used}) vs pred_contrib: max |diff| {np.abs(ours - native).max():.1e}; "
          f"{len(X) / seconds_fast:,.0f} vs {len(X) / seconds_native:,.0f} rows/s "
          f"({seconds_native / seconds_fast:.1f}x)")
    if packaged.background_ is not None:
        inter = explainer(booster, "interventional", packaged.background_)
        values = inter(X)
        margin = booster.predict(X, raw_score=True)
        print(f"  interventional ({len(packaged.background_)} background rows): max "
              f"|base + sum - margin| {np.abs(values.sum(axis=1) - margin).max():.1e}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path, help="check a trained workspace's model")
    parser.add_argument("--config", type=Path, help="its config (default: the workspace's)")
    parser.add_argument("--rows", type=int, nargs="+", default=[14_500, 100_000])
    parser.add_argument("--deep-rows", type=int, nargs="+", default=[14_500])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--shap-rows", type=int, default=2_000)
    args = parser.parse_args()
    if args.workspace:
        check_workspace(args.workspace, args.config)
        return
    lines = ["| model | rows | method | rows/s | × pred_contrib | max abs diff |",
             "|---|---|---|---|---|---|"]
    for index, (label, booster) in enumerate(boosters().items()):
        for n in args.rows if index == 0 else args.deep_rows:
            print(f"{label}, {n:,} rows", flush=True)
            result = measure(booster, n, args.repeat, min(args.shap_rows, n))
            native = result["pred_contrib"][0]
            first = f" (first {min(args.shap_rows, n):,} rows)"
            for name, (rate, diff) in result.items():
                note = first if name.startswith("shap") else ""
                shown = "" if np.isnan(diff) else f"{diff:.1e}"
                lines.append(f"| {label} | {n:,} | {name}{note} | {rate:,.0f} | "
                             f"{rate / native:.1f} | {shown} |")
    print("\n".join(lines))
    print("\nmax abs diff: fast vs pred_contrib; interventional vs shap; shap_interventional: "
          "its base + sum vs LightGBM's margin")


if __name__ == "__main__":
    main()
