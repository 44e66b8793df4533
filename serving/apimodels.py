"""Response models of the read-only API (``serving.api``): the OpenAPI schema is built from
these. Risks are probabilities 0..1; contributions and margins are log-odds; missing values
are ``null``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

# Codes as CBS writes them: GM + 4 digits, WK + 4 digits + 2, BU + 4 digits + 4 (Amsterdam
# uses capital letters in the last places), or a 4-digit postcode area. Checked before any
# lookup, so nothing else ever reaches the data.
UNIT_CODE_PATTERN = r"^(GM[0-9]{4}|WK[0-9]{4}[0-9A-Z]{2}|BU[0-9]{4}[0-9A-Z]{4}|[0-9]{4})$"
GEMEENTE_CODE_PATTERN = r"^GM[0-9]{4}$"
MAX_LIMIT = 500


class LangKey(StrEnum):
    """The language of the texts in a response: Dutch (the default) or English."""

    nl = "nl"
    en = "en"


class SortKey(StrEnum):
    """Sort order of the ranking: a column, descending with a leading ``-``. Ties by rank."""

    rank = "rank"
    rank_desc = "-rank"
    risk = "risk"
    risk_desc = "-risk"
    unit_code = "unit_code"
    unit_code_desc = "-unit_code"
    unit_name = "unit_name"
    unit_name_desc = "-unit_name"
    gemeente_name = "gemeente_name"
    gemeente_name_desc = "-gemeente_name"
    rank_in_gemeente = "rank_in_gemeente"
    rank_in_gemeente_desc = "-rank_in_gemeente"
    rank_change = "rank_change"
    rank_change_desc = "-rank_change"
    top_drivers = "top_drivers"
    top_drivers_desc = "-top_drivers"


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    scored_years: list[int]
    panel: bool = Field(description="Whether the workspace has a panel (feature values).")
    boundaries: bool = Field(description="Whether the workspace has boundaries/units.geojson.")


class SourceUse(BaseModel):
    source: str = Field(description="The source, for people: 'Leefbarometer', 'CBS income'...")
    reference_year: int = Field(description="The newest reference year the scored rows use.")
    published: str = Field(description="When that year's values were published (ISO date).")


class RunSummary(BaseModel):
    run_id: str
    as_of_year: int
    created: str | None
    model_name: str | None
    model_version: str | None
    model_run_id: str | None
    panel_fingerprint: str | None
    row_count: int | None
    additivity_max_error: float | None
    latest: bool = Field(description="Whether scores/<year>/latest names this run.")
    knowledge_date: str | None = Field(
        None, description="What the scored rows knew: their knowledge date (ISO); null for a "
        "panel built without a publication calendar."
    )
    sources: list[SourceUse] = Field(
        default_factory=list, description="Per source, the newest reference year used."
    )
    knowledge_line: str | None = Field(
        None, description="The same in Dutch words, as the page and the exports show it: "
        "'Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024, CBS inkomen 2022'."
    )
    created_text: str | None = Field(None, description="``created`` in words ('14 mei 2025').")


class YearRuns(BaseModel):
    as_of_year: int
    latest_run_id: str
    runs: list[RunSummary] = Field(description="Published runs of the year, oldest first.")


class RunsResponse(BaseModel):
    years: list[YearRuns]


class RankingRow(BaseModel):
    rank: int
    unit_code: str
    unit_name: str | None
    gemeente_code: str | None
    gemeente_name: str | None
    risk: float | None
    rank_in_gemeente: int | None
    top_drivers: str | None
    previous_rank: int | None = Field(description="Rank in the previous run of the year.")
    rank_change: int | None = Field(
        description="previous_rank - rank: positive means the unit rose towards rank 1."
    )
    in_top10: bool = Field(description="Within the top 10 % of the national ranking.")
    new_in_top10: bool | None = Field(
        description="In the top 10 % now but not in the previous run; null without one."
    )
    relative: float | None = Field(None, description="risk / base_rate.")
    relative_text: str | None = Field(None, description="'3,1× het landelijk gemiddelde'.")
    band: str | None = Field(None, description="The risk band's key (serving.context.BANDS).")
    band_label: str | None = None


class BandInfo(BaseModel):
    """A risk band (docs/risk_bands.md): units from ``min_ratio`` times the base rate."""

    key: str
    label: str
    colour: str
    min_ratio: float
    description: str


class RankingPage(BaseModel):
    as_of_year: int
    run_id: str
    previous_run_id: str | None
    n_units: int = Field(description="Units in the ranking.")
    total: int = Field(description="Units matching the filter.")
    top10_rank: int = Field(description="The lowest rank still in the top 10 %.")
    offset: int
    limit: int
    sort: SortKey
    base_rate: float = Field(description="The national average risk of the run.")
    base_rate_text: str
    context_line: str = Field(description="As-of year, knowledge date, what is predicted.")
    bands: list[BandInfo]
    rows: list[RankingRow]


class Driver(BaseModel):
    feature: str
    label: str = Field(description="The feature in words.")
    value: float | None = Field(description="The unit's feature value (from the panel).")
    value_text: str = Field(description="The value in words, with its unit or class name.")
    contribution: float = Field(description="SHAP contribution to the log-odds.")
    gemeente_median: float | None
    gemeente_text: str
    national_median: float | None
    national_text: str


class DriverWords(BaseModel):
    feature: str
    label: str
    sentence: str = Field(description="'het aandeel ... steeg 5,4 procentpunt in 3 jaar'.")
    value_text: str
    contribution: float
    domain: str
    raises_risk: bool


class DriverGroup(BaseModel):
    """The largest drivers of one policy domain (features.domains)."""

    domain: str
    label: str
    total: float = Field(description="The domain's summed contribution (log-odds).")
    drivers: list[DriverWords]


class Peer(BaseModel):
    """One of the units nearest in profile (z-scores of the model's features)."""

    unit_code: str
    title: str
    gemeente_name: str | None
    risk: float | None
    rank: int
    band: str | None
    band_label: str | None
    relative_text: str | None
    distance: float


class Compared(BaseModel):
    """One measure of the unit against its gemeente, its peers and the country."""

    key: str
    label: str
    values: list[float | None] = Field(description="unit, gemeente, peers, national (medians).")
    texts: list[str]


class ContextValue(BaseModel):
    """A context feature: a panel feature no labelled row holds (a source that covers only
    recent years), so no model uses it; shown as the unit's profile against the medians."""

    feature: str
    label: str = Field(description="The feature in words (in the request's language).")
    unit: str = Field(description="What the number counts, in words.")
    value: float | None = Field(description="The unit's value in the as-of year.")
    value_text: str
    gemeente_median: float | None
    gemeente_text: str
    national_median: float | None
    national_text: str


class LbmPoint(BaseModel):
    as_of_year: int
    lbm: float | None = Field(description="The last Leefbarometer score at or before the year.")
    measurement_year: int | None
    dimensions: dict[str, float | None] = Field(
        default_factory=dict, description="The Leefbarometer dimensions (lbm_fys...)."
    )


class RiskPoint(BaseModel):
    as_of_year: int
    run_id: str
    created: str | None
    model_version: str | None
    risk: float | None
    rank: int | None
    latest: bool


class UnitDetail(BaseModel):
    unit_code: str
    unit_name: str | None
    gemeente_code: str | None
    gemeente_name: str | None
    title: str = Field(description="Name, code (unless the name holds it) and gemeente.")
    as_of_year: int
    run_id: str
    risk: float | None
    risk_text: str | None
    relative: float | None
    relative_text: str | None
    band: str | None
    band_label: str | None
    base_rate: float
    base_rate_text: str
    context_line: str
    measurement_year: int | None
    margin: float | None
    base_value: float | None
    rank: int
    rank_in_gemeente: int | None = Field(description="Null when the unit has no gemeente.")
    n_units: int
    n_in_gemeente: int
    in_top10: bool
    new_in_top10: bool | None
    previous_rank: int | None
    rank_change: int | None
    top_drivers: str | None = Field(description="The ranking file's top drivers, in words.")
    top_driver_features: list[str] = Field(
        description="Features of the top drivers: the (up to 3) largest positive contributions."
    )
    drivers: list[Driver] = Field(description="Every feature, largest |contribution| first.")
    driver_groups: list[DriverGroup] = Field(
        default_factory=list, description="The 8 largest drivers in words, by policy domain."
    )
    context: list[ContextValue] = Field(
        default_factory=list,
        description="The panel's context features that the as-of year holds, in the panel "
        "meta's order; not in the model, so without a contribution.",
    )
    panel_matches_run: bool = Field(
        description="Whether the panel's fingerprint is the one the run was scored on (if not, "
        "feature values and medians come from a newer panel)."
    )
    lbm_history: list[LbmPoint]
    lbm_dimensions: dict[str, str] = Field(default_factory=dict, description="Their labels.")
    risk_history: list[RiskPoint]
    peers: list[Peer] = Field(default_factory=list, description="The 10 nearest in profile.")
    comparison: list[Compared] = Field(default_factory=list)
    freshness: list[str] = Field(default_factory=list, description="The data's dates, in words.")


class Gemeente(BaseModel):
    gemeente_code: str
    gemeente_name: str | None
    n_units: int
    mean_risk: float | None
    n_top10: int


class GemeentenResponse(BaseModel):
    as_of_year: int
    run_id: str
    gemeenten: list[Gemeente] = Field(description="Sorted by name, as in the filter.")


class ModelVersion(BaseModel):
    name: str
    version: str
    run_id: str = Field(description="The MLflow run that trained it.")
    created: str | None
    tags: dict[str, str]
    is_champion: bool


class ValidationTable(BaseModel):
    """The validation table exactly as the static report shows it (display strings)."""

    headers: list[str]
    rows: list[list[str]]
    primary: list[bool]


class PublishedWith(BaseModel):
    as_of_year: int
    run_id: str
    model_version: str | None


class ModelInfo(BaseModel):
    """The model described (the champion, or with ``as_of`` the model that scored that year's
    latest run, as the static report does) and its training run's evaluation."""

    available: bool
    message: str | None = None
    model: ModelVersion | None = Field(default=None, description="The model described.")
    champion: ModelVersion | None = None
    evaluation: list[dict[str, Any]] = Field(
        default_factory=list, description="The training run's evaluation table, one row each."
    )
    validation: ValidationTable | None = None
    model_card: str | None = Field(default=None, description="Markdown, when the run has "
                                   "one: in the request's lang, else in the other.")
    model_card_html: str | None = Field(
        default=None, description="The model card as HTML (Markdown rendered, raw HTML escaped)."
    )
    quality_text: str | None = Field(default=None, description="The quality in plain words.")
    quality_year: int | None = None
    published_with: list[PublishedWith] = Field(
        default_factory=list, description="The model version behind each year's latest run."
    )


class Topology(BaseModel):
    """A TopoJSON Topology: objects ``units`` and ``gemeenten`` (GeometryCollections of
    Polygons and MultiPolygons, ``id`` the code), quantized, delta-encoded arcs."""

    type: Literal["Topology"] = "Topology"
    bbox: list[float]
    transform: dict[str, list[float]]
    objects: dict[str, Any]
    arcs: list[list[list[int]]]


class MapUnits(BaseModel):
    """The drawn units' values as columns, in the order of the topology's units."""

    unit_code: list[str]
    unit_name: list[str | None]
    gemeente_code: list[str | None]
    rank: list[int | None]
    risk: list[float | None]
    band: list[str | None]
    lbm: list[float | None]
    lbm_change: list[float | None] = Field(description="Change since the previous measurement.")
    top_driver: list[int | None] = Field(description="Index into driver_labels.")


class MapGemeenten(BaseModel):
    gemeente_code: list[str]
    gemeente_name: list[str | None]
    label: list[list[float]] = Field(description="Where the name is written (lon, lat).")


class MapResponse(BaseModel):
    """The units shown (all, or one gemeente's) and the gemeente outlines near them; national
    maps of many units are simplified more (a unit is a few pixels wide)."""

    as_of_year: int
    run_id: str
    n_units: int
    n_shown: int
    gemeente: str | None
    base_rate: float
    delta: float | None = Field(description="The decline the label counts (0.05: 0.05 or more).")
    context_line: str
    bands: list[BandInfo]
    driver_labels: list[str]
    topology: Topology
    units: MapUnits
    gemeenten: MapGemeenten


class Problem(BaseModel):
    detail: str
