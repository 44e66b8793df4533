"""Issue 13, item 1: every source kind maps further columns through ``columns`` on top of its
built-in ones; a column neither built in nor mapped is listed once per file (panel meta and
one progress line); a mapped column reaches the panel. Item 3: a panel level the sources lack
is a ``ConfigError`` naming the levels present. Small hand-made workspaces, built by the
job's own ``ensure_panel``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from features import describe
from features.build import ensure_panel
from features.lbm2 import parse_lbm2_json, parse_lbm2_pc4
from features.odata import read_cbs_kwb_json
from features.readers import read_cbs_kwb_csv, read_investment_csv, read_lbm3_scores
from features.sources import read_sources
from features.vocabulary import Unit
from wijkradar.catalog import Workspace
from wijkradar.config import load_config
from wijkradar.errors import ConfigError, InputError
from wijkradar.records import IgnoredColumn, MappedColumn, PanelMeta
from wijkradar.sourceconfig import ColumnMap

CODE = "Regiocode (gemeente, wijk, buurt) (code)"
INHABITANTS = "Bevolking/Aantal inwoners (aantal)"
EDU_LOW = "Opleidingsniveau/Laag/Waarde (%)"
OTHER = "Iets anders (aantal)"
UNITS = ("WK036300", "WK036301", "WK036302", "WK036303")


def kwb_csv() -> str:
    lines = [";".join(f'"{h}"' for h in ("Perioden", "Wijken en buurten", CODE, INHABITANTS,
                                         EDU_LOW, OTHER, "Gemeentenaam (naam)"))]
    for year in range(2014, 2019):
        for i, code in enumerate(UNITS):
            edu = "." if (i, year) == (0, 2015) else f"{20 + i + (year - 2014) * 0.5:.1f}"
            lines.append(";".join(f'"{c}"' for c in (
                f"{year}JJ00", f"W{i}", code.ljust(10), str(1000 + 10 * i), edu, "x", "Amsterdam"
            )))
    return "\ufeff" + "\n".join(lines) + "\n"


def lbm_csv() -> str:
    lines = ["wk_code,wk_naam,jaar,lbm,eigen_score,opmerking"]
    for year in (2014, 2016, 2018):
        for i, code in enumerate(UNITS):
            lbm = 4.0 + 0.05 * i - (0.1 if (i, year) == (1, 2016) else 0.0)
            lines.append(f"{code},W{i},{year},{lbm:.3f},{i + year % 7},ok")
    return "\n".join(lines) + "\n"


CONFIG = """
[[source]]
kind = "cbs_kwb_csv"
path = "kwb.csv"
columns = {{ "{edu}" = {{ name = "education_low_pct", kind = "share", \
label = "low education (%)", label_nl = "aandeel laagopgeleiden" }} }}

[[source]]
kind = "lbm3_scores"
path = "lbm.csv"
columns = {{ "eigen_score" = {{ name = "own_score", kind = "rate" }} }}

[panel]
level = "{level}"
change_lags = [1]
"""


def make(root: Path, level: str = "wijk", config: str = CONFIG) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kwb.csv").write_text(kwb_csv(), encoding="utf-8")
    (root / "lbm.csv").write_text(lbm_csv(), encoding="utf-8")
    (root / "wijkradar.toml").write_text(config.format(edu=EDU_LOW, level=level),
                                         encoding="utf-8")
    return Workspace(root)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, list[str]]:
    ws = make(tmp_path_factory.mktemp("mapped"))
    said: list[str] = []
    ensure_panel(ws, load_config(ws.config), progress=said.append)
    return ws, said


def test_ignored_columns_are_listed_once_per_file_in_meta_and_progress(
    built: tuple[Workspace, list[str]],
) -> None:
    ws, said = built
    from wijkradar import catalog

    meta = catalog.read_panel_meta(ws)
    assert meta.ignored_columns == (
        IgnoredColumn(str(ws.root / "kwb.csv"), OTHER),
        IgnoredColumn(str(ws.root / "lbm.csv"), "opmerking"),
    )
    lines = [s for s in said if "ignored" in s]
    assert len(lines) == 2, said
    assert lines[0].startswith(str(ws.root / "kwb.csv")) and repr(OTHER) in lines[0]
    assert "'opmerking'" in lines[1]


def test_a_mapped_leefbarometer_column_reaches_the_panel(
    built: tuple[Workspace, list[str]],
) -> None:
    ws, _ = built
    from wijkradar import catalog

    panel = catalog.read_parquet(ws.panel)
    row = panel[(panel["unit_code"] == "WK036302") & (panel["as_of_year"] == 2016)].iloc[0]
    assert row["own_score"] == 2 + 2016 % 7
    assert "own_score" in catalog.read_panel_meta(ws).features


def test_a_mapped_cbs_column_reaches_the_panel(built: tuple[Workspace, list[str]]) -> None:
    ws, _ = built
    from wijkradar import catalog

    panel = catalog.read_parquet(ws.panel)
    row = panel[(panel["unit_code"] == "WK036301") & (panel["as_of_year"] == 2016)].iloc[0]
    assert row["education_low_pct"] == pytest.approx(22.0)
    assert row["education_low_pct_chg1"] == pytest.approx(0.5)


def test_mapped_cbs_values_are_read_with_cbs_symbols(tmp_path: Path) -> None:
    ws = make(tmp_path)
    src = read_sources(load_config(ws.config))
    cbs = src.cbs.set_index(["unit_code", "year"])
    assert cbs.loc[("WK036301", 2016), "education_low_pct"] == pytest.approx(22.0)
    assert cbs.loc[("WK036300", 2015), "education_low_pct"] != cbs.loc[
        ("WK036300", 2015), "education_low_pct"]  # '.' is missing (NaN)
    assert OTHER not in src.cbs.columns


def test_a_changed_mapping_rebuilds_the_panel(tmp_path: Path) -> None:
    ws = make(tmp_path)
    _, first = ensure_panel(ws, load_config(ws.config))
    (ws.root / "wijkradar.toml").write_text(
        CONFIG.format(edu=EDU_LOW, level="wijk").replace('"own_score"', '"own_score2"'),
        encoding="utf-8",
    )
    panel, second = ensure_panel(ws, load_config(ws.config))
    assert second.fingerprint != first.fingerprint and "own_score2" in panel.columns


def test_cbs_symbols_and_codes_are_no_bad_values_in_mapped_columns() -> None:
    header = ";".join(f'"{h}"' for h in ("Perioden", CODE, "Eigen (aantal)"))
    cells = [".", "x", "?", "-", "-99997", "-99995", "12"]
    text = header + "\n" + "\n".join(
        f'"2019";"WK0363{i:02d}";"{c}"' for i, c in enumerate(cells)
    ) + "\n"
    got = read_cbs_kwb_csv(text, "e.csv", (ColumnMap("Eigen (aantal)", "own", "count"),))
    values = got.frame["own"].tolist()
    assert values[3] == 0.0 and values[6] == 12.0
    assert all(v != v for i, v in enumerate(values) if i not in (3, 6))  # NaN
    assert got.ignored == ()


def test_odata_keys_match_with_or_without_their_suffix() -> None:
    doc = {"value": [
        {"Codering_3": "WK036301  ", "Perioden": "2019JJ00", "Bevolkingsdichtheid_33": 900,
         "Mannen_6": 10, "Vrouwen_7": 11, "OppervlakteLand_123": 5},
    ]}
    columns = (ColumnMap("Bevolkingsdichtheid", "density", "rate"),
               ColumnMap("Mannen_6", "men", "count"))
    got = read_cbs_kwb_json(json.dumps(doc), "k.json", None, columns)
    assert got.frame[["density", "men"]].values.tolist() == [[900.0, 10.0]]
    assert got.ignored == ("Vrouwen_7", "OppervlakteLand_123")


def test_investment_and_lbm2_kinds_map_columns_too() -> None:
    inv = ("unit_code,year,corp_renovation_per_dwelling,middle_income_new_dwellings,"
           "market_investment_per_dwelling,krachtwijk,programme_budget_per_dwelling,eigen,noot\n"
           "WK036301,2015,1,2,3,1,4,7.5,x\n")
    got = read_investment_csv(inv, "i.csv", (ColumnMap("eigen", "own_money", "amount"),))
    assert got.frame["own_money"].tolist() == [7.5] and got.ignored == ("noot",)
    with pytest.raises(InputError, match=r"column 'eigen', row 2: value '-1' \(-1\) is below"):
        read_investment_csv(inv.replace("7.5", "-1"), "i.csv",
                            (ColumnMap("eigen", "own_money", "rate"),))
    dims = "GBD,RLBRMTR12,EIGEN12,EIGEN14,RAND\n1011,0.1,5,6,x\n1012,0.2,7,,y\n"
    release = parse_lbm2_pc4(dims, None, "PC4DIMENSIE.csv", "PC4LBR.csv",
                             (ColumnMap("EIGEN", "own", "count"),))
    assert release.extra is not None
    assert release.extra.dropna()[["unit_code", "year", "own"]].values.tolist() == [
        ["1011", 2012, 5.0], ["1011", 2014, 6.0], ["1012", 2012, 7.0]]
    assert release.ignored == (IgnoredColumn("PC4DIMENSIE.csv", "RAND"),)
    with pytest.raises(InputError) as err:
        parse_lbm2_json('{"WK036301": {"KL12": "5", "EIGEN12": "veel"}}', "wijk.json", "wijk",
                        (ColumnMap("EIGEN", "own", "count"),))
    assert (err.value.column, err.value.row) == ("EIGEN12", "WK036301")
    assert "'veel'" in str(err.value)


def test_lbm3_mapped_share_out_of_range_is_rejected() -> None:
    with pytest.raises(InputError) as err:
        read_lbm3_scores(lbm_csv().replace(",ok\n", ",ok\n", 1).replace(
            "WK036302,W2,2016,4.100,", "WK036302,W2,2016,4.100,").replace(
            f"WK036303,W3,2018,4.150,{3 + 2018 % 7}", "WK036303,W3,2018,4.150,180.5"),
            "lbm.csv", (ColumnMap("eigen_score", "own", "share"),))
    assert (err.value.column, err.value.row) == ("eigen_score", 13)
    assert "'180.5'" in str(err.value)


@pytest.mark.parametrize(("level", "present"), [("buurt", "wijk"), ("pc4", "wijk"),
                                                ("gemeente", "wijk")])
def test_a_level_the_sources_lack_is_a_config_error_naming_the_levels(
    tmp_path: Path, level: str, present: str
) -> None:
    ws = make(tmp_path, level=level)
    with pytest.raises(ConfigError) as err:
        ensure_panel(ws, load_config(ws.config))
    message = str(err.value)
    assert f"level is {level!r}" in message and f"they hold {present}" in message
    assert "the CBS sources: wijk" in message
    assert not ws.panel.exists()


@pytest.mark.parametrize(("columns", "says"), [
    ('{ "eigen_score" = { name = "lbm_own", kind = "rate" } }', "lbm..."),
    ('{ "eigen_score" = { name = "inhabitants", kind = "count" } }', "already has"),
    ('{ "eigen_scroe" = { name = "own", kind = "rate" } }', "none of its files holds"),
    ('{ "eigen_score" = { name = "education_low_pct", kind = "rate" } }', "one name needs one"),
    ('{ "eigen_score" = { name = "own", kind = "rate", plural = "ja" } }',
     "'plural' must be true or false. Got 'ja' instead."),
    ('{ "eigen_score" = { name = "own", kind = "rate", label = 3 } }', "every value but 'plural'"),
])
def test_a_bad_mapping_is_a_config_error(tmp_path: Path, columns: str, says: str) -> None:
    config = CONFIG.replace('{{ "eigen_score" = {{ name = "own_score", kind = "rate" }} }}',
                            columns.replace("{", "{{").replace("}", "}}"))
    ws = make(tmp_path, config=config)
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        ensure_panel(ws, load_config(ws.config))
    assert not ws.panel.exists()


def test_the_meta_keeps_the_mapped_columns_and_their_labels(
    built: tuple[Workspace, list[str]],
) -> None:
    ws, _ = built
    from wijkradar import catalog

    meta = catalog.read_panel_meta(ws)
    assert meta.mapped_columns == (
        MappedColumn("education_low_pct", "share", "low education (%)",
                     "aandeel laagopgeleiden", EDU_LOW),
        MappedColumn("own_score", "rate", "", "", "eigen_score"),
    )
    assert PanelMeta.from_dict(asdict(meta)) == meta
    old = {k: v for k, v in asdict(meta).items() if k != "mapped_columns"}
    assert PanelMeta.from_dict(old).mapped_columns == ()  # a meta written before them


def test_a_mapped_column_is_named_by_its_label_never_raw(
    built: tuple[Workspace, list[str]],
) -> None:
    ws, _ = built
    from wijkradar import catalog

    meta = catalog.read_panel_meta(ws)
    extra = describe.mapped_terms(meta.mapped_columns)
    assert {"education_low_pct_chg1", "own_score_chg1"} <= set(meta.features)
    assert [f for f in meta.features if not describe.declared(f, extra)] == []
    assert [f for f in meta.features if not describe.declared(f)] == [
        "education_low_pct", "education_low_pct_chg1", "own_score", "own_score_chg1"]
    edu = "education_low_pct"
    assert describe.feature_label(edu, "nl", extra) == "aandeel laagopgeleiden"
    assert describe.feature_label(edu, "en", extra) == "low education (%)"
    assert describe.feature_label(f"{edu}_chg1", "nl", extra) == (
        "aandeel laagopgeleiden, verandering in 1 jaar"
    )
    assert describe.value_text(edu, 22.0, "nl", extra) == "22%"  # a share: a percentage
    assert describe.value_text(f"{edu}_chg1", 0.5, "nl", extra) == "+0,5 procentpunt"
    assert describe.unit_text(f"{edu}_chg1", "en", extra) == "percentage points"
    # Without a label: the name, underscores as spaces, in both languages.
    assert describe.feature_label("own_score", "nl", extra) == "own score"
    assert describe.feature_label("own_score_chg_prev", "en", extra) == (
        "own score, change since previous measurement"
    )
    assert describe.unit("own_score", extra) is Unit.COUNT
    # Without ``extra`` nothing fails: the name in words.
    assert describe.feature_label(edu, "nl") == "education low"


def test_mapped_terms_take_the_one_label_given_and_leave_declared_ones_alone() -> None:
    extra = describe.mapped_terms((
        MappedColumn("age65", "count", "", "inwoners van 65 jaar of ouder", "k_65"),
        MappedColumn("visits_per_1000", "rate", "visits per 1,000", "", "Bezoek"),
        MappedColumn("inhabitants", "count", "people", "mensen", "Inw"),
    ))
    assert extra["age65"].label == extra["age65"].label_nl == "inwoners van 65 jaar of ouder"
    assert extra["visits_per_1000"].label_nl == "visits per 1,000"
    assert extra["visits_per_1000"].unit is Unit.PER_1000
    assert "inhabitants" not in extra
    assert describe.feature_label("inhabitants", "nl", extra) == describe.feature_label(
        "inhabitants", "nl")


def test_a_mapped_name_the_grammar_reads_as_a_change_is_a_config_error(tmp_path: Path) -> None:
    config = CONFIG.replace('name = "own_score"', 'name = "own_score_chg1"')
    ws = make(tmp_path, config=config)
    with pytest.raises(ConfigError, match=r"reads as a change or a gemeente feature"):
        ensure_panel(ws, load_config(ws.config))
    assert not ws.panel.exists()


def test_plural_is_read_from_the_config_and_kept_in_the_meta() -> None:
    from wijkradar.sourceconfig import parse_columns

    (column,) = parse_columns(
        {"Bezoek": {"name": "gp_visits", "kind": "rate", "label_nl": "huisartsbezoeken",
                    "plural": True}}, "source 1")
    assert column.plural
    assert not parse_columns({"X": {"name": "x", "kind": "rate"}}, "source 1")[0].plural
    kept = MappedColumn("gp_visits", "rate", "", "huisartsbezoeken", "Bezoek", plural=True)
    assert MappedColumn(**asdict(kept)) == kept
