"""Creating actions: createAction (idempotent by the caller's clientRequestId) and
createHedgePlan (the trigger position's ENTRY, each hedge leg's ENTRY with its PENDING position,
and the triggerActionIds link, in one transaction: all of it exists or none of it does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from hedge.domain import creation
from hedge.domain import values as v
from hedge.domain.authz import Actor, check_owner, check_trigger_owners
from hedge.domain.enums import ActionType
from hedge.domain.errors import ValidationError
from hedge.domain.ids import AccountId, PositionId, UserId
from hedge.domain.models import Account, Action, Position
from hedge.domain.rows import from_mapping
from hedge.domain.updates import MAX_TRIGGER_ACTIONS
from hedge.store import admin_audit
from hedge.store.guards import Rules
from hedge.store.tables import actions
from hedge.store.unit import Unit

MAX_REQUEST_ID = 128


@dataclass(frozen=True, slots=True)
class LegRequest:
    account_id: str
    symbol: Any
    side: Any
    volume: Any
    max_slippage_pips: Any = None


@dataclass(frozen=True, slots=True)
class Plan:
    entry_action: Action
    entry_position: Position
    hedge_actions: tuple[Action, ...]
    hedge_positions: tuple[Position, ...]


def request_id(value: Any) -> str | None:
    return None if value is None else v.text(value, "clientRequestId", max_length=MAX_REQUEST_ID).strip()


def slippage(value: Any) -> Decimal | None:
    return None if value is None else v.non_negative(value, "maxSlippagePips")


def earlier(unit: Unit, requested_by: str | None, client_request_id: str | None) -> Action | None:
    """The action a caller's earlier request with this clientRequestId created, if any."""
    if requested_by is None or client_request_id is None:
        return None
    query = select(actions).where(
        actions.c.requested_by == requested_by, actions.c.client_request_id == client_request_id
    )
    row = unit.conn.execute(query).mappings().first()
    return None if row is None else from_mapping(Action, row)


def create_action(
    unit: Unit,
    rules: Rules,
    user_id: str,
    account_id: str,
    action_type: ActionType,
    position_id: str | None,
    entry: creation.EntryRequest | None,
    requested_by: str | None = None,
    client_request_id: str | None = None,
    max_slippage_pips: Decimal | None = None,
) -> tuple[Action, Position]:
    """An ENTRY action with its new PENDING position, or a CLOSE action for a position."""
    account = unit.require(Account, account_id, lock=False)
    if account.user_id != user_id:
        raise ValidationError("accountId", f"must be an account of user {user_id!r}")
    if action_type is ActionType.ENTRY:
        if position_id is not None:
            raise ValidationError("positionId", "must be omitted for ENTRY (a position is created)")
        action, position = _entry(rules, account, entry or creation.EntryRequest(None, None, None), unit)
        unit.insert(position)
    else:
        if position_id is None:
            raise ValidationError("positionId", "is required for a CLOSE action")
        if max_slippage_pips is not None:
            raise ValidationError("maxSlippagePips", "is for ENTRY actions only")
        if entry is not None and any(
            value is not None
            for value in (entry.symbol, entry.side, entry.volume, entry.trail_width, entry.trail_mode)
        ):
            raise ValidationError("symbol", "side, volume and trail settings are for ENTRY actions only")
        position = unit.require(Position, position_id, lock=False)
        action = creation.new_close(UserId(user_id), AccountId(account_id), position, unit.now)
    action = replace(action, client_request_id=client_request_id, max_slippage_pips=max_slippage_pips)
    unit.insert(action, requested_by=requested_by if client_request_id is not None else None)
    return action, position


def _entry(
    rules: Rules, account: Account, request: creation.EntryRequest, unit: Unit
) -> tuple[Action, Position]:
    return creation.new_entry(account.user_id, account.id, request, rules.catalog, unit.now, account)


def create_hedge_plan(
    unit: Unit,
    rules: Rules,
    actor: Actor,
    account_id: str,
    entry: creation.EntryRequest,
    legs: Sequence[LegRequest],
    client_request_id: str | None,
) -> Plan:
    """The whole plan in the caller's transaction; legs on other users' accounts need ADMIN."""
    if not legs:
        raise ValidationError("hedges", "must list at least one hedge leg")
    if len(legs) > MAX_TRIGGER_ACTIONS:
        raise ValidationError("hedges", f"must list at most {MAX_TRIGGER_ACTIONS} legs, was {len(legs)}")
    account = unit.require(Account, account_id, lock=False)
    check_owner(actor, account.user_id, "Account", account.id)
    entry_action, entry_position = _entry(rules, account, entry, unit)
    hedge_actions: list[Action] = []
    hedge_positions: list[Position] = []
    for index, leg in enumerate(legs):
        leg_account = unit.require(Account, leg.account_id, lock=False)
        try:
            action, position = _entry(
                rules, leg_account, creation.EntryRequest(leg.symbol, leg.side, leg.volume), unit
            )
            max_slip = slippage(leg.max_slippage_pips)
        except ValidationError as bad:
            detail = bad.message.removeprefix(bad.field).strip()
            raise ValidationError(f"hedges[{index}].{bad.field}", detail) from None
        hedge_actions.append(
            replace(action, trigger_position_id=PositionId(entry_position.id), max_slippage_pips=max_slip)
        )
        hedge_positions.append(position)
    check_trigger_owners(actor, entry_position.user_id, ((a.id, a.user_id) for a in hedge_actions))
    entry_position = replace(entry_position, trigger_action_ids=tuple(a.id for a in hedge_actions))
    entry_action = replace(entry_action, client_request_id=client_request_id)
    unit.insert(entry_position)
    unit.insert(entry_action, requested_by=actor.user_id if client_request_id is not None else None)
    for position, action in zip(hedge_positions, hedge_actions, strict=True):
        unit.insert(position)
        unit.insert(action)
    admin_audit.hedge_plan_links(unit, entry_position, hedge_actions)
    return Plan(entry_action, entry_position, tuple(hedge_actions), tuple(hedge_positions))


def plan_of(unit: Unit, entry_action: Action) -> Plan:
    """The plan an earlier createHedgePlan made, read back from its entry action."""
    entry_position = unit.require(Position, entry_action.position_id, lock=False)
    found = unit.get_many(Action, list(entry_position.trigger_action_ids))
    hedge_actions = tuple(found[i] for i in entry_position.trigger_action_ids if i in found)
    hedge_positions = tuple(unit.require(Position, a.position_id, lock=False) for a in hedge_actions)
    return Plan(entry_action, entry_position, hedge_actions, hedge_positions)
