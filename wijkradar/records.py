"""The typed records the workspace keeps beside its files: the panel meta (``panel.json``)
and a run's manifest (``manifest.json``). Pure data and their JSON forms; the catalog reads
and writes them, and nothing else spells their keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from wijkradar.errors import WijkradarError

ALL_GEMEENTEN = "all"  # the manifest's scope of a run of every gemeente



@dataclass(frozen=True)
class SourceFileNote:
    """What the panel meta records of one source file that states its own dates and codes:
    the reference date, the publication date (ISO dates, or None where the file says
    nothing), and how many cells held CBS's codes for secret (-99997) and not yet available
    (-99995) values, which the reader turned into missing values."""

    file: str
    reference_date: str | None = None
    published: str | None = None
    secret: int = 0
    unavailable: int = 0


@dataclass(frozen=True)
class PlaceNote:
    """How the panel's units met their boundaries: polygons read, units with and without a
    polygon, polygons without a unit, and units that got a gemeente from their location."""

    level: str
    polygons: int
    units_with_polygon: int
    units_without_polygon: int
    polygons_without_unit: int
    units_with_gemeente: int
    neighbour_pairs: int


@dataclass(frozen=True)
class IgnoredColumn:
    """A source column that is neither built in nor mapped (``columns``): listed, never
    silently dropped."""

    file: str
    column: str


@dataclass(frozen=True)
class MappedColumn:
    """A further column a source maps through its ``columns`` table: the panel name it
    became, how its values were checked (count, share, rate, amount), its labels ("" when
    the config gives none) and its header (or OData code) in the source."""

    name: str
    kind: str
    label: str = ""
    label_nl: str = ""
    source: str = ""
    plural: bool = False  # its labels name more than one (the verbs of a driver sentence)


@dataclass(frozen=True)
class SourceUse:
    """One source as a row's features know it: the newest reference year used and the date it
    was published (ISO)."""

    source: str  # for people: "Leefbarometer", "CBS", "CBS income", "investment", ...
    reference_year: int
    published: str


@dataclass(frozen=True)
class KnowledgeNote:
    """What the rows of one as-of year knew: their knowledge date (ISO) and, per source, the
    newest reference year they use and its publication date."""

    as_of_year: int
    knowledge_date: str
    sources: tuple[SourceUse, ...] = ()


@dataclass(frozen=True)
class PanelMeta:
    """What ``panel/panel.json`` says of the panel beside it.

    ``features`` are the panel's feature columns; ``context_features`` those of them that no
    labelled row holds (a source that covers only recent years): they are shown beside a
    unit's drivers but cannot enter a model.
    """

    fingerprint: str  # of the source files and the panel/label settings
    sources_fingerprint: str
    rows: int
    units: int
    as_of_years: list[int]
    features: list[str]
    level: str
    delta: float
    built: str  # ISO time
    context_features: list[str] = field(default_factory=list)
    source_files: tuple[SourceFileNote, ...] = ()
    places: PlaceNote | None = None
    knowledge: tuple[KnowledgeNote, ...] = ()
    ignored_columns: tuple[IgnoredColumn, ...] = ()
    content_hash: str = ""  # SHA-256 of panel.parquet's bytes, checked before every use
    mapped_columns: tuple[MappedColumn, ...] = ()  # the sources' ``columns``, with labels

    @property
    def model_features(self) -> list[str]:
        """The features a model may use: every feature that is not context."""
        context = set(self.context_features)
        return [f for f in self.features if f not in context]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PanelMeta:
        required = {f.name for f in fields(cls) if f.default is MISSING
                    and f.default_factory is MISSING}
        missing = sorted(required - set(data))
        if missing:
            raise WijkradarError(
                f"The panel meta lacks {', '.join(missing)}; rebuild with `wijkradar panel "
                f"--force`."
            )
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["source_files"] = tuple(
            SourceFileNote(**note) for note in values.get("source_files", ())
        )
        if values.get("places") is not None:
            values["places"] = PlaceNote(**values["places"])
        values["knowledge"] = tuple(
            KnowledgeNote(
                as_of_year=note["as_of_year"],
                knowledge_date=note["knowledge_date"],
                sources=tuple(SourceUse(**use) for use in note.get("sources", ())),
            )
            for note in values.get("knowledge", ())
        )
        values["ignored_columns"] = tuple(
            IgnoredColumn(**note) for note in values.get("ignored_columns", ())
        )
        values["mapped_columns"] = tuple(
            MappedColumn(**column) for column in values.get("mapped_columns", ())
        )
        return cls(**values)


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says of the run folder it is in."""

    run_id: str
    as_of_year: int
    model_name: str
    model_version: str
    model_run_id: str
    panel_fingerprint: str
    row_count: int
    features: tuple[str, ...]
    additivity_max_error: float
    previous_run: str | None  # the run the rank changes compare with
    drift_flagged: tuple[str, ...]
    units_flagged_missing: int
    gemeenten: tuple[str, ...] | str  # the exported gemeenten, or ALL_GEMEENTEN
    created: str  # local time, ISO
    knowledge_date: str | None = None  # what the scored rows knew (ISO); None: no calendar
    sources: tuple[SourceUse, ...] = ()  # per source: newest reference year and its date
    files: dict[str, str] = field(default_factory=dict)  # relative path -> SHA-256
    panel_hash: str = ""  # SHA-256 of the panel file that was actually scored
    drift_profile: str = "checked"  # or "missing (allowed)": --allow-missing-profile
    explain_method: str = ""  # fast, native or interventional
    exports: str = "run"  # "on_demand": the analysts' files are made by `wijkradar export`

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        optional = {"files", "knowledge_date", "sources", "panel_hash", "drift_profile",
                    "explain_method", "exports"}
        required = {f.name for f in fields(cls)} - optional
        missing = sorted(required - set(data))
        if missing:
            raise WijkradarError(
                f"The run manifest lacks {', '.join(missing)}; it needs every one of "
                f"{', '.join(sorted(required))}. Score again with `wijkradar score`."
            )
        gemeenten = data["gemeenten"]
        return cls(
            **{k: data[k] for k in required - {"features", "drift_flagged", "gemeenten"}},
            features=tuple(data["features"]),
            drift_flagged=tuple(data["drift_flagged"]),
            gemeenten=gemeenten if isinstance(gemeenten, str) else tuple(gemeenten),
            knowledge_date=data.get("knowledge_date"),
            sources=tuple(SourceUse(**use) for use in data.get("sources", ())),
            files=dict(data.get("files", {})),
            panel_hash=str(data.get("panel_hash", "")),
            drift_profile=str(data.get("drift_profile", "checked")),
            explain_method=str(data.get("explain_method", "")),
            exports=str(data.get("exports", "run")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the same keys, lists for the tuples."""
        out = asdict(self)
        for key in ("features", "drift_flagged", "gemeenten", "sources"):
            if isinstance(out[key], tuple):
                out[key] = list(out[key])
        return out
