"""Readers: the real file formats are the contract, and every rejection says where."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import schema
from features.readers import (
    decode,
    numeric_column,
    parse_cbs_kwb_csv,
    parse_investment_csv,
    parse_lbm3_scores,
)
from features.sources import read_sources
from wijkradar.config import parse_config
from wijkradar.errors import InputError

BOM = "\ufeff"
PERIOD = "Perioden"
NAME = "Wijken en buurten"
CODE = "Regiocode (gemeente, wijk, buurt) (code)"
INHABITANTS = "Bevolking/Aantal inwoners (aantal)"
LOW_INCOME = "Inkomen/Huishoudens met laag inkomen (%)"
NONWESTERN_OLD = "Bevolking/Allochtonen/Niet-westers totaal (%)"
NONWESTERN_NEW = "Bevolking/Personen met migratieachtergrond/Niet-westers (%)"

Parser = Callable[[str, str], pd.DataFrame]


def statline(header: Sequence[str], *rows: Sequence[str], bom: bool = True) -> str:
    """A StatLine "CSV met statistische symbolen": BOM, ';', every cell quoted."""

    def line(cells: Sequence[str]) -> str:
        return ";".join(f'"{c}"' for c in cells)

    return (BOM if bom else "") + "\n".join([line(header), *map(line, rows)]) + "\n"


CBS_HEADER = (PERIOD, NAME, CODE, INHABITANTS, LOW_INCOME)


def cbs_text(*rows: Sequence[str]) -> str:
    return statline(CBS_HEADER, *rows)


LBM_HEADER = "1,wk_code,wk_naam,jaar,lbm,afw,fys,onv,soc,vrz,won"
INV_HEADER = ",".join(["unit_code", "year", *schema.INVESTMENT_BY_NAME])


def parse_bytes(parser: Parser, data: bytes, file: str) -> pd.DataFrame:
    """What ``read_sources`` does with one file's bytes."""
    return parser(decode(data, file), file)


# --- CBS Kerncijfers wijken en buurten -------------------------------------------------------


def test_cbs_statline_format_is_read() -> None:
    text = cbs_text(
        ("2019JJ00", "Gemeente Amsterdam", "GM0363    ", "  872680", "     ."),
        ("2019JJ00", " Burgwallen-Nieuwe Zijde ", "WK036301  ", "    4010", "  12,5"),
        ("2019JJ00", "Kop Zeedijk", "BU03630000", "       -", "       x"),
        ("2019", "Oude Kerk e.o.", "BU03630001", "     500", "       ?"),
        ("2019", "Nes e.o.", "BU03630003", "       .", "     7.25"),
    )
    df = parse_bytes(parse_cbs_kwb_csv, text.encode("utf-8"), "kwb.csv")

    assert list(df.columns) == ["unit_code", "unit_name", "level", "year", *schema.CBS_BY_NAME]
    assert df["unit_code"].tolist() == [
        "GM0363", "WK036301", "BU03630000", "BU03630001", "BU03630003"
    ]
    assert df["level"].tolist() == ["gemeente", "wijk", "buurt", "buurt", "buurt"]
    assert df["unit_name"].tolist()[1] == "Burgwallen-Nieuwe Zijde"
    assert df["year"].tolist() == [2019] * 5
    # '-' (nihil) is zero, '.' '?' 'x' are missing, a decimal comma is a decimal point.
    inhabitants = df["inhabitants"].tolist()
    assert inhabitants[:2] == [872680.0, 4010.0]
    assert inhabitants[2] == 0.0
    assert inhabitants[3] == 500.0
    assert math.isnan(inhabitants[4])
    low = df["low_income_hh_pct"].tolist()
    assert math.isnan(low[0]) and math.isnan(low[2]) and math.isnan(low[3])
    assert low[1] == 12.5 and low[4] == 7.25
    # A variable the file does not hold is present and missing.
    assert df["woz_value"].isna().all()


def test_cbs_short_row_is_padded_with_missing() -> None:
    text = BOM + ";".join(f'"{h}"' for h in CBS_HEADER) + "\n" + '"2019";"A";"WK036301";"10"\n'
    df = parse_cbs_kwb_csv(decode(text.encode(), "short.csv"), "short.csv")
    assert df["inhabitants"].tolist() == [10.0]
    assert df["low_income_hh_pct"].isna().all()


def test_cbs_without_bom_and_several_periods() -> None:
    text = statline(
        CBS_HEADER,
        ("2018JJ00", "A", "WK036301", "10", "1"),
        ("2019JJ00", "A", "WK036301", "11", "2"),
        bom=False,
    )
    df = parse_cbs_kwb_csv(text, "two.csv")
    assert df[["unit_code", "year", "inhabitants"]].values.tolist() == [
        ["WK036301", 2018, 10.0], ["WK036301", 2019, 11.0]
    ]


@pytest.mark.parametrize("header", [NONWESTERN_OLD, NONWESTERN_NEW])
def test_renamed_nonwestern_header_maps_to_one_name(header: str) -> None:
    text = statline((PERIOD, CODE, header), ("2015", "WK036301", "33,3"))
    df = parse_cbs_kwb_csv(text, "nw.csv")
    assert df["nonwestern_pct"].tolist() == [33.3]


@pytest.mark.parametrize(
    ("header", "name"), [(h, v.name) for v in schema.CBS_VARIABLES for h in v.headers]
)
def test_every_known_header_maps_to_its_variable(header: str, name: str) -> None:
    text = statline((PERIOD, CODE, header), ("2015", "WK036301", "7"))
    df = parse_cbs_kwb_csv(text, "h.csv")
    assert df[name].tolist() == [7.0]
    others = [v for v in schema.CBS_BY_NAME if v != name]
    assert df[others].isna().all().all()


def test_unknown_cbs_columns_are_ignored() -> None:
    text = statline((PERIOD, CODE, "Iets anders (aantal)"), ("2015", "WK036301", "niet getal"))
    df = parse_cbs_kwb_csv(text, "u.csv")
    assert df["unit_code"].tolist() == ["WK036301"]
    assert "Iets anders (aantal)" not in df.columns


# --- Leefbarometer and investment ------------------------------------------------------------


def test_lbm3_wijk_file_is_read() -> None:
    text = "\n".join([
        LBM_HEADER,
        "3,WK036201,Randwijck,2014,4.25,0.16,0.5,-0.25,0,0.125,",
        "5,WK036201 ,Randwijck,2018,4.3,0.2,,,,,",
        "9,WK036202,Elsrijk,2014,4.0,-0.1,0,0,0,0,0",
    ]) + "\n"
    df = parse_lbm3_scores(text, "lbm.csv")
    assert list(df.columns) == [
        "unit_code", "unit_name", "level", "year", *schema.LBM_SCORE_COLUMNS
    ]
    assert df["unit_code"].tolist() == ["WK036201", "WK036201", "WK036202"]
    assert df["level"].tolist() == ["wijk"] * 3
    assert df["year"].tolist() == [2014, 2018, 2014]
    assert df["lbm"].tolist() == [4.25, 4.3, 4.0]
    assert df.loc[0, ["fys", "onv", "soc", "vrz"]].tolist() == [0.5, -0.25, 0.0, 0.125]
    assert math.isnan(df.loc[0, "won"])
    assert df.loc[1, list(schema.LBM_DIMENSIONS)].isna().all()


def test_lbm3_gemeente_file_without_dimensions() -> None:
    df = parse_lbm3_scores("gm_code,gm_naam,jaar,lbm\nGM0362,Amstelveen,2020,4.2\n", "gm.csv")
    assert df[["unit_code", "unit_name", "level", "year", "lbm"]].values.tolist() == [
        ["GM0362", "Amstelveen", "gemeente", 2020, 4.2]
    ]
    assert df[["afw", *schema.LBM_DIMENSIONS]].isna().all().all()


def test_investment_file_is_read() -> None:
    text = INV_HEADER + "\nWK036301,2015,120.5,3,0,1,\nBU03630000,2016,0,0,10,0,5\n"
    df = parse_investment_csv(text, "inv.csv")
    assert list(df.columns) == ["unit_code", "year", *schema.INVESTMENT_BY_NAME]
    assert df["unit_code"].tolist() == ["WK036301", "BU03630000"]
    assert df.loc[0, list(schema.INVESTMENT_BY_NAME)[:4]].tolist() == [120.5, 3.0, 0.0, 1.0]
    assert math.isnan(df.loc[0, "programme_budget_per_dwelling"])


# --- decode and numeric_column ---------------------------------------------------------------


def test_decode_drops_the_bom() -> None:
    assert decode(b"\xef\xbb\xbfa;b\n", "f.csv") == "a;b\n"


@pytest.mark.parametrize(
    ("cells", "cbs_symbols", "expected"),
    [
        (["1", " 2,5 ", "-3", "1e3", ",5"], False, [1.0, 2.5, -3.0, 1000.0, 0.5]),
        (["", "  ", "4"], False, [np.nan, np.nan, 4.0]),
        ([".", "x", "?", "-", "", "0,0"], True, [np.nan, np.nan, np.nan, 0.0, np.nan, 0.0]),
    ],
)
def test_numeric_column_values(
    cells: list[str], cbs_symbols: bool, expected: list[float]
) -> None:
    out = numeric_column(pd.Series(cells), file="f", column="c", cbs_symbols=cbs_symbols)
    assert out.dtype == "float64"
    np.testing.assert_array_equal(out.to_numpy(), np.array(expected))


@pytest.mark.parametrize("symbol", [".", "x", "?", "-"])
def test_cbs_symbols_are_text_outside_cbs_files(symbol: str) -> None:
    with pytest.raises(InputError) as err:
        numeric_column(pd.Series(["1", symbol]), file="f.csv", column="c")
    assert err.value.row == 3 and err.value.column == "c" and err.value.file == "f.csv"


@pytest.mark.parametrize(
    ("cells", "minimum", "maximum", "row", "text"),
    [
        (["1", "2", "abc"], None, None, 4, "'abc'"),
        (["50", "100", "100,1"], 0.0, 100.0, 4, "above the maximum 100"),
        (["0", "-1", "-2"], 0.0, None, 3, "below the minimum 0"),
    ],
)
def test_numeric_column_names_first_bad_row(
    cells: list[str], minimum: float | None, maximum: float | None, row: int, text: str
) -> None:
    with pytest.raises(InputError) as err:
        numeric_column(
            pd.Series(cells), file="f.csv", column="c", minimum=minimum, maximum=maximum
        )
    assert err.value.row == row
    assert text in str(err.value)
    assert str(err.value).startswith(f"file f.csv, column 'c', row {row}: ")


# --- Rejections: each names the file, the column and the row ---------------------------------

LATIN1_E = "é".encode("latin-1")


def _cbs_bytes(*rows: Sequence[str]) -> bytes:
    return cbs_text(*rows).encode("utf-8")


OK_ROW = ("2019", "A", "WK036301", "10", "5")

BAD_INPUT: list[tuple[str, Parser, bytes, list[str]]] = [
    (
        "non-numeric text",
        parse_cbs_kwb_csv,
        _cbs_bytes(OK_ROW, ("2019", "B", "WK036302", "veel", "5")),
        [f"column {INHABITANTS!r}", "row 3", "'veel'"],
    ),
    (
        "share above 100",
        parse_cbs_kwb_csv,
        _cbs_bytes(("2019", "A", "WK036301", "10", "100,5")),
        [f"column {LOW_INCOME!r}", "row 2", "above the maximum 100"],
    ),
    (
        "negative count",
        parse_cbs_kwb_csv,
        _cbs_bytes(
            OK_ROW, ("2019", "B", "WK036302", "1", "5"), ("2019", "C", "WK036303", "-4", "")
        ),
        [f"column {INHABITANTS!r}", "row 4", "below the minimum 0"],
    ),
    (
        "duplicate unit and year (padding differs)",
        parse_cbs_kwb_csv,
        _cbs_bytes(OK_ROW, ("2019JJ00", "A", "WK036301   ", "11", "6")),
        [f"column {CODE!r}", "row 3", "duplicate", "WK036301, 2019"],
    ),
    (
        "bad code form",
        parse_cbs_kwb_csv,
        _cbs_bytes(OK_ROW, ("2019", "B", "WK03630", "10", "5")),
        [f"column {CODE!r}", "row 3", "'WK03630'"],
    ),
    (
        "period that is not a whole year",
        parse_cbs_kwb_csv,
        _cbs_bytes(OK_ROW, ("2019KW01", "A", "WK036302", "10", "5")),
        ["column 'Perioden'", "row 3", "'2019KW01'"],
    ),
    (
        "old and new header for one variable",
        parse_cbs_kwb_csv,
        statline((PERIOD, CODE, NONWESTERN_NEW, NONWESTERN_OLD), ("2019", "WK036301", "1", "1"))
        .encode(),
        [f"column {NONWESTERN_OLD!r}", "nonwestern_pct", "two columns"],
    ),
    (
        "too many fields",
        parse_cbs_kwb_csv,
        _cbs_bytes(OK_ROW, ("2019", "B", "WK036302", "10", "5", "6")),
        ["row 3", "6 fields", "header's 5"],
    ),
    (
        "too many fields in every row",
        parse_cbs_kwb_csv,
        _cbs_bytes(("2019", "B", "WK036302", "10", "5", "")),
        ["row 2", "6 fields"],
    ),
    (
        "non-UTF-8 byte",
        parse_cbs_kwb_csv,
        _cbs_bytes(OK_ROW) + b'"2019";"Caf' + LATIN1_E + b'";"WK036302";"1";"1"\n',
        ["not UTF-8", "row 3"],
    ),
    ("empty file", parse_cbs_kwb_csv, b"", ["empty"]),
    ("blank file", parse_lbm3_scores, b"\n  \n", ["empty"]),
    ("header only (CBS)", parse_cbs_kwb_csv, _cbs_bytes(), ["header but no rows"]),
    ("header only (lbm)", parse_lbm3_scores, (LBM_HEADER + "\n").encode(), ["no rows"]),
    ("header only (investment)", parse_investment_csv, (INV_HEADER + "\n").encode(), ["no rows"]),
    (
        "missing period column",
        parse_cbs_kwb_csv,
        statline((CODE, INHABITANTS), ("WK036301", "1")).encode(),
        ["no period column", "'Perioden'"],
    ),
    (
        "missing code column",
        parse_cbs_kwb_csv,
        statline((PERIOD, INHABITANTS), ("2019", "1")).encode(),
        ["no region code column", repr(CODE)],
    ),
    (
        "wrong level in an lbm file",
        parse_lbm3_scores,
        (LBM_HEADER + "\n1,WK036201,A,2014,4,0,0,0,0,0,0\n2,BU03620101,B,2014,4,0,0,0,0,0,0\n")
        .encode(),
        ["column 'wk_code'", "row 3", "'BU03620101'", "wijk"],
    ),
    (
        "lbm total score missing",
        parse_lbm3_scores,
        (LBM_HEADER + "\n1,WK036201,A,2014,4,0,0,0,0,0,0\n2,WK036202,B,2014,,0,0,0,0,0,0\n")
        .encode(),
        ["column 'lbm'", "row 3", "missing"],
    ),
    (
        "lbm symbol is text outside CBS files",
        parse_lbm3_scores,
        (LBM_HEADER + "\n1,WK036201,A,2014,4,0,0,0,x,0,0\n").encode(),
        ["column 'soc'", "row 2", "'x'"],
    ),
    (
        "lbm duplicate",
        parse_lbm3_scores,
        (LBM_HEADER + "\n1,WK036201,A,2014,4,,,,,,\n2,WK036202,B,2014,4,,,,,,\n"
         "3,WK036201,A,2014,4.5,,,,,,\n").encode(),
        ["column 'wk_code'", "row 4", "duplicate", "WK036201, 2014"],
    ),
    (
        "lbm missing required column",
        parse_lbm3_scores,
        b"wk_code,jaar,afw\nWK036201,2014,0.1\n",
        ["lbm", "missing"],
    ),
    (
        "lbm without a code column",
        parse_lbm3_scores,
        b"code,jaar,lbm\nWK036201,2014,4\n",
        ["no unit code column", "'wk_code'"],
    ),
    (
        "lbm row with too many fields",
        parse_lbm3_scores,
        (LBM_HEADER + "\n1,WK036201,A,2014,4,0,0,0,0,0,0,9\n").encode(),
        ["row 2", "12 fields"],
    ),
    (
        "investment missing column",
        parse_investment_csv,
        b"unit_code,year,corp_renovation_per_dwelling\nWK036301,2015,1\n",
        ["missing", "krachtwijk"],
    ),
    (
        "investment flag above 1",
        parse_investment_csv,
        (INV_HEADER + "\nWK036301,2015,0,0,0,1,0\nWK036302,2015,0,0,0,2,0\n").encode(),
        ["column 'krachtwijk'", "row 3", "above the maximum 1"],
    ),
    (
        "investment negative amount",
        parse_investment_csv,
        (INV_HEADER + "\nWK036301,2015,-10,0,0,0,0\n").encode(),
        ["column 'corp_renovation_per_dwelling'", "row 2", "below the minimum 0"],
    ),
    (
        "investment bad year",
        parse_investment_csv,
        (INV_HEADER + "\nWK036301,15,0,0,0,0,0\n").encode(),
        ["column 'year'", "row 2", "'15'"],
    ),
    (
        "investment bad code",
        parse_investment_csv,
        (INV_HEADER + "\nWK036301,2015,0,0,0,0,0\nAmsterdam,2015,0,0,0,0,0\n").encode(),
        ["column 'unit_code'", "row 3", "'Amsterdam'"],
    ),
]


@pytest.mark.parametrize(
    ("parser", "data", "expected"),
    [pytest.param(p, d, e, id=name) for name, p, d, e in BAD_INPUT],
)
def test_bad_input_is_rejected_saying_where(
    parser: Parser, data: bytes, expected: list[str]
) -> None:
    with pytest.raises(InputError) as err:
        parse_bytes(parser, data, "data/bad.csv")
    message = str(err.value)
    assert message.startswith("file data/bad.csv")
    assert err.value.file == "data/bad.csv"
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert err.value.exit_code == 3


# --- read_sources ----------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def _lbm_text(*rows: str) -> str:
    return "\n".join([LBM_HEADER, *rows]) + "\n"


def test_read_sources_reads_files_and_folders(tmp_path: Path) -> None:
    _write(tmp_path / "cbs" / "kwb2018.csv", cbs_text(("2018JJ00", "A", "WK036301 ", "10", "1")))
    _write(tmp_path / "cbs" / "kwb2019.csv", cbs_text(("2019JJ00", "A", "WK036301 ", "11", "2")))
    _write(tmp_path / "cbs" / ".hidden", "not a csv")
    _write(tmp_path / "lbm.csv", _lbm_text("1,WK036301,A,2018,4,,,,,,"))
    _write(tmp_path / "inv.csv", INV_HEADER + "\nWK036301,2018,1,2,3,0,4\n")
    cfg = parse_config(
        {"source": [
            {"kind": "cbs_kwb_csv", "path": "cbs"},
            {"kind": "lbm3_scores", "path": "lbm.csv"},
            {"kind": "investment_csv", "path": str(tmp_path / "inv.csv")},
        ]},
        root=tmp_path,
    )
    sources = read_sources(cfg)
    assert sources.cbs[["unit_code", "year", "inhabitants"]].values.tolist() == [
        ["WK036301", 2018, 10.0], ["WK036301", 2019, 11.0]
    ]
    assert sources.lbm["lbm"].tolist() == [4.0]
    assert sources.investment is not None
    assert sources.investment["middle_income_new_dwellings"].tolist() == [2.0]
    assert len(sources.fingerprint) == 64
    # Same bytes, same fingerprint; other bytes, another one.
    assert read_sources(cfg).fingerprint == sources.fingerprint
    _write(tmp_path / "lbm.csv", _lbm_text("1,WK036301,A,2018,4.5,,,,,,"))
    assert read_sources(cfg).fingerprint != sources.fingerprint


def test_read_sources_without_investment(tmp_path: Path) -> None:
    _write(tmp_path / "kwb.csv", cbs_text(OK_ROW))
    _write(tmp_path / "lbm.csv", _lbm_text("1,WK036301,A,2019,4,,,,,,"))
    cfg = parse_config(
        {"source": [
            {"kind": "cbs_kwb_csv", "path": "kwb.csv"}, {"kind": "lbm3_scores", "path": "lbm.csv"}
        ]},
        root=tmp_path,
    )
    assert read_sources(cfg).investment is None


@pytest.mark.parametrize(
    ("kind", "first", "second"),
    [
        pytest.param(
            "cbs_kwb_csv", cbs_text(OK_ROW), cbs_text(("2019", "A", "WK036302", "1", "1"), OK_ROW),
            id="cbs",
        ),
        pytest.param(
            "lbm3_scores", _lbm_text("1,WK036301,A,2019,4,,,,,,"),
            _lbm_text("1,WK036302,A,2019,4,,,,,,", "2,WK036301,A,2019,4,,,,,,"),
            id="lbm",
        ),
        pytest.param(
            "investment_csv", INV_HEADER + "\nWK036301,2019,1,1,1,1,1\n",
            INV_HEADER + "\nWK036302,2019,1,1,1,1,1\nWK036301,2019,1,1,1,1,1\n",
            id="investment",
        ),
    ],
)
def test_read_sources_rejects_overlap_between_files(
    tmp_path: Path, kind: str, first: str, second: str
) -> None:
    files = {
        "cbs_kwb_csv": cbs_text(("2000", "A", "WK000101", "1", "1")),
        "lbm3_scores": _lbm_text("1,WK000101,A,2000,4,,,,,,"),
    }
    sources = []
    for k, text in files.items():
        if k != kind:
            _write(tmp_path / f"{k}.csv", text)
            sources.append({"kind": k, "path": f"{k}.csv"})
    _write(tmp_path / kind / "a.csv", first)
    _write(tmp_path / kind / "b.csv", second)
    sources.append({"kind": kind, "path": kind})
    cfg = parse_config({"source": sources}, root=tmp_path)
    with pytest.raises(InputError) as err:
        read_sources(cfg)
    message = str(err.value)
    assert err.value.file == str(tmp_path / kind / "b.csv")
    assert err.value.row == 3
    assert "WK036301, 2019" in message and str(tmp_path / kind / "a.csv") in message


def test_read_sources_missing_inputs(tmp_path: Path) -> None:
    _write(tmp_path / "kwb.csv", cbs_text(OK_ROW))
    (tmp_path / "empty").mkdir()
    only_cbs = parse_config({"source": [{"kind": "cbs_kwb_csv", "path": "kwb.csv"}]}, tmp_path)
    with pytest.raises(InputError, match="no Leefbarometer source"):
        read_sources(only_cbs)
    missing = parse_config(
        {"source": [{"kind": "cbs_kwb_csv", "path": "kwb.csv"},
                    {"kind": "lbm3_scores", "path": "nope.csv"}]},
        tmp_path,
    )
    with pytest.raises(InputError, match="does not exist") as err:
        read_sources(missing)
    assert err.value.file == str(tmp_path / "nope.csv")
    empty = parse_config(
        {"source": [{"kind": "cbs_kwb_csv", "path": "kwb.csv"},
                    {"kind": "lbm3_scores", "path": "empty"}]},
        tmp_path,
    )
    with pytest.raises(InputError, match="holds no files"):
        read_sources(empty)


# --- Real files (read in place from ../shared/data/real; never copied) -----------------------

SES_WOA = Path("cbs_ses_woa") / "SES_WOA_scores_per_wijk_en_buurt_25042023_160857.csv"
AMSTELVEEN = Path("lbm_amstelveen_wijk") / "AmstelveenDataWithDimensions.csv"


def test_real_cbs_ses_woa_file(shared_real_dir: Path) -> None:
    path = shared_real_dir / SES_WOA
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the export really has a BOM
    df = parse_cbs_kwb_csv(decode(data, str(path)), str(path))

    # Independent count of the raw codes with the csv module.
    raw = list(csv.reader(data.decode("utf-8-sig").splitlines(), delimiter=";"))
    raw_codes = [r[2] for r in raw[1:]]
    assert any(c != c.strip() for c in raw_codes)  # the file pads codes with spaces
    assert df["unit_code"].tolist() == [c.strip() for c in raw_codes]

    assert len(df) == 579
    assert df["level"].value_counts().to_dict() == {"buurt": 479, "wijk": 99, "gemeente": 1}
    assert df["unit_code"].is_unique
    assert not df["unit_code"].str.contains(r"\s").any()
    assert df["unit_code"].map(schema.gemeente_of).eq("GM0363").all()
    assert set(df["year"]) == {2019}
    assert df.loc[df["unit_code"] == "GM0363", "unit_name"].tolist() == ["Amsterdam"]


def test_real_lbm_amstelveen_file(shared_real_dir: Path) -> None:
    path = shared_real_dir / AMSTELVEEN
    df = parse_lbm3_scores(decode(path.read_bytes(), str(path)), str(path))
    assert len(df) == 56
    assert df["unit_code"].nunique() == 14
    assert df["unit_code"].str.fullmatch(r"WK0362\d\d").all()
    assert set(df["level"]) == {"wijk"}
    assert sorted(set(df["year"])) == [2014, 2018, 2020, 2022]
    assert (df.groupby("unit_code")["year"].nunique() == 4).all()
    assert df[list(schema.LBM_SCORE_COLUMNS)].notna().all().all()
    # First data line of the file: 3,WK036201,Randwijck,2014,4.270599604867483,...
    first = df.iloc[0]
    assert (first["unit_code"], first["unit_name"], first["year"]) == (
        "WK036201", "Randwijck", 2014
    )
    assert first["lbm"] == 4.270599604867483
