"""Gemeente mergers: a few groups of small gemeenten merge into a new gemeente in some year,
and their wijken get new codes from then on. Sources publish each year under the codes of that
year, and a crosswalk (old_code, new_code, year, weight) is written beside them, as CBS
publishes its "gemeentelijke indeling" changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.synth.world import World

MERGER_YEARS = (2013, 2016, 2019)


@dataclass(frozen=True)
class Mergers:
    crosswalk: pd.DataFrame  # old_code, new_code, year, weight (wijk codes; 1:1 recodes)
    gemeente_names: dict[str, str]  # new gemeente code -> name

    def final_code(self) -> dict[str, str]:
        return dict(zip(self.crosswalk["old_code"], self.crosswalk["new_code"], strict=True))


def plan(rng: np.random.Generator, world: World, n_mergers: int = 6) -> Mergers:
    """Merge pairs of small gemeenten (at most 99 wijken together) into new gemeenten."""
    gm = world.gemeenten.sort_values("n_wijken", kind="stable")
    small = gm[gm["n_wijken"] <= 6]["gemeente_code"].to_numpy()
    n_mergers = min(n_mergers, len(small) // 2)
    chosen = rng.permutation(small)[: 2 * n_mergers].reshape(n_mergers, 2) if n_mergers else []
    used = {int(c[2:]) for c in world.gemeenten["gemeente_code"]}
    free = [c for c in range(1900, 2000) if c not in used]
    rows, names = [], {}
    for i, pair in enumerate(chosen):
        new_gm = f"GM{free[i]:04d}"
        year = MERGER_YEARS[i % len(MERGER_YEARS)]
        members = world.wijken[world.wijken["gemeente_code"].isin(pair)].sort_values("unit_code")
        for k, code in enumerate(members["unit_code"]):
            rows.append((code, f"WK{new_gm[2:]}{k:02d}", year, 1.0))
        first, second = world.gemeenten.set_index("gemeente_code").loc[list(pair), "gemeente_name"]
        names[new_gm] = f"{first}-{second}"
    crosswalk = pd.DataFrame(rows, columns=["old_code", "new_code", "year", "weight"])
    return Mergers(crosswalk=crosswalk.astype({"year": "int64"}), gemeente_names=names)


def publish_codes(frame: pd.DataFrame, mergers: Mergers) -> pd.DataFrame:
    """Each row under the code its unit had in that row's year."""
    cw = mergers.crosswalk
    if cw.empty:
        return frame
    lookup = frame[["unit_code", "year"]].merge(
        cw, left_on="unit_code", right_on="old_code", how="left"
    )
    recoded = lookup["new_code"].notna().to_numpy() & (
        frame["year"].to_numpy() >= lookup["year_y"].fillna(9999).to_numpy()
    )
    out = frame.copy()
    out.loc[recoded, "unit_code"] = lookup.loc[recoded, "new_code"].to_numpy()
    return out


def crosswalk_csv(mergers: Mergers) -> str:
    return mergers.crosswalk.to_csv(index=False, lineterminator="\n")
