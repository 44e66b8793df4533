"""Publication: true values to the files CBS and the Leefbarometer publish.

StatLine CSV ("CSV met statistische symbolen"): UTF-8 with BOM, ``;``-separated, every cell
quoted, region codes padded to 10 characters, numbers right-aligned, ``.`` for a missing
value, ``x`` for a secret one, ``-`` for nil. Older years use a decimal comma and the headers
CBS used then, so the readers' header mapping is exercised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.harmonize import aggregate
from features.schema import CBS_VARIABLES, INVESTMENT_VARIABLES, LBM_SCORE_COLUMNS

# Until (not including) these years, a variable went by its older header (headers[1]).
OLD_HEADER_UNTIL = {
    "nonwestern_pct": 2017,
    "income_per_inhabitant": 2010,
    "low_income_hh_pct": 2010,
    "bijstand_per_1000": 2015,
}
FIRST_PUBLISHED = {"wmo_clients_per_1000": 2015}
DECIMAL_COMMA_UNTIL = 2010
SECRET_BELOW_INHABITANTS = 400  # CBS keeps income figures of small areas secret
SECRET_VARIABLES = ("income_per_inhabitant", "low_income_hh_pct")


def publish_cbs(cbs: pd.DataFrame, rng: np.random.Generator, missing_share: float) -> pd.DataFrame:
    """Round to published precision and blank out what CBS would not publish.

    Returns the frame with a boolean column per secret variable (``<name>__secret``) so the
    writer can tell ``x`` from ``.``.
    """
    out = cbs.copy()
    for var in CBS_VARIABLES:
        values = out[var.name].to_numpy(dtype="float64").round(var.decimals)
        if var.kind != "count":
            values[rng.random(len(values)) < missing_share] = np.nan
        first = FIRST_PUBLISHED.get(var.name)
        if first is not None:
            values[out["year"].to_numpy() < first] = np.nan
        out[var.name] = values
    small = out["inhabitants"].to_numpy() < SECRET_BELOW_INHABITANTS
    for name in SECRET_VARIABLES:
        out[f"{name}__secret"] = small
        out.loc[small, name] = np.nan
    return out


def _cell(value: float, decimals: int, comma: bool, secret: bool = False) -> str:
    if secret:
        text = "x"
    elif np.isnan(value):
        text = "."
    elif value == 0 and decimals == 0:
        text = "-"
    else:
        text = f"{value:.{decimals}f}"
        if comma:
            text = text.replace(".", ",")
    return '"' + text.rjust(8) + '"'


def statline_csv(
    wijken: pd.DataFrame, gemeente_names: dict[str, str], unit_names: dict[str, str], year: int
) -> str:
    """One year of Kerncijfers wijken en buurten: gemeente rows followed by their wijken."""
    rows = wijken[wijken["year"] == year]
    gm = aggregate(
        rows, rows["unit_code"].str.slice(2, 6).radd("GM"), [v.name for v in CBS_VARIABLES]
    )
    for name in SECRET_VARIABLES:
        gm[f"{name}__secret"] = False
    both = pd.concat([gm, rows], ignore_index=True)
    both["_gm"] = both["unit_code"].str.slice(2, 6)
    both["_order"] = both["unit_code"].str.startswith("WK").astype(int)
    both = both.sort_values(["_gm", "_order", "unit_code"], kind="stable")
    variables = [v for v in CBS_VARIABLES if FIRST_PUBLISHED.get(v.name, 0) <= year]
    headers = [
        "Wijken en buurten",
        "Gemeentenaam (naam)",
        "Soort regio (omschrijving)",
        "Regiocode (gemeente, wijk, buurt) (code)",
        "Perioden",
        *(v.headers[1] if year < OLD_HEADER_UNTIL.get(v.name, 0) else v.header for v in variables),
    ]
    comma = year < DECIMAL_COMMA_UNTIL
    lines = [";".join(f'"{h}"' for h in headers)]
    for r in both.to_dict("records"):
        code = r["unit_code"]
        gm_code = "GM" + code[2:6]
        ident = [
            gemeente_names[code] if code.startswith("GM") else unit_names[code],
            gemeente_names[gm_code],
            "Gemeente" if code.startswith("GM") else "Wijk",
            code.ljust(10),
            str(year),
        ]
        cells = [f'"{x}"' for x in ident] + [
            _cell(r[v.name], v.decimals, comma, bool(r.get(f"{v.name}__secret", False)))
            for v in variables
        ]
        lines.append(";".join(cells))
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def lbm3_csv(lbm: pd.DataFrame, unit_names: dict[str, str]) -> str:
    """Leefbarometer 3.0 wijk scores, as in the national open-data file (full precision)."""
    out = lbm.sort_values(["unit_code", "year"]).reset_index(drop=True)
    table = pd.DataFrame(
        {
            "wk_code": out["unit_code"],
            "wk_naam": out["unit_code"].map(unit_names),
            "jaar": out["year"],
        }
    )
    for col in LBM_SCORE_COLUMNS:
        table[col] = out[col].map(repr)
    table.index = table.index + 1
    return table.to_csv(index=True, index_label="", lineterminator="\n")


def investment_csv(investment: pd.DataFrame) -> str:
    """The documented investment schema (see docs/sources.md)."""
    table = investment[["unit_code", "year", *(v.name for v in INVESTMENT_VARIABLES)]].copy()
    for v in INVESTMENT_VARIABLES:
        table[v.name] = table[v.name].round(0).astype("int64")
    return table.to_csv(index=False, lineterminator="\n")
