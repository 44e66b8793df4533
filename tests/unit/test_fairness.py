"""Unit tests of ml.fairness with hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.fairness import (
    NOTES,
    REASON_SEPARATOR,
    audit_groups,
    bias_audit,
    flag_reasons,
    note_kind,
)


def block(group: str, n: int, n_pos: int, flagged_pos: int, flagged_neg: int) -> pd.DataFrame:
    """``n`` rows of ``group``: the flagged ones get score 2 (above every unflagged one)."""
    y = [1] * n_pos + [0] * (n - n_pos)
    top = [1] * flagged_pos + [0] * (n_pos - flagged_pos)
    top += [1] * flagged_neg + [0] * (n - n_pos - flagged_neg)
    return pd.DataFrame({"group": group, "y": y, "score": np.where(top, 2.0, 1.0)})


@pytest.fixture
def hand() -> pd.DataFrame:
    """110 rows; top 10% = ceil(11) = 11 rows: A has 6 of them, B 4, C 1.

    A: 60 rows, 6 positives, flagged 4 positives + 2 negatives.
    B: 40 rows, 4 positives, flagged 1 positive + 3 negatives.
    C: 10 rows, 1 positive, flagged 0 positives + 1 negative (too small for ratios).
    """
    frame = pd.concat(
        [block("A", 60, 6, 4, 2), block("B", 40, 4, 1, 3), block("C", 10, 1, 0, 1)],
        ignore_index=True,
    )
    assert (frame["score"] == 2).sum() == 11
    return frame


def test_bias_audit_by_hand(hand: pd.DataFrame) -> None:
    table = bias_audit(hand["y"], hand["score"], hand[["group"]], top_frac=0.1)
    table = table.set_index("group")
    assert table["attribute"].eq("group").all()
    assert table["n"].tolist() == [60, 40, 10]
    assert table["n_positive"].tolist() == [6, 4, 1]
    assert table["n_flagged"].tolist() == [6, 4, 1]
    a, b, c = table.loc["A"], table.loc["B"], table.loc["C"]
    assert a["prevalence"] == pytest.approx(0.1)
    assert a["predicted_positive_rate"] == pytest.approx(0.1)
    assert a["share_of_flagged"] == pytest.approx(6 / 11)
    assert a["recall"] == pytest.approx(4 / 6)
    assert a["fpr"] == pytest.approx(2 / 54)
    assert a["fnr"] == pytest.approx(2 / 6)
    assert a["precision"] == pytest.approx(4 / 6)
    assert b["recall"] == pytest.approx(1 / 4)
    assert b["fpr"] == pytest.approx(3 / 36)
    assert b["fnr"] == pytest.approx(3 / 4)
    assert b["precision"] == pytest.approx(1 / 4)
    # A is the largest group, the reference.
    assert table["is_reference"].tolist() == [True, False, False]
    assert a["fpr_ratio"] == 1.0 and a["note"] == "reference group" and not a["flagged"]
    assert b["predicted_positive_rate_ratio"] == pytest.approx(1.0)
    assert b["fpr_ratio"] == pytest.approx((3 / 36) / (2 / 54))  # 2.25
    assert b["fnr_ratio"] == pytest.approx((3 / 4) / (2 / 6))  # 2.25
    assert b["recall_ratio"] == pytest.approx((1 / 4) / (4 / 6))
    assert b["precision_ratio"] == pytest.approx((1 / 4) / (4 / 6))
    assert b["prevalence_ratio"] == pytest.approx(1.0)
    assert b["flagged"]
    assert b["flag_reasons"] == "fpr ratio 2.25 > 1.25; fnr ratio 2.25 > 1.25"
    assert b["note"] == ""
    # C: fewer than 20 rows -> rates reported, ratios NaN, not flagged.
    assert c["fpr"] == pytest.approx(1 / 9)
    assert math.isnan(c["fpr_ratio"]) and math.isnan(c["predicted_positive_rate_ratio"])
    assert not c["flagged"] and c["flag_reasons"] == ""
    assert c["note"] == "fewer than 20 rows: no ratios"


def test_bias_audit_column_order(hand: pd.DataFrame) -> None:
    table = bias_audit(hand["y"], hand["score"], hand[["group"]])
    assert list(table.columns) == [
        "attribute", "group", "n", "n_positive", "n_flagged", "prevalence",
        "predicted_positive_rate", "share_of_flagged", "recall", "fpr", "fnr", "precision",
        "is_reference", "prevalence_ratio", "predicted_positive_rate_ratio", "recall_ratio",
        "fpr_ratio", "fnr_ratio", "precision_ratio", "flagged", "flag_reasons", "note",
    ]  # fmt: skip


def test_chosen_reference_inverts_the_ratios(hand: pd.DataFrame) -> None:
    table = bias_audit(hand["y"], hand["score"], hand[["group"]], reference={"group": "B"})
    a = table.set_index("group").loc["A"]
    assert a["fpr_ratio"] == pytest.approx((2 / 54) / (3 / 36))  # 0.44
    assert a["flag_reasons"] == "fpr ratio 0.44 < 0.8; fnr ratio 0.44 < 0.8"
    with pytest.raises(ValueError, match="The reference group 'Z' of 'group' is not among"):
        bias_audit(hand["y"], hand["score"], hand[["group"]], reference={"group": "Z"})


def test_wider_limits_clear_the_flag(hand: pd.DataFrame) -> None:
    table = bias_audit(hand["y"], hand["score"], hand[["group"]], limits=(0.4, 2.5))
    assert not table["flagged"].any()


def test_groups_without_positives_are_not_flagged_and_say_why() -> None:
    frame = pd.concat(
        [block("big", 50, 5, 3, 2), block("clean", 30, 0, 0, 6)], ignore_index=True
    )  # top 10% of 80 = 8 rows: 5 in big, 3 in clean (stable order keeps input order in ties)
    table = bias_audit(frame["y"], frame["score"], frame[["group"]]).set_index("group")
    clean = table.loc["clean"]
    assert clean["n_flagged"] == 3
    assert clean["predicted_positive_rate"] == pytest.approx(0.1)
    assert math.isnan(clean["recall"]) and math.isnan(clean["fnr"])
    assert math.isnan(clean["fpr_ratio"]) and not clean["flagged"]
    assert clean["note"] == "no positives: no ratios"


def test_reference_rate_of_zero_gives_one_or_infinity() -> None:
    # Reference "big": no false positives (fpr 0). "other" has 0 too -> ratio 1; "worse" > 0.
    frame = pd.concat(
        [block("big", 100, 10, 10, 0), block("other", 40, 4, 4, 0), block("worse", 40, 4, 0, 4)],
        ignore_index=True,
    )  # top 10% of 180 = 18 rows, exactly the flagged ones
    table = bias_audit(frame["y"], frame["score"], frame[["group"]]).set_index("group")
    assert table.loc["other", "fpr_ratio"] == 1.0
    assert table.loc["worse", "fpr_ratio"] == math.inf
    assert "fpr ratio inf > 1.25" in table.loc["worse", "flag_reasons"]


def test_small_reference_group_blocks_all_ratios() -> None:
    frame = pd.concat([block("big", 60, 6, 4, 2), block("small", 10, 1, 1, 0)], ignore_index=True)
    table = bias_audit(frame["y"], frame["score"], frame[["group"]], reference={"group": "small"})
    big = table.set_index("group").loc["big"]
    assert math.isnan(big["fpr_ratio"]) and not big["flagged"]
    assert big["note"] == "reference group 'small' too small or no positives"


def test_several_attributes_and_unknown_groups(hand: pd.DataFrame) -> None:
    groups = pd.DataFrame(
        {
            "group": hand["group"],
            "other": pd.Series(np.where(np.arange(len(hand)) % 2 == 0, "even", None)),
        }
    )
    table = bias_audit(hand["y"], hand["score"], groups)
    assert table["attribute"].tolist() == ["group"] * 3 + ["other"] * 2
    other = table[table["attribute"] == "other"].set_index("group")
    assert other["n"].to_dict() == {"even": 55, "unknown": 55}
    assert other.loc["even", "is_reference"]  # ties in size: the first, never "unknown"


def test_bias_audit_parameter_errors(hand: pd.DataFrame) -> None:
    y, s, g = hand["y"], hand["score"], hand[["group"]]
    with pytest.raises(
        ValueError, match=r"The 'top_frac' parameter must be in \(0, 1\]\. Got 1\.5 instead\."
    ):
        bias_audit(y, s, g, top_frac=1.5)
    with pytest.raises(ValueError, match="The 'limits' parameter must satisfy"):
        bias_audit(y, s, g, limits=(1.2, 1.5))
    with pytest.raises(ValueError, match="The 'limits' parameter must be a pair"):
        bias_audit(y, s, g, limits=(0.8,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="The 'reference' parameter must be 'largest'"):
        bias_audit(y, s, g, reference="smallest")
    with pytest.raises(ValueError, match="groups must be a DataFrame with 110 rows"):
        bias_audit(y, s, g.iloc[:5])


# --- audit_groups ------------------------------------------------------------------------------


def test_gemeente_size_bins_and_unknown() -> None:
    rows = pd.DataFrame({"gm_inhabitants": [0, 19_999, 20_000, 49_999, 50_000, 100_000, np.nan]})
    groups = audit_groups(rows)
    assert list(groups.columns) == ["gemeente_size"]
    assert groups["gemeente_size"].astype(str).tolist() == [
        "<20k", "<20k", "20k-50k", "20k-50k", "50k-100k", ">=100k", "unknown",
    ]  # fmt: skip


def test_terciles_of_urbanity_and_corporation_share() -> None:
    rows = pd.DataFrame(
        {
            "single_person_hh_pct": [1, 2, 3, 4, 5, 6, 7, 8, 9, np.nan],
            "corporation_rent_pct": [0, 0, 0, 0, 0, 0, 10, 20, 30, 40],
        }
    )
    groups = audit_groups(rows)
    assert list(groups.columns) == ["urbanity", "corporation_share"]
    assert groups["urbanity"].astype(str).tolist() == ["low"] * 3 + ["mid"] * 3 + ["high"] * 3 + [
        "unknown"
    ]
    # Cut points 0 and 10 (the 1/3 and 2/3 quantiles): ties at a cut go to the lower group.
    expected = ["low"] * 6 + ["mid"] + ["high"] * 3
    assert groups["corporation_share"].astype(str).tolist() == expected
    assert groups.attrs["tercile_edges"]["corporation_share"] == (0.0, 10.0)
    assert groups.attrs["tercile_edges"]["urbanity"] == pytest.approx((11 / 3, 19 / 3))


def test_terciles_within_years() -> None:
    rows = pd.DataFrame(
        {"single_person_hh_pct": [1, 2, 3, 101, 102, 103], "as_of_year": [2016] * 3 + [2018] * 3}
    )
    pooled = audit_groups(rows)["urbanity"].astype(str).tolist()
    by_year = audit_groups(rows, tercile_by="as_of_year")["urbanity"].astype(str).tolist()
    assert pooled == ["low", "low", "mid", "mid", "high", "high"]
    assert by_year == ["low", "mid", "high"] * 2
    edges = audit_groups(rows, tercile_by="as_of_year").attrs["tercile_edges"]["urbanity"]
    assert set(edges) == {2016, 2018}


def test_krachtwijk_now_or_earlier_or_by_programme_money() -> None:
    rows = pd.DataFrame(
        {
            "krachtwijk": [1.0, 0.0, 0.0, np.nan, 0.0],
            "krachtwijk_chg3": [0.0, -1.0, 0.0, np.nan, 0.0],  # row 1 was a krachtwijk at T-3
            "programme_budget_per_dwelling": [0.0, 0.0, 250.0, np.nan, 0.0],
        }
    )
    groups = audit_groups(rows)
    assert groups["krachtwijk"].astype(str).tolist() == ["yes", "yes", "yes", "no", "no"]


def test_absent_sources_are_skipped_and_the_index_is_kept() -> None:
    rows = pd.DataFrame({"programme_budget_per_dwelling": [0.0, 5.0]}, index=[10, 11])
    groups = audit_groups(rows)
    assert list(groups.columns) == ["krachtwijk"]
    assert groups.index.tolist() == [10, 11]
    assert audit_groups(pd.DataFrame({"lbm": [1.0]})).columns.tolist() == []


def test_audit_groups_feed_bias_audit_in_category_order() -> None:
    rng = np.random.default_rng(0)
    n = 400
    rows = pd.DataFrame(
        {
            "gm_inhabitants": rng.choice([10_000, 30_000, 70_000, 300_000], n),
            "single_person_hh_pct": rng.uniform(10, 60, n),
        }
    )
    y = (rng.random(n) < 0.2).astype(int)
    table = bias_audit(y, rng.random(n) + y, audit_groups(rows))
    sizes = table[table["attribute"] == "gemeente_size"]["group"].tolist()
    assert sizes == ["<20k", "20k-50k", "50k-100k", ">=100k"]
    assert table[table["attribute"] == "urbanity"]["group"].tolist() == ["low", "mid", "high"]


def test_krachtwijk_from_the_units_history() -> None:
    history = pd.DataFrame(
        {
            "unit_code": ["WK1", "WK1", "WK2", "WK3"],
            "as_of_year": [2008, 2018, 2018, 2018],
            "krachtwijk": [1.0, 0.0, 0.0, np.nan],
        }
    )
    rows = history[history["as_of_year"] == 2018]
    assert audit_groups(rows)["krachtwijk"].astype(str).tolist() == ["no", "no", "no"]
    with_history = audit_groups(rows, history=history)["krachtwijk"].astype(str).tolist()
    assert with_history == ["yes", "no", "no"]
    with pytest.raises(ValueError, match="need a unit_code column"):
        audit_groups(rows.drop(columns="unit_code"), history=history)


def test_reasons_and_notes_read_back_as_written(hand: pd.DataFrame) -> None:
    """What ``bias_audit`` writes, ``flag_reasons`` and ``note_kind`` read back (a report
    says them in Dutch from these)."""
    table = bias_audit(hand["y"], hand["score"], hand[["group"]]).set_index("group")
    reasons = flag_reasons(table.loc["B", "flag_reasons"])
    assert [(r.rate, r.ratio, r.limit, r.below) for r in reasons] == [
        ("fpr", 2.25, 1.25, False), ("fnr", 2.25, 1.25, False)]
    assert REASON_SEPARATOR.join(map(str, reasons)) == table.loc["B", "flag_reasons"]
    assert note_kind(table.loc["C", "note"]) == ("too_small", {"n": "20"})
    assert note_kind(table.loc["A", "note"]) == ("reference", {})
    assert note_kind(NOTES["reference_unusable"].format(group="x y")) == (
        "reference_unusable", {"group": "x y"})
    assert note_kind("") is None and flag_reasons("") == []
    with pytest.raises(ValueError, match=r"A flag reason must read .* Got 'fpr is high'"):
        flag_reasons("fpr is high")
