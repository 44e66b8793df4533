"""``features.fetch.cbs.fetch_table`` against the local OData server (tests/fetch/conftest.py):
paging, failures midway, a timeout, an unknown table, and the Modified date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fetchserver import KWB_2024, PAGE_SIZE, FetchServer

from features.fetch.cbs import fetch_table, record_code
from features.fetch.http import FetchError, HttpOptions
from features.fetch.staging import STAGING_PREFIX
from features.odata import parse_cbs_kwb_json

FAST = HttpOptions(timeout=5.0, retries=0, backoff=0.0)
TABLE = "85984NED"


def _measures(path: Path) -> dict[str, dict[str, Any]]:
    """code -> measures of a fetched file, without the region keys the OData form adds."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    region_keys = {"ID", "WijkenEnBuurten", "Gemeentenaam_1", "SoortRegio_2", "Codering_3"}
    return {
        str(record_code(rec)): {k: v for k, v in rec.items() if k not in region_keys}
        for rec in doc["value"]
    }


def _nothing_left(out: Path) -> None:
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert left == [], f"partial output left: {left}"


def test_paging_gives_the_whole_national_table(
    fetch_server: FetchServer, tmp_path: Path, shared_real_dir: Path
) -> None:
    res = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    assert res.fetched and res.path == tmp_path / "cbs_85984NED_2024.json"
    records = len(fetch_server.tables[TABLE].records)  # 3,735 regions and NL01
    assert res.records == records == 3736
    assert res.pages == -(-records // PAGE_SIZE) == 4
    skips = [r.get("$skip", "0") for r in fetch_server.state.requests("TypedDataSet")]
    assert skips == ["0", "1000", "2000", "3000"]
    shared = json.loads((shared_real_dir / KWB_2024).read_text(encoding="utf-8"))
    got = _measures(res.path)
    assert got.pop("NL01")["AantalInwoners_5"] > 17_000_000
    assert got == shared  # every region, every measure, as the shared file holds it
    doc = json.loads(res.path.read_text(encoding="utf-8"))
    assert doc["TableInfos"]["Identifier"] == TABLE
    assert doc["TableInfos"]["Modified"] == "2025-03-27T02:00:00"
    assert doc["fetch"]["pages"] == 4 and doc["fetch"]["records_kept"] == records
    assert {p["Key"] for p in doc["DataProperties"]} >= {"WijkenEnBuurten", "AantalInwoners_5"}
    frame = parse_cbs_kwb_json(res.path.read_text(encoding="utf-8"), str(res.path))
    assert len(frame) == 3735 and set(frame["year"]) == {2024}
    names = frame.set_index("unit_code")["unit_name"]
    assert names["WK036201"] == "Randwijck"  # from the WijkenEnBuurten dimension's titles
    assert names["GM0362"] == "Amstelveen"


def test_level_filter_keeps_gemeenten_and_the_level(
    fetch_server: FetchServer, tmp_path: Path, shared_real_dir: Path
) -> None:
    res = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, level="gemeente",
                      options=FAST)
    codes = list(_measures(res.path))
    assert res.records == len(codes) == 342 and all(c.startswith("GM") for c in codes)
    res = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, level="wijk", options=FAST)
    assert res.fetched  # another level: fetched again, although Modified is the same
    shared = json.loads((shared_real_dir / KWB_2024).read_text(encoding="utf-8"))
    assert res.records == 3735 and _measures(res.path) == shared  # the national wijk table


def test_500_on_page_3_names_table_page_status_and_leaves_nothing(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    fetch_server.state.fail[(TABLE, "TypedDataSet", 3)] = 500
    with pytest.raises(FetchError) as err:
        fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    message = str(err.value)
    assert "table 85984NED" in message and "TypedDataSet page 3" in message
    assert "HTTP 500" in message and "nothing was written" in message
    _nothing_left(tmp_path)


def test_failed_refetch_keeps_the_previous_copy(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    first = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    before = first.path.read_bytes()
    fetch_server.state.modified[TABLE] = "2025-07-01T02:00:00"
    fetch_server.state.fail[(TABLE, "TypedDataSet", 3)] = 503
    with pytest.raises(FetchError, match=r"page 3.*HTTP 503"):
        fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    assert first.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.path.name]


def test_a_transient_500_is_retried(fetch_server: FetchServer, tmp_path: Path) -> None:
    fetch_server.state.fail_once[(TABLE, "TypedDataSet", 2)] = 500
    res = fetch_table(TABLE, tmp_path, base_url=fetch_server.base,
                      options=HttpOptions(timeout=5.0, retries=1, backoff=0.0))
    assert res.fetched and res.records == 3736
    skips = [r.get("$skip", "0") for r in fetch_server.state.requests("TypedDataSet")]
    assert skips == ["0", "1000", "1000", "2000", "3000"]


def test_timeout_is_classified_and_leaves_nothing(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    fetch_server.state.delay[(TABLE, "TypedDataSet", 2)] = 1.5
    with pytest.raises(FetchError) as err:
        fetch_table(TABLE, tmp_path, base_url=fetch_server.base,
                    options=HttpOptions(timeout=0.3, retries=0, backoff=0.0))
    message = str(err.value)
    assert "TypedDataSet page 2" in message and "timeout" in message
    _nothing_left(tmp_path)


def test_unknown_table_is_a_404_naming_it(fetch_server: FetchServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError) as err:
        fetch_table("99999NED", tmp_path, base_url=fetch_server.base, options=FAST)
    message = str(err.value)
    assert "table 99999NED" in message and "TableInfos" in message and "HTTP 404" in message
    _nothing_left(tmp_path)


def test_unchanged_modified_date_is_not_fetched_again(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    first = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    before, mtime = first.path.read_bytes(), first.path.stat().st_mtime_ns
    fetch_server.state.log.clear()
    again = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    assert not again.fetched and again.records == first.records and again.pages == 0
    assert [p.rsplit("/", 1)[-1] for p, _ in fetch_server.state.log] == ["TableInfos"]
    assert first.path.read_bytes() == before and first.path.stat().st_mtime_ns == mtime


def test_changed_modified_date_is_fetched_again(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    fetch_server.state.modified[TABLE] = "2025-07-01T02:00:00"
    fetch_server.state.log.clear()
    res = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    assert res.fetched and res.previous_modified == "2025-03-27T02:00:00"
    assert res.table.modified == "2025-07-01T02:00:00"
    assert len(fetch_server.state.requests("TypedDataSet")) == 4
    doc = json.loads(res.path.read_text(encoding="utf-8"))
    assert doc["TableInfos"]["Modified"] == "2025-07-01T02:00:00"
    assert not any(p.name.startswith(STAGING_PREFIX) for p in tmp_path.iterdir())


def test_a_page_that_is_not_json_is_classified(
    fetch_server: FetchServer, tmp_path: Path
) -> None:
    fetch_server.state.garbage.add((TABLE, "TypedDataSet", 4))
    with pytest.raises(FetchError, match=r"TypedDataSet page 4: the answer is not JSON"):
        fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    _nothing_left(tmp_path)


def test_a_refused_connection_is_classified(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="table 85984NED, TableInfos: cannot reach the server"):
        fetch_table(TABLE, tmp_path, base_url="http://127.0.0.1:9/ODataApi/odata", options=FAST)
    _nothing_left(tmp_path)


def test_a_capped_page_without_next_link_continues_with_skip(
    fetch_server: FetchServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CBS's ODataApi caps an answer at 10,000 records; here the server caps at 1,000 and
    sends no odata.nextLink, so the client must go on with $skip itself."""
    import features.fetch.cbs as cbs

    monkeypatch.setattr(cbs, "API_PAGE_LIMIT", PAGE_SIZE)
    fetch_server.state.next_links = False
    res = fetch_table(TABLE, tmp_path, base_url=fetch_server.base, options=FAST)
    assert res.records == 3736 and res.pages == 4
    skips = [r.get("$skip", "0") for r in fetch_server.state.requests("TypedDataSet")]
    assert skips == ["0", "1000", "2000", "3000"]
