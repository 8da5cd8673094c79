"""The alerts the trade record's rules raise (ACTION_EXPIRED, HEDGE_LEG_FAILED, TRADING_HALTED,
MARGIN_LOW), in the transaction of the change that causes them. The one call is
`hedge.store.alerts.raise_alert(unit, draft)`, owned by the alerts part; every rule here goes
through `record_alert`."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from hedge.domain.models import Position
from hedge.store.unit import Unit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordAlert:
    user_id: str
    kind: str  # an AlertKind value
    severity: str  # INFO, WARNING or CRITICAL
    message: str
    account_id: str | None = None
    position_id: str | None = None
    action_id: str | None = None
    related_position_ids: tuple[str, ...] = ()
    requires_action: bool = False


def record_alert(unit: Unit, alert: RecordAlert) -> None:
    """Raise `alert` inside `unit` (it commits or rolls back with the change), and log it."""
    log.warning("alert %s for user %s: %s", alert.kind, alert.user_id, alert.message)
    _raise(unit, alert)


def record_alerts(unit: Unit, alerts: Sequence[RecordAlert]) -> None:
    for alert in alerts:
        record_alert(unit, alert)


def _raise(unit: Unit, alert: RecordAlert) -> None:
    try:
        draft = importlib.import_module("hedge.domain.alerts").AlertDraft
        raise_alert = importlib.import_module("hedge.store.alerts").raise_alert
    except ImportError:  # the alerts part has not landed in this tree: the log line is all there is
        return
    raise_alert(
        unit,
        draft(
            user_id=alert.user_id,
            kind=alert.kind,
            severity=alert.severity,
            message=alert.message,
            account_id=alert.account_id,
            position_id=alert.position_id,
            action_id=alert.action_id,
            related_position_ids=alert.related_position_ids,
            requires_action=alert.requires_action,
        ),
    )


SETTLED_KINDS = ("OUTCOME_UNKNOWN", "GHOST_POSITION", "ORPHAN_AT_BROKER", "RECONCILIATION_MISMATCH",
                 "HEDGE_LEG_FAILED", "ACTION_EXPIRED")  # fmt: skip


def resolve_for_position(unit: Unit, position: Position, note: str) -> None:
    """A person settled `position`: the open alerts about it that asked for a person go."""
    try:
        resolve_alerts = importlib.import_module("hedge.store.alerts").resolve_alerts
    except ImportError:
        log.info("position %s settled (%s); no alerts to resolve in this tree", position.id, note)
        return
    for kind in SETTLED_KINDS:
        resolve_alerts(unit, user_id=position.user_id, kind=kind, position_id=position.id, note=note)
