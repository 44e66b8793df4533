"""The ``[[source]]`` tables of the config: which files, of which kind, with which options.

A value source may map further columns to panel variables with a ``columns`` table, on top
of the reader's built-in mappings::

    [[source]]
    kind = "cbs_kwb_csv"
    path = "data/kwb"
    columns = { "Bevolkingsdichtheid" = { name = "density", kind = "rate" },
                "k_65JaarOfOuder_12" = { name = "age65", kind = "count",
                                         label = "inhabitants aged 65+",
                                         label_nl = "inwoners van 65 jaar of ouder",
                                         plural = true } }

The key is the source's header or OData code (a trailing ``_<n>`` suffix of an OData code
may be left out); ``kind`` says how its values are checked: ``count`` (whole, >= 0),
``share`` (a percentage, 0-100), ``rate`` (>= 0) or ``amount`` (any number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from wijkradar.calendar import Calendar, parse_calendar
from wijkradar.errors import ConfigError

ColumnKind = Literal["count", "share", "rate", "amount"]
COLUMN_KINDS: tuple[str, ...] = ("count", "share", "rate", "amount")
_PANEL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ColumnMap:
    """One further source column: its header (or OData code) in the source, the panel name it
    becomes, how its values are checked, and its labels (default: the panel name)."""

    source: str
    name: str
    kind: ColumnKind
    label: str = ""
    label_nl: str = ""
    plural: bool = False  # the labels name more than one ('bezoeken ...'): 'stegen', 'zijn'

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ConfigError(
                f"The 'kind' of column {self.source!r} must be one of "
                f"{', '.join(COLUMN_KINDS)}. Got {self.kind!r} instead."
            )
        if not _PANEL_NAME.match(self.name):
            raise ConfigError(
                f"The 'name' of column {self.source!r} must be a lower-case panel name "
                f"(letters, digits, '_'). Got {self.name!r} instead."
            )


def parse_columns(table: Any, where: str) -> tuple[ColumnMap, ...]:
    """The ``columns`` table of a source: header -> {name, kind[, label, label_nl,
    plural]}."""
    if not isinstance(table, dict):
        raise ConfigError(
            f"The 'columns' of {where} must be a table of header = {{ name = ..., kind = ... }}. "
            f"Got {table!r} instead."
        )
    out = []
    allowed = {"name", "kind", "label", "label_nl", "plural"}
    for header, spec in table.items():
        if not isinstance(spec, dict) or not {"name", "kind"} <= set(spec):
            raise ConfigError(
                f"Column {header!r} in the 'columns' of {where} needs a table with 'name' and "
                f"'kind'. Got {spec!r} instead."
            )
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ConfigError(
                f"Unknown key(s) {', '.join(map(repr, unknown))} for column {header!r} in "
                f"{where}. Allowed: {', '.join(sorted(allowed))}."
            )
        if not all(isinstance(v, str) for k, v in spec.items() if k != "plural"):
            raise ConfigError(f"Column {header!r} in {where}: every value but 'plural' must "
                              "be a string.")
        if not isinstance(spec.get("plural", False), bool):
            raise ConfigError(f"Column {header!r} in {where}: 'plural' must be true or false. "
                              f"Got {spec['plural']!r} instead.")
        out.append(ColumnMap(source=str(header), **spec))
    names = [c.name for c in out]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ConfigError(f"The 'columns' of {where} map several headers to {', '.join(doubled)}.")
    return tuple(out)


# Source kind -> the options it takes besides kind and path.
SOURCE_OPTIONS: dict[str, frozenset[str]] = {
    "cbs_kwb_csv": frozenset({"calendar", "columns"}),
    "cbs_kwb_json": frozenset({"year", "calendar", "columns"}),
    "lbm3_scores": frozenset({"calendar", "columns"}),
    "lbm2_pc4": frozenset({"calendar", "columns"}),
    "lbm2_json": frozenset({"level", "calendar", "columns"}),
    "cbs_pc4_xlsx": frozenset({"calendar", "columns"}),
    "boundaries": frozenset({"level", "code_field", "name_field"}),
    "investment_csv": frozenset({"names", "name_column", "years", "calendar", "columns"}),
    "crosswalk": frozenset(),
}
SOURCE_KINDS = tuple(SOURCE_OPTIONS)
UNIT_LEVELS = ("gemeente", "wijk", "buurt", "pc4")
LBM2_JSON_LEVELS = ("wijk", "gemeente")


@dataclass(frozen=True)
class SourceConfig:
    """One input: a file, or a folder whose files all have this kind.

    Options: ``year`` (cbs_kwb_json: the period, when the file does not say); ``names`` (a
    name -> unit_code table that turns investment_csv into a name-keyed list such as the
    Vogelaarwijken), with ``name_column`` and the programme ``years``; ``level`` (boundaries:
    the units' level; lbm2_json: 'wijk' or 'gemeente'); ``code_field`` and ``name_field``
    (boundaries: the properties holding the unit's code and, optionally, its name);
    ``columns`` (every value kind: further source columns mapped to panel names, see
    ``ColumnMap``).
    """

    kind: str
    path: Path
    year: int | None = None
    names: Path | None = None
    name_column: str = "wijk_oorspronkelijk"
    years: tuple[int, ...] = ()
    level: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    calendar: Calendar | None = None  # None: the kind's default (features.calendar)
    columns: tuple[ColumnMap, ...] = ()  # further columns, on top of the built-in mappings

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ConfigError(
                f"The source 'kind' must be one of {', '.join(SOURCE_KINDS)}. "
                f"Got {self.kind!r} instead."
            )
        if self.names is not None and not self.years:
            raise ConfigError(
                f"A name-keyed investment list ({self.path}) needs 'years', the programme "
                "years it covers. Got none."
            )
        self._check_level()

    def _check_level(self) -> None:
        levels = {"boundaries": UNIT_LEVELS, "lbm2_json": LBM2_JSON_LEVELS}.get(self.kind)
        if levels is None:
            return
        if self.level not in levels:
            raise ConfigError(
                f"A {self.kind} source ({self.path}) needs 'level', one of "
                f"{', '.join(levels)}. Got {self.level!r} instead."
            )
        if self.kind == "boundaries" and not self.code_field:
            raise ConfigError(
                f"A boundaries source ({self.path}) needs 'code_field', the property that "
                "holds the unit code. Got none."
            )



def _path(value: str, root: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def source_options(table: dict[str, Any], where: str, root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "year" in table:
        if not isinstance(table["year"], int):
            raise ConfigError(f"The 'year' of {where} must be an integer. Got {table['year']!r}.")
        out["year"] = table["year"]
    if "names" in table:
        if not isinstance(table["names"], str):
            raise ConfigError(f"The 'names' of {where} must be a path. Got {table['names']!r}.")
        out["names"] = _path(table["names"], root)
    if "name_column" in table:
        out["name_column"] = str(table["name_column"])
    for key in ("level", "code_field", "name_field"):
        if key in table:
            if not isinstance(table[key], str):
                raise ConfigError(f"The {key!r} of {where} must be a string. Got {table[key]!r}.")
            out[key] = table[key]
    if "years" in table:
        years = table["years"]
        if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
            raise ConfigError(f"The 'years' of {where} must be a list of years. Got {years!r}.")
        out["years"] = tuple(years)
    if "calendar" in table:
        out["calendar"] = parse_calendar(table["calendar"], f"[source.calendar] of {where}")
    if "columns" in table:
        out["columns"] = parse_columns(table["columns"], where)
    return out


def parse_source(table: Any, where: str, root: Path) -> SourceConfig:
    """One ``[[source]]`` table; ``where`` names it in errors ("[[source]] #2 of cfg.toml")."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table. Got {table!r}.")
    allowed = {"kind", "path", *SOURCE_OPTIONS.get(table.get("kind", ""), ())}
    unknown_keys = sorted(set(table) - allowed)
    if unknown_keys:
        raise ConfigError(
            f"Unknown key(s) {', '.join(map(repr, unknown_keys))} in {where} "
            f"({table.get('kind')}). Allowed: {', '.join(sorted(allowed))}."
        )
    if "kind" not in table or "path" not in table:
        raise ConfigError(f"{where} needs both 'kind' and 'path'.")
    if not isinstance(table["path"], str):
        raise ConfigError(
            f"The 'path' of {where} must be a string. Got {table['path']!r} instead."
        )
    options = source_options(table, where, root)
    return SourceConfig(kind=table["kind"], path=_path(table["path"], root), **options)
