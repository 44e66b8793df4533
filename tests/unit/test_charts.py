"""Every public chart of ``serving.charts`` drawn with small data: valid, deterministic SVG
with the ids its docstring promises; and the training run's chart files."""

from __future__ import annotations

import ast
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from ml.calibration import fit_calibrator, reliability_table
from ml.evaluate import Evaluation
from ml.temporal import Fold
from ml.train import TrainResult
from serving import charts
from serving.evalreport import CHARTS

SVG = "{http://www.w3.org/2000/svg}"
FEATURES = ("income", "lbm_chg_prev", "cost $")
PACKAGE = Path(charts.__file__).parent


def parse(svg: str) -> ET.Element:
    """The root of ``svg``, checked to be an inline SVG without prolog or metadata."""
    assert svg.startswith("<svg") and svg.endswith("</svg>\n")
    assert "<metadata>" not in svg and "<?xml" not in svg
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def ids(svg: str, prefix: str) -> list[str]:
    return sorted(e.get("id", "") for e in parse(svg).iter() if e.get("id", "").startswith(prefix))


def texts(svg: str) -> str:
    return " ".join("".join(e.itertext()) for e in parse(svg).iter(f"{SVG}text"))


def predictions(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.3).astype(float)
    return pd.concat(
        [
            pd.DataFrame({"model": m, "y_true": y, "score": s})
            for m, s in (("logistic", rng.uniform(size=n)), ("lightgbm", y + rng.normal(size=n)))
        ],
        ignore_index=True,
    )


def shap_frame(n: int = 50, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    codes = [f"BU{i:06d}" for i in range(n)]
    shap = pd.DataFrame(
        {f"shap__{f}": rng.normal(scale=i + 1, size=n) for i, f in enumerate(FEATURES)}
    )
    shap.insert(0, "unit_code", codes)
    shap["shap__base"] = -1.0
    raw = pd.DataFrame({"unit_code": codes, **{f: rng.normal(size=n) for f in FEATURES}})
    return shap, raw


def test_pr_curve_has_one_curve_per_model_and_the_base_rate() -> None:
    svg = charts.pr_curve_svg(predictions())
    assert ids(svg, "pr-") == ["pr-base-rate", "pr-curve-lightgbm", "pr-curve-logistic"]
    assert "PR-AUC" in texts(svg)
    assert svg == charts.pr_curve_svg(predictions())  # deterministic
    with pytest.raises(ValueError, match="pr_curves lacks the column"):
        charts.pr_curve_svg(predictions().drop(columns="score"))


def test_shap_summary_has_one_row_per_feature() -> None:
    shap, raw = shap_frame()
    svg = charts.shap_summary_svg(shap, raw)
    assert ids(svg, "shap-row-") == ["shap-row-cost", "shap-row-income", "shap-row-lbm_chg_prev"]
    shown = texts(svg)
    assert "waarde van het kenmerk" in shown and "laag" in shown and "hoog" in shown
    assert "Leefbarometerscore, verandering sinds de vorige meting" in shown  # words, not codes
    assert "lbm_chg_prev" not in shown
    assert "2,5" in shown and "2.5" not in shown  # Dutch ticks
    english = texts(charts.shap_summary_svg(shap, raw, lang="en"))
    assert "feature value" in english
    assert "Leefbarometer score, change since previous measurement" in english
    assert "geen SHAP-waarden" in charts.shap_summary_svg(shap[["unit_code"]], raw)


def test_shap_importance_has_one_bar_per_feature_largest_on_top() -> None:
    shap, _ = shap_frame()
    svg = charts.shap_importance_svg(shap, max_features=2)
    assert ids(svg, "importance-bar-") == ["importance-bar-cost", "importance-bar-lbm_chg_prev"]
    top = charts.top_features(shap, 2)
    assert list(top.index) == ["cost $", "lbm_chg_prev"]
    assert f"{top.iloc[0]:.3f}".replace(".", ",") in texts(svg)  # three decimals, Dutch
    assert "lbm_chg_prev" not in texts(svg)
    assert f"{top.iloc[0]:.3f}" in texts(charts.shap_importance_svg(shap, 2, lang="en"))
    assert "geen belang van kenmerken" in charts.shap_importance_svg(shap, max_features=0)


def test_importance_bars_serve_any_importance() -> None:
    importance = pd.Series({"lbm_chg_prev": 10.0, "income": 3.0, "cost $": 1.0, "x": math.nan})
    svg = charts.importance_svg(importance, xlabel="gain")
    bars = ids(svg, "importance-bar-")
    assert bars == ["importance-bar-cost", "importance-bar-income", "importance-bar-lbm_chg_prev"]
    assert "gain" in texts(svg) and "cost $" in texts(svg)
    salted = charts.importance_svg(importance, xlabel="gain", salt="other")
    clips = [i for i in ids(svg, "p") if re.fullmatch("p[0-9a-f]{10}", i)]
    assert clips and not set(clips) & set(ids(salted, "p"))  # the generated ids are salted
    with pytest.raises(ValueError, match=r"must be an int >= 1\. Got 0 instead"):
        charts.importance_svg(importance, top=0)


def test_waterfall_has_a_bar_per_shown_feature_and_one_for_the_rest() -> None:
    contributions = pd.Series({"income": 0.4, "lbm_chg_prev": -0.2, "cost $": 0.05})
    svg = charts.shap_waterfall_svg(contributions, -1.0, {"income": "Income"}, 2, risk=0.2)
    bars = ids(svg, "waterfall-")
    assert bars == ["waterfall-income", "waterfall-lbm_chg_prev", "waterfall-other"]
    shown = texts(svg)
    assert "Income" in shown and "1 andere kenmerken" in shown and "risico 20,0%" in shown
    assert "lbm_chg_prev" not in shown  # the unlabelled feature in words
    english = texts(charts.shap_waterfall_svg(contributions, -1.0, None, 2, risk=0.2, lang="en"))
    assert "1 other features" in english and "risk 20.0%" in english


def test_history_draws_the_line_and_the_earlier_runs() -> None:
    history = pd.DataFrame(
        {"x": [2019, 2020, 2021, 2021], "y": [0.1, 0.2, 0.3, 0.25], "current": [1, 1, 1, 0]}
    )
    svg = charts.history_svg(history, ylabel="share", title="cost $", percent=True)
    assert ids(svg, "history-line") == ["history-line"]
    assert "eerdere runs" in texts(svg) and "30%" in texts(svg)
    assert "geen geschiedenis" in charts.history_svg(history.iloc[0:0], ylabel="y", title="t")


def test_history_of_shares_stays_within_0_100_and_tells_close_ticks_apart() -> None:
    near = pd.DataFrame({"x": [2018, 2020, 2022, 2024], "y": [0.182, 0.181, 0.179, 0.171]})
    ticks = re.findall(r"\d+(?:,\d+)?%", texts(charts.history_svg(
        near, ylabel="risico", title="t", percent=True
    )))
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks)  # no '18%, 18%, 18%'
    high = pd.DataFrame({"x": [2018, 2020, 2022], "y": [0.5, 0.97, 0.999]})
    shown = texts(charts.history_svg(high, ylabel="risico", title="t", percent=True))
    values = [float(t.rstrip("%").replace(",", ".")) for t in re.findall(r"\d+(?:,\d+)?%", shown)]
    assert values and max(values) <= 100  # never 104 %
    with pytest.raises(ValueError, match="history lacks the column"):
        charts.history_svg(high.drop(columns="y"), ylabel="y", title="t")


def test_reliability_has_a_line_and_points_per_curve_and_the_diagonal() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(0.0, 0.4, size=400)
    y = (rng.uniform(size=400) < p).astype(float)
    tables = {"lightgbm": reliability_table(y, p), "calibrated": reliability_table(y, p * 0.9)}
    svg = charts.reliability_svg(tables)
    assert ids(svg, "reliability-") == [
        "reliability-calibrated",
        "reliability-diagonal",
        "reliability-lightgbm",
        "reliability-points-calibrated",
        "reliability-points-lightgbm",
    ]
    assert "no calibrated predictions" in charts.reliability_svg({})
    with pytest.raises(ValueError, match="The table of 'x' lacks the column"):
        charts.reliability_svg({"x": pd.DataFrame({"n": [1]})})


def test_metric_intervals_have_an_interval_and_a_point_per_model() -> None:
    table = pd.DataFrame(
        {
            "model": ["logistic", "lightgbm"],
            "metric": "pr_auc",
            "value": [0.3, 0.5],
            "low": [0.2, 0.4],
            "high": [0.4, 0.6],
        }
    )
    svg = charts.metric_intervals_svg(table, "pr_auc")
    assert ids(svg, "interval-") == ["interval-lightgbm", "interval-logistic"]
    assert ids(svg, "point-") == ["point-lightgbm", "point-logistic"]
    assert "0.500 [0.400, 0.600]" in texts(svg)


def test_training_charts_are_the_files_the_evaluation_report_shows() -> None:
    rng = np.random.default_rng(3)
    n = 200
    X = rng.normal(size=(n, len(FEATURES)))
    y = (X[:, 0] + rng.normal(size=n) > 0.8).astype(float)
    params = {"objective": "binary", "verbose": -1, "num_leaves": 4, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=5)
    codes = [f"BU{i:06d}" for i in range(n)]
    panel = pd.DataFrame(X, columns=list(FEATURES)).assign(
        unit_code=codes, as_of_year=2021, label=y
    )
    preds = predictions(n).assign(test_year=2021, unit_code=codes * 2)
    result = TrainResult(
        booster=booster,
        features=list(FEATURES),
        cutoff=2021,
        train_years=(2019,),
        folds=[Fold(2021, (2019,), 2021)],
        evaluation=pd.DataFrame(),
        predictions=preds,
        n_trees=5,
        n_train_rows=n,
    )
    per_fold = pd.DataFrame(
        {
            "test_year": 2021,
            "model": ["lightgbm", "logistic"],
            "metric": "pr_auc",
            "value": [0.6, 0.4],
            "low": [0.5, 0.3],
            "high": [0.7, 0.5],
        }
    )
    reliability = reliability_table(y, booster.predict(X)).assign(curve="uncalibrated")
    evaluation = Evaluation(
        per_fold=per_fold,
        pooled=per_fold,
        calibrator=fit_calibrator("none", booster.predict(X, raw_score=True), y),
        calibration_folds=pd.DataFrame(),
        reliability=reliability,
        ece={},
        bias=pd.DataFrame(),
    )
    files = charts.training_charts(result, evaluation, panel)
    assert set(files) == {name for name, _ in CHARTS}
    for svg in files.values():
        parse(svg)
    assert len(ids(files["importance.svg"], "importance-bar-")) == len(FEATURES)
    assert len(ids(files["shap_summary.svg"], "shap-row-")) == len(FEATURES)
    assert ids(files["reliability.svg"], "reliability-uncalibrated") == ["reliability-uncalibrated"]
    assert ids(files["pr_auc_intervals.svg"], "interval-") == [
        "interval-lightgbm",
        "interval-logistic",
    ]
    assert files == charts.training_charts(result, evaluation, panel)  # deterministic


def test_the_package_exports_what_it_lists_and_imports_no_private_names() -> None:
    assert all(hasattr(charts, name) for name in charts.__all__)
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{module.name} imports {private} from {node.module}"
