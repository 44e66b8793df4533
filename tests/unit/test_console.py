"""How the CLI reports: classified exit codes, one line for a bug, tables that fit."""

from __future__ import annotations

import errno
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from wijkradar.app import console
from wijkradar.errors import ConfigError, StorageError, StoreError


def test_storage_faults_and_store_faults_are_classified():
    full = console.classify(OSError(errno.ENOSPC, "No space left on device", "/ws/x.parquet"))
    assert isinstance(full, StorageError) and "/ws/x.parquet" in str(full)
    denied = console.classify(PermissionError(errno.EACCES, "Permission denied", "/ws"))
    assert isinstance(denied, StorageError) and "No permission" in str(denied)
    assert isinstance(console.classify(sqlite3.DatabaseError("malformed")), StoreError)
    mine = ConfigError("x")
    assert console.classify(mine) is mine
    assert console.classify(KeyError("bug")) is None
    assert console.classify(FileNotFoundError(errno.ENOENT, "gone", "/x")) is None


def test_a_bug_is_one_line_asking_for_a_report(capsys):
    code = console.report_failure(RuntimeError("boom [model]"), "text", debug=False)
    err = capsys.readouterr().err
    assert code == 1
    assert "internal error: RuntimeError: boom [model] (please report)" in err
    assert "Traceback" not in err


def test_a_classified_error_keeps_its_brackets(capsys):
    code = console.report_failure(ConfigError("Unknown key(s) 'num_leavs' in [model]"), "text",
                                  debug=False)
    assert code == 2 and "in [model]" in capsys.readouterr().err


cell = st.text(alphabet="abc123 .,[]%", min_size=0, max_size=12)


@given(st.lists(cell, min_size=2, max_size=10).flatmap(
    lambda cols: st.tuples(st.just(cols),
                           st.lists(st.lists(cell, min_size=len(cols), max_size=len(cols)),
                                    max_size=4))),
       st.integers(min_value=20, max_value=200), st.integers(min_value=1, max_value=2))
def test_table_parts_show_every_column_once_and_repeat_the_keys(table, width, keys):
    columns, rows = table
    keys = min(keys, len(columns) - 1)
    parts = console.table_parts(columns, rows, width, keys)
    shown = [i for part in parts for i in part[keys:]]
    assert sorted(shown) == list(range(keys, len(columns)))
    assert all(part[:keys] == list(range(keys)) for part in parts)
