"""Year-relative amounts and like-for-like drift: skill and drift warnings before and after.

For a few seeds: generate a small world (``wijkradar generate``), build its panel twice,
with the nominal amounts (WOZ value, income) and with their year-relative versions
(``features.relative``), backtest both, and count the drift warnings of the newest as-of
year against the labelled training rows, by the old rule (pooled missing share, raw PSI >
0.25) and by ``ml.drift`` (missing share of the training years that could have the feature,
smoothed PSI above its noise floor, features with at least 1 % of the final model's gain).
Prints one table; the skill is LightGBM's mean ROC-AUC and PR-AUC over the backtest periods
with a model (the first, rules-only, period left out).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/relative.py --seeds 1 2 3 --gemeenten 40
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Outcome:
    seed: int
    variant: str
    roc_auc: float
    pr_auc: float
    flags_old: int
    flags_new: int
    features: int
    flagged: tuple[str, ...]


def build(ws: Path, relative_to_year: bool) -> pd.DataFrame:
    """The workspace's panel as ``features.build.panel_from_sources`` makes it, with the
    relative amounts on or off."""
    from features import sources
    from features.calendar import publication_table
    from features.harmonize import harmonize
    from features.panel import build_panel
    from features.places import places_of
    from wijkradar.config import load_config

    cfg = load_config(ws / "wijkradar.toml")
    src = sources.read_sources(cfg)
    where = places_of(src.boundaries, cfg.panel.level)
    cbs, lbm, investment = harmonize(src.cbs, src.lbm, src.investment, src.crosswalk)
    return build_panel(
        cbs, lbm, investment, level=cfg.panel.level, change_lags=cfg.panel.change_lags,
        delta=cfg.label.delta, label_kind=cfg.label.kind, max_class=cfg.label.max_class,
        development=src.development, places=where.gemeenten if where else None,
        adjacency=where.adjacency if where else None, published=publication_table(src.frames),
        knowledge=cfg.panel.knowledge, relative_to_year=relative_to_year,
    )


def old_rule_flags(train: pd.DataFrame, now: pd.DataFrame) -> int:
    """The drift rule before like-for-like profiles: pooled missing share, raw PSI."""
    from ml.drift import bin_shares, psi, training_profile

    profile = training_profile(train)
    count = 0
    for name, spec in profile["features"].items():
        x = pd.to_numeric(now[name]).to_numpy(dtype="float64", na_value=np.nan)
        missing_now = float(np.isnan(x).mean())
        value = math.nan
        if spec["shares"] and missing_now < 1.0:
            value = psi(spec["shares"], bin_shares(x, spec["edges"]))
        count += bool(value > 0.25 or abs(missing_now - spec["missing"]) > 0.1)
    return count


def drift_counts(panel: pd.DataFrame, ws: Path) -> tuple[int, int, int, tuple[str, ...]]:
    """Drift warnings of the newest as-of year against the final model's training rows: by
    the old rule, and by ``ml.drift`` with the rows' years and the model's gains."""
    from ml.drift import drift_table, training_profile
    from ml.folds import usable_features
    from ml.train import fit_lightgbm
    from wijkradar.config import load_config

    newest = int(panel["as_of_year"].max())
    train = panel[(panel["as_of_year"] < newest) & panel["label"].notna()]
    years = tuple(sorted(int(y) for y in train["as_of_year"].unique()))
    features = usable_features(panel, train)
    booster = fit_lightgbm(panel, years, features, load_config(ws / "wijkradar.toml")).booster_
    gains = dict(zip(features, booster.feature_importance("gain"), strict=True))
    now = panel.loc[panel["as_of_year"] == newest, features]
    profile = training_profile(train[features], years=train["as_of_year"], importance=gains)
    table = drift_table(profile, now)
    flagged = tuple(table.loc[table["flagged"], "feature"])
    return old_rule_flags(train[features], now), len(flagged), len(features), flagged


def skill(panel: pd.DataFrame, ws: Path) -> tuple[float, float]:
    from ml.backtest import backtest
    from wijkradar.config import load_config

    table = backtest(panel, load_config(ws / "wijkradar.toml"))
    lgb = table[(table["model"] == "lightgbm") & (table["train_years"] > 0)]
    return float(lgb["roc_auc"].mean()), float(lgb["pr_auc"].mean())


def run_seed(seed: int, gemeenten: int, root: Path) -> list[Outcome]:
    from wijkradar.app import pipeline
    from wijkradar.catalog import Workspace

    ws = root / f"seed{seed}"
    pipeline.generate(Workspace(ws), seed, gemeenten)
    out = []
    for variant, rel in (("nominal", False), ("relative", True)):
        panel = build(ws, rel)
        roc, pr = skill(panel, ws)
        old, new, n, flagged = drift_counts(panel, ws)
        out.append(Outcome(seed, variant, roc, pr, old, new, n, flagged))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--gemeenten", type=int, default=40)
    args = parser.parse_args()
    start = time.perf_counter()
    rows: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="wijkradar-relative-") as tmp:
        for seed in args.seeds:
            rows.extend(run_seed(seed, args.gemeenten, Path(tmp)))
    print(f"{'seed':>4} {'amounts':<9} {'ROC-AUC':>8} {'PR-AUC':>7} "
          f"{'drift old rule':>15} {'drift now':>10} {'features':>9}")
    for r in rows:
        print(f"{r.seed:>4} {r.variant:<9} {r.roc_auc:>8.3f} {r.pr_auc:>7.3f} "
              f"{r.flags_old:>15} {r.flags_new:>10} {r.features:>9}")
    frame = pd.DataFrame([r.__dict__ for r in rows])
    mean = frame.groupby("variant")[["roc_auc", "pr_auc", "flags_old", "flags_new"]].mean()
    for variant, m in mean.iterrows():
        print(f"{'mean':>4} {variant:<9} {m['roc_auc']:>8.3f} {m['pr_auc']:>7.3f} "
              f"{m['flags_old']:>15.1f} {m['flags_new']:>10.1f}")
    nominal, relative = mean.loc["nominal"], mean.loc["relative"]
    print(f"relative/nominal: ROC-AUC x{relative['roc_auc'] / nominal['roc_auc']:.3f}, "
          f"PR-AUC x{relative['pr_auc'] / nominal['pr_auc']:.3f}; "
          f"drift warnings {nominal['flags_old']:.1f} (old rule, nominal) -> "
          f"{relative['flags_new']:.1f} (now, relative)")
    for r in rows:
        if r.variant == "relative":
            print(f"seed {r.seed}, still flagged: {', '.join(r.flagged) or 'none'}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
