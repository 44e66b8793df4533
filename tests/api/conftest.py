"""Fixtures of the API tests; the workspace they serve is built in ``apiworkspace``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apiworkspace import CONFIG, TestClient, build_workspace, register_models


@pytest.fixture(scope="session")
def api_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    import os

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    root = tmp_path_factory.mktemp("api") / "ws"
    root.mkdir()
    (root / "wijkradar.toml").write_text(CONFIG, encoding="utf-8")
    runs = register_models(root)
    info = build_workspace(root, model_runs=runs)
    info["model_runs"] = runs
    return root, info


@pytest.fixture(scope="session")
def client(api_workspace: tuple[Path, dict[str, Any]]) -> Any:
    from serving.api import create_app

    with TestClient(create_app(api_workspace[0]), base_url="http://127.0.0.1") as test_client:
        yield test_client
