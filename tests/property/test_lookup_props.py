"""Property-based tests of ``serving.lookup.positions_of``: Arrow's hash kernel finds what
``pd.Index.get_indexer`` finds, for any codes, missing ones and repeats among the keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.lookup import positions_of

codes = st.text(alphabet="BUWK0123456789", min_size=0, max_size=6)


@st.composite
def lookups(draw: st.DrawFn) -> tuple[list[str | None], list[str | None]]:
    """Unique codes (one may be missing), and keys drawn from them and from elsewhere."""
    among: list[str | None] = draw(st.lists(codes, max_size=30, unique=True))
    if draw(st.booleans()):
        among.append(None)
    pool = st.sampled_from(among) if among else codes
    keys = draw(st.lists(st.one_of(pool, codes, st.none()), max_size=40))
    return keys, among


@settings(max_examples=200, deadline=None)
@given(lookups(), st.sampled_from(["str", "object"]), st.booleans())
def test_positions_are_those_of_get_indexer(case, dtype: str, chunked: bool) -> None:
    keys, among = case
    within = pd.Series(among, dtype=dtype)
    if chunked and len(among) > 1:  # an Arrow column of several chunks, as concat gives
        half = len(among) // 2
        within = pd.concat([within[:half], within[half:]], ignore_index=True)
    wanted = pd.Series(keys, dtype=dtype)
    got = positions_of(wanted, within)
    expected = pd.Index(within).get_indexer(wanted)
    assert got.dtype == np.intp
    np.testing.assert_array_equal(got, expected)


@given(st.lists(st.integers(-5, 50), unique=True, max_size=20), st.lists(st.integers(-5, 60)))
def test_numeric_keys_too(among: list[int], keys: list[int]) -> None:
    got = positions_of(pd.Index(keys, dtype="int64"), pd.Series(among, dtype="int64"))
    for key, at in zip(keys, got, strict=True):
        assert (among[at] == key) if at >= 0 else key not in among
