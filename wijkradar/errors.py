"""The exception hierarchy. Every error a user can cause derives from ``WijkradarError``.

Each class carries the process exit code the CLI returns for it, so that schedulers can tell
bad input from a missing model without parsing messages.
"""

from __future__ import annotations


class WijkradarError(Exception):
    """Base class for every error wijkradar raises on purpose."""

    exit_code = 1


class ConfigError(WijkradarError):
    """The configuration file is missing, malformed, or names something unknown."""

    exit_code = 2


class InputError(WijkradarError):
    """A source file cannot be trusted. The message names the file, the column and the row."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | str | None = None,
    ) -> None:
        self.file = file
        self.column = column
        self.row = row
        where = []
        if file is not None:
            where.append(f"file {file}")
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class NoModelError(WijkradarError):
    """No approved model is registered, or the model URI cannot be loaded."""

    exit_code = 4


class SchemaMismatchError(WijkradarError):
    """The model's feature schema does not match the panel's."""

    exit_code = 5


class NotEnoughDataError(WijkradarError):
    """The panel has too few labelled rows or years for what was asked."""

    exit_code = 6


class LockHeldError(WijkradarError):
    """Another run holds the workspace's lock (a live process)."""

    exit_code = 7


class ExplanationError(WijkradarError):
    """The explanations do not add up to the model's output."""

    exit_code = 8


class StoreError(WijkradarError):
    """The model store (``mlflow.db``, a run's artifacts) is corrupt, unreadable or lacks what
    a registered model needs. The message names the file."""

    exit_code = 9


class StorageError(WijkradarError):
    """The workspace cannot be written: no space left, no permission, a read-only file
    system. Nothing partial is left visible."""

    exit_code = 10


class FetchError(WijkradarError):
    """A download failed: the server answered with an error status, did not answer within the
    timeout, could not be reached, or sent something unreadable. The message names the table
    or URL, the part, the page and the status; nothing was written."""

    exit_code = 11
