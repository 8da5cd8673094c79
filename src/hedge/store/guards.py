"""The server's guards at the moves that send an order: PENDING -> OPENING and OPEN -> CLOSING.

An order that reaches a terminal has passed them: its action's deadline, the kill switch and
(for an open) the pre-trade checks. A refusal names the rule; for an action that a trigger
started, the store then fails the action and raises an alert (`GuardRefused` carries both).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from hedge.domain.account_specs import spec_for
from hedge.domain.enums import ActionStatus, ActionType, PositionStatus
from hedge.domain.errors import DomainError, Refused
from hedge.domain.models import Action, Position
from hedge.domain.pretrade import AccountLimits, TradeLimits, check_limits, margin_check
from hedge.domain.rows import from_mapping
from hedge.domain.symbols import SymbolCatalog
from hedge.domain.trading import check_close, check_open
from hedge.domain.values import iso_ms
from hedge.store.guard_reads import guard_rows
from hedge.store.tables import positions
from hedge.store.unit import Unit

log = logging.getLogger(__name__)

OPEN_STATES = (PositionStatus.OPENING.value, PositionStatus.OPEN.value, PositionStatus.CLOSING.value)
NO_LIMITS = AccountLimits()  # no HEDGE_LIMITS for the account: nothing to count


@dataclass(frozen=True, slots=True)
class Rules:
    """The server's configured guards."""

    catalog: SymbolCatalog = field(default_factory=SymbolCatalog)
    action_ttl: timedelta = timedelta(seconds=30)
    limits: TradeLimits = field(default_factory=TradeLimits)


class GuardRefused(Exception):
    """A guard refused a move; `action` is the triggered action that now fails because of it."""

    def __init__(self, error: DomainError, action: Action | None, kind: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.action = action
        self.kind = kind  # the alert kind to raise for the failed action


def _taken_up(actions: Sequence[Action], kind: ActionType) -> Action | None:
    """The EXECUTING action of `kind` this move takes up."""
    return next((a for a in actions if a.type is kind and a.status is ActionStatus.EXECUTING), None)


def _check_deadline(unit: Unit, position: Position, action: Action | None, target: PositionStatus) -> None:
    if action is not None and action.expires_at is not None and unit.now > action.expires_at:
        raise GuardRefused(
            Refused(
                "Position",
                position.status.value,
                target.value,
                f"action {action.id} expired at {iso_ms(action.expires_at)} (not taken up by its"
                " owner's agent in time); a late agent cannot take it up",
            ),
            action,
            "ACTION_EXPIRED",
        )


def check_opening(unit: Unit, rules: Rules, position: Position, actions: Sequence[Action]) -> str | None:
    """Raise GuardRefused unless `position` may move to OPENING now. Returns a note of what could
    not be checked (an unknown margin figure), for the log and an alert."""
    action = _taken_up(actions, ActionType.ENTRY)
    triggered = action if action is not None and action.trigger_position_id is not None else None
    _check_deadline(unit, position, action, PositionStatus.OPENING)
    read = guard_rows(unit, position, None if triggered is None else triggered.trigger_position_id)
    account = read.account
    try:
        check_open(read.trading, position, read.paired)
    except Refused as refused:
        raise GuardRefused(refused, triggered, "HEDGE_LEG_FAILED") from None
    try:
        spec = spec_for(account, position.symbol, rules.catalog)
        spec.check_volume(position.volume)
        limits = rules.limits.for_account(account)
        if limits != NO_LIMITS:  # the account's open positions, read only when a limit counts them
            query = select(positions).where(
                positions.c.account_id == account.id, positions.c.status.in_(OPEN_STATES)
            )
            held = [from_mapping(Position, row) for row in unit.conn.execute(query).mappings()]
            check_limits(limits, position, held)
        unknown = margin_check(account, spec, position.volume)
    except DomainError as refused:
        raise GuardRefused(refused, triggered, "HEDGE_LEG_FAILED") from None
    if unknown is not None:
        log.info("position %s on account %s: %s", position.id, account.id, unknown)
    return unknown


def check_closing(unit: Unit, position: Position, actions: Sequence[Action]) -> None:
    """Raise GuardRefused unless `position` may move to CLOSING now."""
    action = _taken_up(actions, ActionType.CLOSE)
    _check_deadline(unit, position, action, PositionStatus.CLOSING)
    try:
        check_close(guard_rows(unit, position, None).trading, position)
    except Refused as refused:
        triggered = action if action is not None and action.trigger_position_id is not None else None
        raise GuardRefused(refused, triggered, "HEDGE_LEG_FAILED") from None
