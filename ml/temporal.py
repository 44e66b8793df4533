"""Temporal splitting as pure date arithmetic, in the style of DSSG triage's ``timechop``.

Panel rows are ``(unit_code, as_of_year)``. The label of row T looks ahead to the next
Leefbarometer measurement after T, whose year is the row's ``label_outcome_year``. A label is
therefore only *observable* from its outcome year on. A fold that scores as-of year T may train
only on labels that had been observed by then: every as-of year t < T whose outcome year is <= T.
That rule, and nothing else, is what keeps the future out of training. The fold's ``cutoff`` is
T itself.

Nothing here reads a store: the functions take a mapping ``as-of year -> outcome year`` (None,
NaN or ``pd.NA`` when the outcome has not been measured yet) and return years. ``ml.folds``
takes the folds to the panel: it selects their rows, fits and scores the models.

Worked example. Leefbarometer measurements 2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022, 2024
give the as-of years and outcome years::

    as-of    2002  2008  2012  2014  2016  2018  2020  2022  2024
    outcome  2008  2012  2014  2016  2018  2020  2022  2024  None

``temporal_folds(outcome_years, n_folds=3)`` ends at 2022, the latest as-of year with a known
outcome, and returns three folds::

    test 2018  cutoff 2018  trains on 2002 2008 2012 2014 2016
    test 2020  cutoff 2020  trains on 2002 2008 2012 2014 2016 2018
    test 2022  cutoff 2022  trains on 2002 2008 2012 2014 2016 2018 2020

Fold 2018 may not train on 2018 itself (its outcome, 2020, lies after the cutoff), and 2024 is
never a test year because its outcome is unknown. The earliest possible fold with
``min_train_years=2`` tests 2012 (trains on 2002 and 2008); 2008 would train on 2002 alone.
The final model "as of" 2024 trains on ``training_years(outcome_years, 2024)``, i.e. 2002-2022.
Validating "as of" an earlier cutoff, say 2020, first hides the outcomes after it:
``visible_outcomes(outcome_years, 2020)`` keeps 2002-2018 (outcomes up to 2020) and maps 2020,
2022 and 2024 to None, so its folds end at test year 2018.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from wijkradar.errors import NotEnoughDataError, WijkradarError

__all__ = ["Fold", "check_fold_rows", "temporal_folds", "training_years", "visible_outcomes"]


@dataclass(frozen=True)
class Fold:
    """One temporal validation fold.

    ``cutoff`` equals ``test_year``: no training label's outcome year may lie after it.
    """

    test_year: int
    train_years: tuple[int, ...]
    cutoff: int


def _check_int_param(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"The {name!r} parameter must be an int >= {minimum}. "
            f"Got {value!r} of type {type(value).__name__} instead."
        )
    if value < minimum:
        raise ValueError(f"The {name!r} parameter must be >= {minimum}. Got {value!r} instead.")
    return int(value)


def _known_outcomes(outcome_years: Mapping[int, int | None]) -> dict[int, int]:
    """``as-of year -> outcome year`` for the as-of years whose outcome is known, validated.

    Raises ValueError if an outcome year is not after its as-of year (a label looks ahead).
    """
    known: dict[int, int] = {}
    for as_of, outcome in outcome_years.items():
        if outcome is None or pd.isna(outcome):
            continue
        if int(outcome) <= int(as_of):
            raise ValueError(
                f"The outcome year of as-of year {as_of} must be after it. Got {outcome} instead."
            )
        known[int(as_of)] = int(outcome)
    return known


def _train_years_for(known: Mapping[int, int], test_year: int) -> tuple[int, ...]:
    return tuple(sorted(t for t, o in known.items() if t < test_year and o <= test_year))


def training_years(outcome_years: Mapping[int, int | None], cutoff: int) -> tuple[int, ...]:
    """As-of years whose outcome is known and <= ``cutoff``, in increasing order.

    These are the years a final model trained "as of" ``cutoff`` may learn from. With the
    measurement years of the module docstring, ``training_years(outcome_years, 2024)`` is
    ``(2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022)`` and ``cutoff=2023`` drops 2022.
    """
    known = _known_outcomes(outcome_years)
    return tuple(sorted(t for t, o in known.items() if o <= cutoff))


def visible_outcomes(
    outcome_years: Mapping[int, int | None], cutoff: int
) -> dict[int, int | None]:
    """``outcome_years`` as seen at ``cutoff``: outcomes after it become None (not yet known).

    With the module docstring's years and ``cutoff=2020``: 2018 keeps its outcome 2020, 2020
    (outcome 2022) becomes None, and so do 2022 and 2024.
    """
    return {
        as_of: (outcome if outcome is not None and not pd.isna(outcome) and outcome <= cutoff
                else None)
        for as_of, outcome in outcome_years.items()
    }


def temporal_folds(
    outcome_years: Mapping[int, int | None],
    *,
    min_train_years: int = 2,
    n_folds: int = 3,
    last_test_year: int | None = None,
) -> list[Fold]:
    """The last ``n_folds`` temporal folds ending at ``last_test_year``, in increasing order.

    A fold tests on an as-of year T with a known outcome and trains on every as-of year t < T
    whose outcome year is <= T; it needs at least ``min_train_years`` such years. Fewer than
    ``n_folds`` folds are returned when fewer are possible. ``last_test_year`` defaults to the
    latest as-of year with a known outcome and must itself have one. See the module docstring
    for a worked example.

    Raises:
        ValueError / TypeError: a parameter is out of range or of the wrong type, or an outcome
            year is not after its as-of year.
        NotEnoughDataError: no fold is possible.
    """
    min_train_years = _check_int_param("min_train_years", min_train_years, 1)
    n_folds = _check_int_param("n_folds", n_folds, 1)
    known = _known_outcomes(outcome_years)
    if last_test_year is None:
        if not known:
            raise NotEnoughDataError(
                f"No temporal fold is possible with min_train_years={min_train_years}: no as-of "
                f"year has a known label outcome (as-of years: {_fmt(outcome_years)})."
            )
        last_test_year = max(known)
    elif last_test_year not in known:
        raise ValueError(
            "The 'last_test_year' parameter must be an as-of year with a known outcome "
            f"({_fmt(known)}). Got {last_test_year!r} instead."
        )

    folds = []
    for test_year in sorted(t for t in known if t <= last_test_year):
        train = _train_years_for(known, test_year)
        if len(train) >= min_train_years:
            folds.append(Fold(test_year=test_year, train_years=train, cutoff=test_year))
    if not folds:
        raise NotEnoughDataError(
            f"No temporal fold up to test year {last_test_year} has min_train_years="
            f"{min_train_years} training years. As-of years with a known outcome: "
            f"{_fmt(known)} (outcome years {_fmt(sorted(set(known.values())))}); a fold testing "
            "year T trains only on as-of years before T whose outcome year is <= T."
        )
    return folds[-n_folds:]


def check_fold_rows(fold: Fold, as_of: pd.Series, outcome: pd.Series) -> None:
    """Check that training rows respect ``fold``: the guard against temporal leakage.

    ``as_of`` and ``outcome`` are the training rows' ``as_of_year`` and ``label_outcome_year``,
    read positionally. Raises WijkradarError naming the offending as-of year if a row's as-of
    year is not among ``fold.train_years``, its outcome year is missing, or its outcome year lies
    after ``fold.cutoff``. For the 2018 fold of the module docstring, rows of as-of 2016
    (outcome 2018) pass and rows of as-of 2018 (outcome 2020) are rejected.
    """
    if len(as_of) != len(outcome):
        raise ValueError(
            f"as_of and outcome must have the same length. Got {len(as_of)} and {len(outcome)}."
        )
    frame = pd.DataFrame(
        {
            "as_of": pd.array(as_of, dtype="Int64"),
            "outcome": pd.array(outcome, dtype="Int64"),
        }
    )
    prefix = f"Fold testing {fold.test_year} (cutoff {fold.cutoff})"

    if frame["as_of"].isna().any():
        n = int(frame["as_of"].isna().sum())
        raise WijkradarError(f"{prefix}: {n} training rows have no as-of year.")
    stray = frame.loc[~frame["as_of"].isin(fold.train_years), "as_of"]
    if not stray.empty:
        year = int(stray.min())
        raise WijkradarError(
            f"{prefix}: training rows of as-of year {year} ({int((stray == year).sum())} rows) "
            f"are not in the fold's training years {_fmt(fold.train_years)}."
        )
    missing = frame.loc[frame["outcome"].isna(), "as_of"]
    if not missing.empty:
        year = int(missing.min())
        raise WijkradarError(
            f"{prefix}: training rows of as-of year {year} ({int((missing == year).sum())} rows) "
            "have no label outcome year."
        )
    late = frame.loc[frame["outcome"] > fold.cutoff]
    if not late.empty:
        first = late.sort_values(["as_of", "outcome"], kind="stable").iloc[0]
        year = int(first["as_of"])
        raise WijkradarError(
            f"{prefix}: training rows of as-of year {year} "
            f"({int((late['as_of'] == year).sum())} rows) have label outcome year "
            f"{int(first['outcome'])}, after the cutoff; this would leak the future."
        )


def _fmt(years: Iterable[int]) -> str:
    values = sorted(int(y) for y in years)
    return "[" + ", ".join(str(y) for y in values) + "]" if values else "[] (none)"
