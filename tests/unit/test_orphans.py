"""A training run that died is marked FAILED by the next start, and its version is listed as
failed and never becomes the champion."""

from __future__ import annotations

import pytest

from ml import promotion, registry, store
from wijkradar.errors import NoModelError

DEAD_PID = str(2**22 + 4321)  # above Linux's pid_max: no such process


def _killed_version(tracking: registry.Tracking, booster) -> registry.ModelRef:
    """A version logged as usual, whose run is then made to look like a killed process's."""
    ref = registry.log_training(tracking, registry.RunRecord(), booster=booster,
                                features=["a", "b"])
    client = registry.client(tracking)
    client.set_tag(ref.run_id, store.PID_TAG, DEAD_PID)
    client.update_run(ref.run_id, status="RUNNING")
    return ref


def test_a_dead_run_is_failed_and_its_version_listed_failed_and_refused(tracking, booster):
    good = registry.log_training(tracking, registry.RunRecord(), booster=booster,
                                 features=["a", "b"])
    dead = _killed_version(tracking, booster)
    assert registry.fail_orphans(tracking) == [dead.run_id]
    run = registry.client(tracking).get_run(dead.run_id)
    assert run.info.status == "FAILED" and "died" in run.data.tags[store.FAILURE_TAG]
    listed = promotion.versions(tracking).set_index("version")
    assert listed.loc[int(dead.version), "decision"].startswith("failed")
    assert not listed.loc[int(good.version), "decision"].startswith("failed")
    with pytest.raises(NoModelError, match="did not finish"):
        promotion.promote(tracking, dead.version, "by hand")
    assert registry.fail_orphans(tracking) == []  # once


def test_a_live_run_is_left_alone(tracking, booster):
    ref = registry.log_training(tracking, registry.RunRecord(), booster=booster,
                                features=["a", "b"])
    registry.client(tracking).update_run(ref.run_id, status="RUNNING")  # our own pid: alive
    assert registry.fail_orphans(tracking) == []


def test_unknown_versions_and_an_empty_registry_are_no_model_errors(tracking, booster):
    with pytest.raises(NoModelError, match="No model 'wijkradar' is registered"):
        promotion.versions(tracking)
    registry.log_training(tracking, registry.RunRecord(), booster=booster, features=["a", "b"])
    with pytest.raises(NoModelError, match=r"no version '99'\. Versions: 1"):
        promotion.promote(tracking, "99", "by hand")
