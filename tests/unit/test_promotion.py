"""Champion discipline on a real MLflow SQLite registry: a worse challenger stays challenger,
a better one becomes champion, rollback restores the previous one, and each step is recorded."""

from __future__ import annotations

import pandas as pd
import pytest

from ml import promotion, registry
from wijkradar.config import PromotionConfig
from wijkradar.errors import NoModelError


def _train(tracking, booster, pr_auc: float, year: int = 2022) -> registry.ModelRef:
    evaluation = pd.DataFrame({
        "test_year": [year - 2, year, year],
        "model": ["lightgbm", "lightgbm", "logistic"],
        "pr_auc": [0.5, pr_auc, 0.1], "roc_auc": [0.7, 0.8, 0.6],
    })
    record = registry.RunRecord(tables={"evaluation": evaluation})
    return registry.log_training(tracking, record, booster=booster, features=["a", "b"])


def test_worse_stays_challenger_better_is_promoted_rollback_restores(tracking, booster):
    rule = PromotionConfig(metric="pr_auc", margin=0.01)
    first = _train(tracking, booster, pr_auc=0.60)
    decision = promotion.decide(tracking, first, rule)
    assert decision.promoted and "first model" in decision.reason
    assert registry.resolve(tracking, None).version == first.version

    worse = _train(tracking, booster, pr_auc=0.605)  # better, but not by the margin
    decision = promotion.decide(tracking, worse, rule)
    assert not decision.promoted
    assert decision.challenger_value == pytest.approx(0.605)
    assert decision.champion_value == pytest.approx(0.60)
    assert registry.resolve(tracking, None).version == first.version
    assert registry.resolve(tracking, "models:/wijkradar@challenger").version == worse.version

    better = _train(tracking, booster, pr_auc=0.70)
    decision = promotion.decide(tracking, better, rule)
    assert decision.promoted and "beats" in decision.reason
    assert registry.resolve(tracking, None).version == better.version

    restored = promotion.rollback(tracking, "bad week", by="analyst")
    assert restored == first.version
    assert registry.resolve(tracking, None).version == first.version

    entries = promotion.history(tracking)
    assert [e["action"] for e in entries] == ["promote", "promote", "rollback"]
    assert entries[-1] == {**entries[-1], "by": "analyst", "why": "bad week",
                           "version": first.version, "previous": better.version}
    table = promotion.versions(tracking).set_index("version")
    assert table.loc[int(worse.version), "decision"] == "kept as challenger"
    assert "champion" in table.loc[int(first.version), "aliases"]
    with pytest.raises(NoModelError, match="nothing to roll back"):
        promotion.rollback(tracking, "again")


def test_no_common_fold_is_not_promoted_automatically(tracking, booster):
    rule = PromotionConfig()
    promotion.decide(tracking, _train(tracking, booster, 0.5, year=2020), rule)
    later = _train(tracking, booster, 0.9, year=2024)
    decision = promotion.decide(tracking, later, rule)
    assert not decision.promoted and "no common validation fold" in decision.reason
    promotion.promote(tracking, later.version, "reviewed", by="lead")
    assert registry.resolve(tracking, None).version == later.version
