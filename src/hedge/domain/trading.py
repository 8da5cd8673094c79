"""The kill switch: trading controls per GLOBAL, USER and ACCOUNT scope, and what each state
lets through. An account's effective state is the most restrictive of its three controls
(ACTIVE < REDUCING < HALTED); no control is ACTIVE."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hedge.domain import values as v
from hedge.domain.enums import PositionStatus, TradingScope, TradingState
from hedge.domain.errors import Refused, ValidationError
from hedge.domain.ids import UserId
from hedge.domain.models import Account, Position, TradingControl

RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
MAX_REASON = 500


def control_id(scope: TradingScope, target_id: str | None) -> str:
    return f"{scope.value}:{target_id or ''}"


def control_ids(account: Account) -> tuple[str, str, str]:
    """The ids of the three controls that govern an account, broadest scope first."""
    return governing_ids(account.user_id, account.id)


def governing_ids(user_id: str, account_id: str) -> tuple[str, str, str]:
    """The ids of the three controls that govern account `account_id` of user `user_id`."""
    return (
        control_id(TradingScope.GLOBAL, None),
        control_id(TradingScope.USER, user_id),
        control_id(TradingScope.ACCOUNT, account_id),
    )


@dataclass(frozen=True, slots=True)
class Effective:
    state: TradingState
    control: TradingControl | None  # the one that set it (None: nothing set, ACTIVE)

    def describe(self) -> str:
        if self.control is None:
            return "ACTIVE"
        target = "" if self.control.target_id is None else f" {self.control.target_id}"
        why = f": {self.control.reason}" if self.control.reason else ""
        return f"{self.state.value} by the {self.control.scope.value}{target} control{why}"


def effective(controls: Iterable[TradingControl]) -> Effective:
    """The most restrictive of `controls` (the broadest scope wins a tie)."""
    found = Effective(TradingState.ACTIVE, None)
    for control in controls:
        if RANK[control.state] > RANK[found.state]:
            found = Effective(control.state, control)
    return found


def set_control(
    current: TradingControl | None,
    scope: Any,
    target_id: str | None,
    owner: str,
    state: Any,
    reason: Any,
    by: UserId,
    now: datetime,
) -> TradingControl:
    """The control after a person sets it; reason is required (it is the record of why)."""
    checked_scope = v.enum_value(TradingScope, scope, "scope")
    checked_state = v.enum_value(TradingState, state, "state")
    why = v.text(reason, "reason", max_length=MAX_REASON).strip()
    if not why:
        raise ValidationError("reason", "must say why trading changes (it is kept in the record)")
    check_target(checked_scope, target_id)
    if current is not None:
        return replace(
            current,
            state=checked_state,
            reason=why,
            updated_by=by,
            updated_at=now,
            version=current.version + 1,
        )
    return TradingControl(
        id=control_id(checked_scope, target_id),
        user_id=owner,
        scope=checked_scope,
        target_id=target_id,
        state=checked_state,
        reason=why,
        updated_by=by,
        updated_at=now,
    )


def check_target(scope: TradingScope, target_id: str | None) -> None:
    if scope is TradingScope.GLOBAL and target_id is not None:
        raise ValidationError("targetId", "must be omitted for GLOBAL")
    if scope is not TradingScope.GLOBAL and target_id is None:
        raise ValidationError("targetId", f"is required for {scope.value}")


def check_open(state: Effective, position: Position, paired: Position | None) -> None:
    """Raise Refused unless the state lets `position` be opened. REDUCING lets through only an
    order that reduces the linked accounts' net exposure on its symbol: a hedge leg that pairs
    an open position of the same symbol on the other side."""
    if state.state is TradingState.ACTIVE:
        return
    if state.state is TradingState.REDUCING and reduces(position, paired):
        return
    what = "no order at all" if state.state is TradingState.HALTED else "only orders that reduce exposure"
    raise Refused(
        "Position", position.status.value, PositionStatus.OPENING.value,
        f"trading is {state.describe()} ({what}; this order would not reduce exposure)"
        if state.state is TradingState.REDUCING
        else f"trading is {state.describe()} ({what})",
    )  # fmt: skip


def check_close(state: Effective, position: Position) -> None:
    """Closes pass REDUCING; HALTED stops every order, closes included (the emergency stop)."""
    if state.state is TradingState.HALTED:
        raise Refused(
            "Position", position.status.value, PositionStatus.CLOSING.value,
            f"trading is {state.describe()} (no order at all, closes included)",
        )  # fmt: skip


def reduces(position: Position, paired: Position | None) -> bool:
    """Whether opening `position` reduces net exposure: it pairs an OPEN position of the same
    symbol on the other side, for at most that position's volume."""
    return (
        paired is not None
        and paired.status in (PositionStatus.OPEN, PositionStatus.CLOSING)
        and paired.symbol == position.symbol
        and paired.side is not position.side
        and position.volume <= (paired.filled_volume or paired.volume)
    )
