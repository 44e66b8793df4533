"""Do the neighbour features add skill? The backtest of one panel with and without them.

Builds (or reuses) the workspace's panel, runs ``ml.backtest.backtest`` on it as it is and
with the neighbour features (``features.neighbours.NEIGHBOUR_FEATURES``) dropped, and prints
LightGBM's and the logistic regression's ROC-AUC and PR-AUC per period with their 95 %
intervals, side by side, for the last ``--periods`` periods.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/neighbours.py --config examples/lbm3_pc4.toml \\
        --workspace /tmp/lbm3 [--periods 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--periods", type=int, default=3)
    args = parser.parse_args()

    from features.build import ensure_panel
    from features.neighbours import NEIGHBOUR_FEATURES
    from ml.backtest import backtest
    from wijkradar.catalog import Workspace
    from wijkradar.config import load_config

    ws, cfg = Workspace(args.workspace.resolve()), load_config(args.config)
    panel, _ = ensure_panel(ws, cfg)
    present = [f for f in NEIGHBOUR_FEATURES if f in panel.columns]
    if not present:
        raise SystemExit("this panel has no neighbour features (no boundaries source)")
    tables = {
        "with": backtest(panel, cfg),
        "without": backtest(panel.drop(columns=present), cfg),
    }
    periods = sorted(set(tables["with"]["period"]))[-args.periods:]
    print(f"neighbour features: {', '.join(present)}")
    print(f"{'period':<11} {'model':<9} {'metric':<8} {'with':>22} {'without':>22} {'diff':>7}")
    for period in periods:
        for model in ("lightgbm", "logistic"):
            rows = {
                k: t[(t["period"] == period) & (t["model"] == model)] for k, t in tables.items()
            }
            if any(r.empty for r in rows.values()):
                continue
            for metric in ("roc_auc", "pr_auc"):
                cells = {
                    k: f"{r[metric].iloc[0]:.3f} [{r[f'{metric}_low'].iloc[0]:.3f}, "
                       f"{r[f'{metric}_high'].iloc[0]:.3f}]"
                    for k, r in rows.items()
                }
                diff = rows["with"][metric].iloc[0] - rows["without"][metric].iloc[0]
                print(f"{period:<11} {model:<9} {metric:<8} {cells['with']:>22} "
                      f"{cells['without']:>22} {diff:>+7.3f}")


if __name__ == "__main__":
    main()
