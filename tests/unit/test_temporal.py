"""Unit tests of ml.temporal: folds as pure year arithmetic, no store involved."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from ml.temporal import (
    Fold,
    check_fold_rows,
    temporal_folds,
    training_years,
    visible_outcomes,
)
from wijkradar.errors import NotEnoughDataError, WijkradarError

MEASUREMENTS = (2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022, 2024)
OUTCOMES: dict[int, int | None] = {
    **dict(itertools.pairwise(MEASUREMENTS)),
    2024: None,
}


def test_worked_example_three_folds() -> None:
    assert temporal_folds(OUTCOMES, n_folds=3) == [
        Fold(2018, (2002, 2008, 2012, 2014, 2016), 2018),
        Fold(2020, (2002, 2008, 2012, 2014, 2016, 2018), 2020),
        Fold(2022, (2002, 2008, 2012, 2014, 2016, 2018, 2020), 2022),
    ]


def test_all_folds_start_where_min_train_years_is_met() -> None:
    folds = temporal_folds(OUTCOMES, n_folds=100)
    assert [f.test_year for f in folds] == [2012, 2014, 2016, 2018, 2020, 2022]
    assert folds[0].train_years == (2002, 2008)
    folds = temporal_folds(OUTCOMES, n_folds=100, min_train_years=1)
    assert folds[0] == Fold(2008, (2002,), 2008)
    folds = temporal_folds(OUTCOMES, n_folds=100, min_train_years=4)
    assert folds[0] == Fold(2016, (2002, 2008, 2012, 2014), 2016)


def test_last_test_year_ends_the_folds() -> None:
    folds = temporal_folds(OUTCOMES, n_folds=2, last_test_year=2016)
    assert [f.test_year for f in folds] == [2014, 2016]
    assert folds[-1].train_years == (2002, 2008, 2012, 2014)


def test_fewer_folds_than_asked_when_history_is_short() -> None:
    folds = temporal_folds(OUTCOMES, n_folds=5, last_test_year=2014)
    assert [f.test_year for f in folds] == [2012, 2014]


def test_default_end_is_latest_known_outcome_with_missing_values_in_any_form() -> None:
    outcomes = {2012: 2014, 2014: 2016, 2016: 2018, 2018: float("nan"), 2020: pd.NA}
    folds = temporal_folds(outcomes, n_folds=1)  # type: ignore[arg-type]
    assert folds == [Fold(2016, (2012, 2014), 2016)]


def test_off_cycle_as_of_year_trains_only_once_its_outcome_is_observed() -> None:
    # 2013's label looks ahead to 2014, 2015's to 2016: with T=2014, 2013 may train, 2015 not.
    outcomes = {2010: 2012, 2012: 2014, 2013: 2014, 2014: 2016, 2015: 2016, 2016: 2018}
    folds = {f.test_year: f for f in temporal_folds(outcomes, n_folds=10)}
    assert folds[2014].train_years == (2010, 2012, 2013)
    assert folds[2015].train_years == (2010, 2012, 2013)  # 2014 (outcome 2016) not yet seen
    assert folds[2016].train_years == (2010, 2012, 2013, 2014, 2015)


def test_a_long_horizon_label_waits_for_its_outcome() -> None:
    # 2002's outcome is 2008: it cannot train a fold testing 2005.
    outcomes = {2002: 2008, 2004: 2005, 2005: 2008, 2008: 2012, 2012: None}
    folds = temporal_folds(outcomes, n_folds=10, min_train_years=1)
    assert folds == [Fold(2005, (2004,), 2005), Fold(2008, (2002, 2004, 2005), 2008)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_folds": 0}, "The 'n_folds' parameter must be >= 1. Got 0 instead."),
        ({"min_train_years": 0}, "The 'min_train_years' parameter must be >= 1. Got 0 instead."),
    ],
)
def test_parameter_ranges(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        temporal_folds(OUTCOMES, **kwargs)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


def test_parameter_types() -> None:
    with pytest.raises(TypeError, match="'n_folds' parameter must be an int"):
        temporal_folds(OUTCOMES, n_folds=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'min_train_years' parameter must be an int"):
        temporal_folds(OUTCOMES, min_train_years=True)


def test_last_test_year_must_have_a_known_outcome() -> None:
    with pytest.raises(ValueError, match=r"'last_test_year'.*Got 2024 instead"):
        temporal_folds(OUTCOMES, last_test_year=2024)
    with pytest.raises(ValueError, match="Got 2019 instead"):
        temporal_folds(OUTCOMES, last_test_year=2019)


def test_outcome_not_after_as_of_is_rejected() -> None:
    with pytest.raises(ValueError, match="outcome year of as-of year 2014 must be after it"):
        temporal_folds({2012: 2014, 2014: 2014})


def test_not_enough_data_names_years_and_min_train_years() -> None:
    with pytest.raises(NotEnoughDataError) as excinfo:
        temporal_folds({2012: 2014, 2014: 2016, 2016: None}, min_train_years=2)
    message = str(excinfo.value)
    assert "min_train_years=2" in message
    assert "[2012, 2014]" in message
    assert excinfo.value.exit_code == 6


def test_not_enough_data_when_no_outcome_is_known() -> None:
    with pytest.raises(NotEnoughDataError, match=r"min_train_years=2.*\[2024\]"):
        temporal_folds({2024: None})
    with pytest.raises(NotEnoughDataError):
        temporal_folds({})


def test_training_years_for_final_model() -> None:
    assert training_years(OUTCOMES, 2024) == MEASUREMENTS[:-1]
    assert training_years(OUTCOMES, 2023) == MEASUREMENTS[:-2]
    assert training_years(OUTCOMES, 2008) == (2002,)
    assert training_years(OUTCOMES, 2007) == ()


def test_visible_outcomes_hide_what_lies_after_the_cutoff() -> None:
    visible = visible_outcomes(OUTCOMES, 2020)
    assert visible == {**{y: OUTCOMES[y] for y in MEASUREMENTS[:6]}, 2020: None, 2022: None,
                       2024: None}
    assert [f.test_year for f in temporal_folds(visible)] == [2014, 2016, 2018]
    assert training_years(visible, 2020) == training_years(OUTCOMES, 2020)
    assert visible_outcomes({2002: math.nan, 2008: 2012}, 2012) == {2002: None, 2008: 2012}
    assert visible_outcomes(OUTCOMES, 2030) == OUTCOMES


def test_fold_is_frozen() -> None:
    fold = Fold(2018, (2016,), 2018)
    with pytest.raises(AttributeError):
        fold.cutoff = 2020  # type: ignore[misc]


FOLD_2018 = Fold(2018, (2002, 2008, 2012, 2014, 2016), 2018)


def _rows(pairs: list[tuple[int, float]]) -> tuple[pd.Series, pd.Series]:
    as_of = pd.Series([a for a, _ in pairs], dtype="Int64", name="as_of_year")
    outcome = pd.Series(
        [None if math.isnan(o) else int(o) for _, o in pairs],
        dtype="Int64",
        name="label_outcome_year",
    )
    return as_of, outcome


def test_check_fold_rows_accepts_the_folds_own_rows() -> None:
    as_of, outcome = _rows([(2002, 2008), (2016, 2018), (2016, 2018), (2014, 2016)])
    assert check_fold_rows(FOLD_2018, as_of, outcome) is None
    # Plain int64 / float Series work as well.
    assert check_fold_rows(FOLD_2018, as_of.astype("int64"), outcome.astype("float64")) is None


def test_check_fold_rows_rejects_a_later_outcome() -> None:
    fold = Fold(2018, (2016, 2017), 2018)
    as_of, outcome = _rows([(2016, 2018), (2017, 2020), (2017, 2020)])
    with pytest.raises(WijkradarError, match=r"as-of year 2017 \(2 rows\).*outcome year 2020"):
        check_fold_rows(fold, as_of, outcome)


def test_check_fold_rows_rejects_the_test_year_itself() -> None:
    as_of, outcome = _rows([(2016, 2018), (2018, 2020)])
    with pytest.raises(WijkradarError, match=r"as-of year 2018 .*not in the fold's training"):
        check_fold_rows(FOLD_2018, as_of, outcome)


def test_check_fold_rows_rejects_missing_outcome() -> None:
    as_of, outcome = _rows([(2016, 2018), (2014, float("nan"))])
    with pytest.raises(WijkradarError, match=r"as-of year 2014 .*no label outcome year"):
        check_fold_rows(FOLD_2018, as_of, outcome)


def test_check_fold_rows_rejects_missing_as_of_and_length_mismatch() -> None:
    as_of = pd.Series([2016, None], dtype="Int64")
    outcome = pd.Series([2018, 2018], dtype="Int64")
    with pytest.raises(WijkradarError, match="1 training rows have no as-of year"):
        check_fold_rows(FOLD_2018, as_of, outcome)
    with pytest.raises(ValueError, match="same length"):
        check_fold_rows(FOLD_2018, as_of, outcome.iloc[:1])


def test_check_fold_rows_accepts_no_rows() -> None:
    empty = pd.Series([], dtype="Int64")
    assert check_fold_rows(FOLD_2018, empty, empty) is None
