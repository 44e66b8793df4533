"""The feature vocabulary: the grammar of feature names, and what a declared feature carries.

Each family declares its base features as ``Term``s next to where it is produced:

* CBS variables and investment variables in ``features.schema`` (``CBS_VARIABLES`` and
  ``INVESTMENT_VARIABLES``; a ``Variable`` is a ``Term``);
* Leefbarometer features in ``features.panel`` (``LBM_TERMS``);
* the gemeente context in ``features.derived`` (``CONTEXT_FEATURES``: a name of the
  grammar below plus the ``Scope`` it summarises);
* the neighbours' features in ``features.neighbours`` (``NEIGHBOUR_TERMS``): ``nb_lbm``, the
  mean score of the units that share a border, is a base feature of its own, so
  ``nb_lbm_chg_prev`` is its change since the previous measurement by the grammar below, and
  ``lbm_minus_nb`` is the unit's score minus its neighbours'.

``features.describe`` is the lookup over all of them. The grammar, in one place:

* ``<base>``: the value at the as-of year T;
* ``<base>_chg<k>``: value(T) - value(T - k), the change over k years (``change``);
* ``<base>_chg_prev``: the change since the previous Leefbarometer measurement
  (``change_since_previous``);
* ``gm_<feature>``: ``<feature>`` for the gemeente around the unit (``in_gemeente``).

>>> parse("gm_low_income_hh_pct_chg3")
FeatureName(base='low_income_hh_pct', years=3, since_previous=False, gemeente=True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

GEMEENTE_PREFIX = "gm_"
SINCE_PREVIOUS_SUFFIX = "_chg_prev"
_CHANGE = re.compile(r"^(?P<base>.+)_chg(?P<k>\d+)$")


class Unit(Enum):
    """What a feature's number counts; a change is in the same unit (percentage points for a
    percentage)."""

    COUNT = "count"
    PERCENT = "percent"
    PER_1000 = "per 1,000 inhabitants"
    THOUSAND_EUR = "thousand euro"
    EUR = "euro"
    SCORE = "score"
    CLASS = "class"
    YEARS = "years"
    FLAG = "yes/no"


class Scope(Enum):
    """What a ``gm_`` feature summarises: the unit's gemeente, or the rest of it (the unit
    itself left out)."""

    GEMEENTE = "gemeente"
    REST_OF_GEMEENTE = "rest of gemeente"


@dataclass(frozen=True)
class Term:
    """A base feature: its name, its English and Dutch labels, and its unit."""

    name: str
    label: str
    label_nl: str
    unit: Unit
    # A mapped column's labels name more than one (its config says so: plural verbs).
    plural: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class FeatureName:
    """A feature name taken apart by the grammar."""

    base: str
    years: int | None = None  # a change over this many years
    since_previous: bool = False  # a change since the previous measurement
    gemeente: bool = False  # for the gemeente around the unit

    @property
    def is_change(self) -> bool:
        return self.years is not None or self.since_previous


def change(base: str, years: int) -> str:
    """The change of ``base`` over ``years`` years: ``change('lbm', 3) == 'lbm_chg3'``."""
    if years < 1:
        raise ValueError(f"A change runs over 1 or more years. Got {years!r} instead.")
    return f"{base}_chg{years}"


def change_since_previous(base: str) -> str:
    """The change of ``base`` since the previous measurement: ``'lbm_chg_prev'``."""
    return f"{base}{SINCE_PREVIOUS_SUFFIX}"


def in_gemeente(feature: str) -> str:
    """``feature`` for the gemeente around the unit: ``'gm_lbm_chg_prev'``."""
    return f"{GEMEENTE_PREFIX}{feature}"


@lru_cache(maxsize=8192)  # a pure function of the name, called per driver sentence
def parse(feature: str) -> FeatureName:
    """Take a feature name apart: prefix ``gm_`` first, then ``_chg_prev``, then ``_chg<k>``."""
    gemeente = feature.startswith(GEMEENTE_PREFIX)
    rest = feature[len(GEMEENTE_PREFIX) :] if gemeente else feature
    if rest.endswith(SINCE_PREVIOUS_SUFFIX):
        base = rest[: -len(SINCE_PREVIOUS_SUFFIX)]
        return FeatureName(base, since_previous=True, gemeente=gemeente)
    match = _CHANGE.match(rest)
    if match:
        return FeatureName(match["base"], years=int(match["k"]), gemeente=gemeente)
    return FeatureName(rest, gemeente=gemeente)
