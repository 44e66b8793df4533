"""Champion discipline: a newly trained model is the *challenger*; it becomes the *champion*
only when it beats the champion on the same latest validation fold by the configured margin.
Every promotion and rollback is recorded (who, when, why) in the registry's tags.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ml import registry
from wijkradar.config import PromotionConfig
from wijkradar.errors import NoModelError

CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"
HISTORY_KEEP = 50


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    test_year: int | None = None
    challenger_value: float | None = None
    champion_value: float | None = None


def actor() -> str:
    """Who acts: $WIJKRADAR_USER (set it in a scheduler's unit file), else the login name."""
    try:
        return os.environ.get("WIJKRADAR_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def history(tracking: registry.Tracking) -> list[dict[str, Any]]:
    model = registry.client(tracking).get_registered_model(tracking.model_name)
    return json.loads(model.tags.get(HISTORY_TAG, "[]"))


def _record(tracking: registry.Tracking, entry: dict[str, Any]) -> None:
    entries = [*history(tracking), entry][-HISTORY_KEEP:]
    registry.client(tracking).set_registered_model_tag(
        tracking.model_name, HISTORY_TAG, json.dumps(entries)
    )


def _champion(tracking: registry.Tracking) -> registry.ModelRef | None:
    try:
        return registry.resolve(tracking, None)
    except NoModelError:
        return None


def _known_versions(tracking: registry.Tracking) -> list[str]:
    found = registry.client(tracking).search_model_versions(f"name='{tracking.model_name}'")
    return sorted((str(mv.version) for mv in found), key=int)


def _version(tracking: registry.Tracking, version: str) -> Any:
    """The registered version, or a ``NoModelError`` listing the versions there are."""
    try:
        return registry.client(tracking).get_model_version(tracking.model_name, version)
    except Exception as exc:
        known = _known_versions(tracking)
        listed = ", ".join(known) if known else "none (run `wijkradar train` first)"
        raise NoModelError(
            f"Model {tracking.model_name} has no version {version!r}. Versions: {listed}."
        ) from exc


def promote(tracking: registry.Tracking, version: str, reason: str, by: str | None = None) -> None:
    """Make ``version`` the champion, recording who, when and why. A version whose training
    run did not finish (killed, failed) is refused."""
    client = registry.client(tracking)
    mv = _version(tracking, version)
    if not registry.run_finished(tracking, str(mv.run_id)):
        raise NoModelError(
            f"Version {version} of {tracking.model_name} comes from a training run that did "
            f"not finish (run {mv.run_id}); it cannot become the champion. Train again."
        )
    previous = _champion(tracking)
    client.set_registered_model_alias(tracking.model_name, registry.CHAMPION, version)
    try:
        if client.get_model_version_by_alias(tracking.model_name, CHALLENGER).version == version:
            client.delete_registered_model_alias(tracking.model_name, CHALLENGER)
    except Exception:  # no challenger alias is fine
        pass
    who, when = by or actor(), _now()
    for key, value in (("promoted_by", who), ("promoted_at", when), ("promotion_reason", reason)):
        client.set_model_version_tag(tracking.model_name, version, key, value)
    _record(tracking, {"action": "promote", "version": version,
                       "previous": previous.version if previous else None,
                       "by": who, "at": when, "why": reason})


def rollback(tracking: registry.Tracking, reason: str, by: str | None = None) -> str:
    """Restore the champion that the current one replaced; returns its version."""
    current = _champion(tracking)
    if current is None:
        raise NoModelError("There is no champion to roll back.")
    promotions = [e for e in history(tracking)
                  if e["action"] == "promote" and e["version"] == current.version]
    target = promotions[-1]["previous"] if promotions else None
    if target is None:
        raise NoModelError(
            f"Champion version {current.version} replaced no earlier champion; nothing to roll "
            "back to."
        )
    client = registry.client(tracking)
    client.set_registered_model_alias(tracking.model_name, registry.CHAMPION, target)
    who, when = by or actor(), _now()
    client.set_model_version_tag(tracking.model_name, current.version, "rolled_back_at", when)
    _record(tracking, {"action": "rollback", "version": target, "previous": current.version,
                       "by": who, "at": when, "why": reason})
    return str(target)


def _lightgbm_metric(evaluation: pd.DataFrame, year: int, metric: str) -> float | None:
    rows = evaluation[(evaluation["test_year"] == year) & (evaluation["model"] == "lightgbm")]
    return float(rows[metric].iloc[0]) if len(rows) else None


def decide(
    tracking: registry.Tracking, challenger: registry.ModelRef, rule: PromotionConfig
) -> Decision:
    """Promote ``challenger`` when it beats the champion on the challenger's latest fold."""
    client = registry.client(tracking)
    client.set_registered_model_alias(tracking.model_name, CHALLENGER, challenger.version)
    champion = _champion(tracking)
    if champion is None:
        decision = Decision(True, "first model: no champion yet")
    else:
        chal_eval = registry.run_table(tracking, challenger.run_id, "evaluation")
        champ_eval = registry.run_table(tracking, champion.run_id, "evaluation")
        year = int(chal_eval["test_year"].max())
        new = _lightgbm_metric(chal_eval, year, rule.metric)
        old = _lightgbm_metric(champ_eval, year, rule.metric)
        if new is None or old is None:
            decision = Decision(
                False, f"no common validation fold: the champion (v{champion.version}) was "
                f"not evaluated on {year}; promote by hand after review", year, new, old,
            )
        elif new > old + rule.margin:
            decision = Decision(
                True, f"{rule.metric} on the {year} fold {new:.4f} beats champion "
                f"v{champion.version} {old:.4f} by more than {rule.margin:g}", year, new, old,
            )
        else:
            decision = Decision(
                False, f"{rule.metric} on the {year} fold {new:.4f} does not beat champion "
                f"v{champion.version} {old:.4f} by more than {rule.margin:g}", year, new, old,
            )
    client.set_model_version_tag(
        tracking.model_name, challenger.version, "promotion_decision",
        "promoted" if decision.promoted else "kept as challenger",
    )
    client.set_model_version_tag(
        tracking.model_name, challenger.version, "promotion_reason", decision.reason
    )
    if decision.promoted:
        promote(tracking, challenger.version, decision.reason)
    return decision


def versions(tracking: registry.Tracking) -> pd.DataFrame:
    """All registered versions with their aliases, decision and promotion record; a version
    whose training run did not finish reads "failed"."""
    client = registry.client(tracking)
    found = client.search_model_versions(f"name='{tracking.model_name}'")
    if not found:
        raise NoModelError(
            f"No model {tracking.model_name!r} is registered in {tracking.uri}. Run "
            "`wijkradar train` first."
        )
    by_version: dict[str, list[str]] = {}
    for alias, version in (client.get_registered_model(tracking.model_name).aliases or {}).items():
        by_version.setdefault(str(version), []).append(alias)
    rows = []
    for mv in sorted(found, key=lambda m: int(m.version)):
        tags = mv.tags or {}
        rows.append({
            "version": int(mv.version),
            "aliases": ",".join(sorted(by_version.get(str(mv.version), []))),
            "created": pd.Timestamp(mv.creation_timestamp, unit="ms").strftime("%Y-%m-%d %H:%M"),
            "run_id": mv.run_id,
            "decision": tags.get("promotion_decision", "")
            if registry.run_finished(tracking, str(mv.run_id))
            else "failed (training run did not finish)",
            "reason": tags.get("promotion_reason", ""),
            "promoted_by": tags.get("promoted_by", ""),
        })
    return pd.DataFrame(rows)
