"""The CBS per-postcode reader on small hand-made workbooks: the header block is found by its
content, columns are matched by code or by Dutch header, counts become shares, -99997 and
-99995 are counted and missing. (The real files: tests/unit/test_real_readers.py.)"""

from __future__ import annotations

import io
import math
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook

from features import schema
from features.cbs_pc4 import COLUMNS, MONTHS, PC4_COLUMNS, parse_cbs_pc4_xlsx
from wijkradar.errors import InputError

GROUPS = [None, "Inwoners", None, "Huishouden", None, "Woning", None, "Dichtheid"]
SUBGROUPS = [None, "Totaal", "Leeftijdklassen", "Totaal", "Grootte", "Totaal", "Eigendom",
             "Stedelijkheid"]
LEAVES = ["Postcode-4", "Totaal", "tot 15 jaar", "Totaal", "Huishoudgrootte", "Totaal",
          "Koopwoning", None]
CODES = ["PC4", "INWONER", "INW_014", "AANTAL_HH", "GEM_HH_GR", "WONING", "P_KOOPWON", "STED"]
UNITS = ["Code", "x1", "x1", "x1", "x1", "x1", "%", "categorie"]
DATA = [
    [1011, 1000, 150, 500, 2.0, 480, 40, 1],
    ["1012", 200, -99997, 100, 2.0, 90, -99995, 2],
    [1013, -99997, 5, -99997, 0, 10, 100, 5],
]


def _book(rows: list[list[Any]], title: str = "PC4_2024_v1") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _title(extra: int = 0) -> list[list[Any]]:
    return [
        ["Inwoner, huishouden en woninggegevens voor numeriek deel van de postcode, "
         "peildatum 1 januari 2024"],
        *([["Een regel die CBS later toevoegde"]] * extra),
        ["Definitieve gegevens, versie 1"],
        ["Datum: 14 mei 2025"],
        ["Betekenis -99 997 =  '0 - 4 / geheim'"],
        [],
    ]


def test_a_file_without_codes_is_matched_by_its_dutch_headers() -> None:
    rows = [*_title(extra=2), GROUPS, SUBGROUPS, LEAVES, UNITS, *DATA]
    table = parse_cbs_pc4_xlsx(_book(rows), "pc4.xlsx")
    df = table.frame
    assert list(df.columns) == list(COLUMNS)
    assert df["unit_code"].tolist() == ["1011", "1012", "1013"]  # ints and text alike
    assert set(df["level"]) == {"pc4"} and df["year"].tolist() == [2024] * 3
    assert df["inhabitants"].tolist()[:2] == [1000.0, 200.0] and math.isnan(df["inhabitants"][2])
    # A count with a denominator becomes the KWB share: 150 of 1000 inhabitants is 15 %.
    assert df["age_0_14_pct"][0] == 15.0
    assert math.isnan(df["age_0_14_pct"][1])  # the count is secret
    assert math.isnan(df["age_0_14_pct"][2])  # the denominator is secret
    assert df["owner_occupied_pct"].tolist()[0] == 40.0 and math.isnan(df["owner_occupied_pct"][1])
    # Household size 0 is no households to average over, not a size.
    assert df["household_size"].tolist()[:2] == [2.0, 2.0] and math.isnan(df["household_size"][2])
    assert df["urbanity"].tolist() == [1.0, 2.0, 5.0]  # header only on the grouped rows
    assert df["woz_value"].isna().all()  # not in the file
    info = table.info
    assert (info.reference_date, info.published) == (date(2024, 1, 1), date(2025, 5, 14))
    assert (info.secret, info.unavailable) == (3, 1)
    assert info.sheet == "PC4_2024_v1" and info.file == "pc4.xlsx"
    assert set(info.variables) == {
        "inhabitants", "age_0_14_pct", "households", "household_size", "dwellings",
        "owner_occupied_pct", "urbanity",
    }


def test_a_codes_row_takes_precedence_over_the_dutch_headers() -> None:
    renamed = ["Postcode-4", "Aantal", "Jonger dan 15", "Aantal", "Gemiddeld", "Aantal",
               "Eigen woning", None]
    rows = [*_title(), GROUPS, SUBGROUPS, renamed, CODES, UNITS, *DATA]
    with_codes = parse_cbs_pc4_xlsx(_book(rows), "codes.xlsx").frame
    by_header = parse_cbs_pc4_xlsx(
        _book([*_title(), GROUPS, SUBGROUPS, LEAVES, UNITS, *DATA]), "headers.xlsx"
    ).frame
    assert with_codes.equals(by_header)


def test_unknown_columns_are_left_out_and_not_validated() -> None:
    rows = [
        *_title(), [None, "Inwoners", None], [None, "Totaal", "Geboorten"],
        ["Postcode-4", "Totaal", "gedurende 2023"], ["Code", "x1", "x1"],
        [1011, 10, "geen getal"],
    ]
    df = parse_cbs_pc4_xlsx(_book(rows), "x.xlsx").frame
    assert df["inhabitants"].tolist() == [10.0]
    assert "gedurende 2023" not in df.columns


@pytest.mark.parametrize(("month", "number"), [("maart", 3), ("december", 12), ("Juli", 7)])
def test_dutch_month_names(month: str, number: int) -> None:
    rows = [*_title(), GROUPS, SUBGROUPS, LEAVES, UNITS, *DATA]
    rows[2] = [f"Datum: 3 {month} 2021"]
    assert parse_cbs_pc4_xlsx(_book(rows), "m.xlsx").info.published == date(2021, number, 3)
    assert len(MONTHS) == 12


def test_the_mapping_table_names_declared_variables_only() -> None:
    declared = set(schema.CBS_BY_NAME) | set(schema.CBS_PC4_BY_NAME)
    names = [c.name for c in PC4_COLUMNS]
    assert set(names) <= declared and len(names) == len(set(names))
    assert not set(schema.CBS_BY_NAME) & set(schema.CBS_PC4_BY_NAME)
    for column in PC4_COLUMNS:
        assert column.per is None or column.per in names, column.name


def test_a_blank_row_inside_the_table_is_rejected() -> None:
    rows = [*_title(), GROUPS, SUBGROUPS, LEAVES, UNITS, DATA[0], [], DATA[1]]
    with pytest.raises(InputError, match=r"sheet 'PC4_2024_v1', cell A11: a blank row") as err:
        parse_cbs_pc4_xlsx(_book(rows), "gap.xlsx")
    assert err.value.file == "gap.xlsx" and err.value.row == 11


def test_bytes_that_are_no_workbook() -> None:
    with pytest.raises(InputError, match="not an Excel workbook") as err:
        parse_cbs_pc4_xlsx(b"PC4,INWONER\n1011,5\n", "pc4.csv")
    assert err.value.file == "pc4.csv"
