"""``wijkradar fetch``: download the real sources (CBS OData tables, Leefbaarometer files).

``cli.py`` registers this sub-app as ``app.add_typer(fetch_app, name="fetch")``. Errors end
the process with their class's exit code and a one-line message, as the other commands do;
nothing partial is left in the output folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from features.fetch import DEFAULT_BASE_URL
from wijkradar.app.console import LogFormatOpt, chosen_format, guarded, outcome, say_line, status

if TYPE_CHECKING:
    from features.fetch.http import HttpOptions
    from features.fetch.kwb import KwbFetch

fetch_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Download the real sources: CBS Kerncijfers (OData) and Leefbaarometer open data.",
)

BaseUrlOpt = Annotated[
    str, typer.Option("--base-url", help="CBS OData v3 root (default: CBS's bulk feed).")
]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds to wait for each answer.")]
RetriesOpt = Annotated[int, typer.Option(help="Retries of a timeout, 429 or 5xx answer.")]
ForceOpt = Annotated[bool, typer.Option(help="Fetch again even if unchanged.")]


def _options(timeout: float, retries: int) -> HttpOptions:
    from features.fetch.http import HttpOptions

    return HttpOptions(timeout=timeout, retries=retries)


@fetch_app.command("cbs")
@guarded
def cbs(
    table: Annotated[str, typer.Option("--table", help="CBS table identifier, e.g. 85984NED.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.", file_okay=False)] = (
        Path("sources/cbs")
    ),
    base_url: BaseUrlOpt = DEFAULT_BASE_URL,
    level: Annotated[
        str | None,
        typer.Option(help="Keep gemeenten and this level (gemeente, wijk, buurt); default all."),
    ] = None,
    timeout: TimeoutOpt = 60.0,
    retries: RetriesOpt = 2,
    force: ForceOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Download one CBS OData table (TableInfos, DataProperties, every TypedDataSet page)
    into the cbs_kwb_json form; skipped when its Modified date is unchanged."""
    from features.fetch.cbs import fetch_table

    log_format = chosen_format(log_format)
    with status("fetch cbs", log_format) as say:
        res = fetch_table(table, out_dir, base_url=base_url, level=level,
                          options=_options(timeout, retries), force=force, say=say)
    state = "fetched" if res.fetched else "unchanged (Modified date as kept)"
    outcome("fetch cbs", log_format,
          f"{res.table.identifier} ({res.table.title}, modified {res.table.modified}): {state}, "
          f"{res.records:,} records in {res.path}", path=str(res.path), fetched=res.fetched,
          records=res.records, modified=res.table.modified)
    if log_format == "text":
        from features.fetch.fragment import source_entry

        say_line("\n".join(source_entry("cbs_kwb_json", res.path.resolve(), res.table.year)))


@fetch_app.command("kwb")
@guarded
def kwb(
    years: Annotated[str, typer.Option("--years", help="Years, e.g. 2017-2024 or 2019,2021.")],
    level: Annotated[str, typer.Option(help="wijk, buurt or gemeente (gemeenten are kept).")] = (
        "wijk"
    ),
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.", file_okay=False)] = (
        Path("sources/kwb")
    ),
    base_url: BaseUrlOpt = DEFAULT_BASE_URL,
    timeout: TimeoutOpt = 60.0,
    retries: RetriesOpt = 2,
    force: ForceOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Download the Kerncijfers wijken en buurten table of each year (built-in catalog) at one
    level, and write sources_kwb.toml with a [[source]] entry per year."""
    from features.fetch.kwb import fetch_kwb, parse_years

    log_format = chosen_format(log_format)
    with status("fetch kwb", log_format) as say:
        res: KwbFetch = fetch_kwb(parse_years(years), level, out_dir, base_url=base_url,
                                  options=_options(timeout, retries), force=force, say=say)
    for t in res.tables:
        state = "fetched" if t.fetched else "unchanged"
        outcome("fetch kwb", log_format,
              f"{t.table.year} {t.table.identifier}: {state}, {t.records:,} records",
              year=t.table.year, table=t.table.identifier, fetched=t.fetched,
              records=t.records, path=str(t.path))
    outcome("fetch kwb", log_format, f"config fragment: {res.fragment}", fragment=str(res.fragment))


@fetch_app.command("leefbaarometer")
@guarded
def leefbaarometer(
    url: Annotated[str, typer.Option("--url", help="Open-data CSV, or zip of CSVs.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.", file_okay=False)] = (
        Path("sources/leefbaarometer")
    ),
    member: Annotated[
        list[str] | None,
        typer.Option("--member", help="Keep only zip members matching this pattern; repeatable."),
    ] = None,
    timeout: TimeoutOpt = 60.0,
    retries: RetriesOpt = 2,
    force: ForceOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Download a Leefbaarometer open-data file, check it with the lbm3_scores reader, keep
    it, and write sources_leefbaarometer.toml."""
    from features.fetch.leefbaarometer import fetch_leefbaarometer

    log_format = chosen_format(log_format)
    with status("fetch leefbaarometer", log_format) as say:
        res = fetch_leefbaarometer(url, out_dir, options=_options(timeout, retries),
                                   members=tuple(member or ()), force=force, say=say)
    state = "fetched" if res.fetched else "unchanged"
    for f, path in zip(res.files, res.paths, strict=True):
        outcome("fetch leefbaarometer", log_format,
              f"{path}: {state}, {f.rows:,} rows, {f.units:,} {f.level} units, years "
              f"{', '.join(map(str, f.years))}", path=str(path), fetched=res.fetched, rows=f.rows)
    outcome("fetch leefbaarometer", log_format, f"config fragment: {res.fragment}",
          fragment=str(res.fragment))
