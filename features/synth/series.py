"""Yearly CBS and investment series for every wijk, 2002-2024 (true values, before the
rounding and the missing cells that publication adds).

The national paths encode the story the Dutch evidence tells:

* renewal investment by corporations is high until the crisis, then falls (2010-2014:
  crisis, landlord levy, the 2015 Woningwet narrowing corporations to social rent);
* corporations stop building for middle incomes from 2011 (EU state-aid rules);
* market parties leave vulnerable wijken after 2009 and come back only to attractive ones;
* vulnerable households concentrate from 2013: care moves into the home (Wmo 2015), inflow
  from shelters rises, status holders are housed (peaks 2016 and 2022-2024), and allocation
  rules concentrate the lowest incomes in social rent. The concentration lands where
  corporations own much of the stock, unevenly across wijken and gemeenten.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.synth.world import World

YEARS = np.arange(2002, 2025)


def _path(points: dict[int, float]) -> np.ndarray:
    """A national path over YEARS, linear between the given years, flat outside them."""
    xs = np.array(sorted(points))
    return np.interp(YEARS, xs, np.array([points[x] for x in xs]))


RENOVATION = _path({2002: 1.0, 2009: 1.0, 2011: 0.7, 2013: 0.45, 2016: 0.4, 2024: 0.5})
MIDDLE_INCOME = _path({2002: 1.0, 2010: 1.0, 2011: 0.4, 2012: 0.1, 2024: 0.1})
MARKET = _path({2002: 1.0, 2008: 1.0, 2010: 0.55, 2013: 0.55, 2016: 0.75, 2024: 0.9})
CONCENTRATION = _path({2002: 0.0, 2012: 0.0, 2014: 0.5, 2015: 1.0, 2017: 1.0, 2019: 0.8, 2024: 0.9})
STATUS_HOLDERS = _path(
    {2002: 0.5, 2014: 0.6, 2016: 3.0, 2017: 2.5, 2019: 1.2, 2022: 2.0, 2024: 2.2}
)
SHELTER = _path({2002: 0.3, 2014: 0.35, 2016: 1.0, 2024: 1.1})
WOZ_INDEX = _path({2002: 1.0, 2008: 1.25, 2013: 1.05, 2019: 1.45, 2024: 1.9})
PROGRAMME = (YEARS >= 2007) & (YEARS <= 2012)


def regimes(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """(n, years) standard-normal factors that stay constant for ``length`` years per unit,
    with a random phase, so that each unit's conditions shift at its own times."""
    n_blocks = len(YEARS) // length + 2
    z = rng.normal(0.0, 1.0, (n, n_blocks))
    phase = rng.integers(0, length, n)
    block = (np.arange(len(YEARS))[None, :] + phase[:, None]) // length
    return np.take_along_axis(z, block, axis=1)


def _gemeente_regimes(rng: np.random.Generator, world: World, length: int) -> np.ndarray:
    g = regimes(rng, len(world.gemeenten), length)
    index = world.wijken["gemeente_code"].map(
        {c: i for i, c in enumerate(world.gemeenten["gemeente_code"])}
    )
    return g[index.to_numpy()]


def _long(world: World, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    n, t = len(world.wijken), len(YEARS)
    frame = pd.DataFrame(
        {
            "unit_code": np.repeat(world.wijken["unit_code"].to_numpy(), t),
            "year": np.tile(YEARS, n),
        }
    )
    for name, values in columns.items():
        frame[name] = values.reshape(-1)
    return frame


def simulate(rng: np.random.Generator, world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (cbs, investment): long frames (unit_code, year, variables) of true values."""
    w = world.wijken
    n, t = len(w), len(YEARS)
    v = w["vulnerability"].to_numpy()[:, None]
    urban = w["urbanity"].to_numpy()[:, None]
    corp0 = w["corporation_base"].to_numpy()[:, None]
    kracht = w["krachtwijk"].to_numpy()[:, None]
    tt = (YEARS - 2002)[None, :].astype(float)

    def noise(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, (n, t))

    def loading(sd: float) -> np.ndarray:
        return rng.lognormal(0.0, sd, (n, 1))

    # --- population and households
    growth = rng.normal(0.004, 0.006, (n, 1))
    inhabitants = w["inhabitants_base"].to_numpy()[:, None] * np.exp(growth * tt + noise(0.01))
    hh_size = np.clip(2.35 - 0.25 * urban - 0.004 * tt + rng.normal(0, 0.15, (n, 1)), 1.4, 3.2)
    households = inhabitants / hh_size
    single = np.clip(22 + 18 * urban + 4 * v + 0.25 * tt + rng.normal(0, 5, (n, 1)), 5, 80)
    ages = np.stack(
        [
            np.clip(18 - 2 * urban + 1.0 * v - 0.08 * tt + rng.normal(0, 2, (n, 1)), 5, 35),
            np.clip(11 + 3 * urban + rng.normal(0, 2, (n, 1)) + 0 * tt, 4, 30),
            np.clip(27 + 6 * urban - 0.1 * tt + rng.normal(0, 3, (n, 1)), 10, 50),
            np.clip(29 - 2 * urban + 0.02 * tt + rng.normal(0, 2.5, (n, 1)), 10, 45),
            np.clip(14 - 1 * urban + 0.28 * tt + rng.normal(0, 3, (n, 1)), 3, 45),
        ]
    )
    ages = ages / ages.sum(axis=0, keepdims=True) * 100
    nonwestern = np.clip(
        2 + 28 / (1 + np.exp(-(1.4 * v + 1.5 * urban - 2.2))) + 0.15 * tt + noise(0.4), 0, 95
    )
    income = (27 - 3.5 * v + rng.normal(0, 2, (n, 1))) * (1.018**tt) + noise(0.2)

    # --- concentration of vulnerable households (the post-2012 mechanism)
    gem_conc = np.exp(0.35 * _gemeente_regimes(rng, world, 4))
    conc = np.minimum(
        CONCENTRATION[None, :]
        * (corp0 / 35) ** 1.5
        * np.exp(0.8 * regimes(rng, n, 4) - 0.3)
        * gem_conc,
        2.5,
    )
    low_income = np.clip(
        np.cumsum(0.6 * conc * loading(0.5) + noise(0.3), axis=1)
        + np.clip(8 + 5 * v + rng.normal(0, 2, (n, 1)), 1, 40),
        0.5,
        80,
    )
    bijstand = np.clip(
        np.cumsum(2.5 * conc * loading(0.5) + noise(1.0), axis=1)
        + np.clip(25 + 15 * v + rng.normal(0, 6, (n, 1)), 2, 150),
        0.5,
        400,
    )
    wmo = np.clip(
        np.cumsum(2.0 * conc * loading(0.5) + noise(1.2), axis=1)
        + 40
        + 8 * v
        + rng.normal(0, 8, (n, 1))
        + 15 * (YEARS >= 2015)[None, :],
        1,
        600,
    )
    shelter = np.clip(
        SHELTER[None, :] * (0.3 + corp0 / 30) * np.exp(0.6 * regimes(rng, n, 3) + noise(0.2))
        + 0.5 * conc * loading(0.4),
        0,
        50,
    )
    status = np.clip(
        STATUS_HOLDERS[None, :]
        * (0.4 + corp0 / 30)
        * np.exp(0.5 * regimes(rng, n, 3))
        * loading(0.4),
        0,
        80,
    )
    crimes = np.clip((55 + 25 * v + 20 * urban) * (0.97**tt) * np.exp(noise(0.08)), 2, 500)

    # --- housing stock
    dwellings = households * rng.uniform(1.01, 1.06, (n, 1))
    corp = np.clip(corp0 - 0.25 * tt * (1 + 0.5 * (YEARS >= 2013)[None, :]) + noise(0.5), 0, 95)
    private = np.clip(w["private_base"].to_numpy()[:, None] + 0.15 * tt + noise(0.5), 0, 60)
    owner = np.clip(100 - corp - private, 0, 100)
    woz = np.clip((230 - 45 * v + 60 * urban + rng.normal(0, 35, (n, 1))) * WOZ_INDEX, 60, 2000)

    # --- investment
    gem_renov = np.exp(0.3 * _gemeente_regimes(rng, world, 4))
    renewal = 1 + 1.2 * kracht * PROGRAMME[None, :]
    renovation = (
        RENOVATION[None, :]
        * 1500
        * (corp / 40)
        * renewal
        * gem_renov
        * np.exp(0.4 * regimes(rng, n, 3))
    )
    scale = inhabitants / 4300
    middle = rng.poisson(MIDDLE_INCOME[None, :] * (1.5 + 4 * kracht) * scale * loading(0.5))
    middle = middle + rng.poisson(0.4 * (YEARS >= 2016)[None, :] * scale * (v < -0.5))
    market = (
        MARKET[None, :]
        * 800
        * np.exp(-0.6 * v * (YEARS >= 2009)[None, :])
        * np.exp(0.4 * regimes(rng, n, 3))
    )
    programme = kracht * PROGRAMME[None, :] * 250 * loading(0.3)
    demolished = rng.poisson(dwellings * 0.002 * (1 + 3 * kracht * PROGRAMME[None, :]) * RENOVATION)
    added = rng.poisson(dwellings * 0.006 + 0.9 * demolished) + middle
    pre1970 = np.clip(w["pre1970_base"].to_numpy()[:, None] - 0.3 * tt + noise(0.3), 0, 100)

    cbs = _long(
        world,
        {
            "inhabitants": inhabitants,
            "age_0_14_pct": ages[0],
            "age_15_24_pct": ages[1],
            "age_25_44_pct": ages[2],
            "age_45_64_pct": ages[3],
            "age_65plus_pct": ages[4],
            "households": households,
            "single_person_hh_pct": single,
            "nonwestern_pct": nonwestern,
            "income_per_inhabitant": income,
            "low_income_hh_pct": low_income,
            "bijstand_per_1000": bijstand,
            "woz_value": woz,
            "dwellings": dwellings,
            "owner_occupied_pct": owner,
            "corporation_rent_pct": corp,
            "private_rent_pct": private,
            "built_pre1970_pct": pre1970,
            "dwellings_added": added,
            "dwellings_demolished": demolished,
            "wmo_clients_per_1000": wmo,
            "crimes_per_1000": crimes,
            "shelter_inflow_per_1000": shelter,
            "status_holders_per_1000": status,
        },
    )
    investment = _long(
        world,
        {
            "corp_renovation_per_dwelling": renovation,
            "middle_income_new_dwellings": middle.astype(float),
            "market_investment_per_dwelling": market,
            "krachtwijk": (kracht * PROGRAMME[None, :]).astype(float),
            "programme_budget_per_dwelling": programme,
        },
    )
    return cbs, investment
