"""How much knowledge dates move the backtest: one config's panel built twice, with the
publication calendar (each row knows only what was published by its knowledge date) and with
the old as-of-year rule (a row of T uses every value of years <= T), both backtested.

Prints LightGBM's and the logistic regression's ROC-AUC and PR-AUC per period for both
rules and the difference (knowledge dates minus the as-of-year rule).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/knowledge.py --config examples/lbm3_pc4.toml
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/knowledge.py --config workspace/wijkradar.toml
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()

    from features import sources
    from features.build import panel_from_sources
    from features.calendar import publication_table
    from features.places import places_of
    from ml.backtest import backtest
    from wijkradar.config import load_config

    cfg = load_config(args.config)
    src = sources.read_sources(cfg)
    where = places_of(src.boundaries, cfg.panel.level)
    published = publication_table(src.frames)
    tables = {
        "knowledge dates": backtest(panel_from_sources(cfg, src, published, where), cfg),
        "as-of year": backtest(panel_from_sources(cfg, src, None, where), cfg),
    }
    new, old = tables["knowledge dates"], tables["as-of year"]
    print(f"{'period':<11} {'model':<9} {'ROC-AUC new/old':>18} {'PR-AUC new/old':>18} "
          f"{'dPR-AUC':>8}")
    for period in sorted(set(new["period"])):
        for model in ("lightgbm", "logistic"):
            a = new[(new["period"] == period) & (new["model"] == model)]
            b = old[(old["period"] == period) & (old["model"] == model)]
            if a.empty or b.empty:
                continue
            roc = f"{a['roc_auc'].iloc[0]:.3f}/{b['roc_auc'].iloc[0]:.3f}"
            pr = f"{a['pr_auc'].iloc[0]:.3f}/{b['pr_auc'].iloc[0]:.3f}"
            diff = a["pr_auc"].iloc[0] - b["pr_auc"].iloc[0]
            print(f"{period:<11} {model:<9} {roc:>18} {pr:>18} {diff:>+8.3f}")


if __name__ == "__main__":
    main()
