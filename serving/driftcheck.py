"""The job's drift check: the drift profile a model version was trained with, and the drift
table of the rows it scores (``ml.drift``). A profile that is missing or damaged fails the run
(``StoreError``) unless scoring without it is allowed, which the manifest then records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ml import registry
from ml.drift import DRIFT_COLUMNS, drift_table, read_profile
from wijkradar.config import Config
from wijkradar.errors import StoreError


@dataclass(frozen=True)
class DriftProfile:
    """A version's drift profile as the job found it: ``state`` "checked" (``profile`` holds
    it), or "missing" or "damaged" (``why``) when scoring without it was allowed."""

    profile: dict[str, Any] | None
    state: str
    why: str = ""

    @property
    def recorded(self) -> str:
        """What the manifest says of it: "checked", "missing (allowed)", "damaged (allowed)"."""
        return self.state if self.profile is not None else f"{self.state} (allowed)"

    @property
    def warning(self) -> str | None:
        """The job's warning when it scores without the profile, else None."""
        if self.profile is not None:
            return None
        what = "no drift profile" if self.state == "missing" else (
            f"a damaged drift profile ({self.why})")
        return f"warning: {what}; scored without the drift check (--allow-missing-profile)"


def drift_profile(
    tracking: registry.Tracking, ref: registry.ModelRef, allow_missing: bool
) -> DriftProfile:
    """The drift profile of version ``ref``; a ``StoreError`` when it is missing or damaged
    and scoring without it is not allowed."""
    text = registry.run_text(tracking, ref.run_id, registry.PROFILE_ARTIFACT)
    if text is None:
        found, where = DriftProfile(None, "missing"), f"cannot be read from {tracking.uri}"
    else:
        try:
            return DriftProfile(read_profile(text), "checked")
        except ValueError as exc:
            found = DriftProfile(None, "damaged", str(exc))
            where = f"in {tracking.uri} is damaged ({exc})"
    if allow_missing:
        return found
    raise StoreError(
        f"The drift profile ({registry.PROFILE_ARTIFACT}) of {ref.uri} (run {ref.run_id}) "
        f"{where}; without it drift goes unseen. Restore the run's artifacts, train again, "
        "or score with --allow-missing-profile."
    )


def drift_of(profile: dict[str, Any] | None, X: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """The drift table of the scored rows ``X`` against ``profile`` at the config's limits
    (``ml.drift.drift_table``); without a profile, an empty table of its columns."""
    if profile is None:  # allowed to score without it
        return pd.DataFrame(columns=list(DRIFT_COLUMNS))
    return drift_table(
        profile,
        X,
        psi_limit=cfg.scoring.psi_limit,
        missing_limit=cfg.scoring.missing_limit,
    )
