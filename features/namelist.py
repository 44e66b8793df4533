"""Name-keyed investment lists (e.g. the 40 Vogelaarwijken) joined to unit codes.

Policy lists name areas ("Amsterdam Nieuw-West") instead of coding them. The user supplies a
name table, a CSV with the columns ``name`` and ``unit_code``, one row per (name, code); a
name that spans several CBS wijken or buurten has several rows. Names are matched after
normalising: surrounding space stripped, case folded, runs of white space made one space.

``join_name_keyed`` turns such a list into the investment form ``unit_code, year,
krachtwijk, programme_budget_eur``:

* ``krachtwijk`` is 1.0 for every code a listed name maps to, in every given year;
* ``programme_budget_eur`` is the list's ``max_subsidie_per_jaar_eur`` of the name divided
  evenly over the codes that name maps to (the list says nothing about how the money was
  split, so an even split is the assumption). A code that two listed names map to gets the
  sum of both shares.

A listed name that matches no row of the name table is an error, never dropped: all such
names are reported in one ``InputError``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.readers import Parsed, check_unique, numeric_column, read_table, unit_codes
from wijkradar.errors import InputError

BUDGET_COLUMN = "max_subsidie_per_jaar_eur"
_NUMERIC_COLUMNS = ("additionele_inzet_mln_eur", BUDGET_COLUMN)
_SPACE = re.compile(r"\s+")
OUTPUT_COLUMNS = ("unit_code", "year", "krachtwijk", "programme_budget_eur")


def normalise_name(name: str) -> str:
    """'  Amsterdam   NIEUW-West ' -> 'amsterdam nieuw-west'."""
    return _SPACE.sub(" ", name.strip()).casefold()


def _nonempty_names(cells: pd.Series, file: str, column: str) -> pd.Series:
    names = cells.map(normalise_name)
    empty = names.eq("")
    if empty.any():
        pos = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError("the name is empty", file=file, column=column, row=pos + 2)
    return names


def parse_name_table(text: str, file: str) -> pd.DataFrame:
    """The user's name table: columns ``name``, ``unit_code`` (extra columns ignored).

    Returns ``name`` (as written, stripped), ``name_key`` (normalised), ``unit_code`` and
    ``level``. Codes must have a form ``features.schema.unit_level`` knows; a (name, code)
    pair given twice is rejected."""
    raw = read_table(text, file, sep=",")
    missing = [c for c in ("name", "unit_code") if c not in raw.columns]
    if missing:
        raise InputError(f"required column(s) {', '.join(missing)} missing", file=file)
    if raw.empty:
        raise InputError("the file has a header but no rows", file=file)
    out = unit_codes(raw["unit_code"], file, "unit_code", None)
    out.insert(0, "name_key", _nonempty_names(raw["name"], file, "name"))
    out.insert(0, "name", raw["name"].str.strip())
    check_unique(out, ["name_key", "unit_code"], file, "unit_code")
    return out[["name", "name_key", "unit_code", "level"]].reset_index(drop=True)


def join_name_keyed(
    list_text: str,
    list_file: str,
    names: pd.DataFrame,
    *,
    name_column: str,
    years: Sequence[int],
) -> pd.DataFrame:
    """A name-keyed list (text of a CSV) joined to codes through ``names`` (as returned by
    ``parse_name_table``): one row per (unit_code, year in ``years``), columns
    ``OUTPUT_COLUMNS``. See the module docstring for how the budget is split."""
    return read_name_keyed(
        list_text, list_file, names, name_column=name_column, years=years
    ).frame


def read_name_keyed(
    list_text: str,
    list_file: str,
    names: pd.DataFrame,
    *,
    name_column: str,
    years: Sequence[int],
) -> Parsed:
    """``join_name_keyed`` with the list's columns it does not use (``Parsed.ignored``)."""
    raw = read_table(list_text, list_file, sep=",")
    missing = [c for c in (name_column, BUDGET_COLUMN) if c not in raw.columns]
    if missing:
        raise InputError(f"required column(s) {', '.join(missing)} missing", file=list_file)
    if raw.empty:
        raise InputError("the file has a header but no rows", file=list_file)
    listed = pd.DataFrame({"name_key": _nonempty_names(raw[name_column], list_file, name_column)})
    check_unique(listed, ["name_key"], list_file, name_column)
    for column in _NUMERIC_COLUMNS:
        if column in raw.columns:
            values = numeric_column(raw[column], file=list_file, column=column, minimum=0.0)
            if column == BUDGET_COLUMN:
                listed["budget"] = values
    known = set(names["name_key"])
    unmatched = [
        (raw[name_column].iloc[i].strip(), i + 2)
        for i, key in enumerate(listed["name_key"])
        if key not in known
    ]
    if unmatched:
        shown = "; ".join(f"{name!r} (row {row})" for name, row in unmatched)
        raise InputError(
            f"{len(unmatched)} name(s) match no name in the name table: {shown}",
            file=list_file, column=name_column,
        )
    pairs = listed.merge(names[["name_key", "unit_code"]], on="name_key", how="inner")
    pairs["share"] = pairs["budget"] / pairs.groupby("name_key")["unit_code"].transform("size")
    per_code = pairs.groupby("unit_code", sort=True)["share"].sum(min_count=1)
    codes = per_code.index.to_numpy()
    year_list = list(dict.fromkeys(int(y) for y in years))
    out = pd.DataFrame({
        "unit_code": np.repeat(codes, len(year_list)),
        "year": np.tile(np.asarray(year_list, dtype="int64"), len(codes)),
        "krachtwijk": 1.0,
        "programme_budget_eur": np.repeat(per_code.to_numpy(dtype="float64"), len(year_list)),
    })
    frame = out.astype({"unit_code": "str", "year": "int64"})[list(OUTPUT_COLUMNS)]
    used = {name_column, *_NUMERIC_COLUMNS}
    return Parsed(frame, tuple(c for c in raw.columns if c not in used))
