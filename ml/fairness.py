"""A bias audit of the ranked list, in the style of Aequitas.

The list acts at one operating point: the top ``top_frac`` of all rows by score are "predicted
positive" (flagged for attention), ties in input order as in ``ml.metrics``. For each attribute
(gemeente size, urbanity, ...) and each of its groups the audit reports the group's size and
prevalence, and its rates at that operating point:

* ``predicted_positive_rate``: share of the group's rows that are flagged (Aequitas' *pprev*);
* ``share_of_flagged``: share of all flagged rows that fall in the group (Aequitas' *ppr*);
* ``recall`` (true positive rate), ``fpr``, ``fnr`` and ``precision``.

Each rate is divided by the same rate of the attribute's reference group (by default its
largest group other than "unknown"). A group is ``flagged`` when the ratio of its predicted
positive rate, false positive rate or false negative rate lies outside ``limits`` (the
four-fifths rule: 0.8 to 1.25); ``flag_reasons`` says which. Groups with fewer than
``min_group_size`` rows or without positives are too noisy for a ratio: they get NaN ratios,
are never flagged, and ``note`` says why. A ratio to a reference rate of 0 is 1 when the
group's rate is 0 too, else infinite.

Disparities in the predicted positive rate partly follow real differences in prevalence (read
it next to ``prevalence_ratio``); error-rate disparities (fpr, fnr) are the ones that say a
group is served worse by the same list. With rare declines, recall and fnr of a group rest on
few positives: a flag on a group of a few hundred rows may be chance and deserves a look at
``n_positive`` before it is read as bias.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.metrics import check_binary, top_count

__all__ = ["GROUP_ATTRIBUTES", "NOTES", "REASON_SEPARATOR", "FlagReason", "audit_groups",
           "bias_audit", "flag_reasons", "note_kind"]

ArrayLike = Any

GROUP_ATTRIBUTES = ("gemeente_size", "urbanity", "corporation_share", "krachtwijk")
UNKNOWN = "unknown"
SIZE_EDGES = (0.0, 20_000.0, 50_000.0, 100_000.0, math.inf)
SIZE_LABELS = ("<20k", "20k-50k", "50k-100k", ">=100k")
TERCILE_LABELS = ("low", "mid", "high")
RATES = ("prevalence", "predicted_positive_rate", "recall", "fpr", "fnr", "precision")
FLAG_RATES = ("predicted_positive_rate", "fpr", "fnr")
_TERCILE_SOURCES = {"urbanity": "single_person_hh_pct", "corporation_share": "corporation_rent_pct"}
_PROGRAMME_SOURCES = ("krachtwijk", "programme_budget_per_dwelling")
# ``note``'s texts by kind ({n}: the minimum group size; {group}: the reference group), which
# ``note_kind`` reads back so that a report can say them in another language.
NOTES: dict[str, str] = {
    "too_small": "fewer than {n} rows: no ratios",
    "no_positives": "no positives: no ratios",
    "reference_unusable": "reference group {group!r} too small or no positives",
    "reference": "reference group",
}
REASON_SEPARATOR = "; "
_REASON = re.compile(r"(?P<rate>\w+) ratio (?P<ratio>\S+) (?P<side>[<>]) (?P<limit>\S+)")

FOUR_FIFTHS = (0.8, 1.25)  # a rate ratio outside these limits flags a group


@dataclass(frozen=True)
class FlagReason:
    """Why a group is flagged: its ``<rate>_ratio`` lies beyond ``limit``.

    >>> str(FlagReason("fpr", 0.625, 0.8))
    'fpr ratio 0.62 < 0.8'
    >>> flag_reasons("fpr ratio 0.62 < 0.8; fnr ratio 1.40 > 1.25")[1]
    FlagReason(rate='fnr', ratio=1.4, limit=1.25)
    """

    rate: str
    ratio: float
    limit: float

    @property
    def below(self) -> bool:
        return self.ratio < self.limit

    def __str__(self) -> str:
        return f"{self.rate} ratio {self.ratio:.2f} {'<' if self.below else '>'} {self.limit:g}"


def flag_reasons(text: str) -> list[FlagReason]:
    """The reasons of one ``flag_reasons`` cell of :func:`bias_audit` ("" -> none)."""
    out = []
    for part in filter(None, str(text).split(REASON_SEPARATOR)):
        match = _REASON.fullmatch(part)
        if match is None:
            raise ValueError(
                f"A flag reason must read '<rate> ratio <value> <|> <limit>'. Got {part!r}."
            )
        out.append(FlagReason(match["rate"], float(match["ratio"]), float(match["limit"])))
    return out


def _note_pattern(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = pattern.replace(re.escape("{n}"), r"(?P<n>\d+)")
    return re.compile(pattern.replace(re.escape("{group!r}"), r"'(?P<group>.*)'"))


_NOTE_PATTERNS = {kind: _note_pattern(template) for kind, template in NOTES.items()}


def note_kind(text: str) -> tuple[str, dict[str, str]] | None:
    """The kind of a ``note`` of :func:`bias_audit` and what was filled in, or None.

    >>> note_kind("fewer than 20 rows: no ratios")
    ('too_small', {'n': '20'})
    """
    for kind, pattern in _NOTE_PATTERNS.items():
        match = pattern.fullmatch(str(text))
        if match is not None:
            return kind, match.groupdict()
    return None


def audit_groups(
    rows: pd.DataFrame, *, tercile_by: str | None = None, history: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Group columns for :func:`bias_audit` from panel columns, same index as ``rows``.

    * ``gemeente_size`` from ``gm_inhabitants``: <20k, 20k-50k, 50k-100k, >=100k;
    * ``urbanity``: tercile (low, mid, high) of ``single_person_hh_pct``. A proxy: the share of
      single-person households rises steeply with address density in the Netherlands, and the
      panel has no density measure of its own;
    * ``corporation_share``: tercile of ``corporation_rent_pct``;
    * ``krachtwijk``: "yes" when ``krachtwijk`` or ``programme_budget_per_dwelling`` is > 0 at
      any time the row shows: at T, or at T - k through a ``<column>_chg<k>`` change column
      (value(T - k) = value(T) - change); else "no" (missing counts as no programme). The
      programmes ran around 2007-2012, so rows of later years rarely show them: pass the panel
      as ``history`` to mark a unit "yes" when any of its panel rows does.

    Terciles cut at the 1/3 and 2/3 quantiles of the rows given (within each value of the
    ``tercile_by`` column if set, e.g. ``as_of_year``); values equal to a cut go to the lower
    group. Missing values form the group "unknown". Columns whose sources are absent are left
    out. The cut points are in ``result.attrs["tercile_edges"]``.
    """
    out = pd.DataFrame(index=rows.index)
    edges: dict[str, Any] = {}
    if "gm_inhabitants" in rows:
        size = pd.to_numeric(rows["gm_inhabitants"], errors="coerce").astype("float64")
        cut = pd.cut(size, list(SIZE_EDGES), right=False, labels=list(SIZE_LABELS))
        out["gemeente_size"] = _with_unknown(cut.astype(object), SIZE_LABELS)
    for name, source in _TERCILE_SOURCES.items():
        if source in rows:
            values = pd.to_numeric(rows[source], errors="coerce").astype("float64")
            out[name], edges[name] = _terciles(values, rows, tercile_by)
    active = _programme_active(rows)
    if active is not None:
        if history is not None:
            if "unit_code" not in rows or "unit_code" not in history:
                raise ValueError("With 'history', rows and history need a unit_code column.")
            past = _programme_active(history)
            ever = set() if past is None else set(history["unit_code"].to_numpy()[past])
            active |= rows["unit_code"].isin(ever).to_numpy()
        labels = pd.Series(np.where(active, "yes", "no"), index=rows.index, dtype=object)
        out["krachtwijk"] = pd.Categorical(labels, categories=["yes", "no"], ordered=True)
    out.attrs["tercile_edges"] = edges
    return out


def bias_audit(
    y_true: ArrayLike,
    score: ArrayLike,
    groups: pd.DataFrame,
    *,
    top_frac: float = 0.1,
    reference: str | Mapping[str, str] = "largest",
    limits: tuple[float, float] = FOUR_FIFTHS,
    min_group_size: int = 20,
) -> pd.DataFrame:
    """One row per (attribute, group) of ``groups`` (read by position); see the module doc.

    ``reference`` is "largest" or a mapping attribute -> reference group (attributes not in it
    use their largest group). Columns: ``attribute``, ``group``, ``n``, ``n_positive``,
    ``n_flagged``, the rates, ``share_of_flagged``, ``is_reference``, ``<rate>_ratio`` for each
    rate, ``flagged``, ``flag_reasons`` and ``note``.
    """
    y, s = check_binary(y_true, score)
    if not isinstance(groups, pd.DataFrame) or len(groups) != len(y):
        raise ValueError(
            f"groups must be a DataFrame with {len(y)} rows, one per score. "
            f"Got {type(groups).__name__} of length {len(groups)} instead."
        )
    top_frac = _check_top_frac(top_frac)
    lo, hi = _check_limits(limits)
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer):
        raise TypeError(f"The 'min_group_size' parameter must be an int. Got {min_group_size!r}.")
    if not (reference == "largest" or isinstance(reference, Mapping)):
        raise ValueError(
            "The 'reference' parameter must be 'largest' or a mapping attribute -> group. "
            f"Got {reference!r} instead."
        )
    k = top_count(len(y), top_frac)
    flagged = np.zeros(len(y), dtype=bool)
    flagged[np.argsort(-s, kind="stable")[:k]] = True
    frames = []
    for attribute in groups.columns:
        if _ordered_groups(groups[attribute])[1] == [UNKNOWN]:
            continue  # not measurable on this panel (an urbanity proxy without CBS data, say)
        ref = reference.get(attribute) if isinstance(reference, Mapping) else None
        frames.append(
            _audit_attribute(str(attribute), groups[attribute], y, flagged, ref, min_group_size)
        )
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    ratios = table[[f"{r}_ratio" for r in FLAG_RATES]]
    outside = ((ratios < lo) | (ratios > hi)).to_numpy()
    table["flagged"] = outside.any(axis=1)
    table["flag_reasons"] = [
        REASON_SEPARATOR.join(
            str(FlagReason(rate, float(value), lo if value < lo else hi))
            for rate, value, out in zip(FLAG_RATES, ratio_row, row, strict=True)
            if out
        )
        for ratio_row, row in zip(ratios.to_numpy(), outside, strict=True)
    ]
    last = table.pop("note")
    table["note"] = last
    return table


# ---------------------------------------------------------------------------------------------


def _check_top_frac(top_frac: float) -> float:
    if isinstance(top_frac, bool) or not isinstance(top_frac, int | float | np.number):
        raise TypeError(f"The 'top_frac' parameter must be a float. Got {top_frac!r} instead.")
    if not 0 < top_frac <= 1:
        raise ValueError(f"The 'top_frac' parameter must be in (0, 1]. Got {top_frac!r} instead.")
    return float(top_frac)


def _check_limits(limits: tuple[float, float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in limits)
    except (TypeError, ValueError):
        raise ValueError(
            f"The 'limits' parameter must be a pair (low, high). Got {limits!r} instead."
        ) from None
    if not 0 < lo <= 1 <= hi:
        raise ValueError(
            f"The 'limits' parameter must satisfy 0 < low <= 1 <= high. Got {limits!r} instead."
        )
    return lo, hi


def _programme_active(frame: pd.DataFrame) -> np.ndarray | None:
    """Per row: a krachtwijk programme at T or at T - k; None without programme columns."""
    present = [c for c in _PROGRAMME_SOURCES if c in frame]
    if not present:
        return None
    active = np.zeros(len(frame), dtype=bool)
    for source in present:
        now = pd.to_numeric(frame[source], errors="coerce").to_numpy(dtype="float64")
        active |= np.nan_to_num(now) > 0
        for change in [c for c in frame.columns if str(c).startswith(f"{source}_chg")]:
            delta = pd.to_numeric(frame[change], errors="coerce").to_numpy(dtype="float64")
            active |= np.nan_to_num(now - delta) > 0
    return active


def _with_unknown(values: pd.Series, labels: tuple[str, ...]) -> pd.Categorical:
    filled = values.where(values.notna(), UNKNOWN)
    return pd.Categorical(filled, categories=[*labels, UNKNOWN], ordered=True)


def _terciles(values: pd.Series, rows: pd.DataFrame, by: str | None) -> tuple[pd.Categorical, Any]:
    """Tercile labels, and the cut points (a pair, or a dict key -> pair with ``by``)."""
    x = values.to_numpy(dtype="float64")
    keys = rows[by].to_numpy() if by is not None and by in rows else np.zeros(len(x))
    labels = np.full(len(x), UNKNOWN, dtype=object)
    edges: dict[Any, tuple[float, float]] = {}
    for key in pd.unique(keys):
        part = (keys == key) & ~np.isnan(x)
        if not part.any():
            continue
        q1, q2 = np.quantile(x[part], [1 / 3, 2 / 3])
        low, mid, high = TERCILE_LABELS
        labels[part] = np.where(x[part] <= q1, low, np.where(x[part] <= q2, mid, high))
        edges[key.item() if isinstance(key, np.generic) else key] = (float(q1), float(q2))
    cut: Any = edges if by is not None and by in rows else next(iter(edges.values()), None)
    return pd.Categorical(labels, categories=[*TERCILE_LABELS, UNKNOWN], ordered=True), cut


def _ordered_groups(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(column.dropna().astype(str))
        order = [str(c) for c in column.cat.categories if str(c) in present]
    else:
        order = sorted(set(column.dropna().astype(str)))
    values = column.astype(object).where(column.notna(), UNKNOWN).astype(str).to_numpy()
    if UNKNOWN in values and UNKNOWN not in order:
        order.append(UNKNOWN)
    return values, order


def _rate(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _ratio(value: float, ref: float) -> float:
    if math.isnan(value) or math.isnan(ref):
        return math.nan
    if ref == 0:
        return 1.0 if value == 0 else math.inf
    return value / ref


def _audit_attribute(
    attribute: str,
    column: pd.Series,
    y: np.ndarray,
    flagged: np.ndarray,
    reference: str | None,
    min_size: int,
) -> pd.DataFrame:
    values, order = _ordered_groups(column)
    total_flagged = int(flagged.sum())
    rows = []
    for group in order:
        mask = values == group
        yg, fg = y[mask], flagged[mask]
        n, pos, n_flag = int(mask.sum()), int(yg.sum()), int(fg.sum())
        tp = int((yg * fg).sum())
        fp = n_flag - tp
        rows.append(
            {
                "attribute": attribute,
                "group": group,
                "n": n,
                "n_positive": pos,
                "n_flagged": n_flag,
                "prevalence": pos / n,
                "predicted_positive_rate": n_flag / n,
                "share_of_flagged": _rate(n_flag, total_flagged),
                "recall": _rate(tp, pos),
                "fpr": _rate(fp, n - pos),
                "fnr": _rate(pos - tp, pos),
                "precision": _rate(tp, n_flag),
            }
        )
    return _compare_to_reference(pd.DataFrame(rows), attribute, order, reference, min_size)


def _compare_to_reference(
    table: pd.DataFrame, attribute: str, order: list[str], reference: str | None, min_size: int
) -> pd.DataFrame:
    """``table`` with ``is_reference``, the ``<rate>_ratio`` columns and ``note``."""
    if reference is None:
        candidates = table[table["group"] != UNKNOWN] if len(order) > 1 else table
        reference = str(candidates.loc[candidates["n"].idxmax(), "group"])
    elif reference not in order:
        raise ValueError(
            f"The reference group {reference!r} of {attribute!r} is not among its groups {order}."
        )
    table["is_reference"] = table["group"] == reference
    too_small = table["n"] < min_size
    no_positives = table["n_positive"] == 0
    notes = np.where(
        too_small,
        NOTES["too_small"].format(n=min_size),
        np.where(no_positives, NOTES["no_positives"], ""),
    ).astype(object)
    ref_row = table[table["is_reference"]].iloc[0]
    ref_ok = ref_row["n"] >= min_size and ref_row["n_positive"] > 0
    if not ref_ok:
        notes = np.where(
            notes == "", NOTES["reference_unusable"].format(group=reference), notes
        )
    notes = np.where(table["is_reference"] & (notes == ""), NOTES["reference"], notes)
    usable = ~too_small & ~no_positives & ref_ok
    for rate in RATES:
        table[f"{rate}_ratio"] = [
            _ratio(v, float(ref_row[rate])) if ok else math.nan
            for v, ok in zip(table[rate], usable, strict=True)
        ]
    table["note"] = notes
    return table
