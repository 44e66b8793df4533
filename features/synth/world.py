"""The static world: gemeenten, their wijken, names and the latent traits that stay fixed.

Sizes follow the Netherlands: 342 gemeenten, about 3,300 wijken, a few large cities with up
to 99 wijken and many small gemeenten with a handful.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_PREFIX = (
    "Oost",
    "West",
    "Noord",
    "Zuid",
    "Hoog",
    "Laag",
    "Groot",
    "Klein",
    "Nieuw",
    "Oud",
    "Berg",
    "Dal",
    "Water",
    "Zand",
    "Veen",
    "Heide",
    "Brug",
    "Kerk",
    "Molen",
    "Linde",
    "Eiken",
    "Wilgen",
    "Beek",
    "Duin",
    "Riet",
    "Vliet",
    "Haven",
    "Schans",
    "Gaast",
    "Holt",
)
_SUFFIX = (
    "dam",
    "dijk",
    "veen",
    "hoven",
    "wijk",
    "broek",
    "horst",
    "loo",
    "dorp",
    "burg",
    "zijl",
    "stede",
    "meer",
    "woude",
    "rade",
    "sum",
    "um",
    "haar",
    "lo",
    "weerd",
)
_WIJK = (
    "Centrum",
    "Noord",
    "Zuid",
    "Oost",
    "West",
    "Binnenstad",
    "Buitengebied",
    "Park",
    "Haven",
    "Kern",
    "Veld",
    "Hof",
    "Kwartier",
    "Polder",
    "Akkers",
    "Weide",
    "Singel",
)


@dataclass(frozen=True)
class World:
    """Gemeenten and wijken with their fixed traits (one row each)."""

    gemeenten: pd.DataFrame  # gemeente_code, gemeente_name, urbanity, n_wijken
    wijken: pd.DataFrame  # unit_code, unit_name, gemeente_code, vulnerability, ...


def _names(rng: np.random.Generator, n: int) -> list[str]:
    seen: set[str] = set()
    out = []
    while len(out) < n:
        name = rng.choice(_PREFIX) + rng.choice(_SUFFIX)
        if rng.random() < 0.15:
            name = f"{name} aan de {rng.choice(('Maas', 'Rijn', 'IJssel', 'Vecht', 'Lek'))}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def build_world(rng: np.random.Generator, n_gemeenten: int, wijken_per_gemeente: float) -> World:
    """Draw gemeenten, allot wijken to them (1 to 99 each) and draw each wijk's traits."""
    codes = np.sort(rng.choice(np.arange(1, 2000), size=n_gemeenten, replace=False))
    weights = rng.lognormal(0.0, 1.1, n_gemeenten)
    target = round(n_gemeenten * wijken_per_gemeente)
    n_w = 1 + np.floor(weights / weights.sum() * (target - n_gemeenten)).astype(int)
    n_w = np.minimum(n_w, 99)
    size_rank = n_w.argsort().argsort() / max(n_gemeenten - 1, 1)
    urbanity = np.clip(0.6 * size_rank + 0.4 * rng.random(n_gemeenten), 0, 1)
    gemeenten = pd.DataFrame(
        {
            "gemeente_code": [f"GM{c:04d}" for c in codes],
            "gemeente_name": _names(rng, n_gemeenten),
            "urbanity": urbanity,
            "n_wijken": n_w,
        }
    )
    rows = []
    for g in gemeenten.itertuples():
        labels = rng.permutation(len(_WIJK) * 6)[: g.n_wijken]
        for w, lab in enumerate(labels):
            base = _WIJK[lab % len(_WIJK)]
            name = base if lab < len(_WIJK) else f"{base} {lab // len(_WIJK) + 1}"
            rows.append((f"WK{g.gemeente_code[2:]}{w:02d}", name, g.gemeente_code, g.urbanity))
    wijken = pd.DataFrame(rows, columns=["unit_code", "unit_name", "gemeente_code", "urbanity"])
    n = len(wijken)
    g_index = wijken["gemeente_code"].map({c: i for i, c in enumerate(gemeenten["gemeente_code"])})
    gemeente_vuln = rng.normal(0.0, 0.4, n_gemeenten)
    wijken["vulnerability"] = (
        rng.normal(0.0, 1.0, n) + 0.8 * wijken["urbanity"] + gemeente_vuln[g_index.to_numpy()]
    )
    v = wijken["vulnerability"].to_numpy()
    wijken["corporation_base"] = np.clip(18 + 14 * v + rng.normal(0, 7, n), 2, 85)
    wijken["private_base"] = np.clip(8 + 6 * wijken["urbanity"] + rng.normal(0, 4, n), 1, 40)
    wijken["pre1970_base"] = np.clip(35 + 10 * v + rng.normal(0, 15, n), 2, 95)
    wijken["inhabitants_base"] = np.clip(rng.lognormal(np.log(4300), 0.75, n), 150, 40000)
    # Krachtwijken: the most vulnerable wijken of larger gemeenten (about 3 %).
    eligible = wijken["urbanity"] > 0.45
    score = np.where(eligible, v, -np.inf)
    n_kracht = max(1, round(0.03 * n))
    kracht = np.zeros(n, dtype=bool)
    kracht[np.argsort(-score)[:n_kracht]] = True
    wijken["krachtwijk"] = kracht
    return World(gemeenten=gemeenten, wijken=wijken)
