"""Every real file in ../shared/data/real goes through a reader (see PROVENANCE.md there).

The folder is not part of the repo: without it these tests fail under CI (CI set) and are
skipped elsewhere (the ``shared_real_dir`` fixture in tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from features import schema
from features.lbm2 import DEVELOPMENT_COLUMNS, SCORE_COLUMNS, Lbm2, parse_lbm2_pc4
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
COVERED = {KWB_JSON, TABLE_INFOS, DIMENSIE, LBR, VOGELAAR, AMSTELVEEN, SES_WOA, UTRECHT}
# Files in the folder that no reader reads yet: their readers are issue 10 ("Real national
# data first-class"; PROVENANCE.md sections 8-11). Each leaves this set when its reader and
# test come; any other file without a test fails test_every_real_file_has_a_test.
NOT_YET_READ = {
    Path("lbm3_pc4") / "scores_pc4.csv",  # lbm3_scores at PC4 level
    Path("cbs_pc4") / "pc4_2020_v1.xlsx",  # the cbs_pc4_xlsx source kind
    Path("cbs_pc4") / "pc4_2023_v2.xlsx",
    Path("cbs_pc4") / "pc4_2024_v1.xlsx",
    Path("boundaries") / "pc4_grenzen.topojson.json",  # boundaries as a source
    Path("boundaries") / "gemeenten_2024.geojson",
    Path("lbm2_wijk") / "wijk.json",  # Leefbarometer 2.0 classes per wijk
    Path("lbm2_wijk") / "gemeente.json",
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
    assert not COVERED & NOT_YET_READ
    assert present - NOT_YET_READ == COVERED, "a real file without a reader test"
    assert present >= NOT_YET_READ, "a file listed as not yet read has gone"


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
