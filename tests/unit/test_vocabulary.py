"""The feature vocabulary: every feature a panel can hold is declared once, with an English
label, a Dutch label and a unit, and its name follows the grammar of features.vocabulary."""

from __future__ import annotations

import pandas as pd
import pytest

from features import derived, describe, neighbours, panel, relative, schema
from features.lbm2 import parse_lbm2_pc4
from features.vocabulary import (
    FeatureName,
    Scope,
    Unit,
    change,
    change_since_previous,
    in_gemeente,
    parse,
)
from tests.conftest import SourceFrames

YEARS = (2010, 2011, 2012, 2013, 2014)
UNITS = {"WK000101": 1.0, "WK000102": 2.0}


def _wijk_panel(frames: SourceFrames) -> pd.DataFrame:
    """Every CBS and investment variable filled, two measurements: all wijk features."""
    cbs = frames.cbs(
        (code, code, year, {v.name: scale * (year - 2000) for v in schema.CBS_VARIABLES})
        for code, scale in UNITS.items()
        for year in YEARS
    )
    lbm = frames.lbm(
        (code, year, 4.0 - scale * (year - 2012) / 10, {d: 0.1 for d in schema.LBM_DIMENSIONS})
        for code, scale in UNITS.items()
        for year in (2012, 2014)
    )
    investment = frames.investment(
        (code, year, {v.name: 1.0 for v in schema.INVESTMENT_VARIABLES})
        for code in UNITS
        for year in YEARS
    )
    adjacency = pd.DataFrame({"unit_code": ["WK000101"], "neighbour_code": ["WK000102"]})
    return panel.build_panel(
        cbs, lbm, investment, level="wijk", change_lags=(1, 3), delta=0.1, adjacency=adjacency
    )


def _pc4_panel(frames: SourceFrames) -> pd.DataFrame:
    """A Leefbarometer 2.0 release: classes and development classes, no CBS data; placed in
    a gemeente, with neighbours."""
    dims = "GBD,RLBRMTR14,RLBRMTR16,RLBRMTR18\n1011,0.1,0.2,0.1\n1012,0.0,-0.1,-0.2\n"
    classes = "CODE,KL14,KL16,KL18,VKL1416,VKL1618\n1011,5,6,5,5,3\n1012,4,4,3,4,2\n"
    release = parse_lbm2_pc4(dims, classes)
    places = pd.DataFrame(
        {"unit_code": ["1011", "1012"], "gemeente_code": "GM0363", "gemeente_name": "Amsterdam"}
    )
    adjacency = pd.DataFrame({"unit_code": ["1011"], "neighbour_code": ["1012"]})
    pc4_cbs = frames.cbs(
        (code, code, year, {v.name: 1.0 for v in schema.CBS_PC4_VARIABLES})
        for code in ("1011", "1012")
        for year in (2016, 2018)
    )
    return panel.build_panel(
        pc4_cbs, release.scores, None, level="pc4", change_lags=(1, 3), delta=0.1,
        development=release.development, places=places, adjacency=adjacency,
    )


@pytest.fixture(scope="module")
def produced() -> list[str]:
    frames = SourceFrames()
    wijk, pc4 = _wijk_panel(frames), _pc4_panel(frames)
    features = [
        *panel.feature_columns(wijk),
        *panel.shown_columns(wijk),
        *panel.feature_columns(pc4),
        *panel.shown_columns(pc4),
    ]
    return list(dict.fromkeys(features))


def test_every_produced_feature_has_both_labels_and_a_unit(produced: list[str]) -> None:
    undeclared = [f for f in produced if not describe.declared(f)]
    assert not undeclared
    for feature in produced:
        term = describe.TERMS[parse(feature).base]
        assert term.label.strip() and term.label_nl.strip(), feature
        assert isinstance(term.unit, Unit), feature
        assert describe.describe(feature).startswith(
            "gemeente: " if feature.startswith("gm_") else term.label
        )
    assert "lbm_class" in produced and "lbm_development_class_prev" in produced
    assert set(neighbours.NEIGHBOUR_FEATURES) <= set(produced)


def test_every_declared_feature_is_produced(produced: list[str]) -> None:
    bases = {parse(f).base for f in produced}
    assert set(describe.TERMS) <= bases
    assert {c.name for c in derived.CONTEXT_FEATURES} <= set(produced)


def test_each_feature_is_declared_once() -> None:
    declared = [
        *(v.name for v in schema.CBS_VARIABLES),
        *(v.name for v in schema.CBS_PC4_VARIABLES),
        *(v.name for v in schema.INVESTMENT_VARIABLES),
        *(t.name for t in panel.LBM_TERMS),
        *(t.name for t in neighbours.NEIGHBOUR_TERMS),
        *(t.name for t in relative.RELATIVE_TERMS),
    ]
    assert len(declared) == len(set(declared)) == len(describe.TERMS)
    labels = [t.label for t in describe.TERMS.values()]
    labels_nl = [t.label_nl for t in describe.TERMS.values()]
    assert len(set(labels)) == len(labels) and len(set(labels_nl)) == len(labels_nl)


def test_context_features_follow_the_grammar_and_say_what_they_summarise() -> None:
    for context in derived.CONTEXT_FEATURES:
        name = parse(context.name)
        assert name.gemeente and name.base in describe.TERMS, context.name
    assert describe.scope("gm_lbm_chg_prev") is Scope.REST_OF_GEMEENTE
    assert describe.scope("gm_inhabitants") is Scope.GEMEENTE
    assert describe.scope("gm_not_declared") is Scope.GEMEENTE


@pytest.mark.parametrize(
    ("feature", "name"),
    [
        ("lbm", FeatureName("lbm")),
        ("low_income_hh_pct_chg3", FeatureName("low_income_hh_pct", years=3)),
        ("lbm_class_chg_prev", FeatureName("lbm_class", since_previous=True)),
        ("gm_lbm_chg_prev", FeatureName("lbm", since_previous=True, gemeente=True)),
        ("gm_inhabitants", FeatureName("inhabitants", gemeente=True)),
        ("lbm_development_class_prev", FeatureName("lbm_development_class_prev")),
    ],
)
def test_the_grammar_takes_names_apart_and_puts_them_together(feature, name) -> None:
    assert parse(feature) == name
    built = name.base
    if name.years is not None:
        built = change(built, name.years)
    if name.since_previous:
        built = change_since_previous(built)
    if name.gemeente:
        built = in_gemeente(built)
    assert built == feature


def test_a_change_runs_over_at_least_one_year() -> None:
    with pytest.raises(ValueError, match=r"1 or more years\. Got 0"):
        change("lbm", 0)


def test_undeclared_features_read_as_their_names() -> None:
    assert not describe.declared("made_up_pct")
    assert describe.describe("made_up_pct_chg1") == "made up pct, change over 1 year"
    assert describe.label_nl("made_up_per_1000") == "made up per 1.000"
    assert describe.unit("made_up_pct") is Unit.PERCENT
    assert describe.unit("lbm_made_up") is Unit.SCORE
    assert describe.unit("made_up") is Unit.COUNT
