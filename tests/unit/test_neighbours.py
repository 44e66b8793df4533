"""Neighbour features on small hand-made panels; expected values worked out by hand from the
docstring of features.neighbours."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from features import describe, neighbours
from features.panel import build_panel, feature_columns

if TYPE_CHECKING:
    from conftest import SourceFrames

# A = 1011 borders B = 1012 and C = 1013; D = 1014 borders nobody (given one way round only:
# the adjacency is completed both ways).
ADJACENCY = pd.DataFrame({"unit_code": ["1011", "1013"], "neighbour_code": ["1012", "1011"]})


def worked_example(frames: SourceFrames) -> pd.DataFrame:
    lbm = frames.lbm([
        ("1011", 2012, 4.25, {}), ("1011", 2014, 4.0, {}),
        ("1012", 2012, 3.9, {}), ("1012", 2014, 3.8, {}),
        ("1013", 2012, 4.1, {}),
        ("1014", 2012, 3.5, {}), ("1014", 2014, 3.5, {}),
    ])
    return build_panel(
        frames.cbs([]), lbm, None, level="pc4", change_lags=(1, 3), delta=0.05,
        adjacency=ADJACENCY,
    ).set_index(["unit_code", "as_of_year"])


def test_the_worked_example_of_the_docstring(source_frames: SourceFrames) -> None:
    panel = worked_example(source_frames)
    a = panel.loc[("1011", 2014)]
    assert a["nb_lbm"] == pytest.approx((3.8 + 4.1) / 2)
    assert a["nb_lbm_chg_prev"] == pytest.approx(3.8 - 3.9)  # C has no change by 2014
    assert a["lbm_minus_nb"] == pytest.approx(4.0 - (3.8 + 4.1) / 2)
    # B and C have one neighbour each, A; the adjacency was given one way round.
    assert panel.loc[("1012", 2014), "nb_lbm"] == 4.0
    assert panel.loc[("1013", 2014), "nb_lbm_chg_prev"] == pytest.approx(4.0 - 4.25)
    # In 2012 nobody has a previous measurement yet.
    assert panel.loc[("1011", 2012), "nb_lbm"] == pytest.approx((3.9 + 4.1) / 2)
    assert np.isnan(panel.loc[("1011", 2012), "nb_lbm_chg_prev"])


def test_no_neighbour_with_a_value_gives_nan(source_frames: SourceFrames) -> None:
    panel = worked_example(source_frames)
    d = panel.loc[("1014", 2014), list(neighbours.NEIGHBOUR_FEATURES)]
    assert d.isna().all()


def test_without_an_adjacency_there_are_no_neighbour_features(
    source_frames: SourceFrames,
) -> None:
    lbm = source_frames.lbm([("1011", 2012, 4.0, {}), ("1011", 2014, 3.5, {})])
    panel = build_panel(source_frames.cbs([]), lbm, None, level="pc4", change_lags=(1,), delta=0.05)
    assert not set(neighbours.NEIGHBOUR_FEATURES) & set(feature_columns(panel))


def test_a_neighbour_outside_the_panel_rows_still_counts(source_frames: SourceFrames) -> None:
    """Wijk rows come from CBS; WK000102 has no CBS row in 2014, yet its score of 2014 is what
    surrounds WK000101 then."""
    cbs = source_frames.cbs([
        ("WK000101", "A", 2012, {"inhabitants": 100}),
        ("WK000101", "A", 2014, {"inhabitants": 100}),
        ("WK000102", "B", 2012, {"inhabitants": 100}),
    ])
    lbm = source_frames.lbm([
        ("WK000101", 2012, 4.0, {}), ("WK000101", 2014, 4.0, {}),
        ("WK000102", 2012, 3.5, {}), ("WK000102", 2014, 3.25, {}),
    ])
    adjacency = pd.DataFrame({"unit_code": ["WK000101"], "neighbour_code": ["WK000102"]})
    panel = build_panel(
        cbs, lbm, None, level="wijk", change_lags=(1,), delta=0.05, adjacency=adjacency
    ).set_index(["unit_code", "as_of_year"])
    assert ("WK000102", 2014) not in panel.index
    assert panel.loc[("WK000101", 2014), "nb_lbm"] == 3.25
    assert panel.loc[("WK000101", 2014), "nb_lbm_chg_prev"] == -0.25
    assert panel.loc[("WK000101", 2014), "lbm_minus_nb"] == 0.75


def test_the_adjacency_is_checked_and_made_mutual() -> None:
    pairs = neighbours.check_adjacency(
        pd.DataFrame({"unit_code": ["A", "A", "B"], "neighbour_code": ["B", "A", "A"]})
    )
    assert sorted(zip(pairs["unit_code"], pairs["neighbour_code"], strict=True)) == [
        ("A", "B"), ("B", "A")
    ]
    with pytest.raises(ValueError, match="unit_code and neighbour_code; got"):
        neighbours.check_adjacency(pd.DataFrame({"a": [1], "b": [2]}))


def test_the_neighbour_features_are_declared_with_labels_and_units() -> None:
    for feature in neighbours.NEIGHBOUR_FEATURES:
        assert describe.declared(feature), feature
    assert describe.describe("nb_lbm_chg_prev") == (
        "neighbours' Leefbarometer score, change since previous measurement"
    )
    assert describe.label_nl("nb_lbm") == "Leefbarometerscore van de buurgebieden"
    assert describe.unit("lbm_minus_nb") is describe.unit("nb_lbm") is describe.unit("lbm")
