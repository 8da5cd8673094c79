"""A trigger that reaches the server long after the price that met it: an agent that was down or
cut off from the server when its trail fired (and asked again after its restart, as it saved
it), or a stop-out reported after a long outage. The API accepts it while the position was open
at that price, and its actions start now, at the prices of now; a hedge opened minutes or hours
after its trigger is not the hedge that was planned. LATE_TRIGGER tells every owner concerned
(the trigger's and each started action's), so that a person looks at the hedge it opens: the
system keeps the plan and says so, it does not decide to drop it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from hedge.domain.alerts import AlertDraft
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.domain.models import Action, Position
from hedge.domain.values import iso_ms


def late_trigger_drafts(
    trigger: Position, started: Sequence[Action], now: datetime, deadline: timedelta
) -> list[AlertDraft]:
    """LATE_TRIGGER for each owner concerned when the trigger's actions started more than
    `deadline` (the actions' own, HEDGE_ACTION_TTL_S) after the time of the price that met it
    (`trailTriggeredAt`); none when it came in time or started nothing."""
    fired_at = trigger.trail_triggered_at
    if fired_at is None or not started or now - fired_at <= deadline:
        return []
    late_s = (now - fired_at).total_seconds()
    reason = trigger.trigger_reason.value if trigger.trigger_reason else "trigger"
    price = "" if trigger.trigger_price is None else f" at {trigger.trigger_price}"
    legs = tuple(a.position_id for a in started)
    message = (
        f"the {reason} of position {trigger.id} ({trigger.side.value} {trigger.volume} {trigger.symbol})"
        f" was met at {iso_ms(fired_at)}{price} and reached the server {late_s:.0f} s later (the actions'"
        f" deadline is {deadline.total_seconds():.0f} s); its {len(started)} action(s) start now, at"
        f" the prices of now: check the positions they open ({', '.join(legs) or 'none'})"
    )
    owners = sorted({trigger.user_id} | {a.user_id for a in started})
    return [
        AlertDraft(
            user_id=owner,
            kind=AlertKind.LATE_TRIGGER,
            severity=AlertSeverity.WARNING,
            message=message,
            account_id=trigger.account_id if owner == trigger.user_id else None,
            position_id=trigger.id,
            related_position_ids=(trigger.id, *legs),
        )
        for owner in owners
    ]
