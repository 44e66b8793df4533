"""Scoring says what it knew: ``knowable_year`` picks the newest as-of year whose knowledge
date has passed (on a hand-made knowledge list), the job scores that year without --as-of,
replays the past with ``known_at`` (part of the run id), refuses when nothing is known yet,
and writes the knowledge date and the per-source reference years and dates to the manifest;
the Dutch and English lines say the same."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import registry
from ml.drift import training_profile
from models.explain import SHAP_BASE, shap_column
from serving import job
from serving.exports import date_nl, knowledge_line_nl, knowledge_notes_nl
from serving.report import knowledge_line
from wijkradar.catalog import Workspace
from wijkradar.config import Config
from wijkradar.errors import NotEnoughDataError
from wijkradar.records import ALL_GEMEENTEN, KnowledgeNote, Manifest, PanelMeta, SourceUse

FEATURES = ["lbm", "bijstand_per_1000"]
YEARS = (2018, 2020, 2022)


def note(year: int, known: str, income_year: int | None = None) -> KnowledgeNote:
    return KnowledgeNote(
        as_of_year=year,
        knowledge_date=known,
        sources=(
            SourceUse("Leefbarometer", year, known),
            SourceUse("CBS", year, known),
            SourceUse("CBS income", income_year or year - 1, known),
        ),
    )


KNOWLEDGE = (note(2018, "2019-07-01"), note(2020, "2021-07-01"), note(2022, "2023-09-15"))


@pytest.mark.parametrize(
    ("known_at", "expected"),
    [
        (date(2019, 7, 1), 2018),  # on the day itself
        (date(2021, 3, 1), 2018),  # 2020's rows are not known yet
        (date(2021, 7, 1), 2020),
        (date(2023, 9, 14), 2020),
        (date(2023, 9, 15), 2022),
        (date(2030, 1, 1), 2022),
    ],
)
def test_knowable_year_is_the_newest_known_by_the_date(known_at: date, expected: int) -> None:
    assert job.knowable_year(KNOWLEDGE, YEARS, known_at) == expected


def test_knowable_year_refuses_when_nothing_is_known_yet() -> None:
    with pytest.raises(NotEnoughDataError, match="2019-07-01") as caught:
        job.knowable_year(KNOWLEDGE, YEARS, date(2019, 6, 30))
    assert "2019-06-30" in str(caught.value)


def test_knowable_year_checks_a_given_year_and_ignores_years_not_in_the_panel() -> None:
    assert job.knowable_year(KNOWLEDGE, YEARS, date(2022, 1, 1), as_of=2018) == 2018
    with pytest.raises(NotEnoughDataError, match="As-of year 2022 is not known on 2022-01-01"):
        job.knowable_year(KNOWLEDGE, YEARS, date(2022, 1, 1), as_of=2022)
    assert job.knowable_year(KNOWLEDGE, (2018, 2020), date(2030, 1, 1)) == 2020
    unnoted = KNOWLEDGE[:2]  # 2022 is in the panel, without a note
    assert job.knowable_year(unnoted, YEARS, date(2030, 1, 1)) == 2020


def test_without_knowledge_the_newest_year_as_before() -> None:
    assert job.knowable_year((), YEARS, date(1990, 1, 1)) == 2022
    assert job.knowable_year((), YEARS, date(1990, 1, 1), as_of=2020) == 2020


def test_the_lines_in_dutch_and_english() -> None:
    sources = note(2024, "2025-07-01", income_year=2022).sources
    assert date_nl("2021-03-01") == "1 maart 2021"
    assert knowledge_line_nl("2025-07-01", sources) == (
        "Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024, CBS inkomen 2022"
    )
    assert knowledge_line_nl(None, sources) is None
    assert knowledge_notes_nl(None, sources) == []
    notes = knowledge_notes_nl("2025-07-01", sources)
    assert notes[1:] == [
        "Leefbarometer: peiljaar 2024, gepubliceerd op 1 juli 2025",
        "CBS: peiljaar 2024, gepubliceerd op 1 juli 2025",
        "CBS inkomen: peiljaar 2022, gepubliceerd op 1 juli 2025",
    ]
    manifest = Manifest(
        run_id="r", as_of_year=2024, model_name="m", model_version="1", model_run_id="x",
        panel_fingerprint="f", row_count=1, features=(), additivity_max_error=0.0,
        previous_run=None, drift_flagged=(), units_flagged_missing=0, gemeenten=ALL_GEMEENTEN,
        created="2025-07-02T00:00:00+0000", knowledge_date="2025-07-01", sources=sources,
    )
    assert knowledge_line(manifest) == (
        "data known on 2025-07-01: Leefbarometer 2024, CBS 2024, CBS income 2022"
    )
    assert Manifest.from_dict(manifest.to_dict()) == manifest


# --- the job, with a stand-in model and a hand-made panel -----------------------------------


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for year in YEARS:
        n = 12
        frames.append(pd.DataFrame({
            "unit_code": [f"WK0100{i:02d}" for i in range(n)],
            "unit_name": [f"Wijk {i}" for i in range(n)],
            "gemeente_code": ["GM0100"] * 6 + ["GM0107"] * 6,
            "gemeente_name": ["Gemeente A"] * 6 + ["Gemeente B"] * 6,
            "as_of_year": year,
            "lbm": 4.0 + rng.normal(0, 0.1, n),
            "bijstand_per_1000": rng.normal(30, 5, n),
        }))
    return pd.concat(frames, ignore_index=True)


class StandIn:
    """What the packaged model returns: risk, margin and contributions that add up."""

    def predict(self, X: pd.DataFrame, params: dict[str, str] | None = None) -> pd.DataFrame:
        shap = (X.to_numpy(dtype="float64") - X.mean().to_numpy()) * 0.1
        margin = shap.sum(axis=1) - 1.0
        out = pd.DataFrame({"risk": 1 / (1 + np.exp(-margin)), "margin": margin})
        for j, feature in enumerate(FEATURES):
            out[shap_column(feature)] = shap[:, j]
        out[SHAP_BASE] = -1.0
        return out


@pytest.fixture
def scoring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ws.root.mkdir()
    panel = _panel()
    meta = PanelMeta(
        fingerprint="f" * 64, sources_fingerprint="e" * 64, rows=len(panel), units=12,
        as_of_years=list(YEARS), features=FEATURES, level="wijk", delta=0.05,
        built="2024-01-01T00:00:00+0000", knowledge=KNOWLEDGE,
    )
    ref = registry.ModelRef("wijkradar", "1", "run-1", "models:/wijkradar/1")
    monkeypatch.setattr(job, "kept_panel_meta", lambda ws, cfg: (meta.fingerprint, meta))
    monkeypatch.setattr(
        job, "ensure_panel", lambda ws, cfg, progress=None, fingerprint=None: (panel, meta)
    )
    monkeypatch.setattr(registry, "tracking_for", lambda ws, cfg: None)
    monkeypatch.setattr(registry, "resolve", lambda tracking, uri: ref)
    monkeypatch.setattr(registry, "load", lambda tracking, ref: (StandIn(), list(FEATURES)))
    profile = json.dumps(training_profile(panel[FEATURES]))  # the model's drift profile
    monkeypatch.setattr(registry, "run_text", lambda tracking, run_id, name: profile)
    return ws


def _config(ws: Workspace) -> Config:
    return Config(root=ws.root, sources=())


def test_the_job_scores_the_newest_known_year_and_records_it(scoring: Workspace) -> None:
    out = job.run_score(scoring, _config(scoring), None, None, lambda _: None)
    assert out.manifest.as_of_year == 2022  # today is long after 2023-09-15
    assert out.manifest.knowledge_date == "2023-09-15"
    assert [(s.source, s.reference_year, s.published) for s in out.manifest.sources] == [
        ("Leefbarometer", 2022, "2023-09-15"),
        ("CBS", 2022, "2023-09-15"),
        ("CBS income", 2021, "2023-09-15"),
    ]
    assert set(out.ranking["as_of_year"]) == {2022}


def test_known_at_replays_the_past_under_its_own_run_id(scoring: Workspace) -> None:
    cfg = _config(scoring)
    replay = job.run_score(scoring, cfg, None, None, lambda _: None, known_at=date(2021, 3, 1))
    assert replay.manifest.as_of_year == 2018
    assert replay.manifest.knowledge_date == "2019-07-01"
    plain = job.run_score(scoring, cfg, 2018, None, lambda _: None)
    assert plain.published and plain.run.run_id != replay.run.run_id
    again = job.run_score(scoring, cfg, None, None, lambda _: None, known_at=date(2021, 3, 1))
    assert again.run.run_id == replay.run.run_id


def test_known_at_before_any_knowledge_date_publishes_nothing(scoring: Workspace) -> None:
    with pytest.raises(NotEnoughDataError, match="No as-of year"):
        job.run_score(scoring, _config(scoring), None, None, lambda _: None,
                      known_at=date(2019, 1, 1))
    assert not (scoring.root / "scores").exists() or not any((scoring.root / "scores").iterdir())
