"""The names of a panel's units and gemeenten, from the sources and the places."""

from __future__ import annotations

import pandas as pd

from features import schema


def names(
    cbs: pd.DataFrame, lbm: pd.DataFrame, keys: pd.DataFrame, places: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Unit and gemeente names: the newest name each code has had in the sources; in a year
    both name a unit, CBS's name wins (it is the official register of names).

    The gemeente of a unit is read from its code (WK/BU codes); where the code does not say
    (PC4), ``places`` (unit_code, gemeente_code, gemeente_name; ``features.geo.gemeente_of``)
    gives it. A gemeente's name comes from the sources first, then from ``places``. A placed
    unit without a name of its own is called by its code and its gemeente: '1011 Amsterdam'.
    """
    both = pd.concat(
        [
            lbm[["unit_code", "unit_name", "year"]].assign(_priority=0),
            cbs[["unit_code", "unit_name", "year"]].assign(_priority=1),
        ]
    )
    newest = (
        both.sort_values(["year", "_priority"], kind="stable")
        .drop_duplicates("unit_code", keep="last")
        .set_index("unit_code")
    )
    out = keys[["unit_code"]].copy()
    own_name = out["unit_code"].map(newest["unit_name"])
    out["unit_name"] = own_name.fillna(out["unit_code"])
    out["level"] = out["unit_code"].map(schema.unit_level)
    out["gemeente_code"] = out["unit_code"].map(schema.gemeente_of)
    gm_name = out["gemeente_code"].map(newest["unit_name"])
    if places is not None:
        placed = places.dropna(subset=["unit_code"]).drop_duplicates("unit_code")
        by_unit = placed.set_index(placed["unit_code"].astype(str))["gemeente_code"]
        from_code = out["gemeente_code"].astype("object")
        from_place = out["unit_code"].map(by_unit).astype("object")
        out["gemeente_code"] = from_code.fillna(from_place).astype("str")
        named = placed.dropna(subset=["gemeente_code", "gemeente_name"])
        place_names = named.drop_duplicates("gemeente_code").set_index("gemeente_code")
        gm_name = out["gemeente_code"].map(newest["unit_name"]).astype("object")
        from_place = out["gemeente_code"].map(place_names["gemeente_name"]).astype("object")
        gm_name = gm_name.fillna(from_place).astype("str")
        nameless = (own_name.isna() | (own_name == out["unit_code"])) & gm_name.notna()
        out.loc[nameless, "unit_name"] = out["unit_code"] + " " + gm_name
    out["gemeente_name"] = gm_name.astype("str").fillna(out["gemeente_code"])
    return out.drop(columns="unit_code")
