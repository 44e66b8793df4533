"""The column table of CBS "Statistiek per postcode" (``features.cbs_pc4``): which workbook
column (by CBS variable code, else by Dutch header path) loads into which stable name, what
its cells hold (``Scale``, which sets their bounds) and how a count becomes a share of its
denominator, so that every version of the table lines up with the KWB variables. A column a
source maps through ``columns`` gets an entry of its own (``mapped_entry``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from wijkradar.sourceconfig import ColumnMap

Scale = Literal["count", "percent", "mean", "class", "amount"]
# What a cell of each scale may hold: (minimum, maximum or None).
SCALE_BOUNDS: dict[str, tuple[float, float | None]] = {
    "count": (0.0, None), "percent": (0.0, 100.0), "mean": (0.0, None), "class": (1.0, 5.0),
    "amount": (-math.inf, None),
}
# The scale of a column mapped through ``columns``, by its kind.
KIND_SCALES: dict[str, Scale] = {
    "count": "count", "share": "percent", "rate": "mean", "amount": "amount"
}


@dataclass(frozen=True)
class Pc4Column:
    """One row of the mapping table: a PC4 column and the stable name it loads into.

    ``codes``: the CBS variable code(s) (empty where no version has a codes row for it);
    ``headers``: its Dutch header path(s); ``scale``: what a cell holds, which sets its
    bounds. ``per``: the stable name of a denominator; the value is then ``100 * cell / per``
    (``per_1000``: ``1000 * cell / per``), so that a PC4 count lines up with a KWB share.
    ``zero_missing``: a 0 is no value but the absence of one (a PC4 without households has
    household size 0)."""

    name: str
    codes: tuple[str, ...]
    headers: tuple[str, ...]
    scale: Scale
    per: str | None = None
    factor: float = 100.0
    zero_missing: bool = False  # 0 means "none to average over" (household size)
    whole: bool = False  # a mapped count: a whole number

    @property
    def label(self) -> str:
        return self.codes[0] if self.codes else self.headers[0]


def _col(name: str, code: str | None, header: str, scale: Scale, **kw: Any) -> Pc4Column:
    return Pc4Column(name, (code,) if code else (), (header,), scale, **kw)


_INW = "Inwoners"
_HH = "Huishouden"
_WON = "Woning / Bouwperiode"
_ORIGIN = "Inwoners / Herkomst / Geboren "
PC4_COLUMNS: tuple[Pc4Column, ...] = (
    _col("inhabitants", "INWONER", f"{_INW} / Totaal / Totaal", "count"),
    _col("age_0_14_pct", "INW_014", f"{_INW} / Leeftijdklassen / tot 15 jaar", "count",
         per="inhabitants"),
    _col("age_15_24_pct", "INW_1524", f"{_INW} / Leeftijdklassen / 15 tot 25 jaar", "count",
         per="inhabitants"),
    _col("age_25_44_pct", "INW_2544", f"{_INW} / Leeftijdklassen / 25 tot 45 jaar", "count",
         per="inhabitants"),
    _col("age_45_64_pct", "INW_4564", f"{_INW} / Leeftijdklassen / 45 tot 65 jaar", "count",
         per="inhabitants"),
    _col("age_65plus_pct", "INW_65PL", f"{_INW} / Leeftijdklassen / 65 jaar en ouder", "count",
         per="inhabitants"),
    _col("nonwestern_pct", "P_NW_MIG_A",
         f"{_INW} / Herkomst / Niet-westerse migratie achtergrond", "percent"),
    _col("born_nl_origin_outside_europe_pct", None,
         f"{_ORIGIN}in Nederland met herkomst buiten Europa", "percent"),
    _col("born_abroad_origin_outside_europe_pct", None,
         f"{_ORIGIN}buiten Nederland met een herkomst buiten Europa", "percent"),
    _col("households", "AANTAL_HH", f"{_HH} / Totaal / Totaal", "count"),
    _col("single_person_hh_pct", "TOTHH_EENP", f"{_HH} / Samenstelling / Eenpersoons", "count",
         per="households"),
    _col("single_parent_hh_pct", "HH_EENOUD", f"{_HH} / Samenstelling / Eenouder", "count",
         per="households"),
    _col("household_size", "GEM_HH_GR", f"{_HH} / Grootte / Huishoudgrootte", "mean",
         zero_missing=True),
    _col("dwellings", "WONING", "Woning / Totaal / Totaal", "count"),
    _col("built_pre1945_pct", "WONVOOR45", f"{_WON} / voor 1945", "count", per="dwellings"),
    _col("built_2015plus_pct", "WON_1524", f"{_WON} / 2015 en later", "count",
         per="dwellings"),
    _col("multifamily_pct", "WON_MRGEZ", "Woning / Type / Meergezins", "count",
         per="dwellings"),
    # CBS places the grouped header "Eigendom" one column to the right of its first column,
    # so Koopwoning sits under "Type" in every version; both paths are accepted.
    Pc4Column(
        "owner_occupied_pct", ("P_KOOPWON",),
        ("Woning / Eigendom / Koopwoning", "Woning / Type / Koopwoning"), "percent",
    ),
    _col("rental_pct", "P_HUURWON", "Woning / Eigendom / Huurwoning", "percent"),
    _col("corporation_rent_pct", "WON_HCORP", "Woning / Eigendom / Huurcoporatie", "count",
         per="dwellings"),
    _col("uninhabited_dwellings_pct", "WON_NBEW", "Woning / In gebruik / Niet bewoond",
         "count", per="dwellings"),
    _col("woz_value", "WOZWONING", "Woning / Waarde / WOZ-waarde woning", "mean"),
    _col("benefits_per_1000", "UITKMINAOW",
         "Sociale Zekerheid / Totaal uitkeringen / Personen met WW, Bijstand en/of AO "
         "uitkering Beneden AOW-leeftijd", "count", per="inhabitants", factor=1000.0),
    _col("address_density", "OAD", "Dichtheid / Omgevingsadressendichtheid", "mean"),
    _col("urbanity", "STED", "Dichtheid / Stedelijkheid", "class"),
)
PC4_BY_CODE = {c: col for col in PC4_COLUMNS for c in col.codes}
PC4_BY_HEADER = {h: col for col in PC4_COLUMNS for h in col.headers}


def mapped_entry(column: ColumnMap) -> Pc4Column:
    """The table entry of a column mapped through ``columns`` (by its code or header path)."""
    return Pc4Column(
        column.name, (column.source,), (column.source,), KIND_SCALES[column.kind],
        whole=column.kind == "count",
    )
