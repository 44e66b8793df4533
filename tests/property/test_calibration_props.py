"""Property-based tests of models.calibrator and ml.calibration with hypothesis."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ml.calibration import fit_calibrator
from models.calibrator import METHODS, Calibrator

finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)


@st.composite
def fitting_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Margins (often tied) with 0/1 outcomes; one class only is allowed too."""
    n = draw(st.integers(1, 60))
    margin = draw(arrays("float64", n, elements=finite))
    if draw(st.booleans()):
        margin = np.round(margin)  # ties
    y = draw(arrays("int64", n, elements=st.integers(0, 1)))
    return margin, y


probes = arrays("float64", st.integers(1, 80), elements=st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(data=fitting_data(), method=st.sampled_from(METHODS), probe=probes)
def test_calibrated_probabilities_are_in_unit_interval_and_monotone(
    data: tuple[np.ndarray, np.ndarray], method: str, probe: np.ndarray
) -> None:
    cal = fit_calibrator(method, *data)
    p = cal.predict(np.sort(probe))
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p) >= 0)


@settings(max_examples=150, deadline=None)
@given(data=fitting_data(), method=st.sampled_from(METHODS), probe=probes)
def test_to_dict_from_dict_round_trips_exactly(
    data: tuple[np.ndarray, np.ndarray], method: str, probe: np.ndarray
) -> None:
    cal = fit_calibrator(method, *data)
    back = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert back == cal
    assert back.to_dict() == cal.to_dict()
    np.testing.assert_array_equal(back.predict(probe), cal.predict(probe))


@settings(max_examples=100, deadline=None)
@given(
    coef=st.floats(0, 50, allow_nan=False),
    intercept=finite,
    x=st.lists(finite, min_size=1, max_size=30),
    y=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30),
)
def test_hand_built_calibrators_round_trip(
    coef: float, intercept: float, x: list[float], y: list[float]
) -> None:
    size = min(len(x), len(y))
    iso = Calibrator("isotonic", x_thresholds=sorted(x[:size]), y_thresholds=sorted(y[:size]))
    platt = Calibrator("platt", coef=coef, intercept=intercept)
    for cal in (iso, platt):
        assert Calibrator.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
