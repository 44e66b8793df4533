"""The batch scoring job and the report: the I/O edge of serving.

A scoring run is identified by the panel fingerprint, the model version, the as-of year and,
when given, the date it replays (``--known-at``). Without ``--as-of`` the job scores the newest
as-of year whose knowledge date (``PanelMeta.knowledge``) has passed: ``knowable_year``.
``publish_run`` writes its folder (``catalog.RunFolder``) to a staging folder and publishes it
by rename; ``scores/<year>/latest`` then names it. Re-running with the same inputs publishes
nothing new.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from features.build import ensure_panel, kept_panel_meta
from features.describe import Extra, mapped_terms
from features.panel import feature_columns
from ml import registry
from models.explain import (
    ADDITIVITY_TOLERANCE,
    EXPLAIN_PARAM,
    ORDER_PARAM,
    ROW_ORDERS,
    additivity_error,
)
from serving.driftcheck import drift_of, drift_profile
from serving.exports import (
    PREVIOUS_COLUMNS,
    context_values,
    knowledge_notes_nl,
    new_in_top,
    rank_change,
)
from serving.lookup import positions_of
from serving.ranking import build_ranking
from serving.writers import RunContent, write_run_files
from wijkradar import catalog
from wijkradar.catalog import RunFolder, Workspace
from wijkradar.config import Config
from wijkradar.errors import (
    ExplanationError,
    NotEnoughDataError,
    SchemaMismatchError,
)
from wijkradar.records import ALL_GEMEENTEN, KnowledgeNote, Manifest, PanelMeta

Progress = Callable[[str], None]
# How rows are scored and explained: ``score_rows`` in this process, or an engine with its
# signature such as ``serving.distributed.dask_scorer`` (the same ranking, on a cluster).
# Its arguments: the model's predict, the rows, the model's features and the panel's mapped
# columns (``features.describe.mapped_terms``), which the drivers in words name by their labels.
Scorer = Callable[
    [Callable[[pd.DataFrame], pd.DataFrame], pd.DataFrame, list[str], Extra | None],
    tuple[pd.DataFrame, float],
]


@dataclass(frozen=True)
class ScoreOutcome:
    run: RunFolder
    published: bool  # False: the same inputs and model were already scored
    manifest: Manifest
    scored: pd.DataFrame | None = None  # the ranking when it was just made

    @property
    def ranking(self) -> pd.DataFrame:
        """The run's ranking (read from the run folder when nothing new was scored)."""
        return self.scored if self.scored is not None else catalog.read_parquet(self.run.ranking)


def schema_differences(model_features: list[str], panel: pd.DataFrame) -> list[str]:
    """What keeps a model from scoring a panel, in words (empty when it fits): features the
    panel lacks, and features whose type is not the model's (double). Order cannot differ:
    the features are taken by name, in the model's order."""
    present = set(feature_columns(panel))
    problems = [f"the panel lacks feature {f!r}" for f in model_features if f not in present]
    problems += [
        f"feature {f!r} is {panel[f].dtype}, the model expects double"
        for f in model_features
        if f in present and not pd.api.types.is_numeric_dtype(panel[f])
    ]
    return problems


def scoring_predict(model: Any, method: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The packaged model's ``predict`` as the job calls it: ``method``'s explanations, the
    rows in rank order (``order="margin"``: sorted in place, so that ``build_ranking`` need
    not copy the contributions).

    It calls the loaded pyfunc's own Python model (``models.packaged.RiskModel.predict``),
    not the pyfunc wrapper: the wrapper's schema enforcement rebuilds the input frame (1M
    units: 816 MB more at the job's peak, 1.5-2 s), and the job has checked the panel against
    the model's schema itself (``schema_differences``); the model takes its features by name
    as float64. Any other pyfunc (a model logged by another flavour) is called as a pyfunc.
    """
    from models.packaged import RiskModel  # MLflow is loaded by now: the model is

    params = {EXPLAIN_PARAM: method, ORDER_PARAM: ROW_ORDERS[1]}
    unwrap = getattr(model, "unwrap_python_model", None)
    python_model = unwrap() if unwrap is not None else None
    if isinstance(python_model, RiskModel):
        return partial(python_model.predict, None, params=params)
    return partial(model.predict, params=params)


def score_rows(
    predict: Callable[[pd.DataFrame], pd.DataFrame], rows: pd.DataFrame, features: list[str],
    extra: Extra | None = None,
) -> tuple[pd.DataFrame, float]:
    """Score, explain and rank ``rows`` (pure apart from the model call). Returns the ranking
    and the largest additivity error; raises when the explanations do not add up. ``extra``:
    the panel's mapped columns, named by their labels in the drivers in words."""
    # The model converts the features to one float matrix itself; no copy here.
    output = predict(rows.loc[:, features])
    error = additivity_error(output, features)
    if error > ADDITIVITY_TOLERANCE:
        raise ExplanationError(
            f"SHAP additivity violated: max |base + sum(shap) - margin| = {error:.3g} "
            f"> {ADDITIVITY_TOLERANCE:g}. Nothing was published."
        )
    return build_ranking(rows, output, features, extra), error


def run_id_of(
    panel_fingerprint: str,
    ref: registry.ModelRef,
    as_of_year: int,
    gemeenten: Sequence[str] | None = None,
    known_at: date | None = None,
    explain: str = "fast",
) -> str:
    """The run's id: the panel, the model version, the as-of year, the gemeenten exported and
    the explanation method; ``known_at`` (a replay of the past) only when given."""
    scope = ",".join(sorted(gemeenten)) if gemeenten else "all"
    key = (f"{panel_fingerprint}\0{ref.name}\0{ref.version}\0{as_of_year}\0{scope}"
           f"\0{explain}")
    if known_at is not None:
        key += f"\0{known_at.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def knowable_year(
    knowledge: Sequence[KnowledgeNote],
    years: Sequence[int],
    known_at: date,
    as_of: int | None = None,
) -> int:
    """The as-of year to score on ``known_at``: ``as_of`` when given, else the newest of the
    panel's ``years`` whose knowledge date is on or before ``known_at``. A year is knowable
    only when it has a note in ``knowledge`` (``PanelMeta.knowledge``) dated by then; a given
    ``as_of`` that is not is an error too. Without notes (a panel built without a calendar)
    every year is knowable: the newest, or ``as_of``.

    Example: notes 2020 -> 2021-07-01 and 2022 -> 2023-07-01; on 2021-03-01 nothing is known
    (NotEnoughDataError), on 2023-03-01 it is 2020, from 2023-07-01 on 2022.
    """
    present = sorted({int(y) for y in years})
    if not present:
        raise NotEnoughDataError("The panel has no rows, so there is no as-of year to score.")
    if not knowledge:
        return present[-1] if as_of is None else as_of
    dates = {note.as_of_year: date.fromisoformat(note.knowledge_date) for note in knowledge}
    known = [y for y in present if y in dates and dates[y] <= known_at]
    listed = ", ".join(f"{y}: {dates[y].isoformat()}" for y in present if y in dates)
    if as_of is not None and as_of not in known:
        when = dates[as_of].isoformat() if as_of in dates else "no date in the panel meta"
        raise NotEnoughDataError(
            f"As-of year {as_of} is not known on {known_at.isoformat()}: its knowledge date is "
            f"{when}. Knowable then: {known or 'none'}; knowledge dates: {listed or 'none'}."
        )
    if as_of is not None:
        return as_of
    if not known:
        raise NotEnoughDataError(
            f"No as-of year of the panel is known on {known_at.isoformat()}: the earliest "
            f"knowledge date is later. Knowledge dates: {listed or 'none'}. Give a later "
            f"--known-at, or wait for the data."
        )
    return known[-1]


def run_score(
    ws: Workspace,
    cfg: Config,
    as_of: int | None,
    model_uri: str | None,
    progress: Progress,
    gemeenten: Sequence[str] | None = None,
    known_at: date | None = None,
    allow_missing_profile: bool = False,
    scorer: Scorer | None = None,
) -> ScoreOutcome:
    """Score under the workspace's lock: a second run at the same time fails with
    ``LockHeldError``; the kernel releases the lock of a killed run. ``known_at`` replays
    the past: what the job would have scored on that date (default: today's newest).
    Without the model's drift profile scoring fails (``StoreError``) unless
    ``allow_missing_profile``, which the manifest then records."""
    from serving.lock import RunLock

    with RunLock(ws.lock) as lock:
        if lock.stale_holder_:
            progress(f"stale lock of a run that died, {lock.stale_holder_}")
        scope = tuple(gemeenten) if gemeenten else None
        request = ScoreRequest(as_of, model_uri, scope, known_at, allow_missing_profile)
        return _score_locked(ws, cfg, request, progress, scorer or score_rows)


@dataclass(frozen=True)
class ScoreRequest:
    """What a scoring run was asked for: the as-of year (None: the newest known), the model
    URI (None: the champion), the gemeenten to export (None: all) and the date it replays
    (None: today, and not part of the run id)."""

    as_of: int | None
    model_uri: str | None
    gemeenten: tuple[str, ...] | None
    known_at: date | None = None
    allow_missing_profile: bool = False


@dataclass(frozen=True)
class RunKey:
    """What identifies the run a request asks for: the as-of year, its knowledge note (None
    without a calendar), the model version and the run id (``run_id_of``)."""

    year: int
    note: KnowledgeNote | None
    ref: registry.ModelRef
    run_id: str


def run_key(cfg: Config, request: ScoreRequest, meta: PanelMeta, ref: registry.ModelRef) -> RunKey:
    """The run ``request`` asks for of model version ``ref`` on the panel ``meta`` describes,
    from the meta alone."""
    if request.as_of is not None and request.known_at is None:
        year = int(request.as_of)  # as before: an explicit year is scored as asked
    else:
        when = request.known_at or date.today()
        year = knowable_year(meta.knowledge, meta.as_of_years, when, request.as_of)
    run_id = run_id_of(meta.fingerprint, ref, year, request.gemeenten, request.known_at,
                       cfg.explain.method)
    note = next((n for n in meta.knowledge if n.as_of_year == year), None)
    return RunKey(year, note, ref, run_id)


def _published(ws: Workspace, key: RunKey, progress: Progress) -> ScoreOutcome | None:
    """The outcome "nothing new" when ``key``'s run is already the latest of its year."""
    current = catalog.latest_run(ws, key.year)
    if current is None or current.run_id != key.run_id:
        return None
    progress(f"nothing new: run {key.run_id} already published")
    return ScoreOutcome(current, False, catalog.read_manifest(current))


def _score_locked(
    ws: Workspace, cfg: Config, request: ScoreRequest, progress: Progress,
    scorer: Scorer = score_rows,
) -> ScoreOutcome:
    catalog.remove_stale_staging(ws, progress)  # under the lock: what killed runs left
    tracking = registry.tracking_for(ws, cfg)
    ref = registry.resolve(tracking, request.model_uri)
    # "Nothing new?" is answered from the panel's meta, before its bytes are read and hashed.
    fingerprint, kept = kept_panel_meta(ws, cfg)
    key = run_key(cfg, request, kept, ref) if kept is not None else None
    if key is not None and (done := _published(ws, key, progress)) is not None:
        return done
    # A second thread loads the model (mostly imports, under the GIL) while this one reads,
    # hashes and parses the panel (mostly outside it); a third computes the drift table as
    # soon as the rows are there, while the model is still loading or being scored.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="wijkradar-job") as beside:
        progress(f"loading model {ref.name} v{ref.version}")
        loading = beside.submit(registry.load, tracking, ref)
        panel, meta = ensure_panel(ws, cfg, progress=progress, fingerprint=fingerprint)
        if key is None:  # the panel was built just now: its meta names the run
            key = run_key(cfg, request, meta, ref)
            if (done := _published(ws, key, progress)) is not None:
                return done
        rows = panel[panel["as_of_year"] == key.year].reset_index(drop=True)
        if rows.empty:
            raise NotEnoughDataError(
                f"The panel has no rows for as-of year {key.year}. As-of years present: "
                f"{meta.as_of_years}."
            )
        # Before scoring: a run that would fail for want of its profile explains nothing.
        found = drift_profile(tracking, ref, request.allow_missing_profile)
        drifting = beside.submit(drift_of, found.profile, rows, cfg)
        model, features = loading.result()
        problems = schema_differences(features, panel)
        if problems:
            raise SchemaMismatchError(
                f"Model {ref.uri} does not fit the panel: " + "; ".join(problems)
            )
        known = f", data known on {key.note.knowledge_date}" if key.note else ""
        progress(f"scoring and explaining {len(rows):,} units of as-of year {key.year}{known}")
        method = cfg.explain.method
        terms = mapped_terms(meta.mapped_columns)
        predict = scoring_predict(model, method)
        ranking, error = scorer(predict, rows, features, terms)
        current = catalog.latest_run(ws, key.year)
        previous = catalog.read_parquet(current.ranking, PREVIOUS_COLUMNS) if current else None
        values = rows[["unit_code", *features]]  # a lazy copy: no values are copied
        ranking = with_guards(ranking, values, previous, features, cfg.scoring.max_missing_share)
        drift = drifting.result()
    flagged = drift.loc[drift["flagged"], "feature"].tolist()
    if found.warning:
        progress(found.warning)
    if flagged:
        progress(f"warning: drift in {len(flagged)} feature(s): {', '.join(flagged[:8])}")
    n_missing = int(ranking["flag_missing"].sum())
    if n_missing:
        progress(f"warning: {n_missing:,} unit(s) scored with more than "
                 f"{cfg.scoring.max_missing_share:.0%} of their features missing (flagged)")
    note = key.note
    manifest = Manifest(
        run_id=key.run_id,
        as_of_year=key.year,
        model_name=ref.name,
        model_version=ref.version,
        model_run_id=ref.run_id,
        panel_fingerprint=meta.fingerprint,
        row_count=len(ranking),
        features=tuple(features),
        additivity_max_error=error,
        previous_run=current.run_id if current else None,
        drift_flagged=tuple(flagged),
        units_flagged_missing=n_missing,
        gemeenten=request.gemeenten or ALL_GEMEENTEN,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        knowledge_date=note.knowledge_date if note else None,
        sources=note.sources if note else (),
        panel_hash=meta.content_hash,
        drift_profile=found.recorded,
        explain_method=method,
        exports=cfg.exports.when,
    )
    content = RunContent(
        ranking=ranking, values=values, drift=drift, previous=previous,
        gemeenten=request.gemeenten, context=context_values(rows, meta.context_features),
        terms=terms,
    )
    run = publish_run(ws, manifest, content, progress)
    return ScoreOutcome(run, True, catalog.read_manifest(run), ranking)


def publish_run(
    ws: Workspace, manifest: Manifest, content: RunContent, progress: Progress
) -> RunFolder:
    """Write the run folder of ``manifest`` (its run id and as-of year) and make it the latest.

    The folder (``serving.writers.RunContent``) is written whole to a staging sibling, with the
    manifest and the digests of the other files last, then renamed into place.
    """
    final = ws.run_dir(manifest.as_of_year, manifest.run_id)
    with catalog.staged_dir(final.path) as tmp:
        staged = RunFolder(tmp)
        notes = knowledge_notes_nl(manifest.knowledge_date, manifest.sources)
        write_run_files(staged, content, notes, progress, exports=manifest.exports == "run")
        catalog.write_manifest(staged, manifest)  # last: a run with it is whole
    catalog.point_latest(ws, manifest.as_of_year, manifest.run_id)
    progress(f"published run {manifest.run_id}")
    return final


def with_guards(
    ranking: pd.DataFrame,
    values: pd.DataFrame,
    previous: pd.DataFrame | None,
    features: Sequence[str],
    max_missing_share: float,
) -> pd.DataFrame:
    """Append the change in rank since the previous run, whether the unit is new in the top
    10 %, and the share of its features that are missing (flagged above the limit)."""
    # Column by column: no (units x features) copy of the values (1M units: 1.2 -> 0.4 s).
    missing_count = np.zeros(len(values), dtype="int64")
    for f in features:
        missing_count += values[f].isna().to_numpy()
    share = missing_count / max(len(features), 1)
    at = positions_of(ranking["unit_code"], values["unit_code"])
    missing = np.where(at >= 0, share[at], np.nan)
    return ranking.assign(  # new columns only; the contributions are not copied
        rank_change=rank_change(ranking, previous).to_numpy(),
        new_in_top10=new_in_top(ranking, previous).to_numpy(),
        missing_share=missing,
        flag_missing=missing > max_missing_share,
    )
