"""The writes of positions and actions inside one transaction: the who-writes-what table, the
guards at the order-sending moves, the chain a stop-out fires, the follow-on moves, and the retry
of a failed ENTRY. The Store wraps each in its transaction (store/repository.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from hedge.domain import correlation, updates
from hedge.domain.alerts import AlertDraft
from hedge.domain.authz import Actor, check_owner, check_trigger_owners
from hedge.domain.creation import retry_position
from hedge.domain.enums import (
    ActionStatus,
    ActionType,
    AlertKind,
    AlertSeverity,
    ExitReason,
    PositionStatus,
    TriggerReason,
)
from hedge.domain.errors import Conflict, NotFound, ValidationError
from hedge.domain.ids import PositionId
from hedge.domain.late_trigger import late_trigger_drafts
from hedge.domain.models import Account, Action, Position, TradingControl, User
from hedge.domain.values import iso_ms
from hedge.domain.writes import source_of
from hedge.store import admin_audit, audit
from hedge.store.guard_reads import names_guarded_move, position_with_actions
from hedge.store.guards import GuardRefused, Rules, check_closing, check_opening
from hedge.store.history import Cause
from hedge.store.legs import hedge_legs, leg_failed
from hedge.store.record_alerts import record_alert, record_alert_once
from hedge.store.unit import Unit

T = TypeVar("T", User, Account, Position, Action, TradingControl)
P = PositionStatus


def owned_by(actor: Actor | None, entity: T) -> T:
    """The row, if `actor` may write it (checked in the transaction that writes it)."""
    if actor is not None:
        check_owner(
            actor, entity.id if isinstance(entity, User) else entity.user_id, type(entity).__name__, entity.id
        )
    return entity


def expect(entity: T, expected_version: int | None) -> T:
    if expected_version is not None and expected_version != entity.version:
        raise Conflict(type(entity).__name__, entity.id, expected_version, entity.version)
    return entity


def bump(entity: T, now: datetime, **fields: Any) -> T:
    return replace(entity, version=entity.version + 1, updated_at=now, **fields)


def _stop_out_fires(before: Position, after: Position) -> bool:
    """Only the broker's stop-out fires the chain: OPEN -> STOPPED, or a stop-out while a CLOSE
    was in flight (CLOSING -> CLOSED with exitReason STOP_OUT)."""
    moved = before.status in (P.OPEN, P.CLOSING) and after.status in (P.STOPPED, P.CLOSED)
    return moved and after.exit_reason is ExitReason.STOP_OUT


def update_position(
    unit: Unit, rules: Rules, actor: Actor, position_id: str, changes: Mapping[str, Any], expected: int | None
) -> Position:
    # a guarded move reads its position's actions with it (PostgreSQL: one statement, not two)
    read, read_actions = (
        position_with_actions(unit, position_id)
        if names_guarded_move(changes)
        else (unit.require(Position, position_id), None)
    )
    position = expect(owned_by(actor, read), expected)
    after = updates.default_exit_reason(
        updates.apply_position_update(position, changes, unit.now, source_of(actor))
    )
    if after.trigger_action_ids != position.trigger_action_ids:
        link_trigger_actions(unit, actor, position, after)
        read_actions = None  # the link may have written one of them: read them as they are now
    moved = after.status is not position.status
    actions = (unit.actions_of(position.id) if read_actions is None else read_actions) if moved else []
    unknown = None
    if moved and after.status is P.OPENING:
        unknown = check_opening(unit, rules, position, actions)
    elif moved and after.status is P.CLOSING:
        check_closing(unit, position, actions)
    fired = None
    stop_out = None
    if moved and _stop_out_fires(position, after):
        at = after.exit_time if after.exit_time is not None and after.exit_time <= unit.now else None
        fired = updates.trigger_position(after, TriggerReason.STOP_OUT, after.exit_price, unit.now, at)
        if fired is not None:  # the stop and its trigger stamp are one change of the row
            after = replace(fired, version=after.version)
            stop_out = stop_out_correlation(after)
    elif moved and after.status is P.STOPPED:
        legs = hedge_legs(unit, after)
        if len(legs) > 1:
            reason = after.exit_reason.value if after.exit_reason else "unknown"
            leg_failed(
                unit, legs, after, f"was closed outside the system (exitReason {reason}) and fired nothing"
            )
    after = unit.update(position, after)
    admin_audit.for_other_user(unit, actor, "updatePosition", after, changes)
    if fired is not None:
        start_trigger_actions(unit, rules, after, stop_out)
    if position.status is P.PENDING and after.status is not P.PENDING:
        for action in actions:
            moved_action = updates.entry_follows(action, after, unit.now, unit.now + rules.action_ttl)
            if moved_action is not None:
                unit.update(
                    action,
                    correlation.correlated(moved_action, correlation.MANUAL, unit.now),
                    cause=unit.cause.rule(f"follows position {after.id} to {after.status.value}"),
                )
    if unknown is not None:
        record_alert_once(
            unit,
            AlertDraft(
                user_id=after.user_id,
                kind=AlertKind.MARGIN_LOW,
                severity=AlertSeverity.INFO,
                message=f"{unknown}; the order was let through",
                account_id=after.account_id,
            ),
        )
    return after


def trigger_actions(
    unit: Unit,
    rules: Rules,
    actor: Actor | None,
    position_id: str,
    reason: TriggerReason,
    price: Decimal | None,
    price_time: datetime | None,
    correlation_id: str | None = None,
) -> tuple[Position, list[Action]]:
    """Stamp the trigger once and move the position's PENDING trigger actions to EXECUTING,
    each carrying `correlation_id` (the caller's, or one the server makes)."""
    position = owned_by(actor, unit.require(Position, position_id))
    fired = updates.trigger_position(position, reason, price, unit.now, price_time)
    if fired is None:
        return position, []
    position = unit.update(position, fired)
    made = correlation.made(correlation.TRIGGER, position.id, unit.now)
    return position, start_trigger_actions(unit, rules, position, correlation_id or made)


def stop_out_correlation(position: Position) -> str:
    """The id the server gives the chain a broker's stop-out fires (the API logs it too)."""
    at = position.trail_triggered_at or position.updated_at
    return correlation.made(correlation.STOP_OUT, position.id, at)


def start_trigger_actions(
    unit: Unit, rules: Rules, position: Position, correlation_id: str | None = None
) -> list[Action]:
    """Move the position's PENDING trigger actions to EXECUTING, with their deadline and the
    trigger's correlation id."""
    started: list[Action] = []
    found = unit.actions_with_own_symbol(list(position.trigger_action_ids))
    price = "" if position.trigger_price is None else f" at {position.trigger_price}"
    why = position.trigger_reason.value if position.trigger_reason else "trigger"
    cause = unit.cause.rule(f"triggered by position {position.id} ({why}{price})")
    for action_id in position.trigger_action_ids:
        action, own_symbol = found.get(action_id, (None, None))
        moved = (
            None
            if action is None
            else updates.start_action(
                action,
                unit.now,
                unit.now + rules.action_ttl,
                _price_for(own_symbol, position),
                correlation_id,
            )
        )
        if action is not None and moved is not None:
            started.append(unit.update(action, moved, cause=cause))
    for draft in late_trigger_drafts(position, started, unit.now, rules.action_ttl):
        record_alert(unit, draft)  # started all the same: the plan stands, a person is told
    return started


def _price_for(own_symbol: str | None, trigger: Position) -> Decimal | None:
    """The trigger's price as the action's triggering price, when the action's own position is
    of the trigger's symbol (a price of another symbol says nothing about this one's slippage)."""
    if trigger.trigger_price is None:
        return None
    return trigger.trigger_price if own_symbol == trigger.symbol else None


def link_trigger_actions(unit: Unit, actor: Actor, before: Position, after: Position) -> None:
    """Check the listed actions and point their triggerPositionId at this position."""
    listed = unit.get_many(Action, list(after.trigger_action_ids))
    for action_id in after.trigger_action_ids:
        if action_id not in listed:
            raise NotFound("Action", action_id)
        if listed[action_id].position_id == after.id and listed[action_id].type is ActionType.ENTRY:
            raise ValidationError("triggerActionIds", "must not list the position's own entry action")
    check_trigger_owners(actor, after.user_id, ((a.id, a.user_id) for a in listed.values()))
    foreign = sorted(a.id for a in listed.values() if a.user_id != after.user_id)
    if foreign and after.trigger_action_ids != before.trigger_action_ids:
        audit.record(unit, "linkTriggerActions", "Position", after.id, {"otherUsersActionIds": foreign})
    cause = unit.cause.rule(f"listed in triggerActionIds of position {after.id}")
    for action in listed.values():
        if action.trigger_position_id != after.id:
            unit.update(action, bump(action, unit.now, trigger_position_id=PositionId(after.id)), cause=cause)
    dropped = [i for i in before.trigger_action_ids if i not in after.trigger_action_ids]
    for action in unit.get_many(Action, dropped).values():
        if action.trigger_position_id == after.id:
            unit.update(action, bump(action, unit.now, trigger_position_id=None), cause=cause)


def update_action(
    unit: Unit,
    rules: Rules,
    actor: Actor | None,
    action_id: str,
    changes: Mapping[str, Any],
    expected: int | None,
) -> Action:
    action = expect(owned_by(actor, unit.require(Action, action_id)), expected)
    writer = None if actor is None else source_of(actor)
    after = updates.apply_action_update(action, changes, unit.now, writer, unit.now + rules.action_ttl)
    if (
        action.status is ActionStatus.FAILED
        and after.status is ActionStatus.PENDING
        and action.type is ActionType.ENTRY
    ):
        old = unit.require(Position, action.position_id)
        if old.status is P.CANCELED:
            fresh = retry_position(old, unit.now)
            retry = unit.cause.rule(f"retry of action {action.id}: a fresh position for the failed ENTRY")
            unit.insert(fresh, cause=retry)
            unit.update(old, bump(old, unit.now, retried_as_position_id=fresh.id), cause=retry)
            after = replace(after, position_id=fresh.id)
    if action.status is not ActionStatus.EXECUTING:  # moved to EXECUTING by hand: the server's id
        after = correlation.correlated(after, correlation.MANUAL, unit.now)
    admin_audit.for_other_user(unit, actor, "updateAction", action, changes)
    updated = unit.update(action, after)
    if action.status is ActionStatus.EXECUTING and after.status is ActionStatus.FAILED:
        _triggered_failed(unit, updated)
    return updated


def _triggered_failed(unit: Unit, action: Action) -> None:
    """An agent (or a person) reports that a triggered action failed, e.g. its terminal refused
    the order or its price slipped too far: HEDGE_LEG_FAILED for every leg's owner, naming all
    legs, in the transaction of that report (the agent sees neither the other users' legs nor
    may it alert their owners)."""
    if action.trigger_position_id is None:
        return
    position = unit.require(Position, action.position_id, lock=False)
    legs = hedge_legs(unit, position)
    if all(leg.id != action.trigger_position_id for leg in legs):  # a triggered CLOSE: name its trigger
        trigger = unit.get(Position, action.trigger_position_id, lock=False)
        legs = [*([] if trigger is None else [trigger]), *legs]
    what = "was not opened" if action.type is ActionType.ENTRY else "was not closed"
    leg_failed(unit, legs, position, f"{what}: {action.error_message or 'its action failed'}", action.id)


def fail_refused(unit: Unit, refusal: GuardRefused) -> None:
    """A guard refused the move that would take up a triggered action: the action fails (its
    PENDING position is canceled) and the alert is raised, in a transaction of its own."""
    if refusal.action is None:
        return
    action = unit.get(Action, refusal.action.id)
    if action is None or action.status is not ActionStatus.EXECUTING:
        return
    if refusal.kind == "ACTION_EXPIRED":
        expire_action(unit, action, refusal.error.message)
        return
    position = fail_action(unit, action, refusal.error.message)
    leg_failed(unit, hedge_legs(unit, position), position, f"was refused: {refusal.error.message}", action.id)


def fail_action(unit: Unit, action: Action, why: str) -> Position:
    """EXECUTING -> FAILED with `why`; an ENTRY's still PENDING position is canceled with it."""
    cause = Cause(unit.cause.source, unit.cause.by, why)
    failed = bump(action, unit.now, status=ActionStatus.FAILED, error_message=why[:1000])
    unit.update(action, failed, cause=cause)
    position = unit.require(Position, action.position_id)
    if action.type is ActionType.ENTRY and position.status is P.PENDING:
        position = unit.update(position, bump(position, unit.now, status=P.CANCELED), cause=cause)
    return position


def expire_action(unit: Unit, action: Action, why: str | None = None) -> None:
    """Fail an EXECUTING action that was not taken up by its deadline; ACTION_EXPIRED for its
    owner and for the owner of the position that triggered it; HEDGE_LEG_FAILED for a hedge leg."""
    deadline = iso_ms(action.expires_at) if action.expires_at is not None else "its deadline"
    message = why or (
        f"deadline passed: not taken up by its owner's agent by {deadline}"
        f" (HEDGE_ACTION_TTL_S after EXECUTING); the server failed it so that it is not opened late"
    )
    position = fail_action(unit, action, message)
    trigger = (
        None
        if action.trigger_position_id is None
        else unit.get(Position, action.trigger_position_id, lock=False)
    )
    owners = sorted({action.user_id, *(() if trigger is None else (trigger.user_id,))})
    for owner in owners:
        record_alert(
            unit,
            AlertDraft(
                user_id=owner,
                kind=AlertKind.ACTION_EXPIRED,
                severity=AlertSeverity.CRITICAL,
                message=f"{action.type.value} action {action.id} on account {action.account_id}: {message}",
                account_id=action.account_id if owner == action.user_id else None,
                position_id=action.position_id if owner == action.user_id else action.trigger_position_id,
                action_id=action.id,
                related_position_ids=tuple(p for p in (action.position_id, action.trigger_position_id) if p),
                requires_action=True,
            ),
        )
    if trigger is not None and action.type is ActionType.ENTRY:
        leg_failed(unit, hedge_legs(unit, position), position, "was not opened by its deadline", action.id)
