"""The packages a model is logged with, and whether this machine has them.

MLflow infers a model's requirements when it is logged (3-4 s) and, when it is loaded,
compares them with every installed package (0.6 s). wijkradar pins the four that matter at
logging (``pip_requirements``) and checks those pins alone at loading
(``requirement_mismatches``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

PINNED = ("lightgbm", "numpy", "pandas", "mlflow")


def pip_requirements() -> list[str]:
    """Pinned to what is installed, so MLflow need not infer them (3-4 s saved per model)."""
    return [f"{p}=={package_version(p)}" for p in PINNED]


def requirement_mismatches(folder: Path) -> list[str]:
    """The pins of a model folder's ``requirements.txt`` (``pip_requirements``) that this
    machine does not meet, in words (none for a folder without the file)."""
    path = folder / "requirements.txt"
    pins = path.read_text(encoding="utf-8").split() if path.is_file() else []
    out = []
    for name, _, wanted in (pin.partition("==") for pin in pins if "==" in pin):
        try:
            have = package_version(name)
        except PackageNotFoundError:
            have = "nothing"
        if have != wanted:
            out.append(f"logged with {name}=={wanted}, this machine has {have}")
    return out
