"""Generate the sources, the truth and the config of a synthetic NL-sized workspace.

Order of events: the world and the yearly CBS and investment series are drawn; they are
published (rounded, with missing cells, in StatLine format) and read back through the same
readers a user's files go through. The Leefbarometer is then simulated measurement by
measurement: at each measurement year T the panel features are built from the sources up to T,
the true logit gives p_decline, the decline event is drawn, and the next score is drawn
consistently with it (a fall of at least delta if and only if the event happened).

The sources are published on a calendar (``CALENDARS``, written into the generated
``wijkradar.toml``): CBS population and housing of reference year Y on 1 July Y+1, CBS income,
social assistance and Wmo care on 1 July Y+2, a Leefbarometer measurement of Y on 1 July Y+1,
investment of Y on 1 March Y+1. The truth's panels use the same publication table and the
default knowledge rule, so ``p_decline`` and ``true_shap__*`` are functions of the features
known at each row's knowledge date, the features a model sees.

The intercept of each period after 2012 is calibrated so that its decline rate is
``base_rate`` (the one value that sets how rare the world is); the earlier periods keep
``mechanism.INTERCEPT``, the calibration of the first version (2012-2014: about a third of the
130 weakest wijken decline). ``true_shap__*`` are the exact interventional Shapley values of
the true logit with the rows of the same as-of year as the background (``mechanism.shapley``).

The panel of each measurement year is built with the adjacency of the synthetic wijken, as
``features.geo.adjacency`` finds it on the boundaries file written here, so the spill-over
between adjacent wijken (``nb_lbm_chg_prev`` in ``mechanism.DRIVERS``) acts on the features a
model sees when the panel stage reads the same file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import truncnorm

from features import calendar, readers
from features import panel as panel_mod
from features.geo import adjacency
from features.harmonize import harmonize
from features.schema import LBM_DIMENSIONS
from features.sources import source_frame
from features.synth import formats, mechanism, mergers, series
from features.synth.boundaries import synthetic_boundaries
from features.synth.world import World, build_world
from wijkradar.calendar import KNOWLEDGE_LBM, Calendar, CalendarGroup
from wijkradar.config import SourceConfig

MEASUREMENT_YEARS = (2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022, 2024)
LBM_REFERENCE = 4.1022649  # the national reference the deviation (afw) is taken from
DELTA = 0.05
CHANGE_LAGS = (1, 3)
# How a change in the total score divides over the dimensions (a decline is mostly social
# cohesion and nuisance/unsafety).
DIMENSION_SHARES = {"fys": 0.1, "onv": 0.35, "soc": 0.35, "vrz": 0.05, "won": 0.15}
BASE_RATE = 0.05  # the decline rate of every period after 2012 (real: 3.6-6.7 %, LBM 3.0 PC4)
CALIBRATED_FROM = 2014  # as-of years from which the intercept is calibrated to base_rate
INCOME_VARIABLES = (
    "income_per_inhabitant",
    "low_income_hh_pct",
    "bijstand_per_1000",
    "wmo_clients_per_1000",
)
# The publication calendar of each generated source kind (written into wijkradar.toml).
CALENDARS: dict[str, Calendar] = {
    "cbs_kwb_csv": Calendar(
        years_after=1,
        on="07-01",
        groups=(CalendarGroup("income", years_after=2, on="07-01", variables=INCOME_VARIABLES),),
    ),
    "lbm3_scores": Calendar(years_after=1, on="07-01"),
    "investment_csv": Calendar(years_after=1, on="03-01"),
}


@dataclass(frozen=True)
class SyntheticData:
    files: dict[str, str]  # path relative to the workspace -> text
    truth: pd.DataFrame
    config: str


def calendar_toml(calendar: Calendar) -> str:
    """A source's ``[source.calendar]`` table (and its groups) in the config's TOML form."""
    lines = ["[source.calendar]", f"years_after = {calendar.years_after}", f'on = "{calendar.on}"']
    for group in calendar.groups:
        names = ", ".join(f'"{v}"' for v in group.variables)
        lines += ["", "[[source.calendar.groups]]", f'name = "{group.name}"']
        lines.append(f"years_after = {group.years_after}")
        if group.on is not None:
            lines.append(f'on = "{group.on}"')
        lines.append(f"variables = [{names}]")
    return "\n".join(lines) + "\n"


def _config_text(seed: int) -> str:
    cbs, lbm, inv = (calendar_toml(CALENDARS[k]) for k in CALENDARS)
    return f"""# wijkradar config, written by `wijkradar generate --seed {seed}`.
# Paths are relative to this file's folder. The calendars say when the generated sources
# published each reference year (CBS income, bijstand and Wmo two years after, the rest one).

[[source]]
kind = "cbs_kwb_csv"
path = "sources/cbs"

{cbs}
[[source]]
kind = "lbm3_scores"
path = "sources/leefbarometer/lbm3_scores_wijk.csv"

{lbm}
[[source]]
kind = "investment_csv"
path = "sources/investment/investment.csv"

{inv}
[[source]]
kind = "crosswalk"
path = "sources/crosswalk/crosswalk.csv"

[[source]]
kind = "boundaries"
path = "boundaries/units.geojson"
level = "wijk"
code_field = "unit_code"

[panel]
level = "wijk"
change_lags = [1, 3]

[label]
kind = "score_drop"
delta = {DELTA}

[model]
num_leaves = 8
max_depth = 3
learning_rate = 0.05
n_estimators = 2000
min_child_samples = 40

[validation]
min_train_years = 2
n_folds = 3

[tracking]
# uri = "http://mlflow.example.internal:5000"   # a shared server; empty = workspace SQLite
"""


def _initial_lbm(rng: np.random.Generator, wijken: pd.DataFrame) -> pd.DataFrame:
    n = len(wijken)
    v = wijken["vulnerability"].to_numpy()
    lbm = 4.0 - 0.11 * v + 0.05 * wijken["urbanity"].to_numpy() + rng.normal(0, 0.06, n)
    frame = pd.DataFrame(
        {
            "unit_code": wijken["unit_code"].to_numpy(),
            "unit_name": wijken["unit_name"].to_numpy(),
            "level": "wijk",
            "year": MEASUREMENT_YEARS[0],
            "lbm": lbm,
        }
    )
    afw = lbm - LBM_REFERENCE
    spread = rng.normal(0, 0.04, (n, len(LBM_DIMENSIONS)))
    spread -= spread.mean(axis=1, keepdims=True)
    for j, dim in enumerate(LBM_DIMENSIONS):
        frame[dim] = afw * DIMENSION_SHARES[dim] + spread[:, j]
    frame["afw"] = afw
    return frame


def _next_measurement(
    rng: np.random.Generator,
    current: pd.DataFrame,
    features: pd.DataFrame,
    declined: np.ndarray,
    year: int,
    years: int,
) -> pd.DataFrame:
    """Scores at ``year``: a fall of at least DELTA where ``declined``, else a change above
    -DELTA around the drift that renewal investment sustains."""
    n = len(current)
    renov = np.nan_to_num(features["corp_renovation_per_dwelling"].to_numpy(), nan=0.0)
    kracht = np.nan_to_num(features["krachtwijk"].to_numpy(), nan=0.0)
    level = current["lbm"].to_numpy()
    drift = years * (
        0.001 + 0.004 * np.minimum(renov / 1500.0, 2.0) + 0.006 * kracht + 0.03 * (3.95 - level)
    )
    sd = 0.012 * np.sqrt(years) + 0.008
    lower = (-DELTA + 1e-6 - drift) / sd
    rise = truncnorm.rvs(lower, np.inf, loc=drift, scale=sd, random_state=rng)
    fall = -DELTA - 1e-6 - rng.exponential(0.035, n)
    change = np.where(declined, fall, rise)
    nxt = current.copy()
    nxt["year"] = year
    nxt["lbm"] = current["lbm"].to_numpy() + change
    nxt["afw"] = nxt["lbm"] - LBM_REFERENCE
    noise = rng.normal(0, 0.01, (n, len(LBM_DIMENSIONS)))
    noise -= noise.mean(axis=1, keepdims=True)
    for j, dim in enumerate(LBM_DIMENSIONS):
        nxt[dim] = current[dim].to_numpy() + change * DIMENSION_SHARES[dim] + noise[:, j]
    return nxt


def wijk_adjacency(boundaries: dict[str, Any]) -> pd.DataFrame:
    """The wijken that share a border in the generated boundaries (a GeoJSON mapping), as
    ``features.geo.adjacency`` finds them."""
    frame = gpd.GeoDataFrame.from_features(boundaries["features"], crs="EPSG:4326")
    return adjacency(frame[["unit_code", "geometry"]])


def truth_rows(feats: pd.DataFrame, year: int, base_rate: float) -> pd.DataFrame:
    """The truth of one as-of year's panel rows: p_decline, the logit, its base and the exact
    interventional Shapley values against the rows of the same year."""
    total = mechanism.terms(feats)
    intercept = (
        mechanism.calibrated_intercept(total, base_rate)
        if year >= CALIBRATED_FROM
        else mechanism.INTERCEPT
    )
    shap, base = mechanism.shapley(feats, feats, intercept)
    rows = feats[["unit_code", "as_of_year"]].copy()
    rows["true_logit"] = total + intercept
    rows["p_decline"] = mechanism.sigmoid(rows["true_logit"].to_numpy())
    rows["true_base"] = base
    return pd.concat([rows, shap], axis=1)


def knowledge_inputs(
    cbs: pd.DataFrame, lbm: pd.DataFrame, investment: pd.DataFrame
) -> dict[str, Any]:
    """The ``published`` table and ``knowledge`` rule the truth's panels are built with: the
    generated sources on ``CALENDARS`` (as the config written here declares them) and the
    default knowledge rule (a row knows what was published by the day its as-of
    Leefbarometer measurement was)."""
    paths = {
        "cbs_kwb_csv": "sources/cbs",
        "lbm3_scores": "sources/leefbarometer/lbm3_scores_wijk.csv",
        "investment_csv": "sources/investment/investment.csv",
    }
    frames = [
        source_frame(
            SourceConfig(kind=kind, path=Path(paths[kind]), calendar=CALENDARS[kind]),
            part,
            paths[kind],
            frame,
        )
        for kind, part, frame in (
            ("cbs_kwb_csv", "cbs", cbs),
            ("lbm3_scores", "lbm", lbm),
            ("investment_csv", "investment", investment),
        )
    ]
    return {"published": calendar.publication_table(frames), "knowledge": KNOWLEDGE_LBM}


@dataclass(frozen=True)
class _Sources:
    files: dict[str, str]
    merged: mergers.Mergers
    cbs: pd.DataFrame  # as read back, before harmonisation (for the LBM harmonisation)
    cbs_h: pd.DataFrame
    investment_h: pd.DataFrame
    unit_names: dict[str, str]
    neighbours: pd.DataFrame


def _publish_sources(
    rng: np.random.Generator, world: World, n_mergers: int, missing_share: float, seed: int
) -> _Sources:
    cbs_true, investment_true = series.simulate(rng, world)
    merged = mergers.plan(rng, world, n_mergers)
    published = mergers.publish_codes(formats.publish_cbs(cbs_true, rng, missing_share), merged)
    gm_names = {
        **dict(
            zip(world.gemeenten["gemeente_code"], world.gemeenten["gemeente_name"], strict=True)
        ),
        **merged.gemeente_names,
    }
    unit_names = dict(zip(world.wijken["unit_code"], world.wijken["unit_name"], strict=True))
    final = merged.final_code()
    unit_names.update({final[c]: unit_names[c] for c in final})
    units = world.wijken[["unit_code", "unit_name"]].copy()
    units["unit_code"] = units["unit_code"].map(lambda c: final.get(c, c))
    units["gemeente_code"] = "GM" + units["unit_code"].str[2:6]
    units["gemeente_name"] = units["gemeente_code"].map(gm_names)
    files: dict[str, str] = {}
    for year in series.YEARS:
        files[f"sources/cbs/kwb-{year}.csv"] = formats.statline_csv(
            published, gm_names, unit_names, int(year)
        )
    files["sources/investment/investment.csv"] = formats.investment_csv(
        mergers.publish_codes(investment_true, merged)
    )
    files["sources/crosswalk/crosswalk.csv"] = mergers.crosswalk_csv(merged)
    boundaries = synthetic_boundaries(units, seed)
    files["boundaries/units.geojson"] = json.dumps(boundaries)
    # Read back exactly what a user of these files would see, in the newest codes.
    cbs = pd.concat(
        [readers.parse_cbs_kwb_csv(text, name) for name, text in files.items() if "/cbs/" in name],
        ignore_index=True,
    )
    investment = readers.parse_investment_csv(
        files["sources/investment/investment.csv"], "investment"
    )
    cbs_h, _, investment_h = harmonize(cbs, None, investment, merged.crosswalk)
    return _Sources(
        files, merged, cbs, cbs_h, investment_h, unit_names, wijk_adjacency(boundaries)
    )


def generate(
    seed: int = 0,
    n_gemeenten: int = 342,
    wijken_per_gemeente: float = 10.2,
    missing_share: float = 0.01,
    n_mergers: int = 6,
    base_rate: float = BASE_RATE,
) -> SyntheticData:
    """A whole synthetic workspace's content, deterministic for ``seed``. ``base_rate`` is
    the decline rate of every period after 2012."""
    if n_gemeenten < 1:
        raise ValueError(f"The 'n_gemeenten' parameter must be >= 1. Got {n_gemeenten} instead.")
    if not 0.0 < base_rate < 1.0:
        raise ValueError(f"The 'base_rate' parameter must lie in (0, 1). Got {base_rate}.")
    rng = np.random.default_rng(seed)
    world = build_world(rng, n_gemeenten, wijken_per_gemeente)
    src = _publish_sources(
        rng, world, n_mergers if n_gemeenten >= 10 else 0, missing_share, seed
    )
    sim_code = {v: k for k, v in src.merged.final_code().items()}
    measurements = [_initial_lbm(rng, world.wijken)]
    truth = []
    for i, year in enumerate(MEASUREMENT_YEARS):
        so_far = mergers.publish_codes(pd.concat(measurements, ignore_index=True), src.merged)
        _, lbm, _ = harmonize(src.cbs, so_far, None, src.merged.crosswalk)
        feats = panel_mod.build_panel(
            src.cbs_h,
            lbm,
            src.investment_h,
            level="wijk",
            change_lags=CHANGE_LAGS,
            delta=DELTA,
            years=[year],
            adjacency=src.neighbours,
            **knowledge_inputs(src.cbs_h, lbm, src.investment_h),
        )
        rows = truth_rows(feats, year, base_rate)
        if i + 1 < len(MEASUREMENT_YEARS):
            sim_units = feats["unit_code"].map(lambda c: sim_code.get(c, c))
            current = measurements[-1].set_index("unit_code").loc[sim_units].reset_index()
            declined = rng.random(len(rows)) < rows["p_decline"].to_numpy()
            nxt = MEASUREMENT_YEARS[i + 1]
            measurements.append(_next_measurement(rng, current, feats, declined, nxt, nxt - year))
            rows["declined"] = pd.array(declined.astype("int8"), dtype="Int8")
        else:
            rows["declined"] = pd.array([pd.NA] * len(rows), dtype="Int8")
        truth.append(rows)
    lbm = mergers.publish_codes(pd.concat(measurements, ignore_index=True), src.merged)
    files = {**src.files}
    files["sources/leefbarometer/lbm3_scores_wijk.csv"] = formats.lbm3_csv(lbm, src.unit_names)
    table = pd.concat(truth, ignore_index=True)
    ids = ["unit_code", "as_of_year", "p_decline", "declined", "true_logit", "true_base"]
    out = table[ids + [c for c in table.columns if c.startswith("true_shap__")]]
    return SyntheticData(files=files, truth=out, config=_config_text(seed))
