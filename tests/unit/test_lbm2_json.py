"""The Leefbarometer 2.0 classes per wijk and per gemeente (``lbm2_wijk/wijk.json`` and
``gemeente.json``, PROVENANCE.md section 11) through ``features.lbm2.parse_lbm2_json``.

The real files are read from ../shared/data/real (not part of the repo): without the folder
these tests fail under CI (CI set) and are skipped elsewhere (``shared_real_dir``); a missing
file in a present folder fails. The bad inputs are the real file with one thing broken.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features import schema
from features.lbm2 import DEVELOPMENT_COLUMNS, SCORE_COLUMNS, Lbm2, parse_lbm2_json
from features.names import names
from features.readers import decode
from wijkradar.errors import ConfigError, InputError

WIJK = Path("lbm2_wijk") / "wijk.json"
GEMEENTE = Path("lbm2_wijk") / "gemeente.json"
YEARS = (2002, 2008, 2012, 2014, 2016)
Raw = dict[str, dict[str, Any]]


def _text(path: Path) -> str:
    """Bytes -> text the way the pipeline reads a file."""
    return decode(path.read_bytes(), str(path))


@pytest.fixture(scope="module")
def wijk_text(shared_real_dir: Path) -> str:
    return _text(shared_real_dir / WIJK)


@pytest.fixture(scope="module")
def wijk_raw(wijk_text: str) -> Raw:
    """The file as the json module reads it, independently of the reader."""
    raw: Raw = json.loads(wijk_text)
    return raw


@pytest.fixture(scope="module")
def wijken(wijk_text: str, shared_real_dir: Path) -> Lbm2:
    return parse_lbm2_json(wijk_text, str(shared_real_dir / WIJK), "wijk")


@pytest.fixture(scope="module")
def gemeenten(shared_real_dir: Path) -> Lbm2:
    path = shared_real_dir / GEMEENTE
    return parse_lbm2_json(_text(path), str(path), "gemeente")


# --- the real files ---------------------------------------------------------------------------


def test_wijk_file_shape(wijken: Lbm2, wijk_raw: Raw) -> None:
    assert len(wijk_raw) == 2981  # PROVENANCE.md section 11
    scores = wijken.scores
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert list(wijken.development.columns) == list(DEVELOPMENT_COLUMNS)
    assert set(scores["level"]) == {"wijk"}
    assert scores["unit_code"].str.match(schema.UNIT_CODE_PATTERNS["wijk"]).all()
    assert set(scores["year"]) == set(YEARS)
    assert not scores.duplicated(["unit_code", "year"]).any()
    # Classes only: no scores, no names in the release.
    assert scores[list(schema.LBM_SCORE_COLUMNS)].isna().all().all()
    assert (scores["unit_name"] == scores["unit_code"]).all()
    assert scores["lbm_class"].between(1, 9).all()
    assert (scores["lbm_class"] == scores["lbm_class"].round()).all()
    # Every wijk with a class in some year is a unit; the 127 without any have no rows.
    classed = {c for c, v in wijk_raw.items() if any(v.get(f"KL{y % 100:02d}") for y in YEARS)}
    assert set(scores["unit_code"]) == classed
    assert len(wijk_raw) - len(classed) == 127


def test_wijk_missing_classes_per_year(wijken: Lbm2, wijk_raw: Raw) -> None:
    per_year = wijken.scores.groupby("year").size()
    missing = {y: len(wijk_raw) - int(per_year[y]) for y in YEARS}
    # The nulls counted in the file itself, and the range PROVENANCE.md states.
    assert missing == {
        y: sum(v.get(f"KL{y % 100:02d}") is None for v in wijk_raw.values()) for y in YEARS
    }
    assert min(missing.values()) == 135 and max(missing.values()) == 197


def test_wijk_values_checked_by_hand(wijken: Lbm2) -> None:
    s = wijken.scores.set_index(["unit_code", "year"])["lbm_class"]
    dev = wijken.development.set_index(["unit_code", "from_year", "to_year"])
    dev_class = dev["development_class"]
    # "WK000300": KL02-KL16 all "6", every VKL "4".
    assert [s.loc[("WK000300", y)] for y in YEARS] == [6.0] * 5
    assert (dev_class.loc["WK000300"] == 4).all() and len(dev_class.loc["WK000300"]) == 10
    # "WK000500": KL16 "8" (7 before), VKL0216 "5", VKL1416 "4".
    assert s.loc[("WK000500", 2016)] == 8.0 and s.loc[("WK000500", 2014)] == 7.0
    assert dev_class.loc[("WK000500", 2002, 2016)] == 5
    assert dev_class.loc[("WK000500", 2014, 2016)] == 4
    # "WK003404": KL02 null, KL08 "9", KL12 "6"; VKL0208 null, VKL0812 "1" (a steep decline).
    assert ("WK003404", 2002) not in s.index
    assert (s.loc[("WK003404", 2008)], s.loc[("WK003404", 2012)]) == (9.0, 6.0)
    assert ("WK003404", 2002, 2008) not in dev.index
    assert dev_class.loc[("WK003404", 2008, 2012)] == 1


def test_wijk_development_classes(wijken: Lbm2) -> None:
    dev = wijken.development
    assert dev["development_class"].dtype == np.int64
    assert set(dev["development_class"]) == set(range(1, 8))
    assert len(dev.groupby(["from_year", "to_year"])) == 10  # every pair of the five years
    steps = list(itertools.pairwise(YEARS))
    declined = {
        (a, b): float((dev.loc[(dev["from_year"] == a) & (dev["to_year"] == b),
                               "development_class"] <= 3).mean())
        for a, b in steps
    }
    # Rare events, as for PC4 (about 1.5 % per period): 1.0-2.9 % of wijken per step.
    assert all(0.009 <= share <= 0.03 for share in declined.values()), declined
    # The development class agrees in sign with the class change: a decline class (1-3)
    # never goes with a rising class, an improvement class (5-7) never with a falling one;
    # and a unit has a development class only where it has a class at both ends.
    classes = wijken.scores.pivot(index="unit_code", columns="year", values="lbm_class")
    for (a, b), period in dev.groupby(["from_year", "to_year"]):
        change = period["unit_code"].map(classes[b] - classes[a])
        assert change.notna().all()
        cls = period["development_class"]
        assert (change[cls <= 3] <= 0).all() and (change[cls >= 5] >= 0).all()


def test_gemeente_file(gemeenten: Lbm2, wijken: Lbm2) -> None:
    scores = gemeenten.scores
    assert scores["unit_code"].nunique() == 390
    assert set(scores["level"]) == {"gemeente"}
    assert len(scores) == 390 * len(YEARS)  # every gemeente has a class every year
    assert scores["lbm_class"].between(1, 9).all()
    assert gemeenten.development["development_class"].between(1, 7).all()
    # Each wijk's gemeente (from its code) is one of the 390, and each of them has wijken.
    of_wijk = set(wijken.scores["unit_code"].map(schema.gemeente_of))
    assert of_wijk == set(scores["unit_code"])


def test_panel_names_give_wijken_their_gemeente(wijken: Lbm2) -> None:
    keys = wijken.scores[["unit_code", "year"]].rename(columns={"year": "as_of_year"})
    out = names(pd.DataFrame(columns=["unit_code", "unit_name", "year"]), wijken.scores, keys)
    assert (out["gemeente_code"] == "GM" + keys["unit_code"].str[2:6]).all()
    assert out.loc[keys["unit_code"].eq("WK000300").to_numpy(), "gemeente_code"].iloc[0] == (
        "GM0003"
    )
    # The release holds no names: gemeente names fall back to the code, as for PC4 codes.
    assert (out["gemeente_name"] == out["gemeente_code"]).all()


def test_json_numbers_read_as_the_strings_do(wijk_raw: Raw) -> None:
    sample = dict(list(wijk_raw.items())[:50])
    as_numbers = {c: {k: int(v) if v is not None else None for k, v in rec.items()}
                  for c, rec in sample.items()}
    a = parse_lbm2_json(json.dumps(sample), "wijk.json", "wijk")
    b = parse_lbm2_json(json.dumps(as_numbers), "wijk.json", "wijk")
    pd.testing.assert_frame_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.development, b.development)


def test_an_absent_key_is_a_missing_class(wijk_raw: Raw) -> None:
    sample = {c: dict(rec) for c, rec in list(wijk_raw.items())[:20]}
    del sample["WK000300"]["KL08"], sample["WK000300"]["VKL0812"]
    out = parse_lbm2_json(json.dumps(sample), "wijk.json", "wijk")
    assert ("WK000300", 2008) not in set(zip(out.scores["unit_code"], out.scores["year"],
                                             strict=True))
    assert len(out.scores[out.scores["unit_code"] == "WK000300"]) == 4


# --- bad input, built from the real file ------------------------------------------------------

Edit = Callable[[Raw, str], str]


def _set(code: str, key: str, value: object) -> Edit:
    def edit(raw: Raw, text: str) -> str:
        broken = {c: dict(rec) for c, rec in raw.items()}
        broken[code][key] = value
        return json.dumps(broken, indent=4)
    return edit


def _replace_record(code: str, value: object) -> Edit:
    def edit(raw: Raw, text: str) -> str:
        return json.dumps({**raw, code: value}, indent=4)
    return edit


def _add_code(code: str) -> Edit:
    def edit(raw: Raw, text: str) -> str:
        return json.dumps({**raw, code: raw["WK000300"]}, indent=4)
    return edit


def _text_edit(old: str, new: str) -> Edit:
    def edit(raw: Raw, text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)
    return edit


def _whole(build: Callable[[Raw], object]) -> Edit:
    def edit(raw: Raw, text: str) -> str:
        return json.dumps(build(raw))
    return edit


FIRST_RECORD = '"WK000300": {\n        "KL02": "6",'
# (id, edit, expected column, expected row, message parts)
BAD: list[tuple[str, Edit, str | None, str | int | None, tuple[str, ...]]] = [
    ("class-10", _set("WK000500", "KL14", "10"), "KL14", "WK000500",
     ("class 10", "above the maximum 9")),
    ("class-0", _set("WK000500", "KL02", "0"), "KL02", "WK000500", ("below the minimum 1",)),
    ("development-class-0", _set("WK000700", "VKL1416", "0"), "VKL1416", "WK000700",
     ("development class 0", "below the minimum 1", "1-7")),
    ("development-class-8", _set("WK000700", "VKL0208", "8"), "VKL0208", "WK000700",
     ("development class 8", "above the maximum 7")),
    ("text-class", _set("WK000300", "KL12", "hoog"), "KL12", "WK000300",
     ("expected a class", "whole number 1-9", "'hoog'")),
    ("fractional-class", _set("WK000300", "KL12", "6.5"), "KL12", "WK000300",
     ("whole number 1-9", "6.5")),
    ("boolean-class", _set("WK000300", "VKL0816", True), "VKL0816", "WK000300",
     ("string or a number", "JSON boolean true")),
    ("list-class", _set("WK000300", "KL16", ["6"]), "KL16", "WK000300", ("JSON list",)),
    ("gemeente-code-in-wijk-file", _add_code("GM0003"), None, "GM0003",
     ("'GM0003'", "a gemeente code", "wijk level")),
    ("code-of-no-form", _add_code("WK00030"), None, "WK00030",
     ("'WK00030'", "of no unit code form", "WK036301")),
    ("code-twice-after-strip", _add_code(" WK000300"), None, " WK000300",
     ("'WK000300'", "occurs twice")),
    ("record-not-an-object", _replace_record("WK000500", ["7", "7"]), None, "WK000500",
     ("expected an object of classes", "JSON list")),
    ("record-is-a-string", _replace_record("WK000500", "7"), None, "WK000500",
     ("JSON string",)),
    ("key-twice-in-a-record", _text_edit(FIRST_RECORD, FIRST_RECORD + '\n "KL02": "7",'),
     "KL02", "WK000300", ("occurs twice",)),
    ("not-an-object", _whole(lambda raw: list(raw.values())), None, None,
     ("object keyed by wijk code", "JSON list")),
    ("empty-object", _whole(lambda raw: {}), None, None, ("no wijk codes",)),
    ("no-class-keys", _whole(lambda raw: {c: {f"KLASSE{k}": v for k, v in rec.items()}
                                          for c, rec in list(raw.items())[:5]}),
     None, None, ("no class columns", "KLyy or VKLaabb")),
    # Line 19 of the file is '    "WK000500": {'; without its code the object is not JSON.
    ("record-without-its-code", _text_edit('"WK000500"', ""), None, 19,
     ("not valid JSON", "line 19")),
]


@pytest.mark.parametrize(("edit", "column", "row", "parts"),
                         [pytest.param(*case[1:], id=case[0]) for case in BAD])
def test_bad_input_is_named(
    wijk_raw: Raw, wijk_text: str, edit: Edit, column: str | None, row: str | int | None,
    parts: tuple[str, ...],
) -> None:
    text = edit(wijk_raw, wijk_text)
    with pytest.raises(InputError) as info:
        parse_lbm2_json(text, "lbm2_wijk/wijk.json", "wijk")
    exc = info.value
    assert (exc.file, exc.column, exc.row) == ("lbm2_wijk/wijk.json", column, row)
    message = str(exc)
    assert message.startswith("file lbm2_wijk/wijk.json")
    for part in parts:
        assert part in message


def test_gemeente_file_read_at_wijk_level_is_rejected(shared_real_dir: Path) -> None:
    path = shared_real_dir / GEMEENTE
    with pytest.raises(InputError) as info:
        parse_lbm2_json(_text(path), str(path), "wijk")
    assert info.value.row == "GM0003"
    assert "a gemeente code" in str(info.value) and "wijk level" in str(info.value)


def test_unknown_level_is_a_config_error(wijk_text: str) -> None:
    with pytest.raises(ConfigError, match=r"'level' must be one of .*Got 'ward'"):
        parse_lbm2_json(wijk_text, "wijk.json", "ward")
