"""The Kerncijfers wijken en buurten (KWB) tables by year, and fetching several years.

CBS publishes one KWB table per year, under a new identifier each year, and its column names
change between years (``AantalInwoners_5``; ``features.odata`` strips the suffix). The catalog
below lists the identifiers and how each was verified (docs/sources.md, "KWB table catalog").
``fetch_kwb`` fetches each year's table (``features.fetch.cbs.fetch_table``, idempotent per
table), then writes ``sources_kwb.toml`` beside them: one ``[[source]]`` entry per year, with
absolute paths and the year, that a ``wijkradar.toml`` takes as it is.

A year's table that completed stays when a later year fails (it is whole, and the next run
skips it); the config fragment is written only when every year succeeded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from features.fetch import DEFAULT_BASE_URL
from features.fetch.cbs import CbsFetch, Say, check_level, fetch_table
from features.fetch.fragment import check_fragment, source_entry
from features.fetch.http import HttpOptions
from features.fetch.staging import staging
from wijkradar.errors import ConfigError

FRAGMENT_NAME = "sources_kwb.toml"


@dataclass(frozen=True)
class KwbTable:
    """One year's KWB table: the reference year, the CBS identifier, and how the pair was
    verified (``official``: a CBS source names the identifier with its title and year)."""

    year: int
    table_id: str
    official: bool
    evidence: str


_PAGE = "CBS StatLine page cbs.nl/nl-nl/cijfers/detail/{} titled 'Kerncijfers wijken en buurten {}'"


def _official(year: int, table_id: str) -> KwbTable:
    return KwbTable(year, table_id, True, _PAGE.format(table_id, year))


KWB_TABLES: tuple[KwbTable, ...] = (
    _official(2014, "82931NED"),
    KwbTable(
        2015, "83220NED", False,
        "no CBS page found; three independent public code bases list 83220NED as KWB 2015",
    ),
    _official(2016, "83487NED"),
    _official(2017, "83765NED"),
    _official(2018, "84286NED"),
    _official(2019, "84583NED"),
    _official(2020, "84799NED"),
    _official(2021, "85039NED"),
    _official(2022, "85318NED"),
    _official(2023, "85618NED"),
    KwbTable(
        2024, "85984NED", True,
        "CBS TableInfos in ../shared/data/real/cbs_kwb_2024_wijk/TableInfos.json: Identifier "
        "85984NED, Title 'Kerncijfers wijken en buurten 2024', Period 2024",
    ),
)
KWB_BY_YEAR: dict[int, KwbTable] = {t.year: t for t in KWB_TABLES}
_RANGE = re.compile(r"^\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?$")


@dataclass(frozen=True)
class KwbFetch:
    """What ``fetch_kwb`` did: one ``CbsFetch`` per year (in year order) and the fragment."""

    tables: tuple[CbsFetch, ...]
    fragment: Path


def known_years() -> str:
    return ", ".join(str(y) for y in KWB_BY_YEAR)


def parse_years(spec: str) -> tuple[int, ...]:
    """'2017-2024', '2019' or '2017,2019-2020' as sorted years; an unknown year (or a
    malformed spec) is a ``ConfigError`` that lists the known years."""
    years: set[int] = set()
    for part in spec.split(","):
        m = _RANGE.match(part)
        if m is None:
            raise ConfigError(
                f"--years takes years and ranges such as 2017-2024 or 2019,2021. Got {spec!r}. "
                f"Known years: {known_years()}."
            )
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if last < first:
            raise ConfigError(f"The range {part.strip()!r} runs backwards. Write {last}-{first}.")
        years.update(range(first, last + 1))
    unknown = sorted(years - set(KWB_BY_YEAR))
    if unknown:
        raise ConfigError(
            f"No Kerncijfers wijken en buurten table is known for {', '.join(map(str, unknown))}. "
            f"Known years: {known_years()}. For another table use "
            "`wijkradar fetch cbs --table ID`."
        )
    return tuple(sorted(years))


def fragment_text(tables: tuple[CbsFetch, ...], level: str) -> str:
    lines = [
        f"# CBS Kerncijfers wijken en buurten, level {level}: written by `wijkradar fetch kwb`"
        f" on {date.today().isoformat()}.",
        "# Paste these [[source]] entries into a wijkradar.toml as they are (absolute paths).",
        "",
    ]
    for t in tables:
        comment = f"{t.table.identifier}: {t.table.title}, modified {t.table.modified}"
        lines += source_entry("cbs_kwb_json", t.path.resolve(), t.table.year, comment)
    return "\n".join(lines)


def fetch_kwb(
    years: tuple[int, ...],
    level: str,
    out: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    options: HttpOptions | None = None,
    force: bool = False,
    say: Say = lambda _msg: None,
) -> KwbFetch:
    """Fetch the KWB table of each year at ``level`` (gemeenten are kept with it) into
    ``out`` and write the config fragment."""
    check_level(level)
    if not years:
        raise ConfigError(f"Give at least one year. Known years: {known_years()}.")
    results = []
    for year in years:
        entry = KWB_BY_YEAR.get(year)
        if entry is None:
            parse_years(str(year))  # raises the ConfigError that lists the known years
            raise AssertionError("unreachable")  # pragma: no cover
        say(f"{year}: table {entry.table_id}")
        results.append(
            fetch_table(
                entry.table_id, out, base_url=base_url, level=level, options=options,
                force=force, say=say, expect_year=year,
            )
        )
    tables = tuple(results)
    text = fragment_text(tables, level)
    check_fragment(text, FRAGMENT_NAME)
    with staging(out) as stage:
        stage.write_bytes(FRAGMENT_NAME, text.encode("utf-8"))
        stage.commit()
    return KwbFetch(tables=tables, fragment=out / FRAGMENT_NAME)
