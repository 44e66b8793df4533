"""A published ranking against the change that was realised afterwards.

Trains nothing: it reads the workspace's panel and the newest published run of ``--as-of``
(train with ``--as-of`` and score with ``--as-of`` first), joins the ranking with the panel's
realised labels of that as-of year, and scores the same rows with the baselines: the rules
(last change, current level, neighbours' level) on the rows themselves, and a logistic
regression trained on the same years as the model. Prints ROC-AUC and PR-AUC with 95 %
bootstrap intervals (resampling units) and the base rate.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/wijkradar train --as-of 2018 --config C --workspace W
    OMP_WAIT_POLICY=PASSIVE .venv/bin/wijkradar score --as-of 2018 --config C --workspace W
    .venv/bin/python bench/realized.py --config C --workspace W --as-of 2018
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--as-of", type=int, required=True)
    args = parser.parse_args()

    from features.build import ensure_panel
    from ml.backtest import rules
    from ml.folds import labelled_rows, labels, usable_features
    from ml.metrics import binary_metrics
    from ml.train import outcome_years
    from ml.uncertainty import bootstrap_by_model
    from models.estimators import LogisticBaseline
    from wijkradar import catalog
    from wijkradar.catalog import Workspace
    from wijkradar.config import load_config

    ws, cfg = Workspace(args.workspace.resolve()), load_config(args.config)
    panel, _ = ensure_panel(ws, cfg)
    run = catalog.latest_run(ws, args.as_of)
    if run is None:
        raise SystemExit(f"no published run of {args.as_of} in {ws.root}; score it first")
    ranking = catalog.read_parquet(run.ranking)
    test = labelled_rows(panel, (args.as_of,))
    outcome = outcome_years(panel)[args.as_of]
    train_years = [y for y, o in outcome_years(panel).items() if o is not None and o <= args.as_of]
    train = labelled_rows(panel, train_years)
    features = usable_features(panel, train)
    y_train, y = labels(train), labels(test)
    margin = ranking.set_index("unit_code")["margin"]
    scores = {"lightgbm (published)": test["unit_code"].map(margin)}
    scores["logistic"] = LogisticBaseline().fit(train, y_train, features).score_samples(test)
    scores.update(
        {name: est.score_samples(test) for name, est in rules(test, y, features).items()}
    )
    predictions = pd.concat(
        pd.DataFrame({"unit_code": test["unit_code"].to_numpy(), "model": name, "y_true": y,
                      "score": pd.Series(s).to_numpy(dtype="float64")})
        for name, s in scores.items()
    )
    missing = int(predictions["score"].isna().sum())
    predictions = predictions.dropna(subset=["score"])
    ci = bootstrap_by_model(predictions, n_boot=500, metrics=("roc_auc", "pr_auc"))
    print(f"{args.as_of} -> {outcome}: {len(test):,} areas with a realised change, base rate "
          f"{y.mean():.3f}; trained on {train_years}; {missing} scores missing")
    print(f"{'model':<22} {'ROC-AUC':>24} {'PR-AUC':>24} {'PR-AUC / base':>14}")
    for name in scores:
        part = predictions[predictions["model"] == name]
        point = binary_metrics(part["y_true"].to_numpy(), part["score"].to_numpy())
        row = ci[ci["model"] == name].set_index("metric")
        cells = [f"{point[m]:.3f} [{row.loc[m, 'low']:.3f}, {row.loc[m, 'high']:.3f}]"
                 for m in ("roc_auc", "pr_auc")]
        print(f"{name:<22} {cells[0]:>24} {cells[1]:>24} {point['pr_auc'] / y.mean():>13.2f}x")


if __name__ == "__main__":
    main()
