"""``wijkradar models``: the registered versions, promotion by hand and rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wijkradar.app.console import guarded, print_table, say_line
from wijkradar.app.options import ConfigOpt, WorkspaceOpt, context

models_app = typer.Typer(no_args_is_help=True, help="The registered models: list, promote, "
                         "roll back.")
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded in the registry).")]


@models_app.command("list")
@guarded
def models_list(workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None) -> None:
    """Every registered version, its aliases and its promotion record."""
    from ml import promotion, registry

    ws, cfg = context(workspace, config)
    table = promotion.versions(registry.tracking_for(ws, cfg))
    rows = [(str(r.version), r.aliases, r.created, r.decision, r.reason, r.promoted_by)
             for r in table.itertuples()]
    print_table(f"Registered model {cfg.tracking.model_name}",
                ("version", "aliases", "created", "decision", "reason", "promoted by"), rows,
                justify="left")


@models_app.command("promote")
@guarded
def models_promote(version: str, workspace: WorkspaceOpt = Path("workspace"),
                   config: ConfigOpt = None, reason: ReasonOpt = "promoted by hand") -> None:
    """Make VERSION the champion."""
    from ml import promotion, registry

    ws, cfg = context(workspace, config)
    promotion.promote(registry.tracking_for(ws, cfg), version, reason)
    say_line(f"version {version} is now the champion ({reason})")


@models_app.command("rollback")
@guarded
def models_rollback(workspace: WorkspaceOpt = Path("workspace"), config: ConfigOpt = None,
                    reason: ReasonOpt = "rolled back by hand") -> None:
    """Restore the champion that the current one replaced."""
    from ml import promotion, registry

    ws, cfg = context(workspace, config)
    version = promotion.rollback(registry.tracking_for(ws, cfg), reason)
    say_line(f"version {version} is the champion again ({reason})")
