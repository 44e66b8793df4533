"""What the CLI shows people: tables and lines built from results (no I/O)."""

from __future__ import annotations

from wijkradar.app.pipeline import TrainSummary

Rows = list[tuple[str, ...]]


def evaluation_table(summary: TrainSummary) -> tuple[str, tuple[str, ...], Rows]:
    """The temporal validation of a training (title, columns, rows): LightGBM and the
    baselines per test year, with the 95 % bootstrap interval of the PR-AUC."""
    ev = summary.result.evaluation
    per_fold = summary.evaluation.per_fold
    ci = per_fold[per_fold["metric"] == "pr_auc"].set_index(["test_year", "model"])
    columns = ("test year", "model", "base rate", "ROC-AUC", "PR-AUC [95 % CI]", "prec@10%",
               "rec@10%")
    rows = []
    for r in ev.itertuples():
        low, high = ci.loc[(r.test_year, r.model), ["low", "high"]]
        rows.append((
            str(r.test_year), r.model, f"{r.base_rate:.3f}", f"{r.roc_auc:.3f}",
            f"{r.pr_auc:.3f} [{low:.3f}, {high:.3f}]", f"{r.precision_at_10:.3f}",
            f"{r.recall_at_10:.3f}",
        ))
    return "Temporal validation (out of time)", columns, rows


def truth_line(summary: TrainSummary) -> str | None:
    """Skill against a generated workspace's truth on the last fold (None without truth)."""
    t = summary.truth
    if not t:
        return None
    return (
        f"last fold against the truth: normalized AUC {t['normalized_auc']:.3f} "
        f"(LightGBM {t['roc_auc']:.3f}, oracle p_decline {t['oracle_roc_auc']:.3f})"
    )
