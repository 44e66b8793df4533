"""Every real file in ../shared/data/real goes through a reader (see PROVENANCE.md there).

The folder is not part of the repo: without it these tests fail under CI (CI set) and are
skipped elsewhere (the ``shared_real_dir`` fixture in tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from features import schema
from features.boundaries import BoundaryTable, parse_boundaries
from features.cbs_pc4 import COLUMNS as CBS_PC4_COLUMNS
from features.cbs_pc4 import CbsPc4Table, parse_cbs_pc4_xlsx
from features.lbm2 import DEVELOPMENT_COLUMNS, SCORE_COLUMNS, Lbm2, parse_lbm2_json, parse_lbm2_pc4
from features.namelist import join_name_keyed, parse_name_table
from features.odata import ODATA_NAMES, parse_cbs_kwb_json
from features.readers import decode, parse_cbs_kwb_csv, parse_lbm3_scores
from wijkradar.errors import InputError

KWB_JSON = Path("cbs_kwb_2024_wijk") / "stripped_filtered_data_2024.json"
TABLE_INFOS = Path("cbs_kwb_2024_wijk") / "TableInfos.json"
DIMENSIE = Path("lbm2_pc4") / "PC4DIMENSIE.csv"
LBR = Path("lbm2_pc4") / "PC4LBR.csv"
VOGELAAR = Path("vogelaarwijken_bcfv") / "vogelaarwijken_bcfv_bijlage.csv"
AMSTELVEEN = Path("lbm_amstelveen_wijk") / "AmstelveenDataWithDimensions.csv"
SES_WOA = Path("cbs_ses_woa") / "SES_WOA_scores_per_wijk_en_buurt_25042023_160857.csv"
UTRECHT = Path("utrecht_buurten_lbm") / "buurten.csv"
LBM3_PC4 = Path("lbm3_pc4") / "scores_pc4.csv"
CBS_PC4 = {
    2020: Path("cbs_pc4") / "pc4_2020_v1.xlsx",
    2023: Path("cbs_pc4") / "pc4_2023_v2.xlsx",
    2024: Path("cbs_pc4") / "pc4_2024_v1.xlsx",
}
PC4_TOPOJSON = Path("boundaries") / "pc4_grenzen.topojson.json"
GEMEENTEN = Path("boundaries") / "gemeenten_2024.geojson"
LBM2_WIJK = Path("lbm2_wijk") / "wijk.json"
LBM2_GEMEENTE = Path("lbm2_wijk") / "gemeente.json"
COVERED = {
    KWB_JSON, TABLE_INFOS, DIMENSIE, LBR, VOGELAAR, AMSTELVEEN, SES_WOA, UTRECHT,
    LBM3_PC4, *CBS_PC4.values(), PC4_TOPOJSON, GEMEENTEN, LBM2_WIJK, LBM2_GEMEENTE,
}

CBS_COLUMNS = ["unit_code", "unit_name", "level", "year", *schema.CBS_BY_NAME]


def _text(path: Path) -> str:
    """Bytes -> text the way the pipeline reads a file."""
    return decode(path.read_bytes(), str(path))


def _csv_rows(path: Path) -> list[list[str]]:
    """The raw rows, read independently of the readers (csv module)."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def test_every_real_file_has_a_test(shared_real_dir: Path) -> None:
    present = {
        p.relative_to(shared_real_dir)
        for p in shared_real_dir.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    assert present == COVERED, "a real file without a reader test, or a tested file gone"


# --- CBS KWB 2024 as JSON --------------------------------------------------------------------


@pytest.fixture(scope="module")
def kwb_2024(shared_real_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    path = shared_real_dir / KWB_JSON
    raw = json.loads(path.read_text(encoding="utf-8"))
    return parse_cbs_kwb_json(_text(path), str(path)), raw


def test_kwb_2024_json_code_keyed(kwb_2024: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    df, raw = kwb_2024
    assert list(df.columns) == CBS_COLUMNS
    assert len(df) == 3735 == len(raw)
    assert df["level"].value_counts().to_dict() == {"wijk": 3393, "gemeente": 342}
    assert df["unit_code"].tolist() == list(raw)  # file order, nothing dropped
    assert set(df["year"]) == {2024}  # from the file name
    assert df["year"].dtype == "int64"
    # Mapped: inhabitants and dwellings; the other 2024 keys have no stable name.
    assert df["inhabitants"].notna().all()
    assert df["dwellings"].notna().sum() == 3732  # three wijken have null
    filled = {c for c in schema.CBS_BY_NAME if df[c].notna().any()}
    assert filled == {"inhabitants", "dwellings"}
    by_code = df.set_index("unit_code")
    assert by_code.loc["GM1680", ["inhabitants", "dwellings"]].tolist() == [25845, 11500]
    assert by_code.loc["WK168000", ["inhabitants", "dwellings"]].tolist() == [3590, 1663]
    assert by_code.loc["GM0363", "inhabitants"] == 931298  # Amsterdam
    # Every value equals the raw JSON's.
    raw_inh = pd.Series({k: v["AantalInwoners_5"] for k, v in raw.items()}, dtype="float64")
    pd.testing.assert_series_equal(
        by_code["inhabitants"], raw_inh, check_names=False, check_index_type=False
    )


def test_kwb_2024_totals_are_plausible(kwb_2024: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    df, _ = kwb_2024
    gm = df.loc[df["level"] == "gemeente", "inhabitants"].sum()
    wk = df.loc[df["level"] == "wijk", "inhabitants"].sum()
    assert 17.5e6 < gm < 18.5e6  # the Netherlands, 1 January 2024
    assert abs(wk - gm) / gm < 1e-3  # wijken add up to the gemeenten (CBS rounds)
    # Every wijk lies in a gemeente of the file.
    wijk_gm = df.loc[df["level"] == "wijk", "unit_code"].map(schema.gemeente_of)
    assert set(wijk_gm) <= set(df.loc[df["level"] == "gemeente", "unit_code"])


def test_kwb_2024_amsterdam_codes_with_letters(
    kwb_2024: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    df, _ = kwb_2024
    amsterdam = df[df["unit_code"].str.startswith("WK0363")]
    assert len(amsterdam) == 110
    assert amsterdam["unit_code"].str.fullmatch(r"WK0363[A-Z]{2}").all()
    assert set(amsterdam["level"]) == {"wijk"}


def _odata_record(code: str, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    padded = code.ljust(10)
    return {"ID": 1, "WijkenEnBuurten": padded, "Codering_3": padded, **extra, **values}


def test_odata_value_list_built_from_real_records(
    kwb_2024: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    expected, raw = kwb_2024
    codes = ["GM1680", "WK168000", "WK168001", "GM0363", "WK0363AA"]
    doc = {
        "odata.metadata": "https://opendata.cbs.nl/ODataApi/OData/85984NED/$metadata",
        "value": [
            _odata_record("NL01", {"AantalInwoners_5": 17942942}, Perioden="2024JJ00"),
            *(
                _odata_record(
                    c, raw[c], Perioden="2024JJ00",
                    Gemeentenaam_1="Amsterdam                " if "0363" in c else "Aa en Hunze",
                )
                for c in codes
            ),
        ],
    }
    doc["value"][3]["WijkenEnBuurten"] = "Wijk 01 Annen"  # WK168001: a label, not a code
    df = parse_cbs_kwb_json(json.dumps(doc), "kwb_download.json")  # no year in the name
    assert list(df.columns) == CBS_COLUMNS
    assert df["unit_code"].tolist() == codes  # padding stripped, the NL01 row skipped
    assert set(df["year"]) == {2024}  # from Perioden
    assert df.set_index("unit_code").loc["GM0363", "unit_name"] == "Amsterdam"
    names = df.set_index("unit_code")["unit_name"]
    assert names[["WK168000", "WK168001", "WK0363AA"]].tolist() == [
        "WK168000", "Wijk 01 Annen", "WK0363AA"
    ]
    want = expected.set_index("unit_code").loc[codes].reset_index()
    pd.testing.assert_frame_equal(
        df.drop(columns="unit_name"), want.drop(columns="unit_name"), check_dtype=False
    )


def test_odata_old_and_new_key_names_map_to_one_variable() -> None:
    old = {"value": [_odata_record("GM0363", {"GemiddeldeWoningwaarde_35": 283})]}
    new = {"value": [_odata_record("GM0363", {"GemiddeldeWOZWaardeVanWoningen_39": "   283"})]}
    for doc in (old, new):
        df = parse_cbs_kwb_json(json.dumps(doc), "x.json", year=2019)
        assert df["woz_value"].tolist() == [283.0]
        assert df["year"].tolist() == [2019]
    assert set(ODATA_NAMES.values()) <= set(schema.CBS_BY_NAME)


def test_table_infos_is_metadata_not_data(shared_real_dir: Path) -> None:
    path = shared_real_dir / TABLE_INFOS
    assert json.loads(path.read_text(encoding="utf-8"))[0]["Identifier"] == "85984NED"
    with pytest.raises(InputError, match="got a JSON list") as err:
        parse_cbs_kwb_json(_text(path), str(path))
    assert err.value.file == str(path)


# --- Leefbarometer 2.0 PC4 pair --------------------------------------------------------------


@pytest.fixture(scope="module")
def lbm2(shared_real_dir: Path) -> Lbm2:
    dims, classes = shared_real_dir / DIMENSIE, shared_real_dir / LBR
    return parse_lbm2_pc4(_text(dims), _text(classes), str(dims), str(classes))


def test_lbm2_pair_shape(lbm2: Lbm2, shared_real_dir: Path) -> None:
    dims_rows = _csv_rows(shared_real_dir / DIMENSIE)[1:]
    lbr_rows = _csv_rows(shared_real_dir / LBR)[1:]
    assert (len(dims_rows), len(lbr_rows)) == (4068, 4068)
    assert sum(len(r) == 1 for r in dims_rows) == 224  # ragged: the code alone
    assert sum(len(r) == 1 for r in lbr_rows) == 221
    scores = lbm2.scores
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert list(lbm2.development.columns) == list(DEVELOPMENT_COLUMNS)
    assert set(scores["year"]) == {2002, 2008, 2012, 2014, 2016}
    assert set(scores.loc[scores["lbm"].notna(), "year"]) == {2012, 2014, 2016}
    assert scores["afw"].isna().all()
    assert set(scores["level"]) == {"pc4"}
    assert (scores["unit_name"] == scores["unit_code"]).all()
    assert not scores.duplicated(["unit_code", "year"]).any()
    # Counts stated in PROVENANCE.md.
    assert scores.loc[scores["year"] == 2012, "lbm"].notna().sum() == 3756
    assert scores.loc[scores["year"] == 2002, "lbm_class"].notna().sum() == 3703
    # Code-only PC4 rows in both files yield no rows at all.
    both_empty = {r[0] for r in dims_rows if len(r) == 1} & {r[0] for r in lbr_rows if len(r) == 1}
    assert both_empty and not set(scores["unit_code"]) & both_empty


def test_lbm2_values_checked_by_hand(lbm2: Lbm2) -> None:
    s = lbm2.scores.set_index(["unit_code", "year"])
    # PC4DIMENSIE line 2: 1011,0.278,0.159,-0.004,0.490,-0.231,-0.136,... (RMTR WON BEV VRZ
    # VEI FYS); PC4LBR line 2: 1011,7,9,9,9,9,5,6,6,6,4,4,4,4,4,4
    row = s.loc[("1011", 2012)]
    assert row[["lbm", "won", "soc", "vrz", "onv", "fys"]].tolist() == [
        0.278, 0.159, -0.004, 0.490, -0.231, -0.136
    ]
    assert row["lbm_class"] == 9
    assert s.loc[("1011", 2002), "lbm_class"] == 7
    assert pd.isna(s.loc[("1011", 2002), "lbm"])  # 2002 has classes only
    # PC4LBR: 1014,,,4,4,6,,,,,,,,4,7,7 -> no 2002 or 2008 row; 2016 class 6
    assert ("1014", 2002) not in s.index and ("1014", 2008) not in s.index
    assert s.loc[("1014", 2016), "lbm_class"] == 6
    assert s.loc[("1014", 2016), "lbm"] == -0.027
    # Ragged lines 4704 (DIMENSIE: 2012 and 2014 only; LBR: no KL16) -> no 2016 row.
    assert s.loc[("4704", 2014), "fys"] == -0.119
    assert s.loc[("4704", 2014), "lbm_class"] == 7
    assert ("4704", 2016) not in s.index
    # Ragged PC4LBR line: 9999,7,8,8,8,,5,4,5,,4,4,,4 (cut after VKL1214)
    dev = lbm2.development.set_index(["unit_code", "from_year", "to_year"])["development_class"]
    assert dev.loc[("9999", 2002, 2008)] == 5 and dev.loc[("9999", 2012, 2014)] == 4
    assert ("9999", 2014, 2016) not in dev.index and ("9999", 2002, 2016) not in dev.index
    assert s.loc[("9999", 2014), ["lbm", "lbm_class"]].tolist() == [0.208, 8.0]
    assert ("9999", 2016) not in s.index  # empty 2016 cells in both files
    assert dev.loc[("1012", 2012, 2014)] == 3


def test_lbm2_development_classes_mean_decline(lbm2: Lbm2) -> None:
    dev = lbm2.development
    assert dev["development_class"].between(1, 7).all()
    step = dev[(dev["from_year"] == 2014) & (dev["to_year"] == 2016)]
    declined = (step["development_class"] <= 3).mean()
    assert 0.013 <= declined <= 0.016
    # The classes agree with the score change 2014 -> 2016.
    s = lbm2.scores.pivot(index="unit_code", columns="year", values="lbm")
    change = (s[2016] - s[2014]).rename("change")
    joined = step.join(change, on="unit_code").dropna(subset=["change"])
    assert joined.loc[joined["development_class"] <= 3, "change"].max() < 0
    assert joined.loc[joined["development_class"] >= 5, "change"].min() > 0


def test_lbm2_year_columns_are_parsed_not_hard_coded() -> None:
    dims = (
        "GBD,RLBRMTR16,RLBWON16,RLBRMTR18,RLBWON18,RLBBEV18,RLBVRZ18,RLBVEI18,RLBFYS18,"
        "RLBRMTR98,NOTE\n"
        "1011,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.05,x\n"
        "1012\n"
    )
    classes = "CODE,KL16,KL18,VKL1618,VKL9818\n1011,5,6,5,4\n1012,,3,,\n"
    out = parse_lbm2_pc4(dims, classes)
    s = out.scores.set_index(["unit_code", "year"])
    assert set(out.scores["year"]) == {1998, 2016, 2018}
    assert s.loc[("1011", 2018), ["lbm", "won", "soc", "vrz", "onv", "fys", "lbm_class"]].tolist() \
        == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 6.0]
    assert s.loc[("1011", 1998), "lbm"] == 0.05
    assert s.loc[("1012", 2018), "lbm_class"] == 3 and pd.isna(s.loc[("1012", 2018), "lbm"])
    assert ("1012", 2016) not in s.index
    assert out.development.values.tolist() == [["1011", 1998, 2018, 4], ["1011", 2016, 2018, 5]]


def test_lbm2_either_file_may_be_absent() -> None:
    dims_only = parse_lbm2_pc4("GBD,RLBRMTR12\n1011,0.1\n", None)
    assert dims_only.scores[["unit_code", "year", "lbm"]].values.tolist() == [["1011", 2012, 0.1]]
    assert dims_only.scores["lbm_class"].isna().all() and dims_only.development.empty
    classes_only = parse_lbm2_pc4(None, "CODE,KL12\n1011,5\n")
    assert classes_only.scores[["unit_code", "year", "lbm_class"]].values.tolist() == [
        ["1011", 2012, 5.0]
    ]
    with pytest.raises(InputError, match="neither"):
        parse_lbm2_pc4(None, None)


# --- Vogelaarwijken (name-keyed) -------------------------------------------------------------


@pytest.fixture(scope="module")
def vogelaar(shared_real_dir: Path) -> tuple[Path, list[list[str]]]:
    path = shared_real_dir / VOGELAAR
    return path, _csv_rows(path)


def _name_table(rows: list[list[str]], skip: frozenset[str] = frozenset()) -> pd.DataFrame:
    """A name table covering the list: one invented wijk code per name, written with other
    case and spacing than the list; Amsterdam Nieuw-West spans three codes."""
    lines = ["name,unit_code"]
    for i, row in enumerate(rows[1:]):
        name, gm_code = row[0], row[3]
        if name in skip:
            continue
        spelled = "  " + name.upper().replace(" ", "   ") + " "
        lines.append(f"{spelled},WK{gm_code[2:]}{i:02d}")
        if name == "Amsterdam Nieuw-West":
            lines += [f"{name},WK036390", f"{name},WK036391"]
    return parse_name_table("\n".join(lines) + "\n", "names.csv")


def test_vogelaar_list_joins_to_codes(vogelaar: tuple[Path, list[list[str]]]) -> None:
    path, rows = vogelaar
    assert rows[0][:1] == ["wijk_oorspronkelijk"] and len(rows) == 41
    out = join_name_keyed(
        _text(path), str(path), _name_table(rows), name_column="wijk_oorspronkelijk",
        years=[2008, 2009, 2010],
    )
    assert list(out.columns) == ["unit_code", "year", "krachtwijk", "programme_budget_eur"]
    assert len(out) == 42 * 3  # 40 names, one of them on three codes
    assert not out.duplicated(["unit_code", "year"]).any()
    assert (out["krachtwijk"] == 1.0).all()
    per_year = out.groupby("year")["programme_budget_eur"].sum()
    assert per_year.tolist() == pytest.approx([50_000_000] * 3)  # the law's total row
    nieuw_west = out[out["unit_code"].isin(["WK036306", "WK036390", "WK036391"])]
    assert nieuw_west["programme_budget_eur"].tolist() == pytest.approx([5_860_000 / 3] * 9)
    alkmaar = out[out["unit_code"] == "WK036100"]
    assert alkmaar["programme_budget_eur"].tolist() == [580_000.0] * 3


def test_vogelaar_unmatched_name_is_reported(vogelaar: tuple[Path, list[list[str]]]) -> None:
    path, rows = vogelaar
    names = _name_table(rows, skip=frozenset({"Rotterdam Oud Zuid"}))
    with pytest.raises(InputError) as err:
        join_name_keyed(
            _text(path), str(path), names, name_column="wijk_oorspronkelijk", years=[2008]
        )
    message = str(err.value)
    assert err.value.file == str(path) and err.value.column == "wijk_oorspronkelijk"
    assert "1 name(s)" in message and "'Rotterdam Oud Zuid' (row 30)" in message
    others = [r[0] for r in rows[1:] if r[0] != "Rotterdam Oud Zuid"]
    assert not [n for n in others if repr(n) in message]


# --- The other real files through the existing readers ---------------------------------------


def test_amstelveen_lbm3(shared_real_dir: Path) -> None:
    path = shared_real_dir / AMSTELVEEN
    df = parse_lbm3_scores(_text(path), str(path))
    assert len(df) == 56 and set(df["year"]) == {2014, 2018, 2020, 2022}
    assert df["unit_code"].map(schema.gemeente_of).eq("GM0362").all()


def test_ses_woa_cbs_csv(shared_real_dir: Path) -> None:
    path = shared_real_dir / SES_WOA
    df = parse_cbs_kwb_csv(_text(path), str(path))
    assert len(df) == 579 and list(df.columns) == CBS_COLUMNS
    # None of the SES-WOA measures is a KWB variable of the schema.
    assert df[list(schema.CBS_BY_NAME)].isna().all().all()


def test_utrecht_buurten_is_no_reader_format_but_loads_as_lbm3(shared_real_dir: Path) -> None:
    path = shared_real_dir / UTRECHT
    with pytest.raises(InputError, match="no unit code column"):
        parse_lbm3_scores(_text(path), str(path))
    raw = pd.read_csv(io.StringIO(_text(path)), dtype=str, keep_default_na=False)
    scored = raw[raw["leefbarometer_score"] != ""]
    lbm3 = pd.DataFrame({
        "bu_code": scored["buurt_code"], "bu_naam": scored["regio"], "jaar": "2020",
        "lbm": scored["leefbarometer_score"], "fys": scored["leefbarometer_fysieke_omgeving"],
        "onv": scored["leefbarometer_fysieke_overlast"],
        "soc": scored["leefbarometer_sociale_samenhang"],
        "vrz": scored["leefbarometer_voorzieningen"],
    })
    df = parse_lbm3_scores(lbm3.to_csv(index=False), "utrecht_as_lbm3.csv")
    assert len(df) == 714 and set(df["level"]) == {"buurt"}
    assert df["unit_code"].map(schema.gemeente_of).nunique() <= 26
    assert df.loc[df["unit_code"] == "BU03070100", "lbm"].tolist() == [4.22]  # first data row


# --- Leefbarometer 3.0 per PC4 (PROVENANCE section 8) ----------------------------------------


@pytest.fixture(scope="module")
def lbm3_pc4(shared_real_dir: Path) -> tuple[pd.DataFrame, list[list[str]]]:
    path = shared_real_dir / LBM3_PC4
    return parse_lbm3_scores(_text(path), str(path)), _csv_rows(path)


def test_lbm3_pc4_long_form(lbm3_pc4: tuple[pd.DataFrame, list[list[str]]]) -> None:
    df, rows = lbm3_pc4
    assert rows[0] == ["PC4", "jaar", "lbm", "afw", "fys", "onv", "soc", "vrz", "won"]
    assert list(df.columns) == ["unit_code", "unit_name", "level", "year",
                                *schema.LBM_SCORE_COLUMNS]
    assert len(df) == 28243 == len(rows) - 1  # every row kept
    assert set(df["level"]) == {"pc4"} and (df["unit_name"] == df["unit_code"]).all()
    assert df["unit_code"].str.fullmatch(schema.UNIT_CODE_PATTERNS["pc4"]).all()
    per_year = df.groupby("year").size()
    assert per_year.index.tolist() == [2002, 2008, 2012, 2014, 2016, 2018, 2020]
    assert per_year.between(4000, 4100).all()  # "about 4,050 PC4 per year"
    assert df["unit_code"].nunique() == 4054
    assert df["lbm"].notna().all() and df["afw"].notna().all()
    # NA is missing: the dimensions exist from 2014 on (in this copy 2014, 2018 and 2020).
    assert set(df.loc[df["fys"].notna(), "year"]) == {2014, 2018, 2020}
    assert df.loc[df["year"] < 2014, list(schema.LBM_DIMENSIONS)].isna().all().all()
    mean = df.groupby("year")["lbm"].mean()
    assert mean[2002] == pytest.approx(4.10, abs=0.01)
    assert mean[2020] == pytest.approx(4.15, abs=0.01)
    # afw is the deviation from the national mean of its year.
    assert (df["lbm"] - df["afw"]).groupby(df["year"]).std().max() < 1e-9


def test_lbm3_pc4_values_as_in_the_file(lbm3_pc4: tuple[pd.DataFrame, list[list[str]]]) -> None:
    df, rows = lbm3_pc4
    row = next(r for r in rows if r[:2] == ["1011", "2014"])
    got = df.set_index(["unit_code", "year"]).loc[("1011", 2014)]
    assert got[list(schema.LBM_SCORE_COLUMNS)].tolist() == [float(v) for v in row[2:]]


# --- CBS Statistiek per postcode (PROVENANCE section 9) --------------------------------------


@pytest.fixture(scope="module")
def cbs_pc4(shared_real_dir: Path) -> dict[int, tuple[CbsPc4Table, list[tuple[Any, ...]]]]:
    out = {}
    for year, rel in CBS_PC4.items():
        path = shared_real_dir / rel
        book = load_workbook(path, read_only=True, data_only=True)
        rows = [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        out[year] = (parse_cbs_pc4_xlsx(path.read_bytes(), str(path)), rows)
    return out


SHARED_PC4_VARIABLES = {
    "inhabitants", "age_0_14_pct", "age_15_24_pct", "age_25_44_pct", "age_45_64_pct",
    "age_65plus_pct", "households", "single_person_hh_pct", "single_parent_hh_pct",
    "household_size", "dwellings", "owner_occupied_pct", "rental_pct", "corporation_rent_pct",
    "multifamily_pct", "uninhabited_dwellings_pct", "built_pre1945_pct", "built_2015plus_pct",
    "benefits_per_1000", "address_density", "urbanity",
}


@pytest.mark.parametrize(
    ("year", "columns", "data_rows", "published", "has_codes"),
    [
        (2020, 36, 4068, date(2021, 2, 17), True),
        (2023, 133, 4070, date(2025, 5, 14), False),
        (2024, 37, 4072, date(2025, 5, 14), False),
    ],
)
def test_cbs_pc4_versions(
    cbs_pc4: dict[int, tuple[CbsPc4Table, list[tuple[Any, ...]]]],
    year: int, columns: int, data_rows: int, published: date, has_codes: bool,
) -> None:
    table, rows = cbs_pc4[year]
    assert max(len(r) for r in rows) == columns
    assert any(r[0] == "PC4" and r[1] == "INWONER" for r in rows[:12]) == has_codes
    df, info = table.frame, table.info
    assert list(df.columns) == list(CBS_PC4_COLUMNS)
    assert len(df) == data_rows and not df["unit_code"].duplicated().any()
    assert set(df["level"]) == {"pc4"} and set(df["year"]) == {year}
    assert (info.reference_date, info.published) == (date(year, 1, 1), published)
    cells = [c for r in rows for c in r]
    assert 0 < info.secret <= cells.count(-99997)  # counted in the kept columns
    assert info.unavailable == cells.count(-99995) == 0
    assert set(info.variables) >= SHARED_PC4_VARIABLES
    assert (df[list(SHARED_PC4_VARIABLES)].notna().mean() > 0.6).all()
    assert 16.8e6 < df["inhabitants"].sum() < 18.2e6  # the Netherlands, less secret areas
    shares = [c for c in CBS_PC4_COLUMNS if c.endswith("_pct")]
    assert ((df[shares] >= 0) & (df[shares] <= 100) | df[shares].isna()).all().all()


def test_cbs_pc4_version_specific_columns(
    cbs_pc4: dict[int, tuple[CbsPc4Table, list[tuple[Any, ...]]]],
) -> None:
    filled = {y: set(t.info.variables) for y, (t, _) in cbs_pc4.items()}
    assert "woz_value" in filled[2020] & filled[2023] and "woz_value" not in filled[2024]
    assert "nonwestern_pct" in filled[2020] - filled[2023] - filled[2024]
    origin = {"born_nl_origin_outside_europe_pct", "born_abroad_origin_outside_europe_pct"}
    assert origin <= filled[2023] & filled[2024] and not origin & filled[2020]


def test_cbs_pc4_values_checked_by_hand(
    cbs_pc4: dict[int, tuple[CbsPc4Table, list[tuple[Any, ...]]]],
) -> None:
    by_year = {y: t.frame.set_index("unit_code") for y, (t, _) in cbs_pc4.items()}
    # 2020 row 11: 1011, INWONER 9705, INW_014 760, AANTAL_HH 6405, TOTHH_EENP 4165,
    # WONING 6220, P_KOOPWON 30, WON_HCORP 2460, WOZWONING 497, OAD 7039, STED 1.
    a = by_year[2020].loc["1011"]
    assert a[["inhabitants", "households", "dwellings", "owner_occupied_pct"]].tolist() == [
        9705, 6405, 6220, 30
    ]
    assert a["age_0_14_pct"] == pytest.approx(100 * 760 / 9705)
    assert a["single_person_hh_pct"] == pytest.approx(100 * 4165 / 6405)
    assert a["corporation_rent_pct"] == pytest.approx(100 * 2460 / 6220)
    assert a[["woz_value", "address_density", "urbanity"]].tolist() == [497, 7039, 1]
    # 2020 row 14: 1014 has WON_0514 = -99997 (secret): missing, not -99997.
    assert by_year[2020].loc["1014", "dwellings"] == 1190
    # 2023: PC4 codes are text in the file; 1011 has WOZ 588, 2024 row 10 1011 has 10,010.
    assert by_year[2023].loc["1011", ["inhabitants", "woz_value"]].tolist() == [9910, 588]
    assert by_year[2024].loc["1011", "inhabitants"] == 10010
    # The same areas across versions: inhabitants line up.
    both = by_year[2020]["inhabitants"].to_frame("a").join(by_year[2024]["inhabitants"])
    assert both.dropna().corr().iloc[0, 1] > 0.99


# --- Boundaries (PROVENANCE section 10) ------------------------------------------------------


@pytest.fixture(scope="module")
def pc4_boundaries(shared_real_dir: Path) -> BoundaryTable:
    path = shared_real_dir / PC4_TOPOJSON
    return parse_boundaries(path.read_bytes(), str(path), "pc4", "postcode")


def test_pc4_topojson(
    pc4_boundaries: BoundaryTable, lbm3_pc4: tuple[pd.DataFrame, list[list[str]]],
    shared_real_dir: Path,
) -> None:
    topo = json.loads((shared_real_dir / PC4_TOPOJSON).read_text(encoding="utf-8"))
    geometries = topo["objects"]["data"]["geometries"]
    frame = pc4_boundaries.frame
    assert len(frame) == 4068 == len(geometries)
    assert frame["unit_code"].tolist() == [g["properties"]["postcode"] for g in geometries]
    assert frame.crs == "EPSG:4326" and pc4_boundaries.crs_assumed  # TopoJSON has no CRS
    assert frame.is_valid.all() and set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    assert pc4_boundaries.repaired == 1548  # quantised rings that touch themselves
    minx, miny, maxx, maxy = frame.total_bounds
    assert 3.3 < minx < maxx < 7.3 and 50.7 < miny < maxy < 53.6  # the Netherlands
    # It covers every PC4 area of the Leefbarometer 3.0 file.
    assert set(lbm3_pc4[0]["unit_code"]) <= set(frame["unit_code"])


def test_gemeenten_geojson(shared_real_dir: Path) -> None:
    path = shared_real_dir / GEMEENTEN
    table = parse_boundaries(path.read_bytes(), str(path), "gemeente", "gemeentecode",
                             "gemeentenaam")
    frame = table.frame.set_index("unit_code")
    assert len(frame) == 343 and not table.crs_assumed
    assert frame.loc["GM0998", "unit_name"] == "Buitenland"  # kept; the panel ignores it
    assert frame.loc["GM0363", "unit_name"] == "Amsterdam"
    assert table.repaired == 8 and frame.is_valid.all()
    # Amsterdam's polygon holds the Dam.
    from shapely.geometry import Point

    assert frame.loc["GM0363", "geometry"].contains(Point(4.8924, 52.3731))


# --- Leefbarometer 2.0 classes per wijk and gemeente (PROVENANCE section 11) -----------------


@pytest.mark.parametrize(("rel", "level", "units"), [(LBM2_WIJK, "wijk", 2981),
                                                     (LBM2_GEMEENTE, "gemeente", 390)])
def test_lbm2_json(shared_real_dir: Path, rel: Path, level: str, units: int) -> None:
    path = shared_real_dir / rel
    raw = json.loads(path.read_text(encoding="utf-8"))
    result = parse_lbm2_json(_text(path), str(path), level)
    scores = result.scores
    assert len(raw) == units and set(scores["unit_code"]) <= set(raw)
    assert set(scores["level"]) == {level}
    assert set(scores["year"]) == {2002, 2008, 2012, 2014, 2016}
    assert scores["lbm"].isna().all() and scores["lbm_class"].between(1, 9).all()
    lacking = units - scores.groupby("year").size()
    if level == "wijk":
        assert lacking.between(135, 197).all()  # "135-197 wijken lack a class in a year"
    else:
        assert (lacking == 0).all()
    dev = result.development
    assert dev["development_class"].between(1, 7).all()
    first = next(iter(raw))
    got = scores[(scores["unit_code"] == first) & (scores["year"] == 2016)]["lbm_class"]
    assert got.tolist() == [float(raw[first]["KL16"])]
