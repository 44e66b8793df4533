"""How the CLI speaks to people and schedulers: progress, outcomes and failures.

Every command body runs under ``guarded``. A failure ends the process with an exit code a
scheduler can act on (README, "Exit codes"):

* an error wijkradar raises on purpose (``WijkradarError``) keeps its class's code;
* no space or no permission on the way is a ``StorageError`` (10), a damaged model store a
  ``StoreError`` (9);
* anything else is a bug: exit 1 and one line ``internal error: ... (please report)``; the
  traceback follows only with ``--debug`` (or ``WIJKRADAR_DEBUG=1``), and in the JSON log it
  is the record's ``exc_info`` field.

With ``--log-format json`` every line on stderr is one JSON object: progress, warnings
(Python's and the libraries'), the outcome and any failure. Text never goes through console
markup, so "[model]" in a message stays "[model]".
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sqlite3
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from wijkradar.errors import StorageError, StoreError, WijkradarError

console = Console(stderr=True, log_path=False)
out = Console()
F = TypeVar("F", bound=Callable[..., Any])
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}
INTERNAL_EXIT = 1
LOG_FORMATS = ("text", "json")


def json_line(level: str, step: str, message: str, **extra: object) -> None:
    """One JSON object on one line of stderr."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": level, "step": step,
              "message": message, **extra}
    print(json.dumps(record, default=str), file=sys.stderr, flush=True)


@contextmanager
def status(title: str, log_format: str = "text") -> Iterator[Callable[[str], None]]:
    """A progress callback: a spinner and log lines, or JSON lines."""
    if log_format == "json":
        yield lambda msg: json_line(
            "warning" if msg.startswith("warning") else "info", title, msg
        )
        return
    with console.status(f"[bold]{escape(title)}[/bold]") as spinner:

        def say(msg: str) -> None:
            spinner.update(f"[bold]{escape(title)}[/bold]: {escape(msg)}")
            console.log(msg, markup=False, highlight=False)

        yield say


def classify(exc: BaseException) -> WijkradarError | None:
    """The classified error that ``exc`` is, or None for a bug."""
    if isinstance(exc, WijkradarError):
        return exc
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        where = exc.filename or "the workspace"
        what = "No space left on the device" if exc.errno in (errno.ENOSPC, errno.EDQUOT) \
            else "No permission to write"
        return StorageError(f"{what} for {where} ({exc.strerror}). Nothing was published.")
    if isinstance(exc, sqlite3.DatabaseError) or type(exc).__module__.startswith("sqlalchemy"):
        return StoreError(f"The model store failed: {exc}")
    return None


@dataclass(frozen=True)
class Output:
    """The options given before the command: ``wijkradar --debug --log-format json score``."""

    debug: bool = False
    log_format: str = "text"


# Set by the CLI's root callback for the command that follows it (a context variable, so it
# never leaks into other threads or into code that imports this module).
OUTPUT: ContextVar[Output | None] = ContextVar("wijkradar_output", default=None)


def _output() -> Output:
    return OUTPUT.get() or Output()


def _debug() -> bool:
    return _output().debug or os.environ.get("WIJKRADAR_DEBUG", "") not in ("", "0")


def _root_log_format() -> str:
    return _output().log_format


def report_failure(exc: BaseException, log_format: str, debug: bool) -> int:
    """Say what failed, once, and return the exit code."""
    known = classify(exc)
    if known is not None:
        if log_format == "json":
            json_line("error", "run", str(known), error=type(known).__name__,
                      exit_code=known.exit_code)
        else:
            console.print(f"error ({type(known).__name__}): {known}", markup=False,
                          highlight=False, style="bold red")
            if debug:
                console.print("".join(traceback.format_exception(exc)), markup=False)
        return known.exit_code
    line = f"internal error: {type(exc).__name__}: {exc} (please report)"
    if log_format == "json":
        json_line("error", "run", line, error="InternalError", exit_code=INTERNAL_EXIT,
                  exc_info="".join(traceback.format_exception(exc)))
    else:
        console.print(line, markup=False, highlight=False, style="bold red")
        if debug:
            console.print("".join(traceback.format_exception(exc)), markup=False)
    return INTERNAL_EXIT


@contextmanager
def json_warnings(log_format: str) -> Iterator[None]:
    """In JSON mode, Python warnings become JSON lines too."""
    if log_format != "json":
        yield
        return

    def show(message: Any, category: type, filename: str, lineno: int, *_: Any) -> None:
        json_line("warning", "python", str(message), category=category.__name__,
                  where=f"{filename}:{lineno}")

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def guarded(fn: F) -> F:
    """Run a command body: classified failures end it with their exit code, bugs with 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        log_format = str(kwargs.get("log_format") or _root_log_format())
        try:
            with json_warnings(log_format):
                return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter, KeyboardInterrupt):
            raise
        except Exception as exc:
            code = report_failure(exc, log_format, _debug())
            raise typer.Exit(code) from exc

    return wrapper  # type: ignore[return-value]


def json_requested(argv: Sequence[str]) -> bool:
    """Whether the command line asks for JSON lines (``--log-format json`` anywhere)."""
    pairs = zip(argv, [*argv[1:], ""], strict=True)
    return "--log-format=json" in argv or any(
        a == "--log-format" and b == "json" for a, b in pairs
    )


def chosen_format(value: str | None) -> str:
    """A command's ``--log-format``, else the one given before the command."""
    chosen = value or _root_log_format()
    if chosen not in LOG_FORMATS:
        raise typer.BadParameter(
            f"--log-format must be one of {', '.join(LOG_FORMATS)}. Got {chosen!r} instead."
        )
    return chosen


def table_parts(
    columns: Sequence[str], rows: Sequence[Sequence[str]], width: int, keys: int = 1
) -> list[list[int]]:
    """Column indexes of the tables that show ``columns`` within ``width`` characters; each
    part repeats the first ``keys`` columns, so that every row stays recognisable.

    >>> table_parts(["a", "b", "c"], [["1", "22", "333"]], width=14)
    [[0, 1], [0, 2]]
    """
    def need(i: int) -> int:
        return max([len(columns[i]), *(len(r[i]) for r in rows)]) + 3

    parts: list[list[int]] = []
    current = list(range(keys))
    used = 4 + sum(need(i) for i in current)
    for i in range(keys, len(columns)):
        if used + need(i) > width and len(current) > keys:
            parts.append(current)
            current, used = list(range(keys)), 4 + sum(need(k) for k in range(keys))
        current.append(i)
        used += need(i)
    parts.append(current)
    return parts


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    keys: int = 1,
    justify: str = "right",
) -> None:
    """A table on stdout that stays readable at the terminal's width (80 when piped): too
    wide, it is split into parts that repeat the ``keys`` columns. Cells are plain text."""
    width = out.width
    parts = table_parts(columns, rows, width, keys)
    for n, part in enumerate(parts, start=1):
        suffix = f" ({n}/{len(parts)})" if len(parts) > 1 else ""
        view = Table(title=Text(title + suffix), title_justify="left")
        for i in part:
            view.add_column(Text(columns[i]), justify=justify, overflow="fold")  # type: ignore[arg-type]
        for row in rows:
            view.add_row(*(Text(row[i]) for i in part))
        out.print(view)


LogFormatOpt = Annotated[
    str | None,
    typer.Option("--log-format", help="text, or json: one JSON object per line on stderr."),
]


def outcome(step: str, log_format: str, message: str, **extra: object) -> None:
    """A command's result: one JSON line (with ``extra``), or the message on stdout."""
    if log_format == "json":
        json_line("info", step, message, **extra)
    else:
        say_line(message)


def say_line(text: str) -> None:
    """A result line on stdout, printed as it is (no markup)."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)
