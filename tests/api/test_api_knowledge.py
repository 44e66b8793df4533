"""What the scored rows knew, as the API and the job's exports carry it: the runs endpoint has
each run's knowledge date, its sources and the Dutch line; the Excel files have it on a
second sheet "Toelichting"; the CSV columns stay as they were."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
from apiworkspace import KNOWLEDGE_LINE_2024, TestClient

from wijkradar import catalog

Workspace = tuple[Path, dict[str, Any]]


def test_runs_carry_the_knowledge_date_sources_and_dutch_line(client: TestClient) -> None:
    years = {y["as_of_year"]: y for y in client.get("/api/runs").json()["years"]}
    latest = years[2024]["runs"][-1]
    assert latest["knowledge_date"] == "2025-07-01"
    assert latest["sources"] == [
        {"source": "Leefbarometer", "reference_year": 2024, "published": "2025-07-01"},
        {"source": "CBS", "reference_year": 2024, "published": "2025-07-01"},
        {"source": "CBS income", "reference_year": 2023, "published": "2025-07-01"},
    ]
    assert latest["knowledge_line"] == KNOWLEDGE_LINE_2024
    older = years[2022]["runs"][0]
    assert older["knowledge_date"] == "2023-07-01"
    assert older["knowledge_line"].startswith("Gegevens bekend op 1 juli 2023: Leefbarometer 2022")


def test_the_manifest_records_what_was_known(api_workspace: Workspace) -> None:
    run = catalog.latest_run(catalog.Workspace(api_workspace[0]), 2024)
    assert run is not None
    manifest = catalog.read_manifest(run)
    assert manifest.knowledge_date == "2025-07-01"
    assert [(s.source, s.reference_year, s.published) for s in manifest.sources] == [
        ("Leefbarometer", 2024, "2025-07-01"),
        ("CBS", 2024, "2025-07-01"),
        ("CBS income", 2023, "2025-07-01"),
    ]


def test_excel_download_has_a_toelichting_sheet_and_csv_no_new_column(
    client: TestClient,
) -> None:
    from openpyxl import load_workbook

    response = client.get("/api/export.xlsx", params={"as_of": 2024})
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["Ranglijst", "Toelichting"]
    notes = [r[0] for r in book["Toelichting"].values]
    assert notes[0].startswith("Peiljaar 2024, gegevens bekend op 1 juli 2025: kans op")
    assert KNOWLEDGE_LINE_2024 in notes
    assert "CBS inkomen: peiljaar 2023, gepubliceerd op 1 juli 2025" in notes
    text = client.get("/api/export.csv", params={"as_of": 2024}).text.lstrip("\ufeff")
    csv = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    assert list(csv.columns) == list(next(iter(book["Ranglijst"].values)))
    assert not any("bekend" in str(c) for c in csv.columns)


def test_gemeente_excel_files_have_the_toelichting_sheet(api_workspace: Workspace) -> None:
    from openpyxl import load_workbook

    run = catalog.latest_run(catalog.Workspace(api_workspace[0]), 2024)
    assert run is not None
    path = sorted(run.gemeenten.glob("*.xlsx"))[0]
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == [path.stem, "Toelichting"]
    assert next(iter(book["Toelichting"].values))[0] == KNOWLEDGE_LINE_2024
    header = pd.read_csv(path.with_suffix(".csv"), sep=";", nrows=0, encoding="utf-8-sig")
    assert list(header.columns) == list(next(iter(book[path.stem].values)))
