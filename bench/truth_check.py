"""Skill and explanation fidelity against the truth, over several seeds.

For each seed: generate a workspace, train with ``--as-of 2022``, score ``--as-of 2022``, and
compare the ranking with the truth's ``declined`` and ``true_shap__*``. Prints one row per seed
(``base_rate``: the realised decline rate of the periods from 2014 on; the oracle's AUC, the
model's AUC normalised by it, precision at 10 % for the model and the oracle, top-3 driver
recall) and which features the model named instead of the true drivers.

    python bench/truth_check.py --seeds 7 11 12 13
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 12, 13])
    parser.add_argument("--as-of", type=int, default=2022)
    args = parser.parse_args()
    from ml.metrics import top_count
    from ml.truthcheck import compare, true_and_model_drivers
    from models.explain import shap_features
    from wijkradar import catalog

    exe = str(Path(sys.executable).with_name("wijkradar"))
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    rows, swaps = [], Counter()
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp) / "ws"
            for cmd in (
                ["generate", "--seed", str(seed)],
                ["train", "--as-of", str(args.as_of)],
                ["score", "--as-of", str(args.as_of)],
            ):
                subprocess.run(
                    [exe, *cmd, "--workspace", str(ws)], check=True, env=env, capture_output=True
                )
            workspace = catalog.Workspace(ws)
            run = catalog.latest_run(workspace, args.as_of)
            assert run is not None, f"seed {seed}: no published run"
            ranking = pd.read_parquet(run.ranking)
            truth = pd.read_parquet(workspace.truth)
            result = compare(ranking, truth)
            later = truth[truth["as_of_year"] >= 2014]
            rate = later["declined"].astype("Float64").mean()
            rows.append({"seed": seed, "base_rate": float(rate), **result})
            joined = ranking.merge(
                truth[truth["as_of_year"] == args.as_of], on=["unit_code", "as_of_year"]
            )
            top = joined.nlargest(top_count(len(joined), 0.1), "p_decline")
            true_top, model_top = true_and_model_drivers(top, shap_features(ranking.columns))
            for true, model in zip(true_top, model_top, strict=True):
                swaps.update(f"missed {t}" for t in set(true) - set(model))
                swaps.update(f"named {m}" for m in set(model) - set(true))
    table = pd.DataFrame(rows).set_index("seed")
    print(
        table[
            [
                "n",
                "base_rate",
                "roc_auc",
                "oracle_roc_auc",
                "normalized_auc",
                "precision_at_10",
                "oracle_precision_at_10",
                "driver_top3_recall",
            ]
        ]
        .round(3)
        .to_string()
    )
    print("\nmost frequent driver mismatches:")
    for key, count in swaps.most_common(12):
        print(f"  {count:5d}  {key}")


if __name__ == "__main__":
    main()
