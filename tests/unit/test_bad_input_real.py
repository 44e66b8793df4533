"""Bad input built from the real national files (PROVENANCE.md sections 8-10): each case loads
a real file, corrupts one cell, feature or row in memory, and checks the exact message parts
(file, sheet and cell or column, row, value).

Each real file is read once per module. The Excel cases write the real sheet's values (its
title block, its header block and its first ``KEEP_ROWS`` data rows, to keep the runtime
modest) into a new workbook (openpyxl, write-only) with one cell changed, so every cell keeps
its real address. The 2020 v1 and 2024 v1 workbooks are used (the 2023 v2 one is 3 MB).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from features.boundaries import parse_boundaries
from features.cbs_pc4 import parse_cbs_pc4_xlsx
from features.odata import read_cbs_kwb_json
from features.readers import decode, parse_lbm3_scores, read_cbs_kwb_csv
from wijkradar.errors import InputError
from wijkradar.sourceconfig import ColumnMap

Rows = list[list[Any]]
XLSX = {2020: Path("cbs_pc4") / "pc4_2020_v1.xlsx", 2024: Path("cbs_pc4") / "pc4_2024_v1.xlsx"}
SHEET = {2020: "PC4_2020_v1", 2024: "PC4_2024_v1"}
TOPOJSON = Path("boundaries") / "pc4_grenzen.topojson.json"
GEMEENTEN = Path("boundaries") / "gemeenten_2024.geojson"
LBM3 = Path("lbm3_pc4") / "scores_pc4.csv"
KEEP_ROWS = 400


@pytest.fixture(scope="module")
def sheets(shared_real_dir: Path) -> dict[int, Rows]:
    out = {}
    for year, rel in XLSX.items():
        book = load_workbook(shared_real_dir / rel, read_only=True, data_only=True)
        out[year] = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
    return out


def _xlsx(rows: Rows, sheet: str) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _set(cell: str, value: Any) -> Callable[[Rows], None]:
    """Set an A1-style cell (column letters, then the 1-based row)."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letters, row = coordinate_from_string(cell)

    def change(rows: Rows) -> None:
        rows[row - 1][column_index_from_string(letters) - 1] = value

    return change


def _delete_row(row: int) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        del rows[row - 1]

    return change


def _blank_row(row: int) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        rows[row - 1] = [None] * len(rows[row - 1])

    return change


def _title(text: str) -> Callable[[Rows], None]:
    return _set("A1", text)


PEILDATUM_GONE = "Inwoner, huishouden en woninggegevens voor numeriek deel van de postcode"

# (id, year, change, column (code), row, message parts)
EXCEL_CASES = [
    ("text in a count", 2020, _set("B17", "veel"), "INWONER", 17,
     ["sheet 'PC4_2020_v1', cell B17", "expected a number, got 'veel'"]),
    ("negative count", 2020, _set("E20", -5), "INW_014", 20,
     ["cell E20", "expected a count (>= 0), got -5"]),
    ("share above 100", 2020, _set("AC25", 180.5), "P_KOOPWON", 25,
     ["cell AC25", "expected a share in % (0..100), got 180.5"]),
    ("text share, matched by Dutch header", 2024, _set("L50", "tien"),
     "Inwoners / Herkomst / Geboren in Nederland met herkomst buiten Europa", 50,
     ["sheet 'PC4_2024_v1', cell L50", "expected a number, got 'tien'"]),
    ("urbanity class out of range", 2024, _set("AK40", 7), "STED", 40,
     ["cell AK40", "expected a value (1..5), got 7"]),
    ("bad PC4 code", 2024, _set("A100", "10AB"), "PC4", 100,
     ["cell A100", "expected a PC4 code (a 4-digit postcode 1000-9999), got '10AB'"]),
    ("PC4 below 1000", 2020, _set("A12", 999), "PC4", 12, ["cell A12", "got 999"]),
    ("duplicated PC4", 2024, _set("A13", 1013), "PC4", 13,
     ["cell A13", "PC4 1013 is also in row 12"]),
    ("code row names a code twice", 2020, _set("C9", "INWONER"), "INWONER", 9,
     ["cell C9", "column C holds 'INWONER' as column B does"]),
    ("blank row inside the table", 2024, _blank_row(300), None, 300,
     ["cell A300", "a blank row inside the table"]),
    ("unparseable publication date", 2020, _set("A3", "Datum: 17 febrari 2021"), None, 3,
     ["cell A3", "expected a date such as '14 mei 2025' (Dutch month name)",
      "got 'Datum: 17 febrari 2021'"]),
    ("impossible peildatum", 2024, _title(f"{PEILDATUM_GONE}, peildatum 31 juni 2024"), None, 1,
     ["cell A1", "Dutch month name", "peildatum 31 juni 2024"]),
    ("no peildatum", 2024, _title(PEILDATUM_GONE), None, None,
     ["sheet 'PC4_2024_v1'", "the title block (rows 1-5) has no 'peildatum 1 januari 2020'"]),
    ("units row removed", 2024, _delete_row(9), None, None,
     ["sheet 'PC4_2024_v1'", "no header block",
      "expected a row of units whose first cell is 'Code'"]),
    # Row 8 removed: the units row moves up to row 8, and row 7 above it is a grouped row.
    ("Dutch header row removed", 2024, _delete_row(8), None, 7,
     ["cell A7", "expected the Dutch header 'Postcode-4' above the units row, got ''"]),
]


@pytest.mark.parametrize(
    ("year", "change", "column", "row", "parts"),
    [pytest.param(*case[1:], id=case[0]) for case in EXCEL_CASES],
)
def test_bad_cbs_pc4_workbook(
    sheets: dict[int, Rows], year: int, change: Callable[[Rows], None], column: str | None,
    row: int | None, parts: list[str],
) -> None:
    rows = copy.deepcopy(sheets[year][: 10 + KEEP_ROWS])
    change(rows)
    name = f"pc4_{year}_bad.xlsx"
    with pytest.raises(InputError) as err:
        parse_cbs_pc4_xlsx(_xlsx(rows, SHEET[year]), name)
    message = str(err.value)
    assert message.startswith(f"file {name}")
    assert (err.value.file, err.value.column, err.value.row) == (name, column, row)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


def test_without_its_codes_row_the_2020_file_loads_by_its_dutch_headers(
    sheets: dict[int, Rows],
) -> None:
    """Not bad input: 2023 v2 and 2024 v1 have no codes row; 2020 v1 without it is the same."""
    rows = copy.deepcopy(sheets[2020][: 10 + KEEP_ROWS])
    assert rows[8][:2] == ["PC4", "INWONER"]
    full = parse_cbs_pc4_xlsx(_xlsx(rows, SHEET[2020]), "with_codes.xlsx")
    del rows[8]
    by_headers = parse_cbs_pc4_xlsx(_xlsx(rows, SHEET[2020]), "without_codes.xlsx")
    assert by_headers.frame.equals(full.frame)
    assert by_headers.info.secret == full.info.secret > 0


# --- PC4 boundaries (TopoJSON) and gemeenten (GeoJSON) ---------------------------------------


@pytest.fixture(scope="module")
def topology(shared_real_dir: Path) -> str:
    return (shared_real_dir / TOPOJSON).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def gemeenten(shared_real_dir: Path) -> str:
    return (shared_real_dir / GEMEENTEN).read_text(encoding="utf-8")


def _geometries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["objects"]["data"]["geometries"]


def _postcode(pos: int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        _geometries(doc)[pos]["properties"]["postcode"] = value

    return change


def _geometry(pos: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        _geometries(doc)[pos].update(fields)

    return change


TOPO_CASES = [
    ("duplicated postcode", _postcode(1, "2514"), 2,
     ["feature 2: code '2514' is also feature 1's", "expected one polygon per unit"]),
    ("bad postcode", _postcode(9, "25A4"), 10,
     ["feature 10: expected a pc4 code of the form", "got '25A4'"]),
    ("no postcode", _postcode(20, None), 21, ["feature 21", "got no code"]),
    ("feature without geometry", _geometry(5, type=None), 6,
     ["feature 6 (1862): expected a Polygon or MultiPolygon, got no geometry"]),
    ("empty geometry", _geometry(7, arcs=[]), 8, ["feature 8", "got no geometry"]),
]


@pytest.mark.parametrize(
    ("change", "row", "parts"), [pytest.param(*c[1:], id=c[0]) for c in TOPO_CASES]
)
def test_bad_pc4_topojson(
    topology: str, change: Callable[[dict[str, Any]], None], row: int, parts: list[str]
) -> None:
    doc = json.loads(topology)  # a fresh copy of the real file
    change(doc)
    with pytest.raises(InputError) as err:
        parse_boundaries(json.dumps(doc).encode(), "pc4_bad.topojson.json", "pc4", "postcode")
    assert (err.value.file, err.value.column, err.value.row) == (
        "pc4_bad.topojson.json", "postcode", row
    )
    for part in parts:
        assert part in str(err.value), f"{part!r} not in {err.value}"


def test_topojson_read_with_a_property_it_lacks(topology: str) -> None:
    with pytest.raises(InputError) as err:
        parse_boundaries(topology.encode(), "pc4.topojson.json", "pc4", "pc4")
    assert err.value.column == "pc4"
    assert "no property 'pc4'; the features have 'id', 'postcode'" in str(err.value)


@pytest.mark.parametrize(
    ("field", "value", "parts"),
    [
        ("geometry", None, ["feature 3 (GM0050): expected a Polygon or MultiPolygon, "
                            "got no geometry"]),
        ("gemeentecode", "GM50", ["feature 3: expected a gemeente code", "got 'GM50'"]),
    ],
)
def test_bad_gemeenten_geojson(gemeenten: str, field: str, value: Any, parts: list[str]) -> None:
    doc = json.loads(gemeenten)
    feature = doc["features"][2]
    assert feature["properties"]["gemeentecode"] == "GM0050"
    if field == "geometry":
        feature["geometry"] = value
    else:
        feature["properties"][field] = value
    with pytest.raises(InputError) as err:
        parse_boundaries(json.dumps(doc).encode(), "gm_bad.geojson", "gemeente", "gemeentecode",
                         "gemeentenaam")
    assert (err.value.file, err.value.column, err.value.row) == (
        "gm_bad.geojson", "gemeentecode", 3
    )
    for part in parts:
        assert part in str(err.value), f"{part!r} not in {err.value}"


# --- Leefbarometer 3.0 per PC4 (CSV) ---------------------------------------------------------


@pytest.fixture(scope="module")
def lbm3_lines(shared_real_dir: Path) -> list[str]:
    return (shared_real_dir / LBM3).read_text(encoding="utf-8").splitlines()


def _line(line: int, field: int, value: str) -> Callable[[list[str]], None]:
    """Set field ``field`` (0-based) of file line ``line`` (header = 1)."""

    def change(lines: list[str]) -> None:
        cells = lines[line - 1].split(",")
        cells[field] = value
        lines[line - 1] = ",".join(cells)

    return change


def _repeat(line: int, at: int) -> Callable[[list[str]], None]:
    def change(lines: list[str]) -> None:
        lines[at - 1] = lines[line - 1]

    return change


LBM3_CASES = [
    ("bad PC4 code", _line(500, 0, "101"), "PC4", 500,
     ["unit code '101' is not of the allowed form (pc4)"]),
    ("a wijk code in the PC4 file", _line(501, 0, "WK036301"), "PC4", 501,
     ["unit code 'WK036301' is not of the allowed form (pc4)"]),
    ("duplicated PC4 and year", _repeat(2, 9), "PC4", 9, ["duplicate row for (1011, 2002)"]),
    ("text as a score", _line(1000, 2, "hoog"), "lbm", 1000, ["expected a number, got 'hoog'"]),
    ("NA as the total score", _line(1200, 2, "NA"), "lbm", 1200, ["the total score is missing"]),
    ("a quarter as the year", _line(1500, 1, "2014KW01"), "jaar", 1500,
     ["expected a year such as 2019 or 2019JJ00, got '2014KW01'"]),
    ("text as a dimension", _line(4, 6, "n.v.t."), "soc", 4, ["expected a number, got 'n.v.t.'"]),
]


@pytest.mark.parametrize(
    ("change", "column", "row", "parts"), [pytest.param(*c[1:], id=c[0]) for c in LBM3_CASES]
)
def test_bad_lbm3_pc4_csv(
    lbm3_lines: list[str], change: Callable[[list[str]], None], column: str, row: int,
    parts: list[str],
) -> None:
    lines = list(lbm3_lines)
    change(lines)
    with pytest.raises(InputError) as err:
        parse_lbm3_scores("\n".join(lines) + "\n", "scores_pc4_bad.csv")
    assert (err.value.file, err.value.column, err.value.row) == ("scores_pc4_bad.csv", column, row)
    for part in parts:
        assert part in str(err.value), f"{part!r} not in {err.value}"


# --- columns mapped through a source's ``columns`` table (issue 13) ------------------------------

PC4_MAPPED = (ColumnMap("MAN", "men", "count"), ColumnMap("P_WE_MIG_A", "western_pct", "share"))


@pytest.mark.parametrize(
    ("change", "column", "row", "parts"),
    [
        pytest.param(_set("C30", "veel"), "MAN", 30, ["cell C30", "got 'veel'"], id="text"),
        pytest.param(_set("C31", -5), "MAN", 31, ["cell C31", "a count (>= 0), got -5"],
                     id="negative-count"),
        pytest.param(_set("K32", 180.5), "P_WE_MIG_A", 32,
                     ["cell K32", "a share in % (0..100), got 180.5"], id="share-180.5"),
    ],
)
def test_bad_value_in_a_mapped_column_of_the_real_workbook(
    sheets: dict[int, Rows], change: Callable[[Rows], None], column: str, row: int,
    parts: list[str],
) -> None:
    rows = copy.deepcopy(sheets[2020][: 10 + KEEP_ROWS])
    good = parse_cbs_pc4_xlsx(_xlsx(rows, SHEET[2020]), "pc4_2020.xlsx", PC4_MAPPED)
    assert good.frame["men"].notna().sum() > 300 and good.frame["western_pct"].max() <= 100
    assert "VROUW" in good.ignored and "MAN" not in good.ignored
    change(rows)
    with pytest.raises(InputError) as err:
        parse_cbs_pc4_xlsx(_xlsx(rows, SHEET[2020]), "pc4_2020.xlsx", PC4_MAPPED)
    assert (err.value.file, err.value.column, err.value.row) == ("pc4_2020.xlsx", column, row)
    for part in parts:
        assert part in str(err.value), str(err.value)


SES = Path("cbs_ses_woa") / "SES_WOA_scores_per_wijk_en_buurt_25042023_160857.csv"
SES_COLUMNS = (
    ColumnMap("Particuliere huishoudens (Aantal)", "private_households", "count"),
    ColumnMap("Opleidingsniveau/Laag/Waarde (%)", "education_low_pct", "share"),
    ColumnMap("Opleidingsniveau/Middelbaar/Waarde (%)", "education_mid_pct", "share"),
    ColumnMap("Opleidingsniveau/Hoog/Waarde (%)", "education_high_pct", "share"),
    ColumnMap("SES-WOA/Totaalscore/Gemiddelde score (Getal)", "ses_score", "amount"),
    ColumnMap("Spreiding/Spreiding totaal/Waarde (Getal)", "ses_spread", "rate"),
)


@pytest.fixture(scope="module")
def ses_lines(shared_real_dir: Path) -> list[str]:
    return decode((shared_real_dir / SES).read_bytes(), "ses.csv").splitlines()


def test_the_real_ses_woa_export_loads_with_its_columns_mapped(ses_lines: list[str]) -> None:
    got = read_cbs_kwb_csv("\n".join(ses_lines), "ses.csv", SES_COLUMNS)
    assert len(got.frame) == 579 and got.ignored == ()
    assert got.frame["level"].value_counts().to_dict() == {"buurt": 479, "wijk": 99,
                                                           "gemeente": 1}
    assert got.frame.loc[0, "private_households"] == 457400.0
    assert got.frame.loc[0, "education_low_pct"] == 20.8
    without = read_cbs_kwb_csv("\n".join(ses_lines), "ses.csv")
    assert len(without.ignored) == len(SES_COLUMNS)  # listed, never silently dropped


@pytest.mark.parametrize(
    ("line", "field", "value", "column", "shown"),
    [
        pytest.param(5, 3, "veel", "Particuliere huishoudens (Aantal)", "'veel'", id="text"),
        pytest.param(40, 3, "-5", "Particuliere huishoudens (Aantal)", "'-5'",
                     id="negative-households"),
        pytest.param(100, 4, "180.5", "Opleidingsniveau/Laag/Waarde (%)", "'180.5'",
                     id="education-share-180.5"),
        pytest.param(7, 8, "-1", "Spreiding/Spreiding totaal/Waarde (Getal)", "'-1'",
                     id="negative-rate"),
    ],
)
def test_bad_value_in_a_mapped_column_of_the_real_ses_woa_export(
    ses_lines: list[str], line: int, field: int, value: str, column: str, shown: str,
) -> None:
    lines = list(ses_lines)
    cells = lines[line - 1].split(";")
    cells[field] = f'"{value}"'
    lines[line - 1] = ";".join(cells)
    with pytest.raises(InputError) as err:
        read_cbs_kwb_csv("\n".join(lines), "ses.csv", SES_COLUMNS)
    assert (err.value.file, err.value.column, err.value.row) == ("ses.csv", column, line)
    assert shown in str(err.value)


KWB_2024 = Path("cbs_kwb_2024_wijk") / "stripped_filtered_data_2024.json"
KWB_COLUMNS = (ColumnMap("Bevolkingsdichtheid", "density", "rate"),
               ColumnMap("Mannen_6", "men", "count"), ColumnMap("Vrouwen", "women", "count"))


@pytest.fixture(scope="module")
def kwb_2024(shared_real_dir: Path) -> dict[str, Any]:
    return json.loads((shared_real_dir / KWB_2024).read_text(encoding="utf-8"))


def test_the_real_odata_file_loads_with_its_columns_mapped(kwb_2024: dict[str, Any]) -> None:
    got = read_cbs_kwb_json(json.dumps(kwb_2024), "kwb_2024.json", None, KWB_COLUMNS)
    assert len(got.frame) == 3735 and got.frame["density"].notna().sum() > 3600
    row = got.frame[got.frame["unit_code"] == "GM1680"].iloc[0]
    assert (row["men"], row["women"], row["density"]) == (12867.0, 12978.0, 94.0)
    assert got.ignored == ("OppervlakteTotaal_122", "OppervlakteLand_123",
                           "OppervlakteWater_124")


@pytest.mark.parametrize(
    ("code", "key", "value", "shown"),
    [
        pytest.param("WK168001", "Mannen_6", -5, "'-5'", id="negative-count"),
        pytest.param("GM1680", "Bevolkingsdichtheid_34", "veel", "'veel'", id="text-in-rate"),
        pytest.param("WK168003", "Vrouwen_7", 195.5, "'195.5'", id="fractional-count"),
    ],
)
def test_bad_value_in_a_mapped_key_of_the_real_odata_file(
    kwb_2024: dict[str, Any], code: str, key: str, value: Any, shown: str,
) -> None:
    doc = copy.deepcopy(kwb_2024)
    doc[code][key] = value
    with pytest.raises(InputError) as err:
        read_cbs_kwb_json(json.dumps(doc), "kwb_2024.json", None, KWB_COLUMNS)
    assert (err.value.file, err.value.column, err.value.row) == ("kwb_2024.json", key, code)
    assert shown in str(err.value)
