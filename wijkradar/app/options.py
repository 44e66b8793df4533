"""The options every command shares, and the workspace and config they name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wijkradar.catalog import Workspace
from wijkradar.config import Config, load_config

WorkspaceOpt = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace folder.", file_okay=False)
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default WORKSPACE/wijkradar.toml)."),
]


def context(workspace: Path, config: Path | None) -> tuple[Workspace, Config]:
    """The workspace and its config (default ``WORKSPACE/wijkradar.toml``)."""
    ws = Workspace(workspace.resolve())
    return ws, load_config(config or ws.config)
