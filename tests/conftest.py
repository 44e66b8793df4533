"""Shared fixtures: where the real data lives, and builders for small hand-made sources."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features import schema

REAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


# Under pytest-xdist (``make test``: ``-n auto``; the scheduler below replaces any --dist
# mode) a scope runs whole on one worker, so its module and session fixtures are built once.
# A scope is a test file, or one of these sets of files that share session fixtures (a
# trained workspace, the browser, the app).
SHARED_SCOPES = {
    "tests/faults/": "tests/faults/",
    "tests/browser/": "tests/browser/",
    "tests/api/": "tests/api/",
    "tests/e2e/test_dask_engine.py": "tests/e2e/fresh+single",
    "tests/e2e/test_exports_on_demand.py": "tests/e2e/fresh+single",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's scope scheduling with the scopes of ``SHARED_SCOPES`` (its
    ``--dist loadgroup`` marks were not honoured here: pytest 9.2, xdist 3.8)."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:  # the hook xdist's own schedulers override
            path = nodeid.split("::", 1)[0]
            return next((scope for prefix, scope in SHARED_SCOPES.items()
                         if path.startswith(prefix)), path)

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session")
def shared_real_dir() -> Path:
    """``../shared/data/real`` next to the repo. Missing: a failure under CI, else a skip."""
    if not REAL_DIR.is_dir():
        message = f"the real test data folder {REAL_DIR} is missing"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; it is required when CI is set")
        pytest.skip(message)
    return REAL_DIR


class SourceFrames:
    """Builds source frames in the form the readers return (see ``features.readers``)."""

    @staticmethod
    def cbs(rows: Iterable[tuple[str, str, int, Mapping[str, float]]]) -> pd.DataFrame:
        """Rows of (unit_code, unit_name, year, {variable: value}); other variables are NaN."""
        records = []
        for code, name, year, values in rows:
            unknown = set(values) - set(schema.CBS_BY_NAME) - set(schema.CBS_PC4_BY_NAME)
            assert not unknown, f"not CBS variables: {unknown}"
            record: dict[str, Any] = {
                "unit_code": code, "unit_name": name, "level": schema.unit_level(code),
                "year": year,
            }
            record.update({v.name: np.nan for v in schema.CBS_VARIABLES})
            record.update({k: float(v) for k, v in values.items()})
            records.append(record)
        pc4_only = [v for v in schema.CBS_PC4_BY_NAME if any(v in r for r in records)]
        columns = ["unit_code", "unit_name", "level", "year", *schema.CBS_BY_NAME, *pc4_only]
        return pd.DataFrame(records, columns=columns).astype({"year": "int64"})

    @staticmethod
    def lbm(
        rows: Iterable[tuple[str, int, float, Mapping[str, float]]],
        names: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Rows of (unit_code, year, lbm, {dimension or afw: value}); the rest is NaN.
        Unit names come from ``names``, else they are the code."""
        records = []
        for code, year, total, values in rows:
            record: dict[str, Any] = {
                "unit_code": code, "unit_name": (names or {}).get(code, code),
                "level": schema.unit_level(code), "year": year,
            }
            record.update({c: np.nan for c in schema.LBM_SCORE_COLUMNS})
            record["lbm"] = float(total)
            record.update({k: float(v) for k, v in values.items()})
            records.append(record)
        columns = ["unit_code", "unit_name", "level", "year", *schema.LBM_SCORE_COLUMNS]
        return pd.DataFrame(records, columns=columns).astype({"year": "int64"})

    @staticmethod
    def investment(rows: Iterable[tuple[str, int, Mapping[str, float]]]) -> pd.DataFrame:
        """Rows of (unit_code, year, {investment variable: value}); the rest is NaN."""
        records = []
        for code, year, values in rows:
            record: dict[str, Any] = {"unit_code": code, "year": year}
            record.update({v.name: np.nan for v in schema.INVESTMENT_VARIABLES})
            record.update({k: float(v) for k, v in values.items()})
            records.append(record)
        columns = ["unit_code", "year", *schema.INVESTMENT_BY_NAME]
        return pd.DataFrame(records, columns=columns).astype({"year": "int64"})


@pytest.fixture(scope="session")
def source_frames() -> SourceFrames:
    return SourceFrames()
