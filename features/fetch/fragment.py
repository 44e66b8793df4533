"""Config fragments: the ``[[source]]`` entries a fetch writes beside its files.

A fragment holds absolute paths, so it can be pasted into (or concatenated to) a
``wijkradar.toml`` anywhere as it is. Before it is written it is read back with the config's
own parser (``wijkradar.config.parse_config``), so a fragment that is written is one the
config takes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from wijkradar.config import parse_config
from wijkradar.errors import ConfigError


def toml_string(value: str) -> str:
    """A TOML basic string (backslashes and quotes escaped: Windows paths hold backslashes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def source_entry(kind: str, path: Path, year: int | None = None, comment: str = "") -> list[str]:
    lines = [f"# {comment}"] if comment else []
    lines += ["[[source]]", f"kind = {toml_string(kind)}", f"path = {toml_string(str(path))}"]
    if year is not None:
        lines.append(f"year = {year}")
    return [*lines, ""]


def check_fragment(text: str, name: str) -> None:
    """The fragment reads as the [[source]] entries of a config."""
    try:
        parse_config(tomllib.loads(text), root=Path("."), name=name)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - written by us
        raise ConfigError(f"{name} is not valid TOML: {exc}") from exc
