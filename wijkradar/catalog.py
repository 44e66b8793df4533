"""The workspace catalog: the one module that knows where every file lives.

Every fixed place in a workspace is named here: ``Workspace`` for the workspace's files and
``RunFolder`` for the files of one scoring run. Other modules take their paths from these
(the sources are where the config says) and spell no workspace file name themselves;
``serving.exports`` names each gemeente's ``<code>.csv`` and ``.xlsx`` inside the folder it is
given. The typed records of ``wijkradar.records`` (``PanelMeta``, ``Manifest``) are read and
written only here.
Writes are atomic: a file is written beside its target and renamed into place, and a folder
of outputs is written to a temporary sibling and renamed as a whole.

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
    W/scores/<as_of_year>/runs/<id>/ one run (``RunFolder``): ranking.parquet, ranking.csv,
                                     explanations.parquet, drift.json, gemeenten/,
                                     manifest.json (written last); with [exports]
                                     when = "on_demand" only ranking.parquet, drift.json
                                     and the manifest
    W/exports/<as_of_year>/<id>/     that run's ranking.csv, explanations.parquet and
                                     gemeenten/, made by `wijkradar export` (exports.json)
    W/boundaries/units.geojson       unit polygons for the map (optional)
    W/report/index.html              the self-contained report
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from wijkradar.errors import WijkradarError
from wijkradar.records import Manifest, PanelMeta

CONFIG_NAME = "wijkradar.toml"
MANIFEST_NAME = "manifest.json"


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

    @property
    def scores(self) -> Path:
        return self.root / "scores"

    def scores_dir(self, as_of_year: int) -> Path:
        return self.scores / str(as_of_year)

    def runs_dir(self, as_of_year: int) -> Path:
        return self.scores_dir(as_of_year) / "runs"

    def run_dir(self, as_of_year: int, run_id: str) -> RunFolder:
        return RunFolder(self.runs_dir(as_of_year) / run_id)

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    def export_dir(self, as_of_year: int, run_id: str) -> RunFolder:
        """The files for analysts of a run made on demand (``wijkradar export``): the
        run folder's layout, without ranking.parquet."""
        return RunFolder(self.exports / str(as_of_year) / run_id)

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
    def scratch(self) -> Path:
        """Where an engine keeps its working files during a run (removed afterwards)."""
        return self.root / ".run" / "scratch"

    @property
    def report(self) -> Path:
        return self.root / "report" / "index.html"


@dataclass(frozen=True)
class RunFolder:
    """The files of one scoring run (published, or a staging folder being written)."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def ranking(self) -> Path:
        return self.path / "ranking.parquet"

    @property
    def ranking_csv(self) -> Path:
        return self.path / "ranking.csv"

    @property
    def explanations(self) -> Path:
        return self.path / "explanations.parquet"

    @property
    def drift(self) -> Path:
        return self.path / "drift.json"

    @property
    def gemeenten(self) -> Path:
        """The per-gemeente CSV and Excel exports (``serving.exports``)."""
        return self.path / "gemeenten"

    @property
    def manifest(self) -> Path:
        """Written last: a run folder with a manifest is whole."""
        return self.path / MANIFEST_NAME


# --- reading ---------------------------------------------------------------------------


def read_parquet(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The table at ``path`` (only ``columns`` when given)."""
    if not path.exists():
        raise WijkradarError(f"Expected {path}, which does not exist. Run the step that makes it.")
    return pd.read_parquet(path, columns=list(columns) if columns is not None else None)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def latest_run(ws: Workspace, as_of_year: int) -> RunFolder | None:
    """The folder of the newest complete scoring run for ``as_of_year``, if any."""
    pointer = ws.latest_pointer(as_of_year)
    if not pointer.exists():
        return None
    run = ws.run_dir(as_of_year, pointer.read_text(encoding="utf-8").strip())
    return run if run.path.is_dir() else None


def run_folders(ws: Workspace, as_of_year: int) -> list[RunFolder]:
    """Every run folder of ``as_of_year`` by name, without the hidden staging folders (a
    folder may still lack its manifest: see ``RunFolder.manifest``)."""
    base = ws.runs_dir(as_of_year)
    if not base.is_dir():
        return []
    return [
        RunFolder(p) for p in sorted(base.iterdir()) if p.is_dir() and not p.name.startswith(".")
    ]


def scored_years(ws: Workspace) -> list[int]:
    if not ws.scores.is_dir():
        return []
    return sorted(
        int(p.name)
        for p in ws.scores.iterdir()
        if p.name.isdigit() and latest_run(ws, int(p.name)) is not None
    )


# --- typed records (``wijkradar.records``), read and written here ----------------------


def read_panel_meta(ws: Workspace) -> PanelMeta:
    return PanelMeta.from_dict(read_json(ws.panel_meta))


def write_panel_meta(ws: Workspace, meta: PanelMeta) -> None:
    write_json(asdict(meta), ws.panel_meta)


def read_manifest(run: RunFolder) -> Manifest:
    return Manifest.from_dict(read_json(run.manifest))


def write_manifest(run: RunFolder, manifest: Manifest) -> Manifest:
    """Write ``run``'s manifest with the digests of every other file in it, as the last file of
    the folder; returns the manifest as written."""
    files = file_digests(run.path)
    files.pop(MANIFEST_NAME, None)
    written = replace(manifest, files=files)
    write_json(written.to_dict(), run.manifest)
    return written


def plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN/NA/inf as None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


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


def remove_stale_staging(ws: Workspace, say: Callable[[str], None]) -> list[Path]:
    """Remove the staging folders (``staged_dir``) that a killed run left among the
    workspace's runs and exports, say so through ``say``, and return them. Call it only under
    the workspace's lock: then no other run can be writing one."""
    def folders(path: Path) -> list[Path]:
        return [p for p in path.iterdir() if p.is_dir()] if path.is_dir() else []

    runs = [ws.runs_dir(int(p.name)) for p in folders(ws.scores) if p.name.isdigit()]
    found = [p for base in [*runs, *folders(ws.exports)] if base.is_dir()
             for p in base.glob(".*.staging-*") if p.is_dir()]
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
        say(f"removed {path.name}, left by a run that was killed while publishing")
    return found


def run_problems(run: RunFolder) -> list[str]:
    """What is wrong with a published run folder (empty when it is whole): its manifest lists
    every other file with its SHA-256, and each must be there, unchanged, and no other."""
    if not run.manifest.exists():
        return [f"{run.path}: no {run.manifest.name}"]
    listed = read_manifest(run).files
    actual = file_digests(run.path)
    actual.pop(run.manifest.name, None)
    problems = [f"{name}: missing" for name in listed if name not in actual]
    problems += [f"{name}: not in the manifest" for name in actual if name not in listed]
    problems += [f"{name}: checksum differs" for name, digest in listed.items()
                 if name in actual and actual[name] != digest]
    return problems


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (relative path -> hex digest)."""
    return {
        path.relative_to(folder).as_posix(): sha256(path)
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
    }


def point_latest(ws: Workspace, as_of_year: int, run_id: str) -> None:
    """Atomically make ``run_id`` the newest complete run for ``as_of_year``."""
    write_text(run_id + "\n", ws.latest_pointer(as_of_year))
