"""The server's log lines of a trigger's path, each carrying its correlation id (hedge.logs): the
triggerActions mutation as it arrives and what it moved, an action's later moves (its agent taking
it up, a manual execute), and a stop-out that fires a chain. docs/operations.md shows how an
operator follows one id through the three processes' logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from hedge.domain import correlation
from hedge.domain.enums import PositionStatus, TriggerReason
from hedge.domain.models import Action, Position
from hedge.logs import correlated
from hedge.store.moves import stop_out_correlation

log = logging.getLogger("hedge.api.trace")


@contextmanager
def trigger(
    given: str | None, position_id: str, reason: object, price: object, user_id: str | None, now: datetime
) -> Iterator[str]:
    """Around a triggerActions call: the id (the agent's, checked, or one made now), logged on arrival."""
    cid = correlation.checked(given) or correlation.made(correlation.TRIGGER, position_id, now)
    with correlated(cid):
        log.info(
            "triggerActions for position %s (%s at %s) from user %s",
            position_id,
            getattr(reason, "value", reason),
            price,
            user_id,
        )
        yield cid


def triggered(position: Position, actions: Sequence[Action]) -> None:
    """What a triggerActions call moved (inside `trigger(...)`)."""
    if not actions:
        log.info("position %s had fired already: no action started", position.id)
        return
    for action in actions:
        log.info(
            "action %s (%s of user %s on account %s) PENDING -> EXECUTING, due by %s",
            action.id,
            action.type.value,
            action.user_id,
            action.account_id,
            action.expires_at.isoformat() if action.expires_at else "no deadline",
        )


def action_moved(action: Action, changes: Mapping[str, Any], user_id: str | None) -> None:
    """An updateAction that moved a correlated action (its agent took it up, or a person did)."""
    if "status" not in changes or action.correlation_id is None:
        return
    with correlated(action.correlation_id):
        log.info(
            "action %s (%s on account %s) now %s, by user %s",
            action.id,
            action.type.value,
            action.account_id,
            action.status.value,
            user_id,
        )


def position_moved(position: Position, changes: Mapping[str, Any]) -> None:
    """An updatePosition whose stop-out fired the position's trigger actions (their id is the server's)."""
    stopped = position.status in (PositionStatus.STOPPED, PositionStatus.CLOSED)
    if "status" not in changes or not stopped or position.trigger_reason is not TriggerReason.STOP_OUT:
        return
    if position.trail_triggered_at is None or not position.trigger_action_ids:
        return
    with correlated(stop_out_correlation(position)):
        log.info(
            "position %s stopped out at the broker: its trigger actions %s start",
            position.id,
            ", ".join(position.trigger_action_ids),
        )
