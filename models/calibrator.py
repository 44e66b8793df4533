"""The fitted calibrator: a map from the model's margin (log-odds) to a calibrated probability.

A gradient-boosted model's probabilities can be off in level even when its ranking is good,
and a policy team reads "12 % risk" literally. A :class:`Calibrator` maps the raw log-odds
(the *margin*, ``booster.predict(X, raw_score=True)``) to a probability, by one of
:data:`METHODS`:

* ``none``: the logistic function of the margin (LightGBM's own probability);
* ``platt``: ``1 / (1 + exp(-(coef * margin + intercept)))`` with ``coef >= 0``;
* ``isotonic``: a non-decreasing step-wise linear map, kept as its thresholds (clipped at
  both ends).

Every method is non-decreasing in the margin, so calibration never changes the ranking.
This module holds the fitted state, its ``predict`` and its JSON form, which the packaged
model (``models.packaged``) loads; fitting and choosing a method live in ``ml.calibration``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

__all__ = ["METHODS", "Calibrator"]

METHODS = ("none", "platt", "isotonic")  # simplest first: ties in choosing go left


@dataclass(frozen=True)
class Calibrator:
    """A fitted map from margin (log-odds) to calibrated probability; see the module doc.

    ``coef`` and ``intercept`` are used by ``none`` (1 and 0) and ``platt``; the thresholds
    (increasing margins and their probabilities) by ``isotonic`` only.
    """

    method: str = "none"
    coef: float = 1.0
    intercept: float = 0.0
    x_thresholds: tuple[float, ...] = field(default=())
    y_thresholds: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(
                f"The 'method' parameter must be one of {list(METHODS)}. "
                f"Got {self.method!r} instead."
            )
        coef, intercept = float(self.coef), float(self.intercept)
        x = tuple(float(v) for v in self.x_thresholds)
        y = tuple(float(v) for v in self.y_thresholds)
        if not (math.isfinite(coef) and math.isfinite(intercept)) or coef < 0:
            raise ValueError(
                "The 'coef' and 'intercept' parameters must be finite, with coef >= 0. "
                f"Got {self.coef!r} and {self.intercept!r} instead."
            )
        if self.method == "none" and (coef, intercept) != (1.0, 0.0):
            raise ValueError(
                "The 'none' method has coef 1 and intercept 0. "
                f"Got {self.coef!r} and {self.intercept!r} instead."
            )
        if self.method == "isotonic":
            _check_thresholds(x, y)
        elif x or y:
            raise ValueError(
                f"The {self.method!r} method takes no thresholds. "
                f"Got {len(x)} and {len(y)} instead."
            )
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "intercept", intercept)
        object.__setattr__(self, "x_thresholds", x)
        object.__setattr__(self, "y_thresholds", y)

    def predict(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probabilities in [0, 1] for raw margins (NaN stays NaN)."""
        z = np.asarray(margin, dtype="float64")
        if self.method == "isotonic":
            out = np.interp(z, self.x_thresholds, self.y_thresholds)
            return np.where(np.isnan(z), np.nan, out)
        return expit(self.coef * z + self.intercept)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe parameters (plain str, float and lists); ``from_dict`` inverts it."""
        out: dict[str, Any] = {"method": self.method}
        if self.method == "isotonic":
            out["x_thresholds"] = list(self.x_thresholds)
            out["y_thresholds"] = list(self.y_thresholds)
        else:
            out["coef"] = self.coef
            out["intercept"] = self.intercept
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        """The calibrator whose ``to_dict`` is ``data``."""
        known = {"method", "coef", "intercept", "x_thresholds", "y_thresholds"}
        unknown = sorted(set(data) - known)
        if unknown or "method" not in data:
            raise ValueError(
                f"A calibrator dict has the keys {sorted(known)} (method required). "
                f"Got {sorted(data)} instead."
            )
        return cls(**dict(data))


def _check_thresholds(x: tuple[float, ...], y: tuple[float, ...]) -> None:
    xa, ya = np.asarray(x), np.asarray(y)
    ok = (
        len(x) >= 1
        and len(x) == len(y)
        and bool(np.isfinite(xa).all() and np.isfinite(ya).all())
        and bool((np.diff(xa) >= 0).all() and (np.diff(ya) >= 0).all())
        and bool(((ya >= 0) & (ya <= 1)).all())
    )
    if not ok:
        raise ValueError(
            "The isotonic thresholds must be two equally long, non-empty, finite and "
            "non-decreasing lists, the probabilities in [0, 1]. "
            f"Got {len(x)} margins and {len(y)} probabilities instead."
        )
