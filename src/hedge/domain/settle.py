"""settlePosition: a person records what the terminal's word could not settle (an order whose
outcome stayed unknown, a position the terminal holds that the record does not). ADMIN only,
with the facts read from the terminal or the broker's statement and a reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from hedge.domain import values as v
from hedge.domain.enums import PositionStatus
from hedge.domain.errors import Refused, ValidationError
from hedge.domain.models import Position
from hedge.domain.updates import apply_position_update
from hedge.domain.writes import BROKER_FACTS

P = PositionStatus
SETTLE_FROM = frozenset({P.PENDING, P.OPENING, P.OPEN, P.CLOSING, P.CANCELED})
SETTLE_TO = frozenset({P.OPEN, P.CLOSED, P.STOPPED, P.CANCELED})
MAX_REASON = 500


def settle(position: Position, status: Any, facts: Mapping[str, Any], reason: Any, now: datetime) -> Position:
    """The position as a person settled it; facts are the broker facts (snake_case) given."""
    target = v.enum_value(PositionStatus, status, "status")
    why = v.text(reason, "reason", max_length=MAX_REASON).strip()
    if not why:
        raise ValidationError("reason", "must say what the settlement rests on (kept in the history)")
    if target not in SETTLE_TO:
        raise ValidationError("status", f"must be OPEN, CLOSED, STOPPED or CANCELED, was {target.value}")
    if position.status not in SETTLE_FROM or (
        target is P.CANCELED and position.status not in (P.PENDING, P.OPENING)
    ):
        raise Refused(
            "Position", position.status.value, target.value,
            "settlePosition settles a position whose outcome is open (PENDING, OPENING, OPEN, CLOSING)"
            " or a CANCELED one the terminal holds after all; CANCELED is only for one never opened",
        )  # fmt: skip
    unknown = sorted(set(facts) - BROKER_FACTS)
    if unknown:
        raise ValidationError(unknown[0], "is not a fact settlePosition records")
    given = {name: value for name, value in facts.items() if value is not None}
    after = apply_position_update(position, given, now)  # parsed and checked, no move yet
    after = replace(after, status=target)
    if target is not P.CANCELED and (after.entry_price is None or after.mt_ticket is None):
        raise ValidationError(
            "entryPrice", f"and mtTicket are required to settle a position as {target.value}"
        )
    if target in (P.CLOSED, P.STOPPED) and after.exit_price is None:
        raise ValidationError("exitPrice", f"is required to settle a position as {target.value}")
    if after == position:
        raise ValidationError("status", "settles nothing: the position already holds these facts")
    return replace(after, version=position.version + 1, updated_at=now)
