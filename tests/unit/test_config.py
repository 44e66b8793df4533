"""Config: a typo is an error that names it; relative paths start at the config's folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from wijkradar.calendar import Calendar, CalendarGroup
from wijkradar.config import (
    Config,
    LabelConfig,
    ModelConfig,
    PanelConfig,
    SourceConfig,
    TrackingConfig,
    ValidationConfig,
    load_config,
    parse_config,
)
from wijkradar.errors import ConfigError

VALID_TOML = """\
[[source]]
kind = "cbs_kwb_csv"
path = "data/cbs"

[[source]]
kind = "lbm3_scores"
path = "../elsewhere/lbm.csv"

[[source]]
kind = "investment_csv"
path = "/abs/inv.csv"

[panel]
level = "buurt"
change_lags = [1, 2, 5]

[label]
delta = 0.1

[model]
num_leaves = 31
learning_rate = 1
n_estimators = 200

[validation]
min_train_years = 3
n_folds = 2

[tracking]
uri = "http://mlflow.example:5000"
experiment = "exp"
"""


def _config_as_data(cfg: Config) -> dict[str, Any]:
    """The TOML-shaped data a Config stands for (inverse of parse_config)."""
    data: dict[str, Any] = {
        "source": [{"kind": s.kind, "path": str(s.path)} for s in cfg.sources]
    }
    for section in ("panel", "label", "model", "validation", "tracking"):
        table = dataclasses.asdict(getattr(cfg, section))
        data[section] = {k: list(v) if isinstance(v, tuple) else v for k, v in table.items()}
    return data


def test_valid_config_is_read(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "wijkradar.toml"
    path.parent.mkdir()
    path.write_text(VALID_TOML, encoding="utf-8")
    cfg = load_config(path)

    root = path.resolve().parent
    assert cfg.root == root
    assert cfg.sources == (
        SourceConfig("cbs_kwb_csv", root / "data" / "cbs"),
        SourceConfig("lbm3_scores", root / ".." / "elsewhere" / "lbm.csv"),
        SourceConfig("investment_csv", Path("/abs/inv.csv")),
    )
    assert cfg.sources_of("lbm3_scores") == (cfg.sources[1],)
    assert cfg.panel == PanelConfig(level="buurt", change_lags=(1, 2, 5))
    assert cfg.label == LabelConfig(delta=0.1)
    # An integer where a float is expected is accepted as that float.
    assert cfg.model == ModelConfig(num_leaves=31, learning_rate=1.0, n_estimators=200)
    assert isinstance(cfg.model.learning_rate, float)
    assert cfg.validation == ValidationConfig(min_train_years=3, n_folds=2)
    assert cfg.tracking == TrackingConfig(uri="http://mlflow.example:5000", experiment="exp")


def test_relative_paths_resolve_against_the_config_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.toml").write_text(
        '[[source]]\nkind = "cbs_kwb_csv"\npath = "kwb.csv"\n', encoding="utf-8"
    )
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    cfg = load_config(Path("../conf/c.toml"))
    assert cfg.root == (tmp_path / "conf").resolve()
    assert cfg.sources[0].path == (tmp_path / "conf").resolve() / "kwb.csv"
    assert cfg.sources[0].path.is_absolute()


def test_parse_config_resolves_against_given_root() -> None:
    cfg = parse_config({"source": [{"kind": "lbm3_scores", "path": "x/lbm.csv"}]}, Path("/r"))
    assert cfg.sources[0].path == Path("/r/x/lbm.csv")


def test_defaults_when_sections_are_absent() -> None:
    cfg = parse_config({"source": [{"kind": "cbs_kwb_csv", "path": "a"}]}, Path("/r"))
    assert cfg.panel == PanelConfig() and cfg.panel.level == "wijk"
    assert cfg.panel.change_lags == (1, 3)
    assert cfg.label.delta == 0.05 and cfg.label.kind == "score_drop"
    assert cfg.model == ModelConfig()
    assert cfg.validation == ValidationConfig()
    assert cfg.tracking == TrackingConfig()


def test_valid_config_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(VALID_TOML, encoding="utf-8")
    cfg = load_config(path)
    again = parse_config(_config_as_data(cfg), root=cfg.root, name=str(path))
    assert again == cfg
    # And once more: the round trip is stable.
    assert parse_config(_config_as_data(again), root=cfg.root) == cfg


SOURCE = {"kind": "cbs_kwb_csv", "path": "a.csv"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"source": [SOURCE], "modle": {}}, ["Unknown section", "'modle'"],
                     id="unknown section"),
        pytest.param({"source": [SOURCE], "model": {"num_leafs": 3}},
                     ["Unknown key", "'num_leafs'", "[model]"], id="unknown model key"),
        pytest.param({"source": [SOURCE], "label": {"delta": 0.1, "detla": 0.1}},
                     ["'detla'", "[label]"], id="unknown label key"),
        pytest.param({"source": [{"kind": "cbs_csv", "path": "a"}]}, ["'cbs_csv'", "kind"],
                     id="unknown source kind"),
        pytest.param({"source": [SOURCE, {"kind": "lbm3_scores", "pth": "a"}]},
                     ["'pth'", "[[source]] #2"], id="unknown source key"),
        pytest.param({"source": [{"kind": "lbm3_scores"}]}, ["[[source]] #1", "'path'"],
                     id="source without path"),
        pytest.param({"source": []}, ["[[source]]"], id="no sources"),
        pytest.param({}, ["[[source]]"], id="no source section"),
        pytest.param({"source": ["a.csv"]}, ["[[source]] #1", "table"], id="source not a table"),
        pytest.param({"source": [{"kind": "cbs_kwb_csv", "path": 5}]}, ["'path'", "5"],
                     id="path not a string"),
        pytest.param({"source": [SOURCE], "model": {"learning_rate": "0.1"}},
                     ["'learning_rate'", "[model]", "float", "'0.1'"], id="string for float"),
        pytest.param({"source": [SOURCE], "model": {"num_leaves": 15.5}},
                     ["'num_leaves'", "int", "15.5"], id="float for int"),
        pytest.param({"source": [SOURCE], "model": {"num_leaves": True}},
                     ["'num_leaves'", "int", "True"], id="bool for int"),
        pytest.param({"source": [SOURCE], "label": {"delta": True}},
                     ["'delta'", "float", "True"], id="bool for float"),
        pytest.param({"source": [SOURCE], "panel": {"level": 4}},
                     ["'level'", "[panel]", "str"], id="int for str"),
        pytest.param({"source": [SOURCE], "panel": {"change_lags": "13"}},
                     ["'change_lags'", "list of integers", "'13'"], id="string for lags"),
        pytest.param({"source": [SOURCE], "panel": {"change_lags": 3}},
                     ["'change_lags'", "list of integers"], id="int for lags"),
        pytest.param({"source": [SOURCE], "panel": {"change_lags": [1.5]}},
                     ["'change_lags'", "1.5"], id="float lag"),
        pytest.param({"source": [SOURCE], "panel": {"change_lags": [0, 3]}},
                     ["'change_lags'", "positive"], id="zero lag"),
        pytest.param({"source": [SOURCE], "panel": {"change_lags": []}},
                     ["'change_lags'"], id="no lags"),
        pytest.param({"source": [SOURCE], "model": 5}, ["[model]", "table"],
                     id="section not a table"),
        pytest.param({"source": [SOURCE], "label": {"delta": 0}}, ["'delta'", "> 0", "0"],
                     id="delta zero"),
        pytest.param({"source": [SOURCE], "label": {"delta": -0.05}}, ["'delta'", "-0.05"],
                     id="delta negative"),
        pytest.param({"source": [SOURCE], "label": {"kind": "rank_drop"}},
                     ["'kind'", "'rank_drop'"], id="label kind"),
        pytest.param({"source": [SOURCE], "panel": {"level": "straat"}},
                     ["'level'", "'straat'"], id="panel level"),
        pytest.param({"source": [SOURCE], "model": {"learning_rate": 0.0}},
                     ["'learning_rate'"], id="learning rate zero"),
        pytest.param({"source": [SOURCE], "model": {"subsample": 1.5}}, ["'subsample'"],
                     id="subsample above 1"),
        pytest.param({"source": [SOURCE], "model": {"n_estimators": 0}}, ["'n_estimators'"],
                     id="no estimators"),
        pytest.param({"source": [SOURCE], "validation": {"n_folds": 0}}, ["'n_folds'"],
                     id="no folds"),
    ],
)
def test_bad_config_names_the_offending_thing(data: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, Path("/r"), name="my.toml")
    message = str(err.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert err.value.exit_code == 2


def test_unknown_names_mention_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[source]]\nkind = "cbs_kwb_csv"\npath = "a"\n[modle]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'modle'") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No config file") as err:
        load_config(tmp_path / "nope.toml")
    assert "nope.toml" in str(err.value)


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[panel\nlevel = 'wijk'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_config_objects_are_frozen() -> None:
    cfg = parse_config({"source": [SOURCE]}, Path("/r"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.label.delta = 0.5  # type: ignore[misc]


# --- The national real-data source kinds (issue 10) -----------------------------------------


def test_new_source_kinds_and_their_options_are_read() -> None:
    cfg = parse_config(
        {"source": [
            {"kind": "cbs_pc4_xlsx", "path": "cbs_pc4"},
            {"kind": "boundaries", "path": "pc4.topojson.json", "level": "pc4",
             "code_field": "postcode"},
            {"kind": "boundaries", "path": "gm.geojson", "level": "gemeente",
             "code_field": "gemeentecode", "name_field": "gemeentenaam"},
            {"kind": "lbm2_json", "path": "wijk.json", "level": "wijk"},
        ]},
        Path("/r"),
    )
    assert cfg.sources == (
        SourceConfig("cbs_pc4_xlsx", Path("/r/cbs_pc4")),
        SourceConfig("boundaries", Path("/r/pc4.topojson.json"), level="pc4",
                     code_field="postcode"),
        SourceConfig("boundaries", Path("/r/gm.geojson"), level="gemeente",
                     code_field="gemeentecode", name_field="gemeentenaam"),
        SourceConfig("lbm2_json", Path("/r/wijk.json"), level="wijk"),
    )
    assert cfg.sources[1].name_field is None


BOUNDARIES = {"kind": "boundaries", "path": "b.geojson", "level": "pc4", "code_field": "pc4"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param({**BOUNDARIES, "code_feild": "x"}, ["Unknown key", "'code_feild'",
                     "[[source]] #1", "(boundaries)"], id="boundaries typo"),
        pytest.param({**BOUNDARIES, "level": "straat"}, ["boundaries", "'level'", "'straat'",
                     "gemeente, wijk, buurt, pc4"], id="boundaries level"),
        pytest.param({k: v for k, v in BOUNDARIES.items() if k != "level"},
                     ["boundaries", "'level'", "None"], id="boundaries without level"),
        pytest.param({k: v for k, v in BOUNDARIES.items() if k != "code_field"},
                     ["'code_field'", "b.geojson"], id="boundaries without code field"),
        pytest.param({**BOUNDARIES, "code_field": 4}, ["'code_field'", "string", "4"],
                     id="code field not a string"),
        pytest.param({**BOUNDARIES, "name_field": ["a"]}, ["'name_field'", "['a']"],
                     id="name field not a string"),
        pytest.param({"kind": "lbm2_json", "path": "w.json", "level": "buurt"},
                     ["lbm2_json", "'level'", "wijk, gemeente", "'buurt'"], id="lbm2_json level"),
        pytest.param({"kind": "lbm2_json", "path": "w.json"}, ["lbm2_json", "'level'"],
                     id="lbm2_json without level"),
        pytest.param({"kind": "cbs_pc4_xlsx", "path": "c", "level": "pc4"},
                     ["Unknown key", "'level'", "(cbs_pc4_xlsx)"], id="cbs_pc4_xlsx no level"),
        pytest.param({"kind": "lbm3_scores", "path": "l", "code_field": "PC4"},
                     ["Unknown key", "'code_field'", "(lbm3_scores)"], id="another kind's option"),
    ],
)
def test_bad_new_source_options_are_named(source: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"source": [source]}, Path("/r"), name="my.toml")
    message = str(err.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"


CALENDAR_TOML = """\
[[source]]
kind = "cbs_kwb_csv"
path = "cbs"

[source.calendar]
years_after = 1
on = "06-15"

[[source.calendar.groups]]
name = "income"
years_after = 2
variables = ["income_per_inhabitant", "bijstand_per_1000"]

[[source]]
kind = "lbm3_scores"
path = "lbm.csv"

[panel]
knowledge = { years_after = 1, on = "09-01" }
"""


def test_calendars_and_the_knowledge_rule_are_read(tmp_path: Path) -> None:
    path = tmp_path / "wijkradar.toml"
    path.write_text(CALENDAR_TOML, encoding="utf-8")
    cfg = load_config(path)
    cbs, lbm = cfg.sources
    assert cbs.calendar == Calendar(
        years_after=1, on="06-15",
        groups=(CalendarGroup("income", 2, None, ("income_per_inhabitant", "bijstand_per_1000")),),
    )
    assert lbm.calendar is None  # the kind's default (features.calendar)
    assert cfg.panel.knowledge == Calendar(years_after=1, on="09-01")
    assert cbs.calendar.published("bijstand_per_1000", 2020).isoformat() == "2022-06-15"
    assert cbs.calendar.published("inhabitants", 2020).isoformat() == "2021-06-15"
    assert PanelConfig().knowledge == "lbm_published"


CBS = {"kind": "cbs_kwb_csv", "path": "c"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"source": [{**CBS, "calendar": {"lag": 1}}]},
                     ["Unknown key", "'lag'", "years_after"], id="unknown calendar key"),
        pytest.param({"source": [{**CBS, "calendar": {"on": "7-1"}}]},
                     ["'on'", "MM-DD", "'7-1'"], id="on not MM-DD"),
        pytest.param({"source": [{**CBS, "calendar": {"on": "02-30"}}]},
                     ["'on'", "'02-30'"], id="no such day"),
        pytest.param({"source": [{**CBS, "calendar": {"years_after": "1"}}]},
                     ["'years_after'", "integer", "'1'"], id="years_after a string"),
        pytest.param({"source": [{**CBS, "calendar": {"years_after": -1}}]},
                     ["'years_after'", "-1"], id="years_after negative"),
        pytest.param({"source": [{**CBS, "calendar": {"groups": [
            {"name": "x", "years_after": 2},
        ]}}]},
                     ["groups #1", "'variables'"], id="group without variables"),
        pytest.param({"source": [{**CBS, "calendar": {"groups": [
            {"name": "a", "years_after": 2, "variables": ["woz_value"]},
            {"name": "b", "years_after": 3, "variables": ["woz_value"]},
        ]}}]}, ["'woz_value'", "'a'", "'b'"], id="variable in two groups"),
        pytest.param({"source": [{**CBS, "calendar": {"groups": [
            {"name": "a", "years_after": 2, "variables": ["woz_value"], "when": 1},
        ]}}]}, ["Unknown key", "'when'"], id="unknown group key"),
        pytest.param({"source": [{"kind": "crosswalk", "path": "x", "calendar": {}}]},
                     ["Unknown key", "'calendar'", "(crosswalk)"], id="crosswalk has no calendar"),
        pytest.param({"source": [CBS], "panel": {"knowledge": "cbs_published"}},
                     ["'knowledge'", "'cbs_published'", "lbm_published"], id="knowledge rule"),
        pytest.param({"source": [CBS], "panel": {"knowledge": {"years_after": 1, "groups": []}}},
                     ["Unknown key", "'groups'"], id="knowledge has no groups"),
        pytest.param({"source": [CBS], "panel": {"knowledge": 3}},
                     ["'knowledge'", "3"], id="knowledge a number"),
    ],
)
def test_bad_calendars_are_named(data: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, Path("/r"), name="my.toml")
    message = str(err.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
