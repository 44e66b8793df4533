"""The workspace catalog: the one module that knows where every file lives.

Stages never build paths themselves; they receive DataFrames from, and hand DataFrames to,
the functions here. Writes are atomic: a file is written beside its target and renamed into
place, and a folder of outputs is written to a temporary sibling and renamed as a whole.

Layout of a workspace ``W``::

    W/wijkradar.toml                 config (sources, label, model, tracking)
    W/sources/...                    raw inputs (generated, or the user's own)
    W/truth/truth.parquet            ground truth (generated data only)
    W/panel/panel.parquet            unit x as_of_year features and labels
    W/panel/panel.json               its fingerprint and the inputs it was built from
    W/mlflow/mlflow.db               MLflow tracking and registry store (SQLite)
    W/mlflow/artifacts/              MLflow artifacts
    W/.run/score.lock                held while a scoring run is under way
    W/scores/<as_of_year>/latest     name of the newest complete run for that year
    W/scores/<as_of_year>/runs/<id>/ ranking.parquet, ranking.csv, manifest.json
    W/boundaries/units.geojson       unit polygons for the map (optional)
    W/report/index.html              the self-contained report
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from wijkradar.errors import WijkradarError

CONFIG_NAME = "wijkradar.toml"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace. Pure path arithmetic; nothing here touches the disk."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def truth(self) -> Path:
        return self.root / "truth" / "truth.parquet"

    @property
    def panel(self) -> Path:
        return self.root / "panel" / "panel.parquet"

    @property
    def panel_meta(self) -> Path:
        return self.root / "panel" / "panel.json"

    @property
    def mlflow_dir(self) -> Path:
        return self.root / "mlflow"

    @property
    def mlflow_db(self) -> Path:
        return self.mlflow_dir / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.mlflow_dir / "artifacts"

    def tracking_uri(self, configured: str = "") -> str:
        """The configured URI, else the embedded SQLite store of this workspace."""
        return configured or f"sqlite:///{self.mlflow_db.resolve()}"

    def scores_dir(self, as_of_year: int) -> Path:
        return self.root / "scores" / str(as_of_year)

    def run_dir(self, as_of_year: int, run_id: str) -> Path:
        return self.scores_dir(as_of_year) / "runs" / run_id

    def latest_pointer(self, as_of_year: int) -> Path:
        return self.scores_dir(as_of_year) / "latest"

    @property
    def boundaries(self) -> Path:
        return self.root / "boundaries" / "units.geojson"

    @property
    def evaluation_report(self) -> Path:
        return self.root / "report" / "evaluation.html"

    @property
    def lock(self) -> Path:
        """Held by a scoring run (see ``serving.lock``); outside ``scores/``, which holds only
        what was published."""
        return self.root / ".run" / "score.lock"

    @property
    def report(self) -> Path:
        return self.root / "report" / "index.html"


# --- reading ---------------------------------------------------------------------------


def read_parquet(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise WijkradarError(f"Expected {path}, which does not exist. Run the step that makes it.")
    return pd.read_parquet(path)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def latest_run(ws: Workspace, as_of_year: int) -> Path | None:
    """The folder of the newest complete scoring run for ``as_of_year``, if any."""
    pointer = ws.latest_pointer(as_of_year)
    if not pointer.exists():
        return None
    run = ws.run_dir(as_of_year, pointer.read_text(encoding="utf-8").strip())
    return run if run.is_dir() else None


def scored_years(ws: Workspace) -> list[int]:
    base = ws.root / "scores"
    if not base.is_dir():
        return []
    return sorted(
        int(p.name) for p in base.iterdir() if p.name.isdigit() and latest_run(ws, int(p.name))
    )


# --- typed records -----------------------------------------------------------------------


@dataclass(frozen=True)
class PanelMeta:
    """What ``panel/panel.json`` says of the panel beside it."""

    fingerprint: str  # of the source files and the panel/label settings
    sources_fingerprint: str
    rows: int
    units: int
    as_of_years: list[int]
    features: list[str]
    level: str
    delta: float
    built: str  # ISO time

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PanelMeta:
        known = {f.name for f in fields(cls)}
        missing = sorted(known - set(data))
        if missing:
            raise WijkradarError(
                f"The panel meta lacks {', '.join(missing)}; rebuild with `wijkradar panel "
                f"--force`."
            )
        return cls(**{k: v for k, v in data.items() if k in known})


def read_panel_meta(ws: Workspace) -> PanelMeta:
    return PanelMeta.from_dict(read_json(ws.panel_meta))


def write_panel_meta(ws: Workspace, meta: PanelMeta) -> None:
    write_json(asdict(meta), ws.panel_meta)


# --- writing (atomic) --------------------------------------------------------------------


def _atomic_write(path: Path, write: Any, suffix: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; publish as a normal file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, lambda p: df.to_parquet(p, index=False), ".parquet")


def write_text(text: str, path: Path) -> None:
    _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), ".tmp")


def write_json(data: Mapping[str, Any], path: Path) -> None:
    write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", path)


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty temporary sibling of ``final``; on success rename it to ``final``.

    On any error the temporary folder is removed and ``final`` is untouched.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.staging-"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (relative path -> hex digest)."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        out[path.relative_to(folder).as_posix()] = h.hexdigest()
    return out


def verify_run(run: Path) -> list[str]:
    """Problems with a published run folder (empty when it is whole)."""
    manifest = run / "manifest.json"
    if not manifest.exists():
        return [f"{run}: no manifest.json"]
    listed = read_json(manifest).get("files", {})
    actual = file_digests(run)
    actual.pop("manifest.json", None)
    problems = [f"{name}: missing" for name in listed if name not in actual]
    problems += [f"{name}: not in the manifest" for name in actual if name not in listed]
    problems += [
        f"{name}: checksum differs" for name, digest in listed.items()
        if name in actual and actual[name] != digest
    ]
    return problems


def point_latest(ws: Workspace, as_of_year: int, run_id: str) -> None:
    """Atomically make ``run_id`` the newest complete run for ``as_of_year``."""
    write_text(run_id + "\n", ws.latest_pointer(as_of_year))
