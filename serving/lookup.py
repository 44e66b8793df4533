"""Where units are in another table, by their codes: the one lookup the job's guards, the
previous run's ranks, the explanations and the Dask engine share.

Unit codes are strings, which pandas 3 keeps in Arrow; ``pd.Index.get_indexer`` hashes them
as Python objects (1M codes: 0.98 s), Arrow's own hash kernel (``pyarrow.compute.index_in``)
does not (0.36 s). Other keys (numbers, objects) go through ``get_indexer``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def positions_of(keys: pd.Series | pd.Index, among: pd.Series | pd.Index) -> np.ndarray:
    """For each of ``keys``, its position in ``among`` (whose values must be unique), -1
    where it is not there: ``pd.Index(among).get_indexer(keys)``, as an ``intp`` array.

    >>> positions_of(pd.Series(["b", "x", "a"]), pd.Series(["a", "b", "c"])).tolist()
    [1, -1, 0]
    """
    wanted, within = keys.array, among.array
    if _arrow_strings(wanted) and _arrow_strings(within):
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.index_in(pa.array(wanted), value_set=pa.array(within))
        return pc.fill_null(found, -1).to_numpy().astype(np.intp, copy=False)
    return np.asarray(pd.Index(among).get_indexer(keys), dtype=np.intp)


def _arrow_strings(values: object) -> bool:
    dtype = getattr(values, "dtype", None)
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
