"""Issue 13, must show: a corpus of bad CBS files, with bad values in built-in columns and in
columns mapped through a source's ``columns`` table, for the StatLine CSV, the OData JSON
(both shapes, suffixed codes matched with and without the suffix) and the per-postcode
workbook. Each case is a small workspace whose config maps the columns; ``ensure_panel``
must fail with an ``InputError`` naming the file, the column, the row and the value, and
leave no panel (nor any temporary file) behind. ``N_CASES`` is the count the note reports.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from features.build import ensure_panel
from wijkradar.catalog import Workspace
from wijkradar.config import load_config
from wijkradar.errors import InputError

# --- the sources of a case ---------------------------------------------------------------------

PERIOD, NAME = "Perioden", "Wijken en buurten"
CODE = "Regiocode (gemeente, wijk, buurt) (code)"
HOUSEHOLDS = "Bevolking/Particuliere huishoudens/Huishoudens totaal (aantal)"
OWNER = "Wonen/Eigendom/Koopwoningen (%)"
# Columns of an analyst's own export (the SES-WOA table's headers), mapped in the config.
PRIVATE_HH = "Particuliere huishoudens (Aantal)"
EDU_LOW = "Opleidingsniveau/Laag/Waarde (%)"
SES = "SES-WOA/Totaalscore/Gemiddelde score (Getal)"
DENSITY = "Bevolkingsdichtheid (aantal inwoners per km²)"
CSV_HEADER = (PERIOD, NAME, CODE, HOUSEHOLDS, OWNER, PRIVATE_HH, EDU_LOW, SES, DENSITY)
CSV_COLUMNS = {
    PRIVATE_HH: ("private_households", "count"), EDU_LOW: ("education_low_pct", "share"),
    SES: ("ses_score", "amount"), DENSITY: ("density", "rate"),
}
CSV_OK = [
    ("2019", "Burgwallen-Oude Zijde", "WK036300  ", "2900", "21,5", "2900", "12.9", "-0.022",
     "5200"),
    ("2019", "Burgwallen-Nieuwe Zijde", "WK036301  ", "3100", "18", "3100", "15.0", "0.1",
     "."),
    ("2019", "Grachtengordel-West", "WK036302  ", "4200", "30,2", "4200", "x", "-", "8100"),
]

JSON_COLUMNS = {
    "Bevolkingsdichtheid": ("density", "rate"),  # without the suffix: matches _33 and _34
    "Mannen_6": ("men", "count"),  # with its suffix
    "OpleidingsniveauLaag_64": ("education_low_pct", "share"),
}


def json_record(code: str, **values: Any) -> dict[str, Any]:
    return {"ID": 1, "WijkenEnBuurten": code.ljust(10), "Gemeentenaam_1": "Amsterdam",
            "SoortRegio_2": "Wijk", "Codering_3": code.ljust(10), "Perioden": "2019JJ00",
            "AantalInwoners_5": 4000, "Mannen_6": 1900, "HuishoudensTotaal_28": 2100,
            "Koopwoningen_40": 25.0, "Bevolkingsdichtheid_33": 9000,
            "OpleidingsniveauLaag_64": 20.5, **values}


def odata(*records: dict[str, Any]) -> bytes:
    return json.dumps({"odata.metadata": "x", "value": list(records)}, indent=1).encode()


def keyed(records: dict[str, dict[str, Any]]) -> bytes:
    return json.dumps(records, indent=1).encode()


OK_JSON = [json_record("WK036300"), json_record("WK036301")]

# The per-postcode workbook: title block, Dutch headers, codes, units, rows.
GROUPS = [None, "Inwoners", None, "Huishouden", "Woning", "Inwoners", None]
SUBGROUPS = [None, "Totaal", "Geslacht", "Totaal", "Eigendom", "Opleiding", "Dichtheid"]
LEAVES = ["Postcode-4", "Totaal", "Man", "Totaal", "Koopwoning", "Laag", "Bevolking"]
PC4_CODES = ["PC4", "INWONER", "INW_MAN", "AANTAL_HH", "P_KOOPWON", "P_OPL_LAAG", "BEV_DICHTH"]
UNITS = ["Code", "x1", "x1", "x1", "%", "%", "per km2"]
PC4_ROWS = [[1011, 1000, 480, 500, 40, 25.5, 9000], [1012, 200, 95, 100, -99995, 30, 4000]]
XLSX_BY_CODE = {
    "INW_MAN": ("men", "count"), "P_OPL_LAAG": ("education_low_pct", "share"),
    "BEV_DICHTH": ("density", "rate"),
}
XLSX_BY_HEADER = {
    "Inwoners / Geslacht / Man": ("men", "count"),
    "Inwoners / Opleiding / Laag": ("education_low_pct", "share"),
    "Inwoners / Dichtheid / Bevolking": ("density", "rate"),
}
TITLE = [
    ["Kerncijfers per postcode, peildatum 1 januari 2024"], ["Definitieve gegevens, versie 1"],
    ["Datum: 14 mei 2025"], ["Betekenis -99 997 =  '0 - 4 / geheim'"], [],
]
# The sheet row of the first PC4: after the title, 3 header rows, the codes and the units.
FIRST_DATA_ROW = len(TITLE) + 6


def workbook(rows: Sequence[Sequence[Any]], codes: bool = True) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "PC4_2024_v1"
    header = [GROUPS, SUBGROUPS, LEAVES, *([PC4_CODES] if codes else []), UNITS]
    for row in [*TITLE, *header, *rows]:
        sheet.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def statline(rows: Sequence[Sequence[str]]) -> bytes:
    lines = [";".join(f'"{c}"' for c in CSV_HEADER)]
    lines += [";".join(f'"{c}"' for c in row) for row in rows]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def with_cell(rows: Sequence[Sequence[Any]], row: int, column: int, value: Any) -> list[list[Any]]:
    out = [list(r) for r in rows]
    out[row][column] = value
    return out


LBM_WIJK = "wk_code,wk_naam,jaar,lbm\nWK036300,A,2016,4.0\nWK036301,B,2016,4.1\n"
LBM_PC4 = "PC4,jaar,lbm\n1011,2020,4.0\n1012,2020,4.1\n"


def inline(columns: dict[str, tuple[str, str]]) -> str:
    items = [f'"{src}" = {{ name = "{name}", kind = "{kind}" }}'
             for src, (name, kind) in columns.items()]
    return "{ " + ", ".join(items) + " }"


def config(kind: str, file: str, columns: dict[str, tuple[str, str]], level: str) -> str:
    lbm = "lbm_pc4.csv" if level == "pc4" else "lbm_wijk.csv"
    return (f'[[source]]\nkind = "{kind}"\npath = "{file}"\ncolumns = {inline(columns)}\n\n'
            f'[[source]]\nkind = "lbm3_scores"\npath = "{lbm}"\n\n[panel]\nlevel = "{level}"\n')


@dataclass(frozen=True)
class Bad:
    id: str
    kind: str  # cbs_kwb_csv, cbs_kwb_json or cbs_pc4_xlsx
    file: str
    data: bytes
    columns: dict[str, tuple[str, str]]
    column: str  # the InputError's column: header, JSON key or PC4 code / header path
    row: int | str  # file line, region code or sheet row
    value: str  # as the message shows it
    says: str = ""


def csv_case(id: str, row: int, header: str, text: str, value: str, says: str = "") -> Bad:
    rows = with_cell(CSV_OK, row, CSV_HEADER.index(header), text)
    return Bad(id, "cbs_kwb_csv", "kwb_2019.csv", statline(rows), CSV_COLUMNS, header,
               row + 2, value, says)


def json_case(id: str, code: str, key: str, value: Any, shown: str, says: str = "",
              shape: str = "odata") -> Bad:
    records = [dict(r) for r in OK_JSON]
    target = next(r for r in records if r["Codering_3"].strip() == code)
    target[key] = value
    if shape == "odata":
        data = odata(*records)
    else:
        data = keyed({r["Codering_3"].strip(): {k: v for k, v in r.items() if k not in (
            "ID", "WijkenEnBuurten", "Codering_3", "Perioden")} for r in records})
    return Bad(id, "cbs_kwb_json", "kwb_2019.json", data, JSON_COLUMNS, key, code, shown, says)


def xlsx_case(id: str, pos: int, code: str, value: Any, shown: str, says: str = "",
              codes: bool = True) -> Bad:
    rows = with_cell(PC4_ROWS, pos, PC4_CODES.index(code), value)
    mapping = XLSX_BY_CODE if codes else XLSX_BY_HEADER
    column = code
    if not codes:
        path = [LEAVES[PC4_CODES.index(code)]]
        column = next((h for h in XLSX_BY_HEADER if h.endswith(" / " + path[0])), code)
    return Bad(id, "cbs_pc4_xlsx", "pc4_2024.xlsx", workbook(rows, codes), mapping, column,
               FIRST_DATA_ROW - (0 if codes else 1) + pos, shown, says)


CASES: list[Bad] = [
    # StatLine CSV: built-in columns
    csv_case("csv-builtin-text-in-count", 1, HOUSEHOLDS, "veel", "'veel'", "expected a number"),
    csv_case("csv-builtin-negative-households", 2, HOUSEHOLDS, "-5", "'-5'", "below the minimum 0"),
    csv_case("csv-builtin-share-180.5", 0, OWNER, "180,5", "'180,5'", "above the maximum 100"),
    # StatLine CSV: columns mapped through `columns`
    csv_case("csv-mapped-text-in-count", 2, PRIVATE_HH, "veel", "'veel'", "expected a number"),
    csv_case("csv-mapped-negative-count", 1, PRIVATE_HH, "-12", "'-12'", "below the minimum 0"),
    csv_case("csv-mapped-fractional-count", 0, PRIVATE_HH, "2900,5", "'2900,5'", "whole count"),
    csv_case("csv-mapped-education-share-180.5", 1, EDU_LOW, "180.5", "'180.5'",
             "above the maximum 100"),
    csv_case("csv-mapped-negative-share", 2, EDU_LOW, "-0,1", "'-0,1'", "below the minimum 0"),
    csv_case("csv-mapped-negative-rate", 0, DENSITY, "-3", "'-3'", "below the minimum 0"),
    csv_case("csv-mapped-text-in-amount", 1, SES, "hoog", "'hoog'", "expected a number"),
    csv_case("csv-mapped-unknown-symbol", 2, EDU_LOW, "n.v.t.", "'n.v.t.'", "CBS symbol"),
    # OData JSON: built-in keys
    json_case("json-builtin-text-in-count", "WK036301", "AantalInwoners_5", "veel", "'veel'"),
    json_case("json-builtin-negative-households", "WK036300", "HuishoudensTotaal_28", -5,
              "'-5'", "below the minimum 0"),
    json_case("json-builtin-share-180.5", "WK036301", "Koopwoningen_40", 180.5, "'180.5'",
              "above the maximum 100"),
    # OData JSON: mapped keys, with and without the suffix, both shapes
    json_case("json-mapped-unsuffixed-negative-rate", "WK036301", "Bevolkingsdichtheid_33", -3,
              "'-3'", "below the minimum 0"),
    json_case("json-mapped-suffixed-text-in-count", "WK036300", "Mannen_6", "veel", "'veel'"),
    json_case("json-mapped-education-share-180.5", "WK036301", "OpleidingsniveauLaag_64",
              "  180.5", "'180.5'", "above the maximum 100"),
    json_case("json-mapped-fractional-count", "WK036301", "Mannen_6", 1900.5, "'1900.5'",
              "whole count"),
    json_case("json-mapped-boolean", "WK036300", "OpleidingsniveauLaag_64", True, "True"),
    json_case("json-keyed-mapped-negative-count", "WK036301", "Mannen_6", -1, "'-1'",
              "below the minimum 0", shape="keyed"),
    json_case("json-keyed-mapped-share-180.5", "WK036300", "OpleidingsniveauLaag_64", 180.5,
              "'180.5'", "above the maximum 100", shape="keyed"),
    # The per-postcode workbook: built-in columns
    xlsx_case("xlsx-builtin-text-in-count", 0, "INWONER", "veel", "'veel'", "expected a number"),
    xlsx_case("xlsx-builtin-negative-households", 1, "AANTAL_HH", -5, "-5", "a count"),
    xlsx_case("xlsx-builtin-share-180.5", 0, "P_KOOPWON", 180.5, "180.5", "a share in %"),
    # The per-postcode workbook: mapped by code, and by Dutch header path (no codes row)
    xlsx_case("xlsx-mapped-code-text-in-count", 1, "INW_MAN", "veel", "'veel'"),
    xlsx_case("xlsx-mapped-code-negative-count", 0, "INW_MAN", -5, "-5", "a count"),
    xlsx_case("xlsx-mapped-code-education-share-180.5", 1, "P_OPL_LAAG", 180.5, "180.5",
              "a share in %"),
    xlsx_case("xlsx-mapped-code-negative-rate", 0, "BEV_DICHTH", -1.5, "-1.5", ">= 0"),
    xlsx_case("xlsx-mapped-code-fractional-count", 1, "INW_MAN", 95.5, "95.5", "whole count"),
    xlsx_case("xlsx-mapped-header-education-share-180.5", 0, "P_OPL_LAAG", 180.5, "180.5",
              "a share in %", codes=False),
    xlsx_case("xlsx-mapped-header-text-in-count", 1, "INW_MAN", "veel", "'veel'", codes=False),
]
N_CASES = len(CASES)


def workspace(root: Path, case: Bad) -> Workspace:
    (root / case.file).write_bytes(case.data)
    (root / "lbm_wijk.csv").write_text(LBM_WIJK, encoding="utf-8")
    (root / "lbm_pc4.csv").write_text(LBM_PC4, encoding="utf-8")
    level = "pc4" if case.kind == "cbs_pc4_xlsx" else "wijk"
    (root / "wijkradar.toml").write_text(
        config(case.kind, case.file, case.columns, level), encoding="utf-8"
    )
    return Workspace(root)


def test_the_corpus_covers_every_kind_built_in_and_mapped() -> None:
    assert N_CASES >= 30
    assert len({c.id for c in CASES}) == N_CASES
    for kind in ("csv", "json", "xlsx"):
        for where in ("builtin", "mapped"):
            assert any(c.id.startswith(f"{kind}-{where}") for c in CASES), (kind, where)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_value_is_rejected_naming_file_column_row_and_value(
    case: Bad, tmp_path: Path
) -> None:
    ws = workspace(tmp_path, case)
    said: list[str] = []
    with pytest.raises(InputError) as err:
        ensure_panel(ws, load_config(ws.config), progress=said.append)
    error, message = err.value, str(err.value)
    file = str(tmp_path / case.file)
    assert error.file == file and message.startswith(f"file {file}"), message
    assert (error.column, error.row) == (case.column, case.row), message
    assert f"column {case.column!r}" in message and f"row {case.row}" in message
    assert case.value in message, message
    assert case.says in message, message
    assert error.exit_code == 3
    # Nothing written: no panel, no meta, no temporary file.
    assert not (tmp_path / "panel").exists() or not any((tmp_path / "panel").iterdir())


def test_the_good_files_load_with_their_mapped_columns(tmp_path: Path) -> None:
    """The corpus's good files are good: each case's bad cell is the only fault."""
    from features.sources import read_sources

    for kind, file, data, columns in (
        ("cbs_kwb_csv", "kwb_2019.csv", statline(CSV_OK), CSV_COLUMNS),
        ("cbs_kwb_json", "kwb_2019.json", odata(*OK_JSON), JSON_COLUMNS),
        ("cbs_pc4_xlsx", "pc4_2024.xlsx", workbook(PC4_ROWS), XLSX_BY_CODE),
        ("cbs_pc4_xlsx", "pc4_2024.xlsx", workbook(PC4_ROWS, codes=False), XLSX_BY_HEADER),
    ):
        root = tmp_path / f"{kind}-{len(columns)}-{len(data)}"
        root.mkdir()
        ws = workspace(root, Bad("ok", kind, file, data, columns, "", 0, ""))
        src = read_sources(load_config(ws.config))
        names = [name for name, _ in columns.values()]
        assert set(names) <= set(src.cbs.columns), (kind, src.cbs.columns)
        assert src.cbs[names].notna().any().all(), kind
