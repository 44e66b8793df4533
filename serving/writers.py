"""The files of one scoring run, written into its staging folder (``catalog.RunFolder``).

``serving.job.publish_run`` stages the folder, calls ``write_run_files`` and then writes the
manifest and renames the folder into place; nothing here publishes or locks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from serving.exports import explanations_long, write_gemeente_exports
from wijkradar import catalog
from wijkradar.catalog import RunFolder

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunContent:
    """What a run folder holds.

    ``ranking`` is the guarded ranking (``serving.job.with_guards``); ``values`` holds
    ``unit_code`` and the feature values the model saw; ``drift`` is the drift table
    (``ml.drift``); ``previous`` is the ranking of the run the rank changes compare with (for
    the gemeente exports), or None; ``gemeenten`` limits those exports (None: all);
    ``context`` (``serving.exports.context_values``) holds the year's values of the panel's
    context features, which those exports show last.
    """

    ranking: pd.DataFrame
    values: pd.DataFrame
    drift: pd.DataFrame
    previous: pd.DataFrame | None = None
    gemeenten: Sequence[str] | None = None
    context: pd.DataFrame | None = None


def write_run_files(
    staged: RunFolder, content: RunContent, notes: Sequence[str], progress: Progress
) -> None:
    """Every file of the run except its manifest, into ``staged``; ``notes`` are the lines of
    the Excel files' "Toelichting" sheet (what the run knew: its knowledge date and sources)."""
    ranking = content.ranking
    ranking.to_parquet(staged.ranking, index=False)
    ranking.to_csv(staged.ranking_csv, index=False)
    explanations_long(ranking, content.values).to_parquet(staged.explanations, index=False)
    catalog.write_json({"features": content.drift.to_dict("records")}, staged.drift)
    progress("writing the exports per gemeente")
    write_gemeente_exports(
        ranking, content.values, content.previous, staged.gemeenten, content.gemeenten,
        context=content.context, notes=list(notes),
    )
