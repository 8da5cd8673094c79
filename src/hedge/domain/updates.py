"""Pure builders of new entity values from checked input: creation, updates, triggering.

Each function takes the current value and raw changes (field name -> value, only the fields the
caller gave), checks every field and the state-machine move, and returns the next value with
`version + 1`. Nothing here knows about storage; the store adds the rows these touch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hedge.domain import values as v
from hedge.domain.account_specs import terminal_specs
from hedge.domain.enums import (
    ActionStatus,
    ActionType,
    ChangeSource,
    ConnectionStatus,
    ExitReason,
    PositionStatus,
    TrailMode,
    TriggerReason,
)
from hedge.domain.errors import Forbidden, InvalidTransition, Refused, ValidationError
from hedge.domain.ids import ActionId
from hedge.domain.models import Account, Action, Position
from hedge.domain.symbols import symbol_map
from hedge.domain.transitions import ActionTrigger, apply_action, check_action_move, check_position_move
from hedge.domain.writes import check_action_write, check_position_write

MAX_CLOCK_SKEW = timedelta(seconds=60)  # an EA's clock ahead of the server's by more is refused
TRIGGERABLE = frozenset(
    {PositionStatus.OPEN, PositionStatus.CLOSING, PositionStatus.CLOSED, PositionStatus.STOPPED}
)
MAX_TRIGGER_ACTIONS = 50


def _reject_unknown(changes: Mapping[str, Any], allowed: frozenset[str], entity: str) -> None:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(unknown[0], f"is not a field that can be updated on {entity}")


POSITION_FIELDS = frozenset(
    {
        "status",
        "trail_width",
        "trail_mode",
        "trigger_action_ids",
        "mt_ticket",
        "entry_price",
        "entry_time",
        "exit_price",
        "exit_time",
        "exit_reason",
        "realized_pl",
        "memo",
        "filled_volume",
    }
)


def _optional(value: Any, convert: Any, field: str) -> Any:
    return None if value is None else convert(value, field)


def trigger_ids(value: Any, field: str = "triggerActionIds") -> tuple[ActionId, ...]:
    if not isinstance(value, list | tuple):
        raise ValidationError(field, f"must be a list of ids, was {type(value).__name__}")
    if len(value) > MAX_TRIGGER_ACTIONS:
        raise ValidationError(field, f"must list at most {MAX_TRIGGER_ACTIONS} actions, was {len(value)}")
    ids = tuple(ActionId(v.text(item, field, max_length=64)) for item in value)
    if len(set(ids)) != len(ids):
        raise ValidationError(field, "must not list an action twice")
    return ids


def apply_position_update(
    position: Position, changes: Mapping[str, Any], now: datetime, writer: ChangeSource | None = None
) -> Position:
    """The position after `changes`; InvalidTransition or ValidationError when they break a rule.

    `writer` (USER or AGENT) is checked against the who-writes-what table (domain.writes);
    None is the server's own rules, which the table does not limit."""
    _reject_unknown(changes, POSITION_FIELDS, "Position")
    fields: dict[str, Any] = {}
    target = None
    if "status" in changes:
        target = v.enum_value(PositionStatus, changes["status"], "status")
        # A move to the current state is not in the table either: two writers asking for the
        # same move must not both succeed (the loser gets InvalidTransition, not a silent no-op).
        check_position_move(position.status, target)
        fields["status"] = target
    if "trail_width" in changes:
        fields["trail_width"] = _optional(changes["trail_width"], v.trail_width, "trailWidth")
    if "trail_mode" in changes:
        if changes["trail_mode"] is None:
            raise ValidationError("trailMode", "must not be null")
        fields["trail_mode"] = v.enum_value(TrailMode, changes["trail_mode"], "trailMode")
    if "trigger_action_ids" in changes:
        fields["trigger_action_ids"] = trigger_ids(changes["trigger_action_ids"] or [])
    if "mt_ticket" in changes:
        fields["mt_ticket"] = _optional(
            changes["mt_ticket"], lambda x, f: v.text(x, f, max_length=64), "mtTicket"
        )
    for name, api in (("entry_price", "entryPrice"), ("exit_price", "exitPrice")):
        if name in changes:
            fields[name] = _optional(changes[name], v.price, api)
    for name, api in (("entry_time", "entryTime"), ("exit_time", "exitTime")):
        if name in changes:
            fields[name] = _optional(changes[name], v.parse_iso, api)
    if "exit_reason" in changes:
        fields["exit_reason"] = _optional(
            changes["exit_reason"], lambda x, f: v.enum_value(ExitReason, x, f), "exitReason"
        )
    if "realized_pl" in changes:
        fields["realized_pl"] = _optional(changes["realized_pl"], v.to_decimal, "realizedPL")
    if "memo" in changes:
        fields["memo"] = _optional(
            changes["memo"], lambda x, f: v.text(x, f, max_length=v.MAX_MEMO, allow_empty=True), "memo"
        )
    if "filled_volume" in changes:
        fields["filled_volume"] = _optional(changes["filled_volume"], v.positive, "filledVolume")
        if fields["filled_volume"] is not None and fields["filled_volume"] > position.volume:
            raise ValidationError(
                "filledVolume", f"must not exceed the volume {position.volume}, was {fields['filled_volume']}"
            )
    if writer is not None:  # after the values: a malformed value is VALIDATION whoever sends it
        check_position_write(writer, position.status, target, changes.keys())
    if all(_same(getattr(position, name), value) for name, value in fields.items()):
        return position  # nothing changes (150.05 == 150.050: the same number)
    updated = replace(position, **fields, version=position.version + 1, updated_at=now)
    _check_position_complete(position.status, updated)
    return updated


def _same(old: Any, new: Any) -> bool:
    """Equal as the dataclass's own == compares a field (identity first, then ==)."""
    return old is new or bool(old == new)


def _check_position_complete(before: PositionStatus, after: Position) -> None:
    """What a status needs before it can be reached: OPEN needs a fill, CLOSED an exit price."""
    if after.status is before:
        return
    if after.status is PositionStatus.OPEN and before is PositionStatus.OPENING:
        if after.entry_price is None:
            raise ValidationError("entryPrice", "is required to move a position to OPEN")
        if after.mt_ticket is None:
            raise ValidationError("mtTicket", "is required to move a position to OPEN")
    if after.status in (PositionStatus.CLOSED, PositionStatus.STOPPED) and after.exit_price is None:
        raise ValidationError("exitPrice", f"is required to move a position to {after.status.value}")


def default_exit_reason(position: Position) -> Position:
    """STOPPED without a reason is a stop-out."""
    if position.status is PositionStatus.STOPPED and position.exit_reason is None:
        return replace(position, exit_reason=ExitReason.STOP_OUT)
    return position


def trigger_position(
    position: Position,
    reason: TriggerReason,
    price: Decimal | None,
    now: datetime,
    price_time: datetime | None = None,
) -> Position | None:
    """The position with its trigger stamped, or None when it already fired (a repeat changes nothing).

    Accepted when the price that met the condition came while the position was open: at
    `price_time` (the EA's time of that price; now when not given) no exit had happened yet.
    `trailTriggeredAt` takes that time."""
    if position.status not in TRIGGERABLE:
        raise InvalidTransition(
            "Position", position.status.value, "TRIGGER", tuple(s.value for s in sorted(TRIGGERABLE))
        )
    if position.trail_triggered_at is not None:
        return None
    at = now if price_time is None else price_time
    if price_time is not None and price_time > now + MAX_CLOCK_SKEW:
        raise ValidationError("priceTime", f"must not be in the future, was {v.iso_ms(price_time)}")
    if position.exit_time is not None and at > position.exit_time:
        raise Refused(
            "Position", position.status.value, "TRIGGER",
            f"the price that met the condition came at {v.iso_ms(at)}, after the position's exit at"
            f" {v.iso_ms(position.exit_time)}",
        )  # fmt: skip
    return replace(
        position,
        trail_triggered_at=at,
        trigger_reason=reason,
        trigger_price=price,
        version=position.version + 1,
        updated_at=now,
    )


def start_action(
    action: Action,
    now: datetime,
    expires_at: datetime | None = None,
    trigger_price: Decimal | None = None,
    correlation_id: str | None = None,
) -> Action | None:
    """A triggered action moved PENDING -> EXECUTING, to be taken up by `expires_at`, with the
    price that met the trigger (None when that price is of another symbol) and the trigger's
    `correlation_id`; None when it is not PENDING (left as is)."""
    if action.status is not ActionStatus.PENDING:
        return None
    return replace(
        action,
        status=ActionStatus.EXECUTING,
        expires_at=expires_at,
        trigger_price=trigger_price,
        correlation_id=correlation_id or action.correlation_id,
        version=action.version + 1,
        updated_at=now,
    )


_ENTRY_FOLLOWS = {PositionStatus.OPENING: ActionTrigger.START, PositionStatus.CANCELED: ActionTrigger.CANCEL}


def entry_follows(
    action: Action, position: Position, now: datetime, expires_at: datetime | None = None
) -> Action | None:
    """A PENDING ENTRY action follows its position out of PENDING: OPENING starts it (EXECUTING,
    already taken up, so its deadline is met), CANCELED cancels it. None when the action is not
    one to move."""
    trigger = _ENTRY_FOLLOWS.get(position.status)
    if (
        trigger is None
        or action.type is not ActionType.ENTRY
        or action.status is not ActionStatus.PENDING
        or action.position_id != position.id
    ):
        return None
    status = apply_action(action.status, trigger)
    deadline = expires_at if status is ActionStatus.EXECUTING else action.expires_at
    return replace(action, status=status, expires_at=deadline, version=action.version + 1, updated_at=now)


ACTION_FIELDS = frozenset({"status", "error_message", "retry_count"})


def apply_action_update(
    action: Action,
    changes: Mapping[str, Any],
    now: datetime,
    writer: ChangeSource | None = None,
    expires_at: datetime | None = None,
) -> Action:
    """The action after `changes`; a move to EXECUTING takes `expires_at` as its deadline."""
    _reject_unknown(changes, ACTION_FIELDS, "Action")
    fields: dict[str, Any] = {}
    if "status" in changes:
        target = v.enum_value(ActionStatus, changes["status"], "status")
        check_action_move(action.status, target)  # a move to the current state is refused too
        if writer is not None:
            check_action_write(writer, action.status, target)
        fields["status"] = target
        if target is ActionStatus.EXECUTED:
            fields["executed_at"] = now
        if target is ActionStatus.EXECUTING:
            fields["expires_at"] = expires_at
            fields["trigger_price"] = None  # started by hand: no triggering price, no slippage check
        if target is ActionStatus.PENDING:  # FAILED -> PENDING is a retry, with a new deadline later
            fields["retry_count"] = action.retry_count + 1
            fields["expires_at"] = None
            fields["trigger_price"] = None
    if "error_message" in changes:
        fields["error_message"] = _optional(
            changes["error_message"],
            lambda x, f: v.text(x, f, max_length=v.MAX_ERROR_MESSAGE, allow_empty=True),
            "errorMessage",
        )
    if "retry_count" in changes and changes["retry_count"] is not None:
        count = changes["retry_count"]
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1000:
            raise ValidationError("retryCount", f"must be an integer from 0 to 1000, was {count!r}")
        if count < action.retry_count:
            raise ValidationError("retryCount", f"must not go down, was {action.retry_count}, asked {count}")
        fields["retry_count"] = max(count, fields.get("retry_count", 0))
    updated = replace(action, **fields)
    if updated == action:
        return action
    return replace(updated, version=action.version + 1, updated_at=now)


ACCOUNT_FIELDS = frozenset(
    {
        "display_name",
        "balance",
        "credit",
        "equity",
        "margin",
        "margin_level",
        "connection_status",
        "leverage",
        "symbol_map",
        "symbol_specs",
        "margin_mode",
    }
)
TERMINAL_ACCOUNT_FIELDS = frozenset({"symbol_specs", "margin_mode"})  # the terminal's word
MARGIN_MODES = frozenset({"HEDGING", "NETTING", "EXCHANGE"})
_SNAPSHOT_FIELDS = ("balance", "credit", "equity", "margin", "margin_level")


def apply_account_update(
    account: Account, changes: Mapping[str, Any], now: datetime, writer: ChangeSource | None = None
) -> Account:
    _reject_unknown(changes, ACCOUNT_FIELDS, "Account")
    fields: dict[str, Any] = {}
    reported = sorted(TERMINAL_ACCOUNT_FIELDS & set(changes))
    if reported and writer is ChangeSource.USER:
        name = "symbolSpecs" if reported[-1] == "symbol_specs" else "marginMode"
        raise Forbidden(f"{name} is what the account's terminal reports: only the owner's agent writes it")
    if "symbol_specs" in changes:
        fields["symbol_specs"] = terminal_specs(changes["symbol_specs"] or [])
    if "margin_mode" in changes:
        mode = changes["margin_mode"]
        if mode is not None and mode not in MARGIN_MODES:
            raise ValidationError(
                "marginMode", f"must be one of {', '.join(sorted(MARGIN_MODES))}, was {str(mode)[:20]!r}"
            )
        fields["margin_mode"] = mode
    if "display_name" in changes:
        fields["display_name"] = v.text(changes["display_name"], "displayName")
    if "symbol_map" in changes:
        fields["symbol_map"] = symbol_map(changes["symbol_map"] or [])
    if "balance" in changes:
        fields["balance"] = _optional(changes["balance"], v.to_decimal, "balance")
    if "equity" in changes:
        fields["equity"] = _optional(changes["equity"], v.to_decimal, "equity")
    for name, api in (("credit", "credit"), ("margin", "margin"), ("margin_level", "marginLevel")):
        if name in changes:
            fields[name] = _optional(changes[name], v.non_negative, api)
    if "connection_status" in changes:
        fields["connection_status"] = v.enum_value(
            ConnectionStatus, changes["connection_status"], "connectionStatus"
        )
    if "leverage" in changes:
        fields["leverage"] = _optional(changes["leverage"], leverage, "leverage")
    if any(name in changes for name in _SNAPSHOT_FIELDS):
        fields["last_synced_at"] = now
    updated = replace(account, **fields)
    if updated == account:
        return account
    return replace(updated, version=account.version + 1, updated_at=now)


def leverage(value: Any, field: str = "leverage") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10000:
        raise ValidationError(field, f"must be an integer from 1 to 10000, was {value!r}")
    return value
