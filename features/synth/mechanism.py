"""The true decline mechanism: a logit over panel features with additive and pairwise terms.

Each driver is a saturating function of one panel column; each interaction is the product of
two such hinges, named by the evidence: the concentration of vulnerable households hurts more
where physical renewal stalled, and the spill-over from adjacent wijken is stronger where the
gemeente as a whole is weakening. A missing feature counts as its neutral value (``center``):
the truth uses exactly what a model sees.

The intercept of an as-of year is the national climate of that period: the generator
calibrates it so that the decline rate of every period after 2012 is ``base_rate``. It is the
same for every row of the year, so it moves no Shapley value, only ``true_base``.

``shapley`` gives the exact *interventional* Shapley values of the logit with a background of
rows (the rows of the same as-of year), the quantity TreeSHAP's users read:

* an additive term gives feature i ``term(x_i) - mean_b term(b_i)``;
* a pairwise term ``h`` gives feature i the mean over background rows b of
  ``0.5 * (h(x_i, b_j) - h(b_i, b_j)) + 0.5 * (h(x_i, x_j) - h(b_i, x_j))``, and j likewise;

so that ``base + row sum == logit`` with ``base`` the background mean of the logit.

p_decline = sigmoid(logit) is the probability of the decline label given the observable
features: the decline event is drawn from it, and the next score is generated consistently
with the draw, so no latent factor is left to integrate out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Shape = Literal["linear", "below", "above"]
CHUNK = 256  # rows per block of the (rows x background) evaluation of a pairwise term


@dataclass(frozen=True)
class Driver:
    feature: str  # the panel column
    weight: float  # logit change per scale unit
    center: float  # neutral value; also what a missing value counts as
    scale: float
    shape: Shape  # linear (clipped at +-3 scales), or a hinge below/above the center
    mechanism: str

    def term(self, x: np.ndarray) -> np.ndarray:
        z = (np.where(np.isnan(x), self.center, x) - self.center) / self.scale
        if self.shape == "below":
            z = np.clip(-z, 0.0, 3.0)
        elif self.shape == "above":
            z = np.clip(z, 0.0, 3.0)
        else:
            z = np.clip(z, -3.0, 3.0)
        return self.weight * z


@dataclass(frozen=True)
class Interaction:
    """``weight * first.term(x_first) * second.term(x_second)``: the factors' own weights are
    1, so each factor is a hinge in scale units."""

    first: Driver
    second: Driver
    weight: float
    mechanism: str

    @property
    def features(self) -> tuple[str, str]:
        return self.first.feature, self.second.feature

    def term(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.weight * self.first.term(a) * self.second.term(b)


DRIVERS: tuple[Driver, ...] = (
    Driver("lbm", 1.3, 3.9, 0.1, "below", "low livability: little buffer"),
    Driver("low_income_hh_pct_chg3", 0.5, 1.0, 1.5, "linear", "low incomes concentrate"),
    Driver("bijstand_per_1000_chg3", 0.5, 4.0, 6.0, "linear", "social assistance concentrates"),
    Driver("wmo_clients_per_1000_chg3", 0.4, 5.0, 6.0, "linear", "care moved into the home"),
    Driver("shelter_inflow_per_1000", 0.5, 2.0, 1.0, "above", "inflow from shelters"),
    Driver("status_holders_per_1000", 0.4, 3.5, 2.5, "above", "housing of status holders"),
    Driver(
        "corp_renovation_per_dwelling_chg3", -0.5, 0.0, 400.0, "linear", "physical renewal stalled"
    ),
    Driver(
        "middle_income_new_dwellings", 0.3, 1.0, 1.0, "below", "no building for middle incomes"
    ),
    Driver("market_investment_per_dwelling", 0.4, 500.0, 200.0, "below", "market parties left"),
    Driver("gm_lbm_chg_prev", -0.35, 0.0, 0.04, "linear", "spill-over within the gemeente"),
    Driver("nb_lbm_chg_prev", -0.35, 0.0, 0.04, "linear", "spill-over from adjacent wijken"),
    Driver(
        "programme_budget_per_dwelling", -0.5, 0.0, 100.0, "above", "krachtwijk programme money"
    ),
)
INTERACTIONS: tuple[Interaction, ...] = (
    Interaction(
        Driver("low_income_hh_pct_chg3", 1.0, 1.0, 1.5, "above", "low incomes concentrate"),
        Driver(
            "corp_renovation_per_dwelling_chg3", 1.0, 0.0, 400.0, "below", "renewal stalled"
        ),
        0.6,
        "concentration of vulnerable households hurts more where renewal stalled",
    ),
    Interaction(
        Driver("nb_lbm_chg_prev", 1.0, 0.0, 0.04, "below", "adjacent wijken declined"),
        Driver("gm_low_income_hh_pct_chg3", 1.0, 0.5, 1.0, "above", "the gemeente weakens"),
        0.7,
        "spill-over from adjacent wijken is stronger in weakening gemeenten",
    ),
)
INTERCEPT = -3.8  # the intercept of the periods up to 2012 (the 2012-2014 calibration)


def _features() -> tuple[str, ...]:
    names = [d.feature for d in DRIVERS]
    for inter in INTERACTIONS:
        names.extend(inter.features)
    return tuple(dict.fromkeys(names))


FEATURES: tuple[str, ...] = _features()  # every panel column the logit reads, once each


def _column(frame: pd.DataFrame, feature: str) -> np.ndarray:
    return frame[feature].to_numpy(dtype="float64")


def terms(features: pd.DataFrame) -> np.ndarray:
    """The logit without its intercept: the sum of the additive and pairwise terms."""
    total = np.zeros(len(features))
    for d in DRIVERS:
        total += d.term(_column(features, d.feature))
    for inter in INTERACTIONS:
        a, b = inter.features
        total += inter.term(_column(features, a), _column(features, b))
    return total


def logit(features: pd.DataFrame, intercept: float | np.ndarray = INTERCEPT) -> np.ndarray:
    """The true decline logit of each row (``intercept``: a scalar or one value per row)."""
    return terms(features) + intercept


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def calibrated_intercept(total: np.ndarray, rate: float) -> float:
    """The intercept c with ``mean(sigmoid(total + c)) == rate`` (bisection; the mean is
    increasing in c)."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"The decline rate must lie strictly between 0 and 1. Got {rate}.")
    lo, hi = -30.0 - float(np.max(total)), 30.0 - float(np.min(total))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(np.mean(sigmoid(total + mid))) < rate:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _mean_over_background(
    inter: Interaction, left: np.ndarray, right: np.ndarray, fixed: str
) -> np.ndarray:
    """Per row k: the mean over background values of ``h(left[k], right_b)`` (``fixed`` =
    "first") or of ``h(left_b, right[k])`` (``fixed`` = "second"). ``left``/``right`` are the
    rows' and the background's values of the varying feature, in that order."""
    out = np.empty(len(left))
    for start in range(0, len(left), CHUNK):
        block = left[start : start + CHUNK, None]
        if fixed == "first":
            values = inter.term(block, right[None, :])
        else:
            values = inter.term(right[None, :], block)
        out[start : start + CHUNK] = values.mean(axis=1)
    return out


def pairwise_shapley(
    inter: Interaction, xa: np.ndarray, xb: np.ndarray, ba: np.ndarray, bb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interventional Shapley values (first, second) of one pairwise term, for rows (xa, xb)
    against background rows (ba, bb)."""
    a_with_bg = _mean_over_background(inter, xa, bb, "first")  # mean_b h(x_a, b_b)
    b_with_bg = _mean_over_background(inter, xb, ba, "second")  # mean_b h(b_a, x_b)
    both_bg = float(np.mean(inter.term(ba, bb)))
    both = inter.term(xa, xb)
    phi_a = 0.5 * (a_with_bg - both_bg) + 0.5 * (both - b_with_bg)
    phi_b = 0.5 * (b_with_bg - both_bg) + 0.5 * (both - a_with_bg)
    return phi_a, phi_b


def shapley(
    features: pd.DataFrame, background: pd.DataFrame, intercept: float = INTERCEPT
) -> tuple[pd.DataFrame, float]:
    """Exact interventional Shapley values of the true logit (columns ``true_shap__<feature>``
    for each of ``FEATURES``) against ``background`` (rows with the same columns), and the
    base: the background mean of the logit. ``base + row sum == logit`` for every row."""
    phi = {f: np.zeros(len(features)) for f in FEATURES}
    for d in DRIVERS:
        x, b = _column(features, d.feature), _column(background, d.feature)
        phi[d.feature] += d.term(x) - float(np.mean(d.term(b)))
    for inter in INTERACTIONS:
        a, b = inter.features
        phi_a, phi_b = pairwise_shapley(
            inter,
            _column(features, a),
            _column(features, b),
            _column(background, a),
            _column(background, b),
        )
        phi[a] += phi_a
        phi[b] += phi_b
    base = float(np.mean(logit(background, intercept)))
    out = pd.DataFrame({f"true_shap__{f}": v for f, v in phi.items()}, index=features.index)
    return out, base
