"""Fitting and choosing the calibration of the risk score, on out-of-time predictions.

The fitted map itself, :class:`models.calibrator.Calibrator` (its data, ``predict`` and JSON
form), lives in ``models`` next to the packaged model that applies it. This module fits one
on the model's raw log-odds (its *margin*) and 0/1 outcomes, for each of
:data:`models.calibrator.METHODS`:

* ``none``: the logistic function of the margin (LightGBM's own probability);
* ``platt``: a one-feature logistic regression on the margin, fitted with Platt's smoothed
  targets ``(P + 1) / (P + 2)`` and ``1 / (N + 2)`` so that a separable fold still gives finite
  parameters. A negative slope would reverse the model's ranking; it is replaced by the
  intercept-only fit (the base rate);
* ``isotonic``: the non-decreasing step-wise linear map of ``sklearn.isotonic.
  IsotonicRegression`` (``out_of_bounds="clip"``), kept as its thresholds.

Every method is non-decreasing in the margin, so calibration never changes the ranking or any
top-k metric; it changes the Brier score, the log-loss and the reliability diagram.

:func:`choose_calibration` picks the method out of time: for each validation fold ``k >= 1``,
each method is fitted on the folds before ``k`` and scored on fold ``k``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from ml.metrics import check_binary
from models.calibrator import METHODS, Calibrator

__all__ = [
    "choose_calibration",
    "expected_calibration_error",
    "fit_calibrator",
    "margin_from_probability",
    "reliability_table",
]

LOG_LOSS_EPS = 1e-15
_TIE_TOLERANCE = 1e-12


def fit_calibrator(method: str, margin: np.ndarray, y: np.ndarray) -> Calibrator:
    """Fit ``method`` ("none", "platt" or "isotonic") on margins and 0/1 outcomes."""
    if method not in METHODS:
        raise ValueError(
            f"The 'method' parameter must be one of {list(METHODS)}. Got {method!r} instead."
        )
    y_arr, z = check_binary(y, margin)
    if not np.isfinite(z).all():
        raise ValueError("margin must be finite; map probabilities with margin_from_probability.")
    if method == "none":
        return Calibrator("none")
    if method == "platt":
        coef, intercept = _platt(z, y_arr)
        return Calibrator("platt", coef=coef, intercept=intercept)
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(z, y_arr)
    return Calibrator(
        "isotonic",
        x_thresholds=tuple(iso.X_thresholds_.tolist()),
        y_thresholds=tuple(np.clip(iso.y_thresholds_, 0.0, 1.0).tolist()),
    )


def choose_calibration(
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[str, pd.DataFrame]:
    """The method with the lowest mean out-of-time Brier score, and the per-fold scores.

    ``folds`` holds (margin, y) per validation fold in time order. For each fold ``k >= 1``,
    every method is fitted on folds ``0..k-1`` pooled and scored on fold ``k``. Means within
    1e-12 count as a tie, which goes to the simpler method (none < platt < isotonic). Returns
    the method and a table ``fold``, ``method``, ``n_train``, ``n_test``, ``brier``,
    ``log_loss``. With fewer than two folds nothing can be scored out of time: the method is
    ``"none"`` and the table is empty. Fit the chosen method on all folds for the final model.
    """
    columns = ["fold", "method", "n_train", "n_test", "brier", "log_loss"]
    checked = []
    for i, fold in enumerate(folds):
        if len(fold) != 2:
            raise ValueError(f"Each fold must be a (margin, y) pair. Fold {i} is not.")
        y, z = check_binary(fold[1], fold[0])
        checked.append((z, y))
    rows = []
    for k in range(1, len(checked)):
        z_train = np.concatenate([z for z, _ in checked[:k]])
        y_train = np.concatenate([y for _, y in checked[:k]])
        z_test, y_test = checked[k]
        for method in METHODS:
            p = fit_calibrator(method, z_train, y_train).predict(z_test)
            rows.append(
                {
                    "fold": k,
                    "method": method,
                    "n_train": len(y_train),
                    "n_test": len(y_test),
                    "brier": float(np.mean((p - y_test) ** 2)),
                    "log_loss": _log_loss(y_test, p),
                }
            )
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return "none", table
    mean = table.groupby("method")["brier"].mean()
    best = float(mean.min())
    chosen = next(m for m in METHODS if mean[m] <= best + _TIE_TOLERANCE)
    return chosen, table


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |predicted - observed| over equal-frequency bins, weighted by bin size."""
    table = reliability_table(y, p, bins)
    gap = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((gap * table["n"]).sum() / table["n"].sum())


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-frequency bins of the predictions: ``bin``, ``mean_predicted``, ``observed_rate``
    and ``n``.

    Rows are sorted by ``p`` (ties in input order) and cut into ``bins`` runs whose sizes
    differ by at most one; with fewer rows than bins, there are fewer (non-empty) bins.
    """
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"The 'bins' parameter must be an int >= 1. Got {bins!r} instead.")
    y_arr, p_arr = check_binary(y, p)
    if ((p_arr < 0) | (p_arr > 1)).any():
        raise ValueError("p must contain probabilities in [0, 1].")
    order = np.argsort(p_arr, kind="stable")
    rows = [
        {
            "bin": i,
            "mean_predicted": float(p_arr[idx].mean()),
            "observed_rate": float(y_arr[idx].mean()),
            "n": len(idx),
        }
        for i, idx in enumerate(part for part in np.array_split(order, int(bins)) if len(part))
    ]
    return pd.DataFrame(rows, columns=["bin", "mean_predicted", "observed_rate", "n"])


def margin_from_probability(p: np.ndarray, eps: float = LOG_LOSS_EPS) -> np.ndarray:
    """Log-odds of probabilities clipped to [eps, 1 - eps] (for scores saved as probabilities;
    prefer the booster's ``raw_score=True`` output where it is at hand)."""
    arr = np.asarray(p, dtype="float64")
    return logit(np.clip(arr, eps, 1 - eps))


# ---------------------------------------------------------------------------------------------


def _platt(z: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Slope and intercept of a logistic regression of smoothed targets on the margin."""
    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    base = (0.0, float(logit(t.mean())))
    # Centre and scale the margin so Newton's steps are well conditioned; map back at the end.
    mu, sd = float(z.mean()), float(z.std())
    if not (np.isfinite(sd) and sd > 1e-12):  # (nearly) constant margins: no slope to fit
        return base
    x = (z - mu) / sd

    def loss(a: float, b: float) -> float:
        u = a * x + b
        return float(np.sum(np.logaddexp(0.0, u) - t * u))

    a, b = 0.0, base[1]
    current = loss(a, b)
    for _ in range(max_iter):
        p = expit(a * x + b)
        r, w = p - t, p * (1 - p)
        grad = np.array([r @ x, r.sum()])
        hess = np.array([[w @ (x * x), w @ x], [w @ x, w.sum()]])
        if not (np.all(np.isfinite(hess)) and np.all(np.isfinite(grad))):
            break
        try:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        except np.linalg.LinAlgError:  # a degenerate Hessian: keep the last good fit
            break
        scale = 1.0
        while scale > 1e-10:
            cand = (a - scale * step[0], b - scale * step[1])
            new = loss(*cand)
            if new <= current:
                break
            scale /= 2
        else:
            break
        (a, b), improvement, current = cand, current - new, new
        if improvement <= 1e-12 * max(1.0, abs(current)):
            break
    coef = a / sd
    if coef < 0:
        return base
    return float(coef), float(b - coef * mu)


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))
