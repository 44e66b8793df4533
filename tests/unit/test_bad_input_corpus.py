"""A corpus of bad files across every reader. Each is written to disk as real bytes and read
back the way a user's file is (bytes -> ``decode`` -> parser); the rejection must be an
``InputError`` that names the file, and the column and the row (line number, header = 1)
or the region code where there is one.

Cases marked xfail(strict) would be weak spots of the existing readers in features/readers.py:
when a reader is fixed the case turns XPASS and fails, so the mark must then be removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from features import schema
from features.lbm2 import parse_lbm2_pc4
from features.namelist import join_name_keyed, parse_name_table
from features.odata import parse_cbs_kwb_json
from features.readers import decode, parse_cbs_kwb_csv, parse_investment_csv, parse_lbm3_scores
from wijkradar.errors import InputError

Reader = Callable[[str, str], object]


@dataclass(frozen=True)
class Bad:
    id: str
    file: str  # name written under tmp_path
    data: bytes
    read: Reader
    column: str | None  # expected InputError.column
    row: int | str | None  # expected InputError.row: a line number or a region code
    contains: tuple[str, ...] = ()
    weak: str | None = None  # reason, for an xfail(strict=True) of an existing reader


# --- builders ---------------------------------------------------------------------------------

PERIOD, NAME = "Perioden", "Wijken en buurten"
CODE = "Regiocode (gemeente, wijk, buurt) (code)"
INHABITANTS = "Bevolking/Aantal inwoners (aantal)"
OWNER = "Wonen/Eigendom/Koopwoningen (%)"


def statline(*rows: Sequence[str], header: Sequence[str] = (PERIOD, NAME, CODE, INHABITANTS, OWNER),
             blank_after: int | None = None) -> bytes:
    """A StatLine CSV export: BOM, ';', quoted cells; optionally a blank line after a row."""
    lines = [";".join(f'"{c}"' for c in header)]
    for i, row in enumerate(rows, start=1):
        lines.append(";".join(f'"{c}"' for c in row))
        if i == blank_after:
            lines.append("")
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


OK = ("2019", "A", "WK036301", "100", "50")
LBM3 = "wk_code,wk_naam,jaar,lbm,afw,fys,onv,soc,vrz,won"
LBM3_OK = "WK036201,Randwijck,2014,4.27,0.17,0.01,0.04,0.0,0.17,-0.05"
INV = ",".join(["unit_code", "year", *schema.INVESTMENT_BY_NAME])


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode("utf-8")


def kwb_json(records: dict[str, dict[str, object]]) -> bytes:
    return json.dumps(records, indent=1).encode("utf-8")


def odata(*records: dict[str, object]) -> bytes:
    return json.dumps({"value": list(records)}).encode("utf-8")


def rec(code: str, **values: object) -> dict[str, object]:
    return {"WijkenEnBuurten": code.ljust(10), "Codering_3": code.ljust(10),
            "Perioden": "2019JJ00", **values}


GOOD_DIMS = "GBD,RLBRMTR12,RLBWON12\n1011,0.1,0.2\n1012,0.3,0.4\n"
GOOD_LBR = "CODE,KL12,KL14,VKL1214\n1011,5,6,5\n1012,4,4,4\n"


def dims_reader(text: str, file: str) -> object:
    return parse_lbm2_pc4(text, GOOD_LBR, file, "PC4LBR.csv")


def classes_reader(text: str, file: str) -> object:
    return parse_lbm2_pc4(GOOD_DIMS, text, "PC4DIMENSIE.csv", file)


LIST_HEADER = "wijk_oorspronkelijk,gm_code,additionele_inzet_mln_eur,max_subsidie_per_jaar_eur"
NAMES = parse_name_table(
    "name,unit_code\nAlkmaar Overdie,WK036101\nUtrecht Ondiep,WK034402\n"
    "Utrecht Ondiep,WK034403\n",
    "names.csv",
)


def list_reader(text: str, file: str) -> pd.DataFrame:
    return join_name_keyed(text, file, NAMES, name_column="wijk_oorspronkelijk", years=[2008])


LATIN1 = "é".encode("latin-1")

# --- the corpus -------------------------------------------------------------------------------

CASES: list[Bad] = [
    # CBS StatLine CSV (existing reader)
    Bad("cbs-missing-period-column", "kwb.csv", statline(OK[1:], header=(NAME, CODE,
        INHABITANTS, OWNER)), parse_cbs_kwb_csv, None, None, ("no period column", "'Perioden'")),
    Bad("cbs-duplicate-unit-year", "kwb.csv",
        statline(OK, ("2019JJ00", "A", " WK036301 ", "1", "1")), parse_cbs_kwb_csv, CODE, 3,
        ("duplicate", "WK036301, 2019")),
    Bad("cbs-code-wrong-form", "kwb.csv", statline(OK, ("2019", "B", "WK36301", "1", "1")),
        parse_cbs_kwb_csv, CODE, 3, ("'WK36301'",)),
    Bad("cbs-pc4-code-in-kwb", "kwb.csv", statline(("2019", "B", "1011", "1", "1")),
        parse_cbs_kwb_csv, CODE, 2, ("'1011'",)),
    Bad("cbs-text-in-count", "kwb.csv", statline(("2019", "B", "WK036302", "veel", "1")),
        parse_cbs_kwb_csv, INHABITANTS, 2, ("'veel'",)),
    Bad("cbs-negative-count", "kwb.csv", statline(OK, ("2019", "B", "WK036302", "-5", "1")),
        parse_cbs_kwb_csv, INHABITANTS, 3, ("below the minimum 0",)),
    Bad("cbs-share-above-100", "kwb.csv", statline(("2019", "B", "WK036302", "5", "100,1")),
        parse_cbs_kwb_csv, OWNER, 2, ("above the maximum 100",)),
    Bad("cbs-latin1-bytes", "kwb.csv",
        statline(OK) + b'"2019";"Caf' + LATIN1 + b'";"WK036302";"1";"1"\n',
        parse_cbs_kwb_csv, None, 3, ("not UTF-8",)),
    Bad("cbs-header-only", "kwb.csv", statline(), parse_cbs_kwb_csv, None, None,
        ("header but no rows",)),
    Bad("cbs-too-many-fields", "kwb.csv", statline(OK, ("2019", "B", "WK036302", "1", "1", "9")),
        parse_cbs_kwb_csv, None, 3, ("6 fields",)),
    Bad("cbs-blank-line-shifts-row", "kwb.csv",
        statline(OK, ("2019", "B", "WK036302", "veel", "1"), blank_after=1),
        parse_cbs_kwb_csv, INHABITANTS, 4, ("'veel'",)),
    Bad("cbs-duplicate-header", "kwb.csv",
        statline(("2019", "WK036301", "1", "veel"), header=(PERIOD, CODE, INHABITANTS,
                 INHABITANTS)),
        parse_cbs_kwb_csv, INHABITANTS, None, ("twice",)),
    # Leefbarometer 3.0 (existing reader)
    Bad("lbm3-missing-lbm-column", "lbm.csv", lines("wk_code,jaar,afw", "WK036201,2014,0.1"),
        parse_lbm3_scores, None, None, ("lbm", "missing")),
    Bad("lbm3-buurt-in-wijk-file", "lbm.csv",
        lines(LBM3, LBM3_OK, "BU03620101,X,2014,4,0,0,0,0,0,0"),
        parse_lbm3_scores, "wk_code", 3, ("'BU03620101'", "wijk")),
    Bad("lbm3-duplicate", "lbm.csv", lines(LBM3, LBM3_OK, LBM3_OK.replace("4.27", "4.3")),
        parse_lbm3_scores, "wk_code", 3, ("duplicate", "WK036201, 2014")),
    Bad("lbm3-text-score", "lbm.csv", lines(LBM3, LBM3_OK.replace("0.01", "n.v.t.")),
        parse_lbm3_scores, "fys", 2, ("'n.v.t.'",)),
    Bad("lbm3-two-digit-year", "lbm.csv", lines(LBM3, LBM3_OK.replace("2014", "14")),
        parse_lbm3_scores, "jaar", 2, ("'14'",)),
    Bad("lbm3-empty-file", "lbm.csv", b"", parse_lbm3_scores, None, None, ("empty",)),
    # Investment (existing reader)
    Bad("investment-missing-column", "inv.csv",
        lines("unit_code,year,krachtwijk", "WK036301,2015,1"),
        parse_investment_csv, None, None, ("missing", "programme_budget_per_dwelling")),
    Bad("investment-flag-above-1", "inv.csv", lines(INV, "WK036301,2015,0,0,0,2,0"),
        parse_investment_csv, "krachtwijk", 2, ("above the maximum 1",)),
    Bad("investment-negative", "inv.csv",
        lines(INV, "WK036301,2015,0,0,0,1,0", "WK036302,2015,-1,0,0,1,0"),
        parse_investment_csv, "corp_renovation_per_dwelling", 3, ("below the minimum 0",)),
    Bad("investment-duplicate", "inv.csv",
        lines(INV, "WK036301,2015,0,0,0,1,0", "WK036301,2015,0,0,0,0,0"),
        parse_investment_csv, "unit_code", 3, ("duplicate",)),
    Bad("investment-header-only", "inv.csv", lines(INV), parse_investment_csv, None, None,
        ("no rows",)),
    # CBS OData JSON (features.odata)
    Bad("json-invalid", "kwb_2019.json", b'{\n "GM0363": {\n  "AantalInwoners_5": 10,\n }\n}\n',
        parse_cbs_kwb_json, None, 4, ("not valid JSON", "line 4, column 2")),
    Bad("json-empty", "kwb_2019.json", b"", parse_cbs_kwb_json, None, None, ("empty",)),
    Bad("json-latin1-bytes", "kwb_2019.json",
        b'{"value": [\n{"Codering_3": "GM0363"},\n{"WijkenEnBuurten": "Caf' + LATIN1 + b'"}]}',
        parse_cbs_kwb_json, None, 3, ("not UTF-8",)),
    Bad("json-text-value", "kwb_2019.json",
        kwb_json({"WK036301": {"AantalInwoners_5": 10}, "WK036302": {"AantalInwoners_5": "veel"}}),
        parse_cbs_kwb_json, "AantalInwoners_5", "WK036302", ("'veel'",)),
    Bad("json-negative-count", "kwb.json",
        odata(rec("WK036301", Woningvoorraad_35=5), rec("WK036302", Woningvoorraad_35=-5)),
        parse_cbs_kwb_json, "Woningvoorraad_35", "WK036302", ("below the minimum 0",)),
    Bad("json-share-above-100", "kwb.json", odata(rec("WK036301", Koopwoningen_40="  120.5")),
        parse_cbs_kwb_json, "Koopwoningen_40", "WK036301", ("above the maximum 100",)),
    Bad("json-code-wrong-form", "kwb.json", odata(rec("WK036301"), rec("WK03630")),
        parse_cbs_kwb_json, "Codering_3", "WK03630", ("'WK03630'",)),
    Bad("json-pc4-code", "kwb_2019.json", kwb_json({"1011": {"AantalInwoners_5": 1}}),
        parse_cbs_kwb_json, "region code", "1011", ("not of the allowed form",)),
    Bad("json-duplicate-padded-code", "kwb.json", odata(rec("WK036301"), rec(" WK036301")),
        parse_cbs_kwb_json, "Codering_3", "WK036301", ("duplicate", "WK036301, 2019")),
    Bad("json-duplicate-key", "kwb_2019.json",
        b'{"GM0363": {"AantalInwoners_5": 1}, "GM0363": {"AantalInwoners_5": 2}}',
        parse_cbs_kwb_json, None, "GM0363", ("occurs twice",)),
    Bad("json-no-year", "kwb.json", kwb_json({"GM0363": {"AantalInwoners_5": 1}}),
        parse_cbs_kwb_json, None, None, ("no year", "Perioden")),
    Bad("json-quarter-period", "kwb.json", odata(rec("GM0363", Perioden="2019KW01")),
        parse_cbs_kwb_json, "Perioden", "GM0363", ("'2019KW01'",)),
    Bad("json-two-keys-one-variable", "kwb.json",
        odata(rec("GM0363", GemiddeldeWoningwaarde_35=1, GemiddeldeWOZWaardeVanWoningen_39=1)),
        parse_cbs_kwb_json, "GemiddeldeWOZWaardeVanWoningen_39", "GM0363", ("woz_value",)),
    Bad("json-not-an-object", "kwb_2019.json", b"[1, 2]", parse_cbs_kwb_json, None, None,
        ("got a JSON list",)),
    # Leefbarometer 2.0 PC4 pair (features.lbm2)
    Bad("pc4-code-below-1000", "PC4DIMENSIE.csv", lines("GBD,RLBRMTR12", "1011,0.1", "0999,0.2"),
        dims_reader, "GBD", 3, ("'0999'", "1000-9999")),
    Bad("pc4-code-five-digits", "PC4LBR.csv", lines("CODE,KL12", "10115,5"),
        classes_reader, "CODE", 2, ("'10115'",)),
    Bad("pc4-class-above-9", "PC4LBR.csv", lines("CODE,KL12", "1011,5", "1012,10"),
        classes_reader, "KL12", 3, ("above the maximum 9",)),
    Bad("pc4-development-class-0", "PC4LBR.csv", lines("CODE,KL12,VKL1214", "1011,5,0"),
        classes_reader, "VKL1214", 2, ("below the minimum 1",)),
    Bad("pc4-fractional-class", "PC4LBR.csv", lines("CODE,KL14", "1011,4.5"),
        classes_reader, "KL14", 2, ("whole number",)),
    Bad("pc4-duplicate-code", "PC4DIMENSIE.csv",
        lines("GBD,RLBRMTR12", "1011,0.1", "1012,0.1", " 1011,0.2"),
        dims_reader, "GBD", 4, ("duplicate", "1011")),
    Bad("pc4-text-score", "PC4DIMENSIE.csv", lines("GBD,RLBRMTR12,RLBWON12", "1011,0.1,n/a"),
        dims_reader, "RLBWON12", 2, ("'n/a'",)),
    Bad("pc4-too-many-fields", "PC4LBR.csv", lines("CODE,KL12", "1011,5", "1012,5,5"),
        classes_reader, None, 3, ("3 fields",)),
    Bad("pc4-missing-code-column", "PC4DIMENSIE.csv", lines("POSTCODE,RLBRMTR12", "1011,0.1"),
        dims_reader, None, None, ("no PC4 code column", "'GBD'")),
    Bad("pc4-no-year-columns", "PC4LBR.csv", lines("CODE,KLASSE", "1011,5"),
        classes_reader, None, None, ("no class columns",)),
    Bad("pc4-header-only", "PC4DIMENSIE.csv", lines("GBD,RLBRMTR12"), dims_reader, None, None,
        ("header but no rows",)),
    # Name table and name-keyed list (features.namelist)
    Bad("names-bad-code", "names.csv", lines("name,unit_code", "A,WK036301", "B,Amsterdam"),
        parse_name_table, "unit_code", 3, ("'Amsterdam'",)),
    Bad("names-missing-column", "names.csv", lines("naam,unit_code", "A,WK036301"),
        parse_name_table, None, None, ("name", "missing")),
    Bad("names-duplicate-pair", "names.csv", lines("name,unit_code", "A b,WK036301",
        " a  B ,WK036301"), parse_name_table, "unit_code", 3, ("duplicate",)),
    Bad("list-unmatched-names", "vogelaar.csv",
        lines(LIST_HEADER, "Alkmaar Overdie,GM0361,2.9,580000", "Rotterdam Oud Zuid,GM0599,1,1",
              "Utrecht Ondiep,GM0344,3.3,660000", "Arnhem Klarendal,GM0202,1,1"),
        list_reader, "wijk_oorspronkelijk", None,
        ("2 name(s)", "'Rotterdam Oud Zuid' (row 3)", "'Arnhem Klarendal' (row 5)")),
    Bad("list-text-budget", "vogelaar.csv", lines(LIST_HEADER, "Alkmaar Overdie,GM0361,2.9,veel"),
        list_reader, "max_subsidie_per_jaar_eur", 2, ("'veel'",)),
    Bad("list-negative-budget", "vogelaar.csv",
        lines(LIST_HEADER, "Alkmaar Overdie,GM0361,2.9,580000", "Utrecht Ondiep,GM0344,3.3,-1"),
        list_reader, "max_subsidie_per_jaar_eur", 3, ("below the minimum 0",)),
    Bad("list-duplicate-name", "vogelaar.csv",
        lines(LIST_HEADER, "Alkmaar Overdie,GM0361,2.9,580000", "ALKMAAR  overdie,GM0361,1,1"),
        list_reader, "wijk_oorspronkelijk", 3, ("duplicate",)),
    Bad("list-missing-budget-column", "vogelaar.csv",
        lines("wijk_oorspronkelijk,gm_code", "Alkmaar Overdie,GM0361"),
        list_reader, None, None, ("max_subsidie_per_jaar_eur", "missing")),
]


def _param(case: Bad) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.weak)] if case.weak else []
    return pytest.param(case, id=case.id, marks=marks)


def test_corpus_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)
    readers = {c.read for c in CASES}
    for reader in (parse_cbs_kwb_csv, parse_lbm3_scores, parse_investment_csv,
                   parse_cbs_kwb_json, dims_reader, classes_reader, parse_name_table,
                   list_reader):
        assert reader in readers


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_file_is_rejected_saying_where(case: Bad, tmp_path: Path) -> None:
    path = tmp_path / case.file
    path.write_bytes(case.data)
    file = str(path)
    with pytest.raises(InputError) as err:
        case.read(decode(path.read_bytes(), file), file)
    error, message = err.value, str(err.value)
    assert error.file == file and message.startswith(f"file {file}")
    assert (error.column, error.row) == (case.column, case.row), message
    if case.column is not None:
        assert f"column {case.column!r}" in message
    if case.row is not None:
        assert f"row {case.row}" in message
    for text in case.contains:
        assert text in message, f"{text!r} not in {message!r}"
    assert error.exit_code == 3
