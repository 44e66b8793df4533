"""Property-based tests of ml.temporal (and the top-k metrics) with hypothesis."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ml.metrics import precision_at, recall_at
from ml.temporal import Fold, check_fold_rows, temporal_folds, training_years
from wijkradar.errors import NotEnoughDataError, WijkradarError


@st.composite
def outcome_maps(draw: st.DrawFn) -> dict[int, int | None]:
    """Random as-of years, each with an outcome year after it or None (not yet measured)."""
    years = draw(st.sets(st.integers(1995, 2030), min_size=1, max_size=15))
    out: dict[int, int | None] = {}
    for year in sorted(years):
        known = draw(st.booleans()) if year > 2020 else draw(st.integers(0, 9)) > 0
        out[year] = year + draw(st.integers(1, 8)) if known else None
    return out


@st.composite
def fold_params(draw: st.DrawFn) -> tuple[dict[int, int | None], int, int]:
    return draw(outcome_maps()), draw(st.integers(1, 5)), draw(st.integers(1, 6))


def _folds_or_none(outcomes: dict[int, int | None], min_train: int, n_folds: int) -> list[Fold]:
    try:
        return temporal_folds(outcomes, min_train_years=min_train, n_folds=n_folds)
    except NotEnoughDataError:
        return []


@given(fold_params())
def test_training_labels_are_observable_at_the_cutoff(
    params: tuple[dict[int, int | None], int, int],
) -> None:
    outcomes, min_train, n_folds = params
    folds = _folds_or_none(outcomes, min_train, n_folds)
    assert len(folds) <= n_folds
    for fold in folds:
        assert fold.cutoff == fold.test_year
        assert outcomes[fold.test_year] is not None
        assert len(fold.train_years) >= min_train
        assert list(fold.train_years) == sorted(set(fold.train_years))
        for year in fold.train_years:
            outcome = outcomes[year]
            assert outcome is not None
            assert year < fold.test_year
            assert outcome <= fold.cutoff


@given(fold_params())
def test_folds_increase_and_use_every_observable_year(
    params: tuple[dict[int, int | None], int, int],
) -> None:
    outcomes, min_train, n_folds = params
    folds = _folds_or_none(outcomes, min_train, n_folds)
    tests = [f.test_year for f in folds]
    assert tests == sorted(set(tests))
    for earlier, later in itertools.pairwise(folds):
        assert set(earlier.train_years) <= set(later.train_years)
    for fold in folds:
        expected = tuple(
            t
            for t, o in sorted(outcomes.items())
            if o is not None and t < fold.test_year and o <= fold.test_year
        )
        assert fold.train_years == expected
    if folds:
        assert folds[-1].test_year == max(t for t, o in outcomes.items() if o is not None)


@given(fold_params())
def test_no_fold_is_an_error_exactly_when_none_is_possible(
    params: tuple[dict[int, int | None], int, int],
) -> None:
    outcomes, min_train, n_folds = params
    possible = any(
        o is not None and len(training_years(outcomes, t)) >= min_train for t, o in outcomes.items()
    )
    if possible:
        assert temporal_folds(outcomes, min_train_years=min_train, n_folds=n_folds)
    else:
        with pytest.raises(NotEnoughDataError, match=f"min_train_years={min_train}"):
            temporal_folds(outcomes, min_train_years=min_train, n_folds=n_folds)


@given(outcome_maps(), st.integers(1995, 2040))
def test_training_years_are_known_before_the_cutoff(
    outcomes: dict[int, int | None], cutoff: int
) -> None:
    years = training_years(outcomes, cutoff)
    assert list(years) == sorted(years)
    for t, o in outcomes.items():
        assert (t in years) == (o is not None and o <= cutoff)


@given(fold_params(), st.data())
def test_check_fold_rows_accepts_fold_rows_and_rejects_a_later_outcome(
    params: tuple[dict[int, int | None], int, int], data: st.DataObject
) -> None:
    outcomes, min_train, n_folds = params
    folds = _folds_or_none(outcomes, min_train, n_folds)
    assume(folds)
    fold = data.draw(st.sampled_from(folds))
    counts = data.draw(
        st.lists(st.integers(1, 4), min_size=len(fold.train_years), max_size=len(fold.train_years))
    )
    as_of = [y for y, c in zip(fold.train_years, counts, strict=True) for _ in range(c)]
    as_of_s = pd.Series(as_of, dtype="Int64")
    outcome_s = pd.Series([outcomes[y] for y in as_of], dtype="Int64")
    assert check_fold_rows(fold, as_of_s, outcome_s) is None

    bad_pos = data.draw(st.integers(0, len(as_of) - 1))
    late = outcome_s.copy()
    late.iloc[bad_pos] = fold.cutoff + data.draw(st.integers(1, 5))
    with pytest.raises(WijkradarError, match=f"as-of year {as_of[bad_pos]} "):
        check_fold_rows(fold, as_of_s, late)


@st.composite
def scored_labels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 60))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=float)
    score = np.array(
        draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n)), dtype=float
    )
    return y, score


fracs = st.floats(1e-6, 1.0, allow_nan=False)


@given(scored_labels(), fracs)
def test_top_k_metrics_stay_in_unit_interval(
    data: tuple[np.ndarray, np.ndarray], frac: float
) -> None:
    y, score = data
    precision = precision_at(y, score, frac)
    assert 0.0 <= precision <= 1.0
    recall = recall_at(y, score, frac)
    if y.sum() == 0:
        assert math.isnan(recall)
    else:
        assert 0.0 <= recall <= 1.0


@given(scored_labels())
def test_full_fraction_recovers_everything(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = data
    assert precision_at(y, score, 1.0) == pytest.approx(y.mean())
    if y.sum() > 0:
        assert recall_at(y, score, 1.0) == 1.0


@given(scored_labels(), fracs, fracs)
def test_recall_grows_with_the_fraction(
    data: tuple[np.ndarray, np.ndarray], a: float, b: float
) -> None:
    y, score = data
    assume(y.sum() > 0)
    low, high = sorted((a, b))
    assert recall_at(y, score, low) <= recall_at(y, score, high)
