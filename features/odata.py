"""Reader for CBS Kerncijfers wijken en buurten as OData JSON (source kind ``cbs_kwb_json``).

Two shapes are accepted:

* an OData response, ``{"value": [{...}, ...]}`` (``odata.metadata`` and other top-level keys
  are ignored). Each record holds the region code in ``Codering_3`` / ``Codering`` or in
  ``WijkenEnBuurten`` (space-padded codes are stripped), optionally the period in ``Perioden``
  (``2024JJ00``), the name as a ``WijkenEnBuurten`` label or, for a gemeente, in
  ``Gemeentenaam_1``;
* a code-keyed object, ``{"GM1680": {"AantalInwoners_5": 25845, ...}, "WK168000": {...}}``.

Measure keys carry a numeric suffix that changes between releases (``Woningvoorraad_34`` in
2019, ``Woningvoorraad_35`` in 2024). The suffix is stripped and the rest looked up in
``ODATA_NAMES``. A source's ``columns`` table maps further keys, written with or without the
suffix (``Bevolkingsdichtheid`` matches ``Bevolkingsdichtheid_33`` and ``_34``); every other
measure key is listed as ignored (``read_cbs_kwb_json``). Values may be numbers, ``null`` or
StatLine text cells (``"   ."``); they are validated exactly like the StatLine CSV
(``numeric_column`` with the CBS symbols and codes, and the bounds of the variable or of the
mapped column's kind).

The national row (``NL01``), present in every unfiltered KWB download, is not a unit of this
project and is skipped; any other code that is not ``GMxxxx``, ``WKxxxxxx`` or ``BUxxxxxxxx``
is rejected. Since KWB 2022 Amsterdam's wijk and buurt codes end in letters (``WK0363AA``,
``BU0363AA01``); ``schema.UNIT_CODE_PATTERNS`` accepts them as wijk / buurt.

Output: the same columns as ``features.readers.parse_cbs_kwb_csv``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.readers import Parsed, checked_column, mapped_names
from wijkradar.errors import InputError
from wijkradar.sourceconfig import ColumnMap

# OData measure name (numeric suffix removed) -> stable name in features.schema.CBS_BY_NAME.
# Only names whose unit matches the stable variable in every KWB release are mapped. Left out
# on purpose: age groups (k_0Tot15Jaar ...), Eenpersoonshuishoudens and NietWestersTotaal
# (percentages in older releases, counts in newer ones); PersonenPerSoortUitkeringBijstand
# (a count, not per 1 000 inhabitants); BouwjaarVoor2000 (not the pre-1970 share of the
# schema); HuishoudensMetLaagInkomen (KWB <= 2013: the national bottom 40 %, another measure
# than the low-income-threshold share HuishoudensMetEenLaagInkomen).
ODATA_NAMES: dict[str, str] = {
    "AantalInwoners": "inhabitants",
    "HuishoudensTotaal": "households",
    "GemiddeldInkomenPerInwoner": "income_per_inhabitant",  # x 1 000 euro, all releases
    "HuishoudensMetEenLaagInkomen": "low_income_hh_pct",
    "GemiddeldeWoningwaarde": "woz_value",  # up to KWB 2020
    "GemiddeldeWOZWaardeVanWoningen": "woz_value",  # KWB 2021 and later
    "Woningvoorraad": "dwellings",
    "Koopwoningen": "owner_occupied_pct",
    "InBezitWoningcorporatie": "corporation_rent_pct",
    "InBezitOverigeVerhuurders": "private_rent_pct",
    "WmoClientenRelatief": "wmo_clients_per_1000",
}

_SUFFIX = re.compile(r"_\d+$")
_COUNTRY = re.compile(r"^NL\d{2}$")
_CODE_KEYS = ("Codering", "WijkenEnBuurten")  # suffix-stripped; first present wins
_FILE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_PERIOD = re.compile(r"^(\d{4})(?:JJ00)?$")
_LEVELS = ("gemeente", "wijk", "buurt")
# Record keys (suffix-stripped) that identify or describe a region and hold no value.
_DESCRIPTIVE = frozenset({
    "ID", "WijkenEnBuurten", "Gemeentenaam", "SoortRegio", "Codering", "Perioden",
    "IndelingswijzigingWijkenEnBuurten", "MeestVoorkomendePostcode", "Dekkingspercentage",
})


def _base(key: str) -> str:
    return _SUFFIX.sub("", key)


def region_level(code: str) -> str | None:
    """``schema.unit_level`` for gemeente, wijk and buurt codes (``WK0363AA`` -> 'wijk');
    None for a PC4 or anything else."""
    level = schema.unit_level(code)
    return level if level in _LEVELS else None


def _no_duplicate_keys(file: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """json's default keeps the last of two equal keys; a repeated region code must fail."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise InputError(
                    f"the key {key!r} occurs twice in one object", file=file, row=key
                )
            seen[key] = value
        return seen

    return hook


def _load(text: str, file: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys(file))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} "
            f"(character {exc.pos})",
            file=file, row=exc.lineno,
        ) from exc


def _records(doc: Any, file: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(region code, the key that held it, record) in file order, codes stripped."""
    if isinstance(doc, dict) and "value" in doc:
        if not isinstance(doc["value"], list):
            raise InputError("'value' must be a list of records", file=file, column="value")
        out = []
        for i, rec in enumerate(doc["value"]):
            if not isinstance(rec, dict):
                raise InputError(f"record {i} of 'value' is not an object", file=file, row=i)
            by_base = {_base(k): k for k in rec}
            key = next((by_base[c] for c in _CODE_KEYS if c in by_base), None)
            if key is None:
                raise InputError(
                    f"record {i} has no region code (expected Codering_3 or WijkenEnBuurten)",
                    file=file, row=i,
                )
            out.append((str(rec[key] if rec[key] is not None else "").strip(), key, rec))
        return out
    if isinstance(doc, dict):
        for code, rec in doc.items():
            if not isinstance(rec, dict):
                raise InputError(
                    "expected an object of measures per region code", file=file, row=code
                )
        return [(code.strip(), "region code", rec) for code, rec in doc.items()]
    raise InputError(
        "expected an OData response ({\"value\": [...]}) or an object keyed by region code, "
        f"got a JSON {type(doc).__name__}",
        file=file,
    )


def _year_from_file(file: str) -> int:
    years = set(_FILE_YEAR.findall(PurePath(file).name))
    if len(years) != 1:
        found = f"it holds {sorted(years)}" if years else "it holds none"
        raise InputError(
            "no year: pass the year, add a Perioden field, or put one 4-digit year in the "
            f"file name ({found})",
            file=file,
        )
    return int(years.pop())


def _period_year(value: Any, file: str, column: str, code: str) -> int:
    m = _PERIOD.match(str(value).strip())
    if m is None:
        raise InputError(
            f"expected a year such as 2019 or 2019JJ00, got {value!r}",
            file=file, column=column, row=code,
        )
    return int(m.group(1))


def _cell(value: Any, file: str, key: str, code: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"expected a number, got {value!r}", file=file, column=key, row=code)
    return str(value)


def _name(rec: dict[str, Any], code: str, level: str) -> str:
    by_base = {_base(k): v for k, v in rec.items()}
    label = by_base.get("WijkenEnBuurten")
    # A label, not the code (padded or not) as in TypedDataSet records.
    if isinstance(label, str) and label.strip() and region_level(label.strip()) is None:
        return label.strip()
    gemeente = by_base.get("Gemeentenaam")
    if level == "gemeente" and isinstance(gemeente, str) and gemeente.strip():
        return gemeente.strip()
    return code


def parse_cbs_kwb_json(
    text: str, file: str, year: int | None = None, columns: Sequence[ColumnMap] = ()
) -> pd.DataFrame:
    """CBS KWB OData JSON (either shape, see the module docstring) as a long DataFrame:
    ``unit_code, unit_name, level, year`` + every ``CBS_VARIABLES`` name (NaN where absent),
    then the mapped ``columns``.

    The year is ``year``, else each record's ``Perioden``, else the one 4-digit year in the
    file name. Errors name the file, the JSON key (as ``column``) and the region code (as
    ``row``)."""
    return read_cbs_kwb_json(text, file, year, columns).frame


def key_column(key: str, columns: Sequence[ColumnMap]) -> tuple[str, schema.Check] | None:
    """The panel name and checks of a measure key: mapped (the key itself, or its name
    without the numeric suffix), else built in (``ODATA_NAMES``), else None."""
    mapped = next((c for c in columns if c.source == key), None) or next(
        (c for c in columns if _base(c.source) == _base(key)), None
    )
    if mapped is not None:
        builtin = schema.CBS_BY_NAME.get(mapped.name) or schema.CBS_PC4_BY_NAME.get(mapped.name)
        return mapped.name, schema.check_of(mapped.kind, builtin)
    name = ODATA_NAMES.get(_base(key))
    if name is None:
        return None
    var = schema.CBS_BY_NAME[name]
    return name, schema.Check(var.minimum, var.maximum)


def read_cbs_kwb_json(
    text: str, file: str, year: int | None = None, columns: Sequence[ColumnMap] = ()
) -> Parsed:
    """``parse_cbs_kwb_json`` with the keys it ignored (neither descriptive, built in nor
    mapped), each once, in order of first appearance."""
    rows: list[dict[str, Any]] = []
    checks: dict[str, schema.Check] = {}
    ignored: dict[str, None] = {}
    seen: set[tuple[str, int]] = set()
    file_year: int | None = None
    for code, code_key, rec in _records(_load(text, file), file):
        if _COUNTRY.match(code):
            continue
        level = region_level(code)
        if level is None:
            raise InputError(
                f"unit code {code!r} is not of the allowed form (GMxxxx, WKxxxxxx, BUxxxxxxxx)",
                file=file, column=code_key, row=code,
            )
        period_key = next((k for k in rec if _base(k) == "Perioden"), None)
        if year is not None:
            row_year = year
        elif period_key is not None:
            row_year = _period_year(rec[period_key], file, period_key, code)
        else:
            file_year = _year_from_file(file) if file_year is None else file_year
            row_year = file_year
        if (code, row_year) in seen:
            raise InputError(
                f"duplicate record for ({code}, {row_year})", file=file, column=code_key, row=code,
            )
        seen.add((code, row_year))
        row: dict[str, Any] = {
            "unit_code": code, "unit_name": _name(rec, code, level), "level": level,
            "year": row_year,
        }
        for key, value in rec.items():
            found = key_column(key, columns) if _base(key) not in _DESCRIPTIVE else None
            if found is None:
                if _base(key) not in _DESCRIPTIVE:
                    ignored.setdefault(key)
                continue
            name, checks[name] = found
            if name in row:
                raise InputError(
                    f"two keys hold {name!r} ({row[name + ' key']} and {key})",
                    file=file, column=key, row=code,
                )
            row[name] = _cell(value, file, key, code)
            row[name + " key"] = key
        rows.append(row)
    if not rows:
        raise InputError("the file holds no region records", file=file)
    extra = [n for n in mapped_names(columns, schema.CBS_BY_NAME) if n in checks]
    return Parsed(_validated(rows, file, checks, extra), tuple(ignored))


def _validated(
    rows: list[dict[str, Any]], file: str, checks: dict[str, schema.Check], extra: list[str]
) -> pd.DataFrame:
    """Parse and bound-check every kept variable; errors name the JSON key and the code."""
    frame = pd.DataFrame(rows)
    out = frame[["unit_code", "unit_name", "level", "year"]].copy()
    out["year"] = out["year"].astype("int64")
    codes = out["unit_code"].tolist()
    for name in [*(v.name for v in schema.CBS_VARIABLES), *extra]:
        if name not in frame.columns:
            out[name] = np.nan
            continue
        cells = frame[name].fillna("").reset_index(drop=True)
        keys = frame[name + " key"].fillna("").to_numpy()
        first_key = str(next((k for k in keys if k), name))
        try:
            values = checked_column(
                cells, checks[name], file=file, column=first_key, cbs_symbols=True, rows=codes
            )
        except InputError as exc:  # name the key of the offending record (suffixes differ)
            key = str(keys[codes.index(str(exc.row))])
            prefix = str(InputError("", file=exc.file, column=exc.column, row=exc.row))
            raise InputError(str(exc)[len(prefix):], file=file, column=key, row=exc.row) from exc
        out[name] = values.to_numpy()
    return out.reset_index(drop=True)
