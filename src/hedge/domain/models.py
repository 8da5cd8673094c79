"""The entities of the contract as frozen values. A change makes a new value (`replace`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hedge.domain.enums import (
    ActionStatus,
    ActionType,
    AlertKind,
    AlertSeverity,
    BrokerType,
    ConnectionStatus,
    ExitReason,
    PCStatus,
    PositionStatus,
    Side,
    TradingScope,
    TradingState,
    TrailMode,
    TriggerReason,
    UserRole,
)
from hedge.domain.ids import AccountId, ActionId, PositionId, UserId


@dataclass(frozen=True, slots=True)
class User:
    id: UserId
    email: str
    name: str
    role: UserRole
    pc_status: PCStatus
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class Account:
    id: AccountId
    user_id: UserId
    broker_type: BrokerType
    account_number: str
    server_name: str
    display_name: str
    currency: str
    connection_status: ConnectionStatus
    created_at: datetime
    updated_at: datetime
    leverage: int | None = None
    balance: Decimal | None = None
    credit: Decimal | None = None
    equity: Decimal | None = None
    margin: Decimal | None = None
    margin_level: Decimal | None = None
    last_synced_at: datetime | None = None
    # broker symbol -> canonical symbol, e.g. {"USDJPY.m": "USDJPY"}
    symbol_map: dict[str, str] = field(default_factory=dict)
    # what the account's terminal reported (SYMBOLS): canonical symbol -> spec fields as text
    symbol_specs: dict[str, dict[str, str]] = field(default_factory=dict)
    margin_mode: str | None = None  # HEDGING, NETTING or EXCHANGE, as the EA reported
    version: int = 1


@dataclass(frozen=True, slots=True)
class Position:
    id: PositionId
    user_id: UserId
    account_id: AccountId
    symbol: str
    side: Side
    volume: Decimal
    status: PositionStatus
    trail_mode: TrailMode
    created_at: datetime
    updated_at: datetime
    trail_width: Decimal | None = None
    trigger_action_ids: tuple[ActionId, ...] = ()
    trail_triggered_at: datetime | None = None
    trigger_reason: TriggerReason | None = None  # why the trigger actions fired (audit trail)
    trigger_price: Decimal | None = None  # the price that met the condition (audit trail)
    mt_ticket: str | None = None
    entry_price: Decimal | None = None
    entry_time: datetime | None = None
    exit_price: Decimal | None = None
    exit_time: datetime | None = None
    exit_reason: ExitReason | None = None
    realized_pl: Decimal | None = None
    memo: str | None = None
    filled_volume: Decimal | None = None  # lots the terminal filled (less than volume: partial)
    retried_as_position_id: PositionId | None = None  # the fresh position of a retried ENTRY
    version: int = 1


@dataclass(frozen=True, slots=True)
class Action:
    id: ActionId
    user_id: UserId
    account_id: AccountId
    position_id: PositionId
    type: ActionType
    status: ActionStatus
    created_at: datetime
    updated_at: datetime
    trigger_position_id: PositionId | None = None
    error_message: str | None = None
    retry_count: int = 0
    executed_at: datetime | None = None
    expires_at: datetime | None = None  # EXECUTING must be taken up by then (HEDGE_ACTION_TTL_S)
    max_slippage_pips: Decimal | None = None
    client_request_id: str | None = None
    # the price that met its trigger, on this action's symbol (None: started by hand, or the
    # trigger was on another symbol): what the agent checks maxSlippagePips against
    trigger_price: Decimal | None = None
    correlation_id: str | None = None  # the trigger that started it, in every process's logs
    version: int = 1


@dataclass(frozen=True, slots=True)
class TradingControl:
    """One kill-switch setting. `id` is "SCOPE:target"; `user_id` is whose rows it governs
    ("" for GLOBAL: everyone's), which is who may read it."""

    id: str
    user_id: str
    scope: TradingScope
    target_id: str | None
    state: TradingState
    updated_at: datetime
    reason: str | None = None
    updated_by: UserId | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Alert:
    """Something the system could not settle by itself, or did not expect (never deleted)."""

    id: str
    user_id: UserId
    kind: AlertKind
    severity: AlertSeverity
    message: str
    created_at: datetime
    last_seen_at: datetime
    account_id: AccountId | None = None
    position_id: PositionId | None = None
    action_id: ActionId | None = None
    related_position_ids: tuple[PositionId, ...] = ()
    count: int = 1  # times the same open condition was raised
    requires_action: bool = False
    acknowledged_at: datetime | None = None
    acknowledged_by: UserId | None = None
    resolved_at: datetime | None = None
    resolved_by: UserId | None = None  # None: the system resolved it itself
    note: str | None = None
    escalated_at: datetime | None = None
    version: int = 1
