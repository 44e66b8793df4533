"""Typed configuration: one TOML file read into frozen dataclasses.

A config lists the sources (``[[source]]`` tables with ``kind`` and ``path``), the label
definition (``[label]``), the model's hyperparameters (``[model]``), temporal validation
(``[validation]``), the panel grain (``[panel]``) and, optionally, a shared MLflow server
(``[tracking] uri``). Relative paths are resolved against the config file's folder.

Unknown sections, keys or source kinds are errors that name them: a typo must never be
silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any, Literal

from wijkradar.calendar import KNOWLEDGE_LBM, Calendar, parse_calendar
from wijkradar.errors import ConfigError
from wijkradar.sourceconfig import UNIT_LEVELS, SourceConfig, parse_source


@dataclass(frozen=True)
class PanelConfig:
    """The grain of the panel: which units, and the CBS changes computed as features."""

    level: Literal["gemeente", "wijk", "buurt", "pc4"] = "wijk"
    change_lags: tuple[int, ...] = (1, 3)
    # A row's knowledge date: "lbm_published" (the day its as-of Leefbarometer measurement was
    # published), or a Calendar relative to the as-of year (its groups unused).
    knowledge: str | Calendar = KNOWLEDGE_LBM

    def __post_init__(self) -> None:
        if isinstance(self.knowledge, str) and self.knowledge != KNOWLEDGE_LBM:
            raise ConfigError(
                f"The panel 'knowledge' must be {KNOWLEDGE_LBM!r} or a table such as "
                f"{{ years_after = 1, on = \"09-01\" }}. Got {self.knowledge!r} instead."
            )
        if isinstance(self.knowledge, Calendar) and self.knowledge.groups:
            raise ConfigError("The panel 'knowledge' takes 'years_after' and 'on', no groups.")
        if self.level not in UNIT_LEVELS:
            raise ConfigError(
                f"The panel 'level' must be one of {', '.join(UNIT_LEVELS)}. "
                f"Got {self.level!r} instead."
            )
        if not self.change_lags or any(int(k) < 1 for k in self.change_lags):
            raise ConfigError(
                f"The panel 'change_lags' must be positive years. Got {list(self.change_lags)}."
            )


@dataclass(frozen=True)
class LabelConfig:
    """The decline label of as-of year T.

    ``score_drop``: lbm(first measurement after T) - lbm(last at or before T) <= -delta.
    ``development_class``: the release's official development class between those two
    measurements is <= max_class (Leefbarometer 2.0 ``VKL``: 1-3 decline, 4 stable).
    """

    kind: Literal["score_drop", "development_class"] = "score_drop"
    delta: float = 0.05
    max_class: int = 3

    def __post_init__(self) -> None:
        if self.kind not in ("score_drop", "development_class"):
            raise ConfigError(
                "The label 'kind' must be 'score_drop' or 'development_class'. "
                f"Got {self.kind!r} instead."
            )
        if not self.delta > 0:
            raise ConfigError(f"The label 'delta' must be > 0. Got {self.delta} instead.")
        if not 1 <= self.max_class <= 6:
            raise ConfigError(f"The label 'max_class' must be in 1..6. Got {self.max_class}.")


@dataclass(frozen=True)
class ModelConfig:
    """LightGBM hyperparameters (the ones that matter for this problem)."""

    num_leaves: int = 8
    max_depth: int = 3
    learning_rate: float = 0.05
    n_estimators: int = 2000
    min_child_samples: int = 40
    subsample: float = 0.8
    colsample_bytree: float = 1.0
    reg_lambda: float = 1.0
    early_stopping_rounds: int = 50
    random_state: int = 0
    n_jobs: int = 1  # training threads; the data are small, and 1 thread is deterministic

    def __post_init__(self) -> None:
        for name in (
            "n_jobs",
            "num_leaves",
            "n_estimators",
            "min_child_samples",
            "early_stopping_rounds",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"The model '{name}' must be >= 1. Got {getattr(self, name)} instead."
                )
        if not 0 < self.learning_rate <= 1:
            raise ConfigError(
                f"The model 'learning_rate' must be in (0, 1]. Got {self.learning_rate} instead."
            )
        for name in ("subsample", "colsample_bytree"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(
                    f"The model '{name}' must be in (0, 1]. Got {getattr(self, name)} instead."
                )


@dataclass(frozen=True)
class ValidationConfig:
    """Rolling-origin temporal validation: how many as-of years a fold trains on at least."""

    min_train_years: int = 2
    n_folds: int = 3

    def __post_init__(self) -> None:
        if self.min_train_years < 1:
            raise ConfigError(
                f"The validation 'min_train_years' must be >= 1. Got {self.min_train_years}."
            )
        if self.n_folds < 1:
            raise ConfigError(f"The validation 'n_folds' must be >= 1. Got {self.n_folds}.")


@dataclass(frozen=True)
class PromotionConfig:
    """When a newly trained model (the challenger) replaces the champion: when it beats it on
    the same latest validation fold by ``margin`` in ``metric``."""

    metric: str = "pr_auc"
    margin: float = 0.0

    def __post_init__(self) -> None:
        allowed = ("pr_auc", "roc_auc", "precision_at_10", "recall_at_10", "precision_at_5")
        if self.metric not in allowed:
            raise ConfigError(
                f"The promotion 'metric' must be one of {', '.join(allowed)}. "
                f"Got {self.metric!r} instead."
            )
        if self.margin < 0:
            raise ConfigError(f"The promotion 'margin' must be >= 0. Got {self.margin} instead.")


@dataclass(frozen=True)
class ScoringConfig:
    """Guards of the scoring job: drift against the training data, and units with too many
    missing features (scored, but flagged)."""

    psi_limit: float = 0.25
    missing_limit: float = 0.1  # rise in a feature's share missing that counts as drift
    max_missing_share: float = 0.3  # share of a unit's features missing before it is flagged

    def __post_init__(self) -> None:
        if not self.psi_limit > 0:
            raise ConfigError(f"The scoring 'psi_limit' must be > 0. Got {self.psi_limit}.")
        for name in ("missing_limit", "max_missing_share"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(
                    f"The scoring '{name}' must be in (0, 1]. Got {getattr(self, name)}."
                )


EXPORT_MODES = ("run", "on_demand")


@dataclass(frozen=True)
class ExportsConfig:
    """When a scoring run's files for analysts are written: the national ``ranking.csv``, the
    long ``explanations.parquet`` and the per-gemeente CSV/Excel files (``gemeenten/``).

    ``run`` (the default): with every run, in its folder. ``on_demand``: only when asked, by
    ``wijkradar export``, into ``exports/<as-of>/<run id>/`` (``Workspace.export_dir``); a run
    then writes just what the page, the API and the report read (``ranking.parquet``,
    ``drift.json``). For large runs (a national grid, many scenarios), where these files are
    most of a run's time and bytes. The page's downloads are made on demand either way.
    The setting is not part of a run's identity: after switching it, ``wijkradar export``
    writes the files of a run that was scored without them."""

    when: str = "run"

    def __post_init__(self) -> None:
        if self.when not in EXPORT_MODES:
            raise ConfigError(
                f"The exports 'when' must be one of {', '.join(EXPORT_MODES)}. "
                f"Got {self.when!r} instead."
            )


EXPLAIN_METHODS = ("fast", "native", "interventional")


@dataclass(frozen=True)
class ExplainConfig:
    """How contributions are computed: ``interventional`` (exact TreeSHAP against a fixed
    background sample of the training panel, ``background_rows`` rows, stored with the model;
    the default: it names the true drivers more often, at 1.1-1.4x the cost, see
    docs/explain.md), ``fast`` (the exact path-dependent TreeSHAP kernel of
    ``models.explain.tree_shap``) or ``native`` (LightGBM's own ``pred_contrib``, the same
    values as ``fast``)."""

    method: str = "interventional"
    background_rows: int = 200

    def __post_init__(self) -> None:
        if self.method not in EXPLAIN_METHODS:
            raise ConfigError(
                f"The explain 'method' must be one of {', '.join(EXPLAIN_METHODS)}. "
                f"Got {self.method!r} instead."
            )
        if self.background_rows < 10:
            raise ConfigError(
                f"The explain 'background_rows' must be >= 10. Got {self.background_rows}."
            )


@dataclass(frozen=True)
class TrackingConfig:
    """MLflow tracking. Empty ``uri``: the embedded SQLite store in the workspace."""

    uri: str = ""
    experiment: str = "wijkradar"
    model_name: str = "wijkradar"


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``root`` is the folder that relative paths start from."""

    root: Path
    sources: tuple[SourceConfig, ...]
    panel: PanelConfig = field(default_factory=PanelConfig)
    label: LabelConfig = field(default_factory=LabelConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    explain: ExplainConfig = field(default_factory=ExplainConfig)
    exports: ExportsConfig = field(default_factory=ExportsConfig)

    def sources_of(self, kind: str) -> tuple[SourceConfig, ...]:
        return tuple(s for s in self.sources if s.kind == kind)


_SECTIONS = {
    "panel": PanelConfig,
    "label": LabelConfig,
    "model": ModelConfig,
    "validation": ValidationConfig,
    "tracking": TrackingConfig,
    "promotion": PromotionConfig,
    "scoring": ScoringConfig,
    "explain": ExplainConfig,
    "exports": ExportsConfig,
}


def _build(cls: type, table: Any, where: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table. Got {table!r} instead.")
    allowed = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(
            f"Unknown key(s) {', '.join(map(repr, unknown))} in {where}. "
            f"Allowed: {', '.join(sorted(allowed))}."
        )
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        default = allowed[key].default
        if isinstance(default, tuple):
            # A list of ints: a string or a bare number is no list of years.
            if not isinstance(value, list | tuple) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                raise ConfigError(
                    f"The key {key!r} in {where} must be a list of integers. Got {value!r} instead."
                )
            value = tuple(value)
        elif isinstance(value, bool) and not isinstance(default, bool):
            raise ConfigError(
                f"The key {key!r} in {where} must be a {type(default).__name__}. "
                f"Got {value!r} instead."
            )
        elif isinstance(default, float) and isinstance(value, int):
            value = float(value)
        elif default is not None and not isinstance(value, type(default)):
            raise ConfigError(
                f"The key {key!r} in {where} must be a {type(default).__name__}. "
                f"Got {value!r} instead."
            )
        kwargs[key] = value
    return cls(**kwargs)


def _panel(table: Any, where: str) -> PanelConfig:
    if not isinstance(table, dict) or "knowledge" not in table:
        return _build(PanelConfig, table, where)
    rest = {k: v for k, v in table.items() if k != "knowledge"}
    knowledge = table["knowledge"]
    if isinstance(knowledge, dict):
        knowledge = parse_calendar(knowledge, f"'knowledge' of {where}", groups=False)
    elif not isinstance(knowledge, str):
        raise ConfigError(
            f"The 'knowledge' of {where} must be {KNOWLEDGE_LBM!r} or a table "
            f"{{ years_after = ..., on = \"MM-DD\" }}. Got {knowledge!r} instead."
        )
    base = _build(PanelConfig, rest, where)
    return PanelConfig(level=base.level, change_lags=base.change_lags, knowledge=knowledge)


def parse_config(data: dict[str, Any], root: Path, name: str = "config") -> Config:
    """Build a ``Config`` from parsed TOML; ``name`` is used in error messages."""
    known = {"source", *_SECTIONS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"Unknown section(s) {', '.join(map(repr, unknown))} in {name}. "
            f"Allowed: {', '.join(sorted(known))}."
        )
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError(f"{name} must list at least one [[source]] table.")
    sources = [
        parse_source(table, f"[[source]] #{i} of {name}", root)
        for i, table in enumerate(raw_sources, start=1)
    ]
    sections = {
        key: (_panel if key == "panel" else partial(_build, cls))(
            data.get(key, {}), f"[{key}] of {name}"
        )
        for key, cls in _SECTIONS.items()
    }
    return Config(root=root, sources=tuple(sources), **sections)


def load_config(path: Path) -> Config:
    """Read and validate a TOML config file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"No config file at {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return parse_config(data, root=path.resolve().parent, name=str(path))
