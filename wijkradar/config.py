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
from pathlib import Path
from typing import Any, Literal

from wijkradar.errors import ConfigError

SOURCE_KINDS = ("cbs_kwb_csv", "lbm3_scores", "investment_csv")
UNIT_LEVELS = ("gemeente", "wijk", "buurt", "pc4")


@dataclass(frozen=True)
class SourceConfig:
    """One input: a file, or a folder whose files all have this kind."""

    kind: str
    path: Path

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ConfigError(
                f"The source 'kind' must be one of {', '.join(SOURCE_KINDS)}. "
                f"Got {self.kind!r} instead."
            )


@dataclass(frozen=True)
class PanelConfig:
    """The grain of the panel: which units, and the CBS changes computed as features."""

    level: Literal["gemeente", "wijk", "buurt", "pc4"] = "wijk"
    change_lags: tuple[int, ...] = (1, 3)

    def __post_init__(self) -> None:
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
    """Decline label: lbm(first measurement after T) - lbm(last at or before T) <= -delta."""

    kind: Literal["score_drop"] = "score_drop"
    delta: float = 0.05

    def __post_init__(self) -> None:
        if self.kind != "score_drop":
            raise ConfigError(f"The label 'kind' must be 'score_drop'. Got {self.kind!r} instead.")
        if not self.delta > 0:
            raise ConfigError(f"The label 'delta' must be > 0. Got {self.delta} instead.")


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
        for name in ("n_jobs", "num_leaves", "n_estimators", "min_child_samples", "early_stopping_rounds"):
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

    def sources_of(self, kind: str) -> tuple[SourceConfig, ...]:
        return tuple(s for s in self.sources if s.kind == kind)


_SECTIONS = {
    "panel": PanelConfig,
    "label": LabelConfig,
    "model": ModelConfig,
    "validation": ValidationConfig,
    "tracking": TrackingConfig,
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
                    f"The key {key!r} in {where} must be a list of integers. "
                    f"Got {value!r} instead."
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
    sources = []
    for i, table in enumerate(raw_sources, start=1):
        if not isinstance(table, dict):
            raise ConfigError(f"[[source]] #{i} of {name} must be a table. Got {table!r}.")
        unknown_keys = sorted(set(table) - {"kind", "path"})
        if unknown_keys:
            raise ConfigError(
                f"Unknown key(s) {', '.join(map(repr, unknown_keys))} in [[source]] #{i} "
                f"of {name}. Allowed: kind, path."
            )
        if "kind" not in table or "path" not in table:
            raise ConfigError(f"[[source]] #{i} of {name} needs both 'kind' and 'path'.")
        if not isinstance(table["path"], str):
            raise ConfigError(
                f"The 'path' of [[source]] #{i} of {name} must be a string. "
                f"Got {table['path']!r} instead."
            )
        path = Path(table["path"])
        sources.append(
            SourceConfig(kind=table["kind"], path=path if path.is_absolute() else root / path)
        )
    sections = {
        key: _build(cls, data.get(key, {}), f"[{key}] of {name}") for key, cls in _SECTIONS.items()
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
