"""Unit tests of ml.uncertainty (unit bootstrap) and the interval chart of serving.charts."""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from ml import uncertainty
from ml.metrics import binary_metrics, precision_at
from ml.uncertainty import bootstrap_by_model, draw_units, top_n_per_group_precision
from serving.charts import importance_svg, metric_intervals_svg

ALL_METRICS = (*uncertainty.DEFAULT_METRICS, "precision_at_2.5", "recall_at_1", "base_rate")


def pooled(n_units: int, n_years: int = 3, rate: float = 0.08, seed: int = 0) -> pd.DataFrame:
    """Units scored in several test years; the score is informative and rounded (ties)."""
    rng = np.random.default_rng(seed)
    n = n_units * n_years
    y = (rng.random(n) < rate).astype(int)
    score = np.round(1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y - 3))), 3)
    return pd.DataFrame(
        {
            "unit_code": np.tile([f"BU{i:08d}" for i in range(n_units)], n_years),
            "test_year": np.repeat(np.arange(2010, 2010 + 2 * n_years, 2), n_units),
            "y_true": y,
            "score": score,
        }
    )


def bootstrap(y: object, score: object, units: object, **kwargs: object) -> pd.DataFrame:
    """``bootstrap_by_model`` of one model scored ``score`` on units ``units``."""
    frame = pd.DataFrame({"model": "m", "y_true": y, "score": score, "unit_code": units})
    return bootstrap_by_model(frame, **kwargs).drop(columns="model")


def table_of(frame: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    return bootstrap(frame["y_true"], frame["score"], frame["unit_code"], **kwargs)


def test_values_equal_binary_metrics_and_columns() -> None:
    frame = pooled(500)
    table = table_of(frame, metrics=ALL_METRICS, n_boot=20)
    assert list(table.columns) == ["metric", "value", "low", "high"]
    assert list(table["metric"]) == list(ALL_METRICS)
    expected = binary_metrics(frame["y_true"], frame["score"])
    expected["precision_at_2.5"] = precision_at(frame["y_true"], frame["score"], 0.025)
    for metric, value in zip(table["metric"], table["value"], strict=True):
        assert value == pytest.approx(expected[metric], abs=1e-12), metric


def test_each_resample_equals_the_metrics_of_the_expanded_rows() -> None:
    """The weighted computation is the metric of the resampled rows, duplicates included.

    With one resample the interval is that resample's value, and ``draw_units`` with the same
    seed says which units it drew (units numbered in sorted order of their ids).
    """
    frame = pooled(300, seed=3)
    y, s = frame["y_true"].to_numpy(float), frame["score"].to_numpy()
    uniq, codes = np.unique(frame["unit_code"], return_inverse=True)
    metrics = (*ALL_METRICS[:-3], "recall_at_1", "base_rate")
    for seed in range(11, 16):
        table = table_of(frame, n_boot=1, seed=seed, metrics=metrics).set_index("metric")
        counts = draw_units(len(uniq), 1, seed)[0]
        rows = np.repeat(np.arange(len(y)), counts[codes])  # each unit's rows, as often drawn
        assert len(rows) == counts[codes].sum()
        expected = binary_metrics(y[rows], s[rows])
        for metric in metrics:
            for bound in ("low", "high"):
                value = table.loc[metric, bound]
                assert value == pytest.approx(expected[metric], abs=1e-12), (metric, seed)


def test_a_draw_keeps_all_rows_of_a_unit() -> None:
    counts = draw_units(50, 40, seed=1)
    assert counts.shape == (40, 50)
    assert (counts.sum(axis=1) == 50).all()  # n_units draws with replacement per resample


def test_interval_contains_the_point_value() -> None:
    table = table_of(pooled(2000), metrics=ALL_METRICS)
    assert (table["low"] <= table["value"]).all()
    assert (table["value"] <= table["high"]).all()
    assert (table["low"] < table["high"]).all()


def test_perfect_separation_gives_a_degenerate_interval_at_one() -> None:
    y = np.array([0, 0, 0, 0, 0, 1, 1, 0, 0, 1] * 20)
    score = y + np.linspace(0, 0.5, len(y))  # every positive above every negative
    units = np.arange(len(y)) // 2
    table = bootstrap(y, score, units, metrics=("roc_auc", "pr_auc")).set_index("metric")
    for metric in ("roc_auc", "pr_auc"):
        assert table.loc[metric].tolist() == [1.0, 1.0, 1.0]


def test_smaller_samples_give_wider_intervals() -> None:
    big = pooled(4000, seed=5)
    small = big[big["unit_code"] < "BU00000400"]  # the first 400 units, all their years
    wide = table_of(small).set_index("metric")
    narrow = table_of(big).set_index("metric")
    for metric in ("roc_auc", "pr_auc", "precision_at_10", "recall_at_10", "brier"):
        width_small = wide.loc[metric, "high"] - wide.loc[metric, "low"]
        width_big = narrow.loc[metric, "high"] - narrow.loc[metric, "low"]
        assert width_small > 1.5 * width_big, metric


def test_resampling_units_widens_intervals_when_a_unit_repeats_itself() -> None:
    """Rows of one unit that are copies carry no new information: the unit bootstrap knows."""
    one = pooled(600, n_years=1, seed=2)
    copies = pd.concat([one] * 4, ignore_index=True)
    by_unit = table_of(copies, metrics=("roc_auc",))
    by_row = bootstrap(
        copies["y_true"], copies["score"], np.arange(len(copies)), metrics=("roc_auc",)
    )
    assert by_unit["value"].iloc[0] == by_row["value"].iloc[0]
    width_unit = float(by_unit["high"].iloc[0] - by_unit["low"].iloc[0])
    width_row = float(by_row["high"].iloc[0] - by_row["low"].iloc[0])
    assert width_unit > 1.5 * width_row


def test_deterministic_for_a_seed_and_different_for_another() -> None:
    frame = pooled(800)
    first = table_of(frame, seed=7)
    again = table_of(frame, seed=7)
    other = table_of(frame, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert not first[["low", "high"]].equals(other[["low", "high"]])


def test_unit_labels_order_does_not_change_the_draws() -> None:
    frame = pooled(300)
    shuffled = frame.sample(frac=1.0, random_state=0)
    a = table_of(frame, metrics=("roc_auc", "brier"))
    b = table_of(shuffled, metrics=("roc_auc", "brier"))
    np.testing.assert_allclose(a[["value", "low", "high"]], b[["value", "low", "high"]])


def test_resamples_without_both_classes_are_left_out_of_auc() -> None:
    y = np.zeros(60, dtype=int)
    y[0] = 1  # a single positive unit: many resamples have no positive at all
    score = np.linspace(1, 0, 60)
    table = bootstrap(y, score, np.arange(60), metrics=("roc_auc", "recall_at_10"))
    assert table["value"].tolist() == [1.0, 1.0]
    assert table[["low", "high"]].notna().all().all()


def test_brier_is_nan_for_scores_outside_the_unit_interval() -> None:
    frame = pooled(100)
    table = bootstrap(frame["y_true"], frame["score"] * 3 - 1, frame["unit_code"])
    brier = table.set_index("metric").loc["brier"]
    assert brier.isna().all()


def test_level_narrows_the_interval() -> None:
    frame = pooled(500)
    wide = table_of(frame, level=0.95, metrics=("roc_auc",))
    narrow = table_of(frame, level=0.5, metrics=("roc_auc",))
    assert narrow["low"].iloc[0] > wide["low"].iloc[0]
    assert narrow["high"].iloc[0] < wide["high"].iloc[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": ("auc",)}, "The 'metrics' parameter must name metrics"),
        ({"metrics": ("precision_at_0",)}, "pct in \\(0, 100\\]"),
        ({"metrics": ()}, "at least one metric"),
        ({"n_boot": 0}, "The 'n_boot' parameter must be an int >= 1. Got 0 instead."),
        ({"level": 1.0}, "The 'level' parameter must be in \\(0, 1\\). Got 1.0 instead."),
    ],
)
def test_parameter_errors(kwargs: dict[str, object], message: str) -> None:
    frame = pooled(20)
    with pytest.raises(ValueError, match=message):
        table_of(frame, **kwargs)


def test_units_and_labels_are_checked() -> None:
    with pytest.raises(ValueError, match="units contains 1 missing values"):
        bootstrap([0, 1, 0], [0.1, 0.9, 0.2], ["a", None, "c"])
    with pytest.raises(ValueError, match="y_true must contain only 0 and 1"):
        bootstrap([0, 2, 0], [0.1, 0.9, 0.2], ["a", "b", "c"])


def test_thirty_thousand_rows_two_hundred_resamples_take_seconds() -> None:
    frame = pooled(10_000, n_years=3, rate=0.05)
    start = time.perf_counter()
    table = table_of(frame, n_boot=200)
    elapsed = time.perf_counter() - start
    assert len(frame) == 30_000 and table["low"].notna().all()
    assert elapsed < 15.0  # about half a second on two cores


# --- per model ---------------------------------------------------------------------------


def two_models(n_units: int = 800) -> pd.DataFrame:
    frame = pooled(n_units, seed=4)
    rng = np.random.default_rng(9)
    weak = frame.assign(
        model="logistic", score=np.clip(frame["score"] + rng.normal(0, 0.1, len(frame)), 0, 1)
    )
    return pd.concat([frame.assign(model="lightgbm"), weak], ignore_index=True)


def test_each_model_gets_the_intervals_it_would_get_alone() -> None:
    preds = two_models()
    table = bootstrap_by_model(preds, n_boot=50)
    assert list(table.columns) == ["model", "metric", "value", "low", "high"]
    assert list(dict.fromkeys(table["model"])) == ["lightgbm", "logistic"]
    for model, part in preds.groupby("model"):
        alone = table_of(part, n_boot=50)
        mine = table[table["model"] == model].drop(columns="model").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone)


def test_by_model_needs_the_prediction_columns() -> None:
    with pytest.raises(ValueError, match="predictions lacks the column\\(s\\) unit_code"):
        bootstrap_by_model(two_models(20).drop(columns="unit_code"))


# --- top n per group ---------------------------------------------------------------------------


def test_top_n_per_group_value_matches_metrics() -> None:
    frame = pooled(3000, seed=6)
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 200, len(frame))
    table = top_n_per_group_precision(frame["y_true"], frame["score"], groups, 3)
    assert table["metric"].tolist() == ["precision_top_3_per_group"]
    ranked = frame.assign(group=groups).sort_values("score", ascending=False, kind="stable")
    expected = ranked.groupby("group", sort=False).head(3)["y_true"].mean()
    assert table["value"].iloc[0] == pytest.approx(expected)
    assert table["low"].iloc[0] <= expected <= table["high"].iloc[0]
    assert table["low"].iloc[0] < table["high"].iloc[0]


def test_top_n_per_group_hand_example_and_clusters() -> None:
    # Groups a (rows 0-2) and b (row 3): top 2 of a are rows 0 and 2, b gives row 3: 1 hit of 3.
    y, s, g = [1, 1, 0, 0], [0.9, 0.1, 0.5, 0.3], ["a", "a", "a", "b"]
    table = top_n_per_group_precision(y, s, g, 2, n_boot=500)
    assert table["value"].iloc[0] == pytest.approx(1 / 3)
    # Resampling the two groups: {a, a} -> 1/2, {a, b} -> 1/3, {b, b} -> 0.
    assert table["low"].iloc[0] == 0.0 and table["high"].iloc[0] == 0.5
    one_cluster = top_n_per_group_precision(y, s, g, 2, clusters=["x"] * 4)
    assert one_cluster[["value", "low", "high"]].iloc[0].tolist() == pytest.approx([1 / 3] * 3)


def test_top_n_per_group_errors() -> None:
    with pytest.raises(ValueError, match=r"The 'n' parameter must be >= 1\. Got 0 instead\."):
        top_n_per_group_precision([0, 1], [0.1, 0.2], ["a", "a"], 0)
    with pytest.raises(TypeError, match="The 'n' parameter must be an int"):
        top_n_per_group_precision([0, 1], [0.1, 0.2], ["a", "a"], 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="groups contains 1 missing values"):
        top_n_per_group_precision([0, 1], [0.1, 0.2], ["a", None], 1)


# --- charts ------------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def ids(svg: str, prefix: str) -> list[str]:
    root = ET.fromstring(svg)
    return sorted(e.get("id", "") for e in root.iter() if e.get("id", "").startswith(prefix))


def test_metric_intervals_svg_has_one_interval_and_point_per_model() -> None:
    table = bootstrap_by_model(two_models(200), n_boot=20)
    svg = metric_intervals_svg(table, "roc_auc")
    assert ids(svg, "interval-") == ["interval-lightgbm", "interval-logistic"]
    assert ids(svg, "point-") == ["point-lightgbm", "point-logistic"]
    empty = metric_intervals_svg(table, "no_such_metric")
    assert ids(empty, "interval-") == [] and "no values of no_such_metric" in empty


def test_metric_intervals_svg_names_a_missing_column() -> None:
    table = bootstrap_by_model(two_models(200), n_boot=20)
    with pytest.raises(ValueError, match="lacks the column"):
        metric_intervals_svg(table.drop(columns="low"), "pr_auc")


def test_importance_svg_keeps_the_top_features() -> None:
    importance = pd.Series({"lbm_chg_prev": 10.0, "income": 3.0, "cost $": 1.0, "x": math.nan})
    svg = importance_svg(importance, top=2)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert ids(svg, "importance-bar-") == ["importance-bar-income", "importance-bar-lbm_chg_prev"]
    assert "lbm_chg_prev" in svg and "income" in svg and "cost" not in svg
    assert "geen belang van kenmerken" in importance_svg(pd.Series(dtype=float))
    with pytest.raises(ValueError, match=r"The 'top' parameter must be an int >= 1\. Got 0"):
        importance_svg(importance, top=0)
