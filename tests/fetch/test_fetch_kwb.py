"""The KWB table catalog and ``fetch_kwb`` (several years, one level, a config fragment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fetchserver import TABLE_INFOS, FetchServer

from features.fetch.http import FetchError, HttpOptions
from features.fetch.kwb import FRAGMENT_NAME, KWB_BY_YEAR, KWB_TABLES, fetch_kwb, parse_years
from features.sources import read_sources
from wijkradar.config import load_config
from wijkradar.errors import ConfigError, InputError

FAST = HttpOptions(timeout=5.0, retries=0, backoff=0.0)


def test_catalog_years_and_identifiers_are_unique() -> None:
    assert len({t.year for t in KWB_TABLES}) == len({t.table_id for t in KWB_TABLES})
    assert len(KWB_TABLES) == len(KWB_BY_YEAR)
    assert list(KWB_BY_YEAR) == sorted(KWB_BY_YEAR)
    assert all(t.evidence for t in KWB_TABLES)


def test_catalog_2024_is_the_shared_tableinfos_table(shared_real_dir: Path) -> None:
    infos = json.loads((shared_real_dir / TABLE_INFOS).read_text(encoding="utf-8"))[0]
    assert infos["Title"] == "Kerncijfers wijken en buurten 2024" and infos["Period"] == "2024"
    assert KWB_BY_YEAR[2024].table_id == infos["Identifier"]


def test_parse_years() -> None:
    assert parse_years("2017-2024") == tuple(range(2017, 2025))
    assert parse_years("2019, 2021-2022") == (2019, 2021, 2022)
    assert parse_years("2024") == (2024,)


@pytest.mark.parametrize("spec", ["2012", "2017-2030", "2010-2014"])
def test_unknown_year_is_a_config_error_listing_the_known_years(spec: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_years(spec)
    message = str(err.value)
    assert "Known years: 2014, 2015" in message and "2024" in message


@pytest.mark.parametrize("spec", ["twenty", "2024-2017", "2017-"])
def test_malformed_years_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_years(spec)


def test_fetch_two_years_writes_files_and_a_fragment_the_config_takes(
    fetch_server: FetchServer, tmp_path: Path, shared_real_dir: Path
) -> None:
    res = fetch_kwb((2023, 2024), "wijk", tmp_path / "kwb", base_url=fetch_server.base,
                    options=FAST)
    assert [t.table.identifier for t in res.tables] == ["85618NED", "85984NED"]
    assert all(t.fetched and t.records == 3735 for t in res.tables)  # NL01 is dropped
    assert res.fragment == tmp_path / "kwb" / FRAGMENT_NAME
    lbm = shared_real_dir / "lbm_amstelveen_wijk" / "AmstelveenDataWithDimensions.csv"
    config = tmp_path / "wijkradar.toml"
    config.write_text(
        res.fragment.read_text(encoding="utf-8")
        + f'\n[[source]]\nkind = "lbm3_scores"\npath = "{lbm}"\n', encoding="utf-8",
    )
    cfg = load_config(config)
    kwb = cfg.sources_of("cbs_kwb_json")
    assert [(s.year, s.path) for s in kwb] == [(t.table.year, t.path) for t in res.tables]
    sources = read_sources(cfg)
    assert sorted(set(sources.cbs["year"])) == [2023, 2024]
    assert sources.cbs.groupby("year").size().to_dict() == {2023: 3735, 2024: 3735}
    # Idempotent: nothing is fetched again; the fragment is rewritten with the same entries.
    fetch_server.state.log.clear()
    again = fetch_kwb((2023, 2024), "wijk", tmp_path / "kwb", base_url=fetch_server.base,
                      options=FAST)
    assert not any(t.fetched for t in again.tables)
    assert {p.rsplit("/", 1)[-1] for p, _ in fetch_server.state.log} == {"TableInfos"}


def test_a_later_year_failing_keeps_the_whole_earlier_years_and_writes_no_fragment(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    fetch_server.state.fail[("85984NED", "TypedDataSet", 3)] = 500
    with pytest.raises(FetchError, match=r"table 85984NED, TypedDataSet page 3: HTTP 500"):
        fetch_kwb((2023, 2024), "wijk", tmp_path, base_url=fetch_server.base, options=FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cbs_85618NED_2023.json"]


def test_a_table_of_another_period_than_the_catalog_is_rejected(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    table = fetch_server.state.tables["85618NED"]
    fetch_server.state.tables["85618NED"] = type(table)(
        infos={**table.infos, "Period": "2022"}, props=table.props, records=table.records,
        regions=table.regions,
    )
    with pytest.raises(InputError, match=r"covers the period '2022'.*catalog lists it for 2023"):
        fetch_kwb((2023,), "wijk", tmp_path, base_url=fetch_server.base, options=FAST)
    assert list(tmp_path.iterdir()) == []
