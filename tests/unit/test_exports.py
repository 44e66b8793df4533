"""Exports for analysts: rank changes, the long explanation table, the per-gemeente CSV and
Excel files checked against the national ranking, and the general Excel writer. (Dutch
phrases: tests/unit/test_drivers.py.)"""

from __future__ import annotations

import io
import time

import numpy as np
import openpyxl
import pandas as pd
import pytest

from features.vocabulary import Unit
from serving.drivers import driver_phrase_nl
from serving.dutch import COLUMNS_NL, UNIT_WORDS_NL, feature_label_nl, unit_nl
from serving.exports import (
    context_header,
    context_values,
    csv_bytes,
    explanations_long,
    export_headers,
    gemeente_table,
    new_in_top,
    rank_change,
    write_gemeente_exports,
    write_xlsx,
    xlsx_bytes,
)
from serving.ranking import build_ranking
from wijkradar.errors import ConfigError

FEATURES = ["low_income_hh_pct_chg3", "lbm", "gm_lbm_chg_prev", "bijstand_per_1000", "woz_value"]
GEMEENTEN = {"GM0363": "Amsterdam", "GM0599": "Rotterdam", "GM0014": "Groningen"}


def _ranking_and_values(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ranking built by serving.ranking from random contributions; a few PC4 units."""
    rng = np.random.default_rng(seed)
    gm = rng.choice(list(GEMEENTEN), size=n)
    codes = [f"WK{g[2:]}{i:02d}" for i, g in enumerate(gm)]
    rows = pd.DataFrame(
        {
            "unit_code": codes,
            "unit_name": [f"Wijk {i}" for i in range(n)],
            "gemeente_code": pd.Series(gm, dtype="object"),
            "gemeente_name": [GEMEENTEN[g] for g in gm],
            "as_of_year": 2022,
        }
    )
    pc4 = rows.index[-4:]  # postcode areas lie in no gemeente
    rows.loc[pc4, "unit_code"] = [f"{1011 + i}" for i in range(4)]
    rows.loc[pc4, ["gemeente_code", "gemeente_name"]] = None
    X = rng.normal(size=(n, len(FEATURES))) * [3, 0.5, 0.2, 20, 100] + [0, 4, 0, 40, 300]
    X[rng.random(X.shape) < 0.05] = np.nan
    for j, f in enumerate(FEATURES):
        rows[f] = X[:, j]
    shap = rng.normal(scale=0.4, size=(n, len(FEATURES)))
    base = -2.0
    margin = shap.sum(axis=1) + base
    output = pd.DataFrame(shap, columns=[f"shap__{f}" for f in FEATURES])
    output["shap__base"] = base
    output.insert(0, "margin", margin)
    output.insert(0, "risk", 1 / (1 + np.exp(-margin)))
    ranking = build_ranking(rows, output, FEATURES)
    return ranking, rows[["unit_code", *FEATURES]]


def _unit(ranking: pd.DataFrame, code: str) -> pd.Series:
    return ranking.set_index("unit_code").loc[code]


# --- rank change and new in top -------------------------------------------------------------


def test_rank_change_is_previous_minus_current_and_nan_for_new_units():
    ranking = pd.DataFrame({"unit_code": ["A", "B", "C", "D"], "rank": [1, 2, 3, 4]})
    previous = pd.DataFrame({"unit_code": ["B", "A", "D", "GONE"], "rank": [1, 3, 2, 4]})
    change = rank_change(ranking, previous)
    assert change.tolist()[:2] == [2.0, -1.0]  # A rose from 3 to 1, B fell from 1 to 2
    assert np.isnan(change.iloc[2])  # C is new
    assert change.iloc[3] == -2.0
    assert rank_change(ranking, None).isna().all()


def test_new_in_top_counts_units_that_entered_the_top_tenth():
    n = 20  # top 10% = 2 units
    ranking = pd.DataFrame({"unit_code": [f"U{i}" for i in range(n)], "rank": range(1, n + 1)})
    previous = ranking.copy()
    previous["rank"] = [3, 2, 1, *range(4, n + 1)]  # U0 was 3rd, U2 was 1st
    previous = previous[previous["unit_code"] != "U1"]  # U1 is new (now 2nd)
    flags = new_in_top(ranking, previous, frac=0.1)
    assert flags[flags].index.tolist() == [0, 1]
    assert not new_in_top(ranking, None).any()


# --- the long explanation table -------------------------------------------------------------


def test_explanations_long_ranks_contributions_within_each_unit():
    ranking, values = _ranking_and_values()
    long = explanations_long(ranking, values)
    assert list(long.columns) == ["unit_code", "feature", "value", "contribution", "rank"]
    assert len(long) == len(ranking) * len(FEATURES)
    assert long["unit_code"].drop_duplicates().tolist() == ranking["unit_code"].tolist()
    by_unit = long.groupby("unit_code", observed=True)
    top = long[long["rank"] == 1].set_index("unit_code")["contribution"]
    assert np.allclose(top, by_unit["contribution"].max().reindex(top.index))
    assert (by_unit["contribution"].diff().dropna() <= 0).all()  # rank order = descending
    # every (unit, feature) carries the ranking's contribution and the value the model saw
    wide = long.pivot(index="unit_code", columns="feature", values="contribution")
    shap = ranking.set_index("unit_code")[[f"shap__{f}" for f in FEATURES]]
    assert np.allclose(wide.loc[shap.index, FEATURES].to_numpy(), shap.to_numpy())
    vals = long.pivot(index="unit_code", columns="feature", values="value")
    expected = values.set_index("unit_code").loc[shap.index, FEATURES].to_numpy()
    got = vals.loc[shap.index, FEATURES].to_numpy()
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.allclose(got[~np.isnan(got)], expected[~np.isnan(expected)])


def test_explanations_long_is_memory_sane_at_national_size():
    n, p = 14_500, 100
    rng = np.random.default_rng(1)
    features = [f"f{j:03d}" for j in range(p)]
    ranking = pd.DataFrame({"unit_code": [f"BU{i:08d}" for i in range(n)]})
    shap = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"shap__{f}" for f in features])
    ranking = pd.concat([ranking, shap], axis=1)
    ranking["shap__base"] = -2.0
    values = pd.DataFrame(rng.normal(size=(n, p)), columns=features)
    values.insert(0, "unit_code", ranking["unit_code"])
    started = time.perf_counter()
    long = explanations_long(ranking, values)
    elapsed = time.perf_counter() - started
    assert len(long) == n * p
    assert long.memory_usage(deep=True).sum() < 40e6
    assert elapsed < 5.0
    first = long.iloc[:p]
    assert first["contribution"].iloc[0] == shap.iloc[0].max()


# --- the gemeente table and files -----------------------------------------------------------


def test_gemeente_table_has_dutch_columns_and_top_drivers_in_words():
    ranking, values = _ranking_and_values()
    previous = ranking[["unit_code", "rank"]].iloc[5:].copy()
    previous["rank"] = previous["rank"].to_numpy()[::-1]
    table = gemeente_table(ranking, values, previous)
    assert list(table.columns) == [
        "Wijkcode",
        "Naam",
        "Gemeentecode",
        "Gemeente",
        "Peiljaar",
        "Risico (%)",
        "Rang",
        "Rang in gemeente",
        "Verandering in rang",
        "Nieuw in landelijke top 10%",
        "Belangrijkste factoren",
    ]
    assert table["Wijkcode"].tolist() == ranking["unit_code"].tolist()
    assert np.allclose(table["Risico (%)"], 100 * ranking["risk"])
    assert table["Verandering in rang"].isna().sum() == 5  # the units not in `previous`
    # one unit by hand: its largest positive contributions, in words, in order
    unit = _unit(ranking, table["Wijkcode"].iloc[0])
    contrib = {f: unit[f"shap__{f}"] for f in FEATURES}
    top = [f for f in sorted(FEATURES, key=lambda f: -contrib[f]) if contrib[f] > 0][:3]
    vals = values.set_index("unit_code").loc[unit.name]
    expected = "; ".join(driver_phrase_nl(f, vals[f]) for f in top)
    assert table["Belangrijkste factoren"].iloc[0] == expected
    assert expected  # the highest-risk unit has some risk-raising driver


def test_gemeente_files_hold_exactly_the_national_ranking_of_each_gemeente(tmp_path):
    ranking, values = _ranking_and_values()
    previous = ranking[["unit_code", "rank"]].sample(frac=1.0, random_state=3)
    previous["rank"] = np.arange(1, len(previous) + 1)
    written = write_gemeente_exports(ranking, values, previous, tmp_path / "gemeenten")
    assert sorted(p.name for p in written) == sorted(
        f"{g}.{ext}" for g in GEMEENTEN for ext in ("csv", "xlsx")
    )
    for code in GEMEENTEN:
        national = ranking[ranking["gemeente_code"] == code]  # in national rank order
        wb = openpyxl.load_workbook(tmp_path / "gemeenten" / f"{code}.xlsx")
        ws = wb.active
        header = [c.value for c in ws[1]]
        assert header[0] == COLUMNS_NL["unit_code"]
        assert all(c.font.bold for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == ws.dimensions
        body = list(ws.iter_rows(min_row=2, values_only=True))
        assert [r[0] for r in body] == national["unit_code"].tolist()
        risk_col = header.index("Risico (%)")
        risks = [r[risk_col] for r in body]
        assert all(isinstance(r, float) for r in risks)  # numeric, not text
        assert np.allclose(risks, national["risk"], rtol=1e-12, atol=0)
        assert ws.cell(row=2, column=risk_col + 1).number_format == "0.0%"
        assert [r[header.index("Rang")] for r in body] == national["rank"].tolist()
        assert [r[header.index("Rang in gemeente")] for r in body] == list(
            range(1, len(national) + 1)
        )
        assert ws.column_dimensions["K"].width > len("Belangrijkste factoren")

        raw = (tmp_path / "gemeenten" / f"{code}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
        assert b"\r\n" in raw
        csv = pd.read_csv(
            tmp_path / "gemeenten" / f"{code}.csv", sep=";", decimal=",", encoding="utf-8-sig"
        )
        assert csv["Wijkcode"].tolist() == national["unit_code"].tolist()
        assert np.allclose(csv["Risico (%)"], 100 * national["risk"], atol=5e-4)
        assert csv["Rang"].tolist() == national["rank"].tolist()
        change = rank_change(national, previous)
        assert csv["Verandering in rang"].tolist() == change.tolist()
        assert csv["Belangrijkste factoren"].fillna("").tolist() == [
            r[header.index("Belangrijkste factoren")] or "" for r in body
        ]
    # postcode areas (no gemeente) are in no file
    pc4 = set(ranking.loc[ranking["gemeente_code"].isna(), "unit_code"])
    assert len(pc4) == 4
    for path in (tmp_path / "gemeenten").glob("*.csv"):
        codes = pd.read_csv(path, sep=";", decimal=",", dtype={"Wijkcode": str})["Wijkcode"]
        assert not pc4 & set(codes)


def test_only_the_listed_gemeenten_are_written_and_unknown_ones_are_refused(tmp_path):
    ranking, values = _ranking_and_values()
    out = tmp_path / "gemeenten"
    written = write_gemeente_exports(ranking, values, None, out, gemeenten=["GM0599"])
    assert [p.name for p in written] == ["GM0599.csv", "GM0599.xlsx"]
    assert sorted(p.name for p in (tmp_path / "gemeenten").iterdir()) == [
        "GM0599.csv",
        "GM0599.xlsx",
    ]
    csv = pd.read_csv(written[0], sep=";", decimal=",")
    assert csv["Verandering in rang"].isna().all()  # no previous run
    with pytest.raises(ConfigError, match="GM9999"):
        write_gemeente_exports(ranking, values, None, tmp_path / "gemeenten", gemeenten=["GM9999"])


# --- context features -----------------------------------------------------------------------

CONTEXT = ["woz_value", "low_income_hh_pct_chg3"]  # context here: a recent source's columns


def _context(ranking: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """Context values of every ranked unit, in another row order than the ranking."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"unit_code": ranking["unit_code"].to_numpy()[::-1]})
    frame["woz_value"] = (300 + 50 * rng.normal(size=len(frame))).round(1)
    frame["low_income_hh_pct_chg3"] = rng.normal(size=len(frame)).round(2)
    frame.loc[::7, "woz_value"] = np.nan
    return frame


def test_context_headers_are_dutch_label_and_unit():
    assert set(UNIT_WORDS_NL) == set(Unit)  # every unit of the vocabulary has its Dutch words
    assert context_header("woz_value") == "gemiddelde WOZ-waarde (duizend euro)"
    assert unit_nl("low_income_hh_pct") == "%"
    assert unit_nl("low_income_hh_pct_chg3") == "procentpunt"  # a change of a share
    assert feature_label_nl("low_income_hh_pct_chg3").endswith(", verandering in 3 jaar")
    assert feature_label_nl("lbm_chg_prev").endswith(", verandering sinds de vorige meting")
    assert feature_label_nl("gm_lbm_chg_prev").startswith("in de rest van de gemeente: ")


def test_context_features_come_after_the_existing_columns_aligned_by_unit():
    ranking, values = _ranking_and_values()
    plain = gemeente_table(ranking, values, None)
    context = _context(ranking)
    table = gemeente_table(ranking, values, None, context=context)
    headers = [context_header(f) for f in CONTEXT]
    assert list(table.columns) == [*plain.columns, *headers]
    pd.testing.assert_frame_equal(table[plain.columns], plain)  # the rest is unchanged
    by_unit = context.set_index("unit_code")
    for feature, header in zip(CONTEXT, headers, strict=True):
        expected = by_unit[feature].reindex(table["Wijkcode"]).to_numpy()
        np.testing.assert_array_equal(table[header].to_numpy(), expected)  # NaN stays NaN
    assert table[headers[0]].isna().sum() == context["woz_value"].isna().sum()


def test_context_values_keep_only_what_the_year_holds():
    rows = pd.DataFrame(
        {"unit_code": ["1011", "1012"], "woz_value": [np.nan, np.nan], "crimes_per_1000": [1.0, 2]}
    )
    chosen = context_values(rows, ["woz_value", "crimes_per_1000", "not_in_the_panel"])
    assert chosen.columns.tolist() == ["unit_code", "crimes_per_1000"]
    assert context_values(rows, []).columns.tolist() == ["unit_code"]


def test_gemeente_files_end_with_the_context_features(tmp_path):
    ranking, values = _ranking_and_values()
    context = _context(ranking)
    written = write_gemeente_exports(
        ranking, values, None, tmp_path, gemeenten=["GM0363"], context=context
    )
    header = context_header("woz_value")
    national = ranking[ranking["gemeente_code"] == "GM0363"]
    expected = context.set_index("unit_code")["woz_value"].reindex(national["unit_code"])
    csv = pd.read_csv(written[0], sep=";", decimal=",", encoding="utf-8-sig")
    assert csv.columns[-2:].tolist() == [header, context_header("low_income_hh_pct_chg3")]
    assert csv.columns[:11].tolist() == gemeente_table(ranking, values, None).columns.tolist()
    np.testing.assert_allclose(csv[header], expected, atol=5e-4)
    ws = openpyxl.load_workbook(written[1]).active
    rows = list(ws.iter_rows(values_only=True))
    column = rows[0].index(header)
    got = [r[column] for r in rows[1:]]
    assert got == [None if np.isnan(v) else v for v in expected]
    assert all(isinstance(v, int | float) for v in got if v is not None)  # numbers, not text


# --- the general Excel writer ---------------------------------------------------------------


def test_write_xlsx_to_a_buffer_keeps_numbers_text_and_gaps():
    frame = pd.DataFrame(
        {
            "unit_code": ["WK036301", "1011"],
            "unit_name": ["=HYPERLINK(\"http://x\")", "Centrum"],
            "risk": [0.125, np.nan],
            "rank": np.array([1, 2], dtype="int64"),
            "rank_change": pd.array([3, pd.NA], dtype="Int64"),
            "margin": [np.inf, -1.5],
        }
    )
    buffer = io.BytesIO()
    write_xlsx(frame, buffer, "ranking", percent=("risk",))
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["ranking"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(frame.columns)
    assert rows[1] == ("WK036301", '=HYPERLINK("http://x")', 0.125, 1, 3, None)
    assert rows[2] == ("1011", "Centrum", None, 2, None, -1.5)
    assert ws.cell(row=2, column=2).data_type == "s"  # text, not a formula
    assert ws.cell(row=2, column=3).number_format == "0.0%"
    assert ws.cell(row=2, column=4).number_format == "#,##0"  # a rank: thousands grouped
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F3"


def test_write_xlsx_to_a_path_cleans_the_sheet_name_and_refuses_bad_arguments(tmp_path):
    frame = pd.DataFrame({"a": [1.5], "b": ["x"]})
    path = tmp_path / "out.xlsx"
    write_xlsx(frame, path, "GM0363/2024: [wijken]? and a long tail")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["GM0363_2024_ _wijken__ and a lo"]
    assert [c.value for c in book.active[1]] == ["a", "b"]
    with pytest.raises(ValueError, match="1-31 characters"):
        write_xlsx(frame, tmp_path / "none.xlsx", "")
    with pytest.raises(ValueError, match=r"percent names columns of the frame \(a, b\)"):
        write_xlsx(frame, tmp_path / "none.xlsx", "s", percent=("risk",))


def test_write_xlsx_of_an_empty_frame_writes_the_header(tmp_path):
    path = tmp_path / "empty.xlsx"
    write_xlsx(pd.DataFrame({"unit_code": pd.Series(dtype=str)}), path, "ranking")
    ws = openpyxl.load_workbook(path)["ranking"]
    assert [r for r in ws.iter_rows(values_only=True)] == [("unit_code",)]


def test_write_xlsx_puts_notes_on_a_toelichting_sheet_as_text(tmp_path):
    path = tmp_path / "notes.xlsx"
    notes = ["Gegevens bekend op 1 juli 2025: Leefbarometer 2024", "=not a formula"]
    write_xlsx(pd.DataFrame({"a": [1]}), path, "GM0363", notes=notes)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["GM0363", "Toelichting"]
    assert [r for r in book["Toelichting"].iter_rows(values_only=True)] == [(n,) for n in notes]
    assert book["Toelichting"]["A2"].data_type == "s"
    write_xlsx(pd.DataFrame({"a": [1]}), path, "GM0363")
    assert openpyxl.load_workbook(path).sheetnames == ["GM0363"]  # no notes: one sheet


def test_gemeente_files_tell_what_was_known_in_excel_only(tmp_path):
    ranking, values = _ranking_and_values()
    notes = ["Gegevens bekend op 1 juli 2025: Leefbarometer 2024, CBS 2024, CBS inkomen 2023"]
    plain = write_gemeente_exports(ranking, values, None, tmp_path / "plain")
    noted = write_gemeente_exports(ranking, values, None, tmp_path / "noted", notes=notes)
    for before, after in zip(plain, noted, strict=True):
        if after.suffix == ".csv":  # the CSV files are byte for byte the same
            assert after.read_bytes() == before.read_bytes()
        else:
            book = openpyxl.load_workbook(after)
            assert book.sheetnames == [after.stem, "Toelichting"]
            assert book["Toelichting"]["A1"].value == notes[0]


# --- the page's downloads: csv_bytes and xlsx_bytes ------------------------------------------


def _download_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": np.array([1, 2, 1234], dtype="int64"),
            "unit_code": ["WK036301", "1011", "BU00140000"],
            "unit_name": ["Centrum; oost", "=SUM(A1)", "Zuid"],
            "risk": [0.997478722634158, 0.1234, np.nan],
            "relative_risk": [5.2, 0.64, np.nan],
            "band": ["hoog", "laag", None],
            "woz_value": [245.3, 1250.5, np.nan],
            "new_in_top10": [True, False, True],
        }
    )


def test_the_dutch_csv_reads_back_as_numbers_with_dutch_headers():
    frame = _download_frame()
    raw = csv_bytes(frame, "nl")
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    back = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig",
                       dtype={"Wijkcode": str})
    assert list(back.columns) == export_headers(list(frame.columns), "nl")
    assert back.columns[:4].tolist() == ["Rang", "Wijkcode", "Naam", "Risico (%)"]
    assert back.columns[6] == context_header("woz_value")  # a feature by label and unit
    assert pd.api.types.is_float_dtype(back["Risico (%)"])  # numbers, not text
    np.testing.assert_allclose(back["Risico (%)"].iloc[:2], [99.748, 12.34], atol=5e-4)
    assert np.isnan(back["Risico (%)"].iloc[2])
    np.testing.assert_allclose(back[context_header("woz_value")].iloc[:2], [245.3, 1250.5])
    assert back["Rang"].tolist() == [1, 2, 1234]
    assert back["Naam"].tolist() == ["Centrum; oost", "=SUM(A1)", "Zuid"]
    assert back["Nieuw in landelijke top 10%"].tolist() == ["ja", "nee", "ja"]
    assert b"0.997" not in raw and b"99,748" in raw  # a decimal comma, in percent


def test_the_english_csv_is_comma_separated_with_english_headers():
    back = pd.read_csv(io.BytesIO(csv_bytes(_download_frame(), "en")), encoding="utf-8-sig")
    assert back.columns[:4].tolist() == ["Rank", "Unit code", "Name", "Risk (%)"]
    np.testing.assert_allclose(back["Risk (%)"].iloc[:2], [99.748, 12.34], atol=5e-4)
    assert back["New in the national top 10%"].tolist() == ["yes", "no", "yes"]


def test_the_xlsx_download_has_number_formats_per_kind():
    frame = _download_frame()
    notes = ["Gegevens bekend op 1 juli 2025: Leefbarometer 2024"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, notes, "nl")))
    assert book.sheetnames == ["Ranglijst", "Toelichting"]
    ws = book["Ranglijst"]
    header = [c.value for c in ws[1]]
    assert header == export_headers(list(frame.columns), "nl")
    col = {h: i + 1 for i, h in enumerate(header)}
    risk = ws.cell(row=2, column=col["Risico (%)"])
    assert risk.value == pytest.approx(0.997478722634158) and risk.number_format == "0.0%"
    rank = ws.cell(row=4, column=col["Rang"])
    assert rank.value == 1234 and rank.number_format == "#,##0"
    ratio = ws.cell(row=2, column=col[COLUMNS_NL["relative_risk"]])
    assert ratio.value == pytest.approx(5.2) and ratio.number_format == '0.0"×"'
    woz = ws.cell(row=3, column=col[context_header("woz_value")])
    assert woz.value == pytest.approx(1250.5) and woz.number_format == "#,##0.00"
    assert ws.cell(row=3, column=col["Naam"]).data_type == "s"  # '=SUM(A1)' stays text
    assert ws.cell(row=4, column=col["Risico (%)"]).value is None  # NaN: an empty cell
    assert ws.cell(row=2, column=col["Nieuw in landelijke top 10%"]).value == "ja"
    assert all(c.font.bold for c in ws[1]) and ws.freeze_panes == "A2"
    assert book["Toelichting"]["A1"].value == notes[0]
    english = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, (), "en")))
    assert english.sheetnames == ["Ranking"]
    assert english["Ranking"]["A1"].value == "Rank"
