"""Pure builders of new rows from checked input: users, accounts, ENTRY and CLOSE actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from hedge.domain import values as v
from hedge.domain.account_specs import spec_for
from hedge.domain.enums import (
    ActionStatus,
    ActionType,
    BrokerType,
    ConnectionStatus,
    PCStatus,
    PositionStatus,
    Side,
    TrailMode,
    UserRole,
)
from hedge.domain.errors import ValidationError
from hedge.domain.ids import AccountId, ActionId, PositionId, UserId, new_id
from hedge.domain.models import Account, Action, Position, User
from hedge.domain.symbols import SymbolCatalog, check_symbol, symbol_map
from hedge.domain.updates import leverage


def new_user(email: Any, name: Any, role: Any, now: datetime) -> User:
    return User(
        id=UserId(new_id()),
        email=v.email(email),
        name=v.text(name, "name"),
        role=v.enum_value(UserRole, role, "role"),
        pc_status=PCStatus.OFFLINE,
        is_active=True,
        created_at=now,
        updated_at=now,
    )


def currency_code(value: Any, field: str = "currency") -> str:
    code = v.text(value, field, max_length=8).strip().upper()
    if not code.isalpha() or not 3 <= len(code) <= 4:
        raise ValidationError(field, f"must be a currency code such as USD or JPY, was {code!r}")
    return code


def new_account(
    user_id: UserId,
    broker_type: Any,
    account_number: Any,
    server_name: Any,
    display_name: Any,
    currency: Any,
    leverage_value: Any,
    now: datetime,
    symbol_map_value: Any = None,
) -> Account:
    return Account(
        id=AccountId(new_id()),
        user_id=user_id,
        broker_type=v.enum_value(BrokerType, broker_type, "brokerType"),
        account_number=v.text(account_number, "accountNumber", max_length=64).strip(),
        server_name=v.text(server_name, "serverName").strip(),
        display_name=v.text(display_name, "displayName"),
        currency=currency_code("USD" if currency is None else currency),
        leverage=None if leverage_value is None else leverage(leverage_value),
        symbol_map={} if symbol_map_value is None else symbol_map(symbol_map_value),
        connection_status=ConnectionStatus.DISCONNECTED,
        created_at=now,
        updated_at=now,
    )


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """The raw ENTRY fields of createAction, before checking."""

    symbol: Any
    side: Any
    volume: Any
    trail_width: Any = None
    trail_mode: Any = None


def new_entry(
    user_id: UserId,
    account_id: AccountId,
    request: EntryRequest,
    catalog: SymbolCatalog,
    now: datetime,
    account: Account | None = None,
) -> tuple[Action, Position]:
    """An ENTRY action and the PENDING position it will open (created together). The symbol
    needs a spec (the account's terminal's when `account` is given, else configured or built
    in) and the volume must fit it."""
    if request.symbol is None or request.side is None or request.volume is None:
        missing = [n for n in ("symbol", "side", "volume") if getattr(request, n) is None]
        raise ValidationError(missing[0], "is required for an ENTRY action")
    symbol = v.text(request.symbol, "symbol", max_length=16).strip().upper()
    check_symbol(symbol)
    volume: Decimal = v.positive(request.volume, "volume")
    spec = catalog.spec(symbol) if account is None else spec_for(account, symbol, catalog)
    spec.check_volume(volume)
    position = Position(
        id=PositionId(new_id()),
        user_id=user_id,
        account_id=account_id,
        symbol=symbol,
        side=v.enum_value(Side, request.side, "side"),
        volume=volume,
        status=PositionStatus.PENDING,
        trail_mode=TrailMode.FROM_ENTRY
        if request.trail_mode is None
        else v.enum_value(TrailMode, request.trail_mode, "trailMode"),
        trail_width=None if request.trail_width is None else v.trail_width(request.trail_width),
        created_at=now,
        updated_at=now,
    )
    return _pending(ActionType.ENTRY, position, now), position


def new_close(user_id: UserId, account_id: AccountId, position: Position, now: datetime) -> Action:
    """A CLOSE action for an existing position of the same user and account."""
    if position.user_id != user_id:
        raise ValidationError("positionId", "must name a position of the action's own user")
    if position.account_id != account_id:
        raise ValidationError("positionId", f"must name a position of account {account_id!r}")
    return _pending(ActionType.CLOSE, position, now)


def _pending(kind: ActionType, position: Position, now: datetime) -> Action:
    """A PENDING action of `kind` on `position`, of the position's user and account."""
    return Action(
        id=ActionId(new_id()),
        user_id=position.user_id,
        account_id=position.account_id,
        position_id=position.id,
        type=kind,
        status=ActionStatus.PENDING,
        created_at=now,
        updated_at=now,
    )


def retry_position(failed: Position, now: datetime) -> Position:
    """A fresh PENDING position with the plan of a CANCELED one (its ENTRY is being retried):
    same account, symbol, side, volume and trail; nothing of the old one's outcome."""
    return Position(
        id=PositionId(new_id()),
        user_id=failed.user_id,
        account_id=failed.account_id,
        symbol=failed.symbol,
        side=failed.side,
        volume=failed.volume,
        status=PositionStatus.PENDING,
        trail_mode=failed.trail_mode,
        trail_width=failed.trail_width,
        created_at=now,
        updated_at=now,
    )
