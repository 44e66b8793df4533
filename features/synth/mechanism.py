"""The true decline mechanism: an additive logit over panel features.

Each driver is a saturating function of one panel column, so the exact Shapley value of a
driver with the panel mean as baseline is ``term(x) - term(mean)``, and the logit is the sum
of the base and the Shapley values. A missing feature contributes as its neutral value
(``center``): the truth uses exactly what a model sees.

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


DRIVERS: tuple[Driver, ...] = (
    Driver("lbm", 1.3, 3.9, 0.1, "below", "low livability: little buffer"),
    Driver("low_income_hh_pct_chg3", 0.6, 1.0, 1.5, "linear", "low incomes concentrate"),
    Driver("bijstand_per_1000_chg3", 0.5, 4.0, 6.0, "linear", "social assistance concentrates"),
    Driver("wmo_clients_per_1000_chg3", 0.5, 5.0, 6.0, "linear", "care moved into the home"),
    Driver("shelter_inflow_per_1000", 0.5, 2.0, 1.0, "above", "inflow from shelters"),
    Driver("status_holders_per_1000", 0.4, 3.5, 2.5, "above", "housing of status holders"),
    Driver(
        "corp_renovation_per_dwelling_chg3",
        -0.7,
        0.0,
        400.0,
        "linear",
        "physical renewal stalled",
    ),
    Driver(
        "middle_income_new_dwellings",
        0.3,
        1.0,
        1.0,
        "below",
        "no building for middle incomes",
    ),
    Driver("market_investment_per_dwelling", 0.4, 500.0, 200.0, "below", "market parties left"),
    Driver("gm_lbm_chg_prev", -0.35, 0.0, 0.04, "linear", "spill-over within the gemeente"),
    Driver(
        "nb_lbm_chg_prev", -0.45, 0.0, 0.04, "linear", "spill-over from adjacent wijken"
    ),
    Driver(
        "programme_budget_per_dwelling",
        -0.5,
        0.0,
        100.0,
        "above",
        "krachtwijk programme money",
    ),
)
INTERCEPT = -3.8


def logit(features: pd.DataFrame) -> np.ndarray:
    """The true decline logit of each row."""
    total = np.full(len(features), INTERCEPT)
    for d in DRIVERS:
        total += d.term(features[d.feature].to_numpy(dtype="float64"))
    return total


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def shapley(features: pd.DataFrame, baseline: pd.Series) -> tuple[pd.DataFrame, float]:
    """Exact Shapley values of the true logit (columns ``true_shap__<feature>``) with
    ``baseline`` (feature -> value, the panel mean) as the reference point, and the logit at
    that point. ``base + row sum == logit`` for every row."""
    out = pd.DataFrame(index=features.index)
    base = INTERCEPT
    for d in DRIVERS:
        at_base = float(d.term(np.array([baseline[d.feature]]))[0])
        out[f"true_shap__{d.feature}"] = (
            d.term(features[d.feature].to_numpy(dtype="float64")) - at_base
        )
        base += at_base
    return out, base
