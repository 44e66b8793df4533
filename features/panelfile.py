"""The panel's file: its bytes memory-mapped, hashed and parsed, and checked against the
content hash its meta records before any use (``verified_panel``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from wijkradar.errors import InputError
from wijkradar.records import PanelMeta

if TYPE_CHECKING:
    import pyarrow as pa


def content_hash(data: pa.Buffer | bytes) -> str:
    """The SHA-256 of the panel file's bytes (hex), as its meta records it."""
    return hashlib.sha256(memoryview(data)).hexdigest()


def damaged(path: Path, why: str) -> InputError:
    """The error of a panel that cannot be used as it is."""
    return InputError(
        f"the panel is damaged: {why}; it will be rebuilt from the sources", file=str(path)
    )


def verified_panel(path: Path, meta: PanelMeta) -> pd.DataFrame:
    """The panel at ``path`` after its bytes matched ``meta.content_hash``; else an
    ``InputError`` saying it is damaged (``damaged``). The bytes are hashed on a second
    thread while they are parsed (both release the GIL; 1M units: 1.2 -> 0.9 s); the parsed
    panel is returned only once the hash matched."""
    from concurrent.futures import ThreadPoolExecutor

    if not meta.content_hash:
        raise damaged(path, "its meta records no content hash to check it against")
    try:
        data = panel_bytes(path)
    except OSError as exc:
        raise damaged(path, f"it cannot be read ({exc.strerror or exc})") from exc
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wijkradar-hash") as beside:
        hashing = beside.submit(lambda: content_hash(data))
        try:
            panel, failure = parse_panel(data), None
        except Exception as exc:  # pyarrow: ArrowInvalid, OSError and others on broken bytes
            panel, failure = None, exc
        digest = hashing.result()
    if digest != meta.content_hash:
        raise damaged(
            path, f"its SHA-256 is {digest}, not the {meta.content_hash} recorded in its meta"
        )
    if failure is not None or panel is None:
        reason = f"{type(failure).__name__}: {failure}"
        raise damaged(path, f"it cannot be read ({reason})") from failure
    return panel


def panel_bytes(path: Path) -> pa.Buffer:
    """The bytes of the panel file at ``path``, memory-mapped, not copied. A copy costs a page
    fault per fresh 4 KiB page: a 1M-unit panel (765 MB) is hashed and parsed in 1.4 s
    instead of 2.9 s. The panel is only ever replaced by a rename (``catalog``'s atomic
    writes), so the mapped file does not change under its reader."""
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return source.read_buffer()  # the buffer keeps the mapping alive


def parse_panel(data: pa.Buffer | bytes) -> pd.DataFrame:
    """The panel from its file's bytes (read without a copy: 1M rows in 1.2 s, not 3.1 s as
    through ``io.BytesIO``)."""
    import pyarrow as pa

    return pd.read_parquet(pa.BufferReader(data))
