"""Unit tests of ml.metrics with hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.metrics import (
    binary_metrics,
    normalized_auc,
    precision_at,
    recall_at,
)

# Ten units, scores strictly decreasing, so rank order is input order.
Y10 = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
S10 = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])


@pytest.mark.parametrize(
    ("frac", "precision", "recall"),
    [
        (0.1, 1.0, 1 / 3),  # top 1: [1]
        (0.2, 0.5, 1 / 3),  # top 2: [1, 0]
        (0.25, 2 / 3, 2 / 3),  # ceil(2.5) = 3: [1, 0, 1]
        (0.3, 2 / 3, 2 / 3),
        (0.5, 0.4, 2 / 3),  # top 5
        (0.01, 1.0, 1 / 3),  # ceil(0.1) = 1
        (1.0, 0.3, 1.0),
    ],
)
def test_precision_and_recall_at_ten_items(frac: float, precision: float, recall: float) -> None:
    assert precision_at(Y10, S10, frac) == pytest.approx(precision)
    assert recall_at(Y10, S10, frac) == pytest.approx(recall)


def test_top_k_is_robust_to_float_noise() -> None:
    # 0.07 * 100 == 7.000000000000001 in floating point; the top is 7 rows, not 8.
    y = np.zeros(100)
    y[7] = 1
    score = np.arange(100, 0, -1, dtype=float)
    assert precision_at(y, score, 0.07) == 0.0
    assert precision_at(y, score, 0.08) == pytest.approx(1 / 8)


def test_order_of_input_does_not_matter_without_ties() -> None:
    perm = np.array([3, 9, 0, 5, 1, 8, 2, 7, 4, 6])
    assert precision_at(Y10[perm], S10[perm], 0.3) == pytest.approx(2 / 3)
    assert recall_at(Y10[perm], S10[perm], 0.3) == pytest.approx(2 / 3)


def test_ties_are_broken_stably_by_input_order() -> None:
    y = np.array([0, 1, 1, 0])
    score = np.array([0.5, 0.5, 0.5, 0.9])
    # Ranking: row 3 (0.9), then rows 0, 1, 2 in input order.
    assert precision_at(y, score, 0.5) == 0.0
    assert precision_at(y, score, 0.75) == pytest.approx(1 / 3)
    assert precision_at(y[::-1], score[::-1], 0.5) == 0.5


def test_recall_is_nan_without_positives() -> None:
    assert math.isnan(recall_at([0, 0, 0], [0.1, 0.2, 0.3], 0.5))
    assert precision_at([0, 0, 0], [0.1, 0.2, 0.3], 0.5) == 0.0


def test_accepts_series_lists_and_booleans() -> None:
    y = pd.Series(Y10.astype(bool), index=range(10, 20))
    s = pd.Series(S10, index=range(10, 20))
    assert precision_at(y, s, 0.3) == pytest.approx(2 / 3)
    assert recall_at(list(Y10), list(S10), 0.3) == pytest.approx(2 / 3)
    assert precision_at(pd.Series(Y10, dtype="Int64"), S10, 0.3) == pytest.approx(2 / 3)


def test_misaligned_series_are_rejected() -> None:
    y = pd.Series(Y10, index=range(10))
    s = pd.Series(S10, index=range(1, 11))
    with pytest.raises(ValueError, match="different indexes"):
        precision_at(y, s, 0.3)


@pytest.mark.parametrize(
    "labels",
    [
        pd.Series([1, None, 0, None], dtype="Int64"),
        np.array([1.0, np.nan, 0.0, np.nan]),
        [1, None, 0, float("nan")],
    ],
)
def test_nan_labels_are_an_error_naming_how_many(labels: object) -> None:
    with pytest.raises(ValueError, match="y_true contains 2 NaN labels"):
        precision_at(labels, [0.1, 0.2, 0.3, 0.4], 0.5)
    with pytest.raises(ValueError, match="y_true contains 2 NaN labels"):
        binary_metrics(labels, [0.1, 0.2, 0.3, 0.4])


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="only 0 and 1"):
        precision_at([0, 2], [0.1, 0.2], 0.5)
    with pytest.raises(ValueError, match="score contains 1 NaN"):
        precision_at([0, 1], [0.1, np.nan], 0.5)
    with pytest.raises(ValueError, match="same length"):
        precision_at([0, 1], [0.1], 0.5)
    with pytest.raises(ValueError, match="empty"):
        precision_at([], [], 0.5)
    with pytest.raises(ValueError, match="one-dimensional"):
        precision_at([[0, 1]], [[0.1, 0.2]], 0.5)


@pytest.mark.parametrize("frac", [0, -0.1, 1.5, float("nan")])
def test_frac_out_of_range(frac: float) -> None:
    with pytest.raises(ValueError, match=r"The 'frac' parameter must be in \(0, 1\]"):
        precision_at(Y10, S10, frac)
    with pytest.raises(ValueError, match=r"The 'frac' parameter must be in \(0, 1\]"):
        recall_at(Y10, S10, frac)


def test_binary_metrics_hand_computed() -> None:
    y = np.array([1, 0, 1, 0])
    score = np.array([0.9, 0.8, 0.3, 0.1])
    m = binary_metrics(y, score)
    assert set(m) == {
        "n",
        "base_rate",
        "roc_auc",
        "pr_auc",
        "precision_at_1",
        "precision_at_5",
        "precision_at_10",
        "recall_at_1",
        "recall_at_5",
        "recall_at_10",
        "brier",
    }
    assert m["n"] == 4
    assert m["base_rate"] == 0.5
    # Positive/negative pairs ordered correctly: (0.9>0.8), (0.9>0.1), (0.3>0.1); not (0.3<0.8).
    assert m["roc_auc"] == pytest.approx(3 / 4)
    # Average precision: positives at ranks 1 and 3 -> (1/1 + 2/3) / 2.
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    # With n = 4 every top fraction is ceil(<= 0.4) = 1 row: the top row is positive.
    for k in ("1", "5", "10"):
        assert m[f"precision_at_{k}"] == 1.0
        assert m[f"recall_at_{k}"] == 0.5
    assert m["brier"] == pytest.approx((0.1**2 + 0.8**2 + 0.7**2 + 0.1**2) / 4)


def test_binary_metrics_single_class_gives_nan_aucs() -> None:
    m = binary_metrics([1, 1, 1], [0.2, 0.5, 0.9])
    assert math.isnan(m["roc_auc"])
    assert math.isnan(m["pr_auc"])
    assert m["base_rate"] == 1.0
    assert m["recall_at_10"] == pytest.approx(1 / 3)
    m = binary_metrics([0, 0], [0.2, 0.5])
    assert math.isnan(m["roc_auc"]) and math.isnan(m["pr_auc"]) and math.isnan(m["recall_at_1"])


def test_binary_metrics_brier_only_for_probabilities() -> None:
    assert math.isnan(binary_metrics([0, 1], [-1.0, 3.0])["brier"])
    assert binary_metrics([0, 1], [0.0, 1.0])["brier"] == 0.0
    assert binary_metrics([0, 1], [-1.0, 3.0])["roc_auc"] == 1.0


def test_binary_metrics_top_fractions_on_two_hundred_rows() -> None:
    # 200 rows, positives at ranks 1, 3 and 15: top 1% = 2 rows, 5% = 10, 10% = 20.
    y = np.zeros(200)
    y[[0, 2, 14]] = 1
    score = np.linspace(1, 0, 200)
    m = binary_metrics(y, score)
    assert m["precision_at_1"] == 0.5
    assert m["recall_at_1"] == pytest.approx(1 / 3)
    assert m["precision_at_5"] == pytest.approx(2 / 10)
    assert m["recall_at_5"] == pytest.approx(2 / 3)
    assert m["precision_at_10"] == pytest.approx(3 / 20)
    assert m["recall_at_10"] == 1.0


def test_normalized_auc() -> None:
    assert normalized_auc(0.7, 0.9) == pytest.approx(0.5)
    assert normalized_auc(0.9, 0.9) == pytest.approx(1.0)
    assert normalized_auc(0.5, 0.8) == 0.0
    assert normalized_auc(0.4, 0.9) == pytest.approx(-0.25)
    assert math.isnan(normalized_auc(0.7, 0.5))
    assert math.isnan(normalized_auc(float("nan"), 0.9))
    with pytest.raises(ValueError, match="'oracle_auc' parameter must be in \\[0, 1\\]"):
        normalized_auc(0.7, 1.2)

