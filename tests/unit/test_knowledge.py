"""Must show (issue 11): on a generated workspace with the default calendar, every CBS income,
bijstand and Wmo value of reference year 2020 can be changed and a rebuilt panel leaves every
feature of the as-of-2020 rows unchanged (those values are published on 1 July 2022, after the
rows' knowledge date of 1 July 2021); the same change to reference year 2018 does change some.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from features import schema
from features.build import ensure_panel
from features.calendar import CBS_INCOME_GROUP
from features.panel import KNOWLEDGE_DATE, feature_columns
from features.synth import generate
from wijkradar.catalog import Workspace
from wijkradar.config import load_config

INCOME_VARIABLES = CBS_INCOME_GROUP.variables
AS_OF = 2020


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("knowledge")
    data = generate(seed=11, n_gemeenten=12)
    for rel, text in data.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "wijkradar.toml").write_text(data.config, encoding="utf-8")
    return root


def build(root: Path) -> tuple[pd.DataFrame, object]:
    ws = Workspace(root)
    return ensure_panel(ws, load_config(ws.config), force=True)


def halve_income_values(file: Path) -> int:
    """Halve every income, bijstand and Wmo value in a StatLine CSV; the number changed."""
    raw = file.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=";"))
    headers = {h for v in INCOME_VARIABLES for h in schema.CBS_BY_NAME[v].headers}
    columns = [i for i, h in enumerate(rows[0]) if h in headers]
    assert len(columns) >= 3, rows[0]
    changed = 0
    for row in rows[1:]:
        for i in columns:
            text = row[i].strip()
            if text and text != ".":
                row[i] = f"{float(text) * 0.5 + 0.1:8.1f}"
                changed += 1
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    file.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    return changed


def as_of_rows(panel: pd.DataFrame) -> pd.DataFrame:
    rows = panel[panel["as_of_year"] == AS_OF].set_index("unit_code").sort_index()
    return rows[feature_columns(panel)]


def test_income_of_2020_is_not_known_to_the_rows_of_2020_but_2018_is(workspace: Path) -> None:
    before, meta = build(workspace)
    assert "calendar" in (workspace / "wijkradar.toml").read_text(encoding="utf-8")
    dates = before.groupby("as_of_year")[KNOWLEDGE_DATE].first()
    assert dates[AS_OF] == pd.Timestamp("2021-07-01")
    assert KNOWLEDGE_DATE not in feature_columns(before)
    note = next(n for n in meta.knowledge if n.as_of_year == AS_OF)
    uses = {u.source: (u.reference_year, u.published) for u in note.sources}
    assert note.knowledge_date == "2021-07-01"
    assert uses["CBS income"] == (2019, "2021-07-01")
    assert uses["CBS"] == (2020, "2021-07-01")
    assert uses["Leefbarometer"] == (2020, "2021-07-01")
    reference = as_of_rows(before)
    assert reference["income_per_inhabitant_rel"].notna().any()

    cbs = workspace / "sources" / "cbs"
    assert halve_income_values(cbs / f"kwb-{AS_OF}.csv") > 0
    after_2020, _ = build(workspace)
    pd.testing.assert_frame_equal(as_of_rows(after_2020), reference, check_exact=True)
    # The change is real: the rows of 2022 (knowledge date 2023-07-01) do see it.
    chg1 = "income_per_inhabitant_rel_chg1"
    later = before[before["as_of_year"] == 2022].set_index("unit_code")[chg1]
    seen = after_2020[after_2020["as_of_year"] == 2022].set_index("unit_code")[chg1]
    assert not seen.equals(later)

    assert halve_income_values(cbs / "kwb-2018.csv") > 0
    after_2018, _ = build(workspace)
    moved = as_of_rows(after_2018).compare(reference)
    changed = sorted({column for column, _ in moved.columns})
    assert {"income_per_inhabitant_rel_chg1", "low_income_hh_pct_chg1"} <= set(changed), changed
    assert not {"income_per_inhabitant_rel", "inhabitants", "lbm"} & set(changed), changed
