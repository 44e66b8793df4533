"""A real generated workspace, the real app under uvicorn and headless Debian chromium.

The workspace is built once per session with the CLI (generate 40 gemeenten, train, score two
as-of years; ``WIJKRADAR_BROWSER_WORKSPACE`` names one built so to copy instead); synthetic
boundaries are written beside it when ``generate`` did not. The app runs
in a background thread on 127.0.0.1 and a free port. Without /usr/bin/chromium the tests are
skipped, or fail when CI is set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

CHROMIUM = Path("/usr/bin/chromium")
PC4_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "lbm3_pc4.toml"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
EXE = str(Path(sys.executable).with_name("wijkradar"))


def wijkradar(*args: str) -> None:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "COLUMNS": "200"}
    proc = subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(
            f"wijkradar {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; it is required when CI is set")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Path:
    from features.synth.boundaries import synthetic_boundaries

    root = tmp_path_factory.mktemp("browser") / "ws"
    prebuilt = os.environ.get("WIJKRADAR_BROWSER_WORKSPACE")
    if prebuilt:  # a workspace built the same way, copied (for quick local reruns)
        shutil.copytree(prebuilt, root)
    else:
        wijkradar("generate", "--workspace", str(root), "--gemeenten", "40")
        wijkradar("train", "--workspace", str(root))
        wijkradar("score", "--workspace", str(root))
        wijkradar("score", "--workspace", str(root), "--as-of", "2022")
    target = root / "boundaries" / "units.geojson"
    if not target.exists():  # until `generate` writes them itself
        latest = (root / "scores" / "2024" / "latest").read_text().strip()
        ranking = pd.read_parquet(root / "scores" / "2024" / "runs" / latest / "ranking.parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(synthetic_boundaries(ranking, seed=0)), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def ranking(workspace: Path) -> pd.DataFrame:
    """The newest published ranking, as the job wrote it."""
    latest = (workspace / "scores" / "2024" / "latest").read_text().strip()
    return pd.read_parquet(workspace / "scores" / "2024" / "runs" / latest / "ranking.parquet")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(workspace: Path) -> Iterator[str]:
    """The app on 127.0.0.1 and a free port, in a background thread; yields its URL."""
    import uvicorn

    from serving.api import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(workspace), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not app_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app_server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(workspace: Path) -> Iterator[str]:
    with serving(workspace) as url:
        yield url


@pytest.fixture(scope="session")
def crafted(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Any]:
    """The API tests' hand-made workspace (hostile names, two runs of 2024, no MLflow store)
    and its server: (url, info)."""
    spec = importlib.util.spec_from_file_location(
        "apiworkspace", Path(__file__).resolve().parents[1] / "api" / "apiworkspace.py"
    )
    assert spec is not None and spec.loader is not None
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    root = tmp_path_factory.mktemp("crafted") / "ws"
    info = fixtures.build_workspace(root, n_units=60, n_gemeenten=3)
    info["hostile_name"] = fixtures.HOSTILE_NAME
    with serving(root) as url:
        yield url, info


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


def open_page(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, accept_downloads=True, base_url=url
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    tab.on(
        "console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else 0
    )
    tab.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}") or dialog.dismiss())
    return context, tab, errors


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh page (1400x1000) that fails the test on any console error, page error or
    dialog (an injected alert would be one)."""
    context, tab, errors = open_page(browser, server)
    yield tab
    context.close()
    assert not errors, errors


@pytest.fixture
def crafted_page(browser: Any, crafted: Any) -> Iterator[Any]:
    context, tab, errors = open_page(browser, crafted[0])
    yield tab
    context.close()
    assert not errors, errors


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def new_page() -> Any:
    """``open_page``: (context, page, errors) of a fresh browser context."""
    return open_page


def cheap_pc4_config(real: Path) -> str:
    """examples/lbm3_pc4.toml with its sources found in ``real`` and a quicker training (two
    validation folds, fewer trees): the same sources, panel and boundaries."""
    text = PC4_CONFIG.read_text(encoding="utf-8").replace("../../shared/data/real", str(real))
    text = text.replace("n_estimators = 400", "n_estimators = 60")
    return text.replace("n_folds = 6", "n_folds = 2")


@pytest.fixture(scope="session")
def pc4_server(tmp_path_factory: pytest.TempPathFactory, shared_real_dir: Path) -> Iterator[str]:
    """examples/lbm3_pc4.toml built once with the CLI (panel, train and score of as-of 2018)
    and served; trained cheaply (``cheap_pc4_config``), since the page is tested, not the
    model."""
    assert (shared_real_dir / "boundaries" / "pc4_grenzen.topojson.json").exists()
    root = tmp_path_factory.mktemp("pc4") / "ws"
    config = root.parent / "lbm3_pc4.toml"
    config.write_text(cheap_pc4_config(shared_real_dir), encoding="utf-8")
    common = ("--config", str(config), "--workspace", str(root))
    wijkradar("panel", *common)
    wijkradar("train", *common, "--as-of", "2018")
    wijkradar("score", *common, "--as-of", "2018", "--gemeente", "GM0344")  # one export
    with serving(root) as url:
        yield url


@pytest.fixture
def pc4_page(browser: Any, pc4_server: str) -> Iterator[Any]:
    context, tab, errors = open_page(browser, pc4_server)
    yield tab
    context.close()
    assert not errors, errors
