"""The GraphQL types of the contract (../shared/contract/schema.graphql), as Strawberry classes.

Field names are snake_case here and camelCase on the wire (Strawberry's default conversion).
Enums are the domain's own StrEnums, registered with Strawberry.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from hedge.domain import enums
from hedge.domain.values import iso_ms, parse_iso

for _enum in (
    enums.UserRole,
    enums.PCStatus,
    enums.BrokerType,
    enums.ConnectionStatus,
    enums.Side,
    enums.PositionStatus,
    enums.ActionType,
    enums.ActionStatus,
    enums.TrailMode,
    enums.ExitReason,
    enums.TriggerReason,
    enums.ChangeSource,
    enums.TradingScope,
    enums.TradingState,
):
    strawberry.enum(_enum)

# every `datetime` field is this scalar (the schema maps it through StrawberryConfig.scalar_map)
DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description='ISO-8601 UTC with milliseconds, e.g. "2026-11-25T12:00:00.123Z"',
    serialize=iso_ms,
    parse_value=lambda value: parse_iso(value, "DateTime"),
)


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    name: str
    role: enums.UserRole
    pc_status: enums.PCStatus
    is_active: bool
    created_at: datetime
    updated_at: datetime


@strawberry.type(description="A broker's name for a symbol and the canonical symbol it stands for")
class SymbolMapping:
    broker_symbol: str
    symbol: str


@strawberry.input
class SymbolMappingInput:
    broker_symbol: str
    symbol: str


@strawberry.type(description="A symbol's spec for an account: its terminal's, configured or built in")
class SymbolSpec:
    symbol: str
    pip_size: float
    digits: int
    contract_size: float
    volume_min: float
    volume_step: float
    volume_max: float
    margin_per_lot: float | None = strawberry.field(
        description="in the account currency, as the terminal computes it"
    )
    tick_value: float | None
    source: str = strawberry.field(description="TERMINAL, CONFIG or BUILTIN")


@strawberry.input(description="A symbol as the account's terminal reports it (canonical name)")
class SymbolSpecInput:
    symbol: str
    digits: int
    point: float
    contract_size: float
    volume_min: float
    volume_step: float
    volume_max: float
    margin_per_lot: float | None = None
    tick_value: float | None = None


@strawberry.type
class Account:
    id: strawberry.ID
    user_id: strawberry.ID
    broker_type: enums.BrokerType
    account_number: str
    server_name: str
    display_name: str
    currency: str
    leverage: int | None
    balance: float | None
    credit: float | None
    equity: float | None
    margin: float | None
    margin_level: float | None
    connection_status: enums.ConnectionStatus
    last_synced_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    symbol_map: list[SymbolMapping] = strawberry.field(
        description="broker symbol names (USDJPY.m, #XAUUSD) and the canonical symbols they stand for"
    )
    symbol_specs: list[SymbolSpec] = strawberry.field(description="what the account's terminal reported")
    margin_mode: str | None = strawberry.field(description="HEDGING, NETTING or EXCHANGE")


@strawberry.type
class Position:
    id: strawberry.ID
    user_id: strawberry.ID
    account_id: strawberry.ID
    symbol: str
    side: enums.Side
    volume: float = strawberry.field(description="lots")
    status: enums.PositionStatus
    trail_width: float | None = strawberry.field(description="pips; null = not monitored")
    trail_mode: enums.TrailMode
    trigger_action_ids: list[strawberry.ID]
    trail_triggered_at: datetime | None
    trigger_reason: enums.TriggerReason | None = strawberry.field(
        description="why the trigger actions fired (audit trail)"
    )
    trigger_price: float | None = strawberry.field(description="the price that met the condition")
    mt_ticket: str | None
    entry_price: float | None
    entry_time: datetime | None
    exit_price: float | None
    exit_time: datetime | None
    exit_reason: enums.ExitReason | None
    realized_pl: float | None = strawberry.field(name="realizedPL")
    memo: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    retried_as_position_id: strawberry.ID | None = None
    filled_volume: float | None = strawberry.field(
        default=None, description="lots the terminal filled; less than volume on a partial fill"
    )


@strawberry.type
class Action:
    id: strawberry.ID
    user_id: strawberry.ID
    account_id: strawberry.ID
    position_id: strawberry.ID
    trigger_position_id: strawberry.ID | None
    type: enums.ActionType
    status: enums.ActionStatus
    error_message: str | None
    retry_count: int
    executed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = strawberry.field(
        default=None, description="EXECUTING must be taken up by its owner's agent by then"
    )
    max_slippage_pips: float | None = None
    client_request_id: str | None = None
    trigger_price: float | None = strawberry.field(
        default=None,
        description="the price that met its trigger, on this action's symbol; null when started by hand",
    )
    correlation_id: str | None = strawberry.field(
        default=None,
        description="the trigger that moved it to EXECUTING, as every process's logs name it"
        " (agent 1's id, or the server's for a stop-out or a manual execute)",
    )


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: enums.UserRole


@strawberry.type
class CreateUserPayload:
    user: User
    token: str = strawberry.field(description="shown once; the server stores only a hash")


@strawberry.input
class CreateAccountInput:
    user_id: strawberry.ID
    broker_type: enums.BrokerType
    account_number: str
    server_name: str
    display_name: str
    currency: str | None = None
    leverage: int | None = None
    symbol_map: list[SymbolMappingInput] | None = None


@strawberry.input
class UpdateAccountInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.UNSET
    display_name: str | None = strawberry.UNSET
    balance: float | None = strawberry.UNSET
    credit: float | None = strawberry.UNSET
    equity: float | None = strawberry.UNSET
    margin: float | None = strawberry.UNSET
    margin_level: float | None = strawberry.UNSET
    connection_status: enums.ConnectionStatus | None = strawberry.UNSET
    leverage: int | None = strawberry.UNSET
    symbol_map: list[SymbolMappingInput] | None = strawberry.UNSET
    symbol_specs: list[SymbolSpecInput] | None = strawberry.UNSET
    margin_mode: str | None = strawberry.UNSET


@strawberry.input
class CreateActionInput:
    type: enums.ActionType
    account_id: strawberry.ID
    user_id: strawberry.ID | None = None
    position_id: strawberry.ID | None = None
    symbol: str | None = None
    side: enums.Side | None = None
    volume: float | None = None
    trail_width: float | None = None
    trail_mode: enums.TrailMode | None = None
    client_request_id: str | None = strawberry.field(
        default=None, description="a retry with the same id (same caller) returns the first result"
    )
    max_slippage_pips: float | None = None


@strawberry.type
class CreateActionPayload:
    action: Action
    position: Position


@strawberry.input
class UpdatePositionInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.UNSET
    status: enums.PositionStatus | None = strawberry.UNSET
    trail_width: float | None = strawberry.UNSET
    trail_mode: enums.TrailMode | None = strawberry.UNSET
    trigger_action_ids: list[strawberry.ID] | None = strawberry.UNSET
    mt_ticket: str | None = strawberry.UNSET
    entry_price: float | None = strawberry.UNSET
    entry_time: datetime | None = strawberry.UNSET
    exit_price: float | None = strawberry.UNSET
    exit_time: datetime | None = strawberry.UNSET
    exit_reason: enums.ExitReason | None = strawberry.UNSET
    realized_pl: float | None = strawberry.field(default=strawberry.UNSET, name="realizedPL")
    memo: str | None = strawberry.UNSET
    filled_volume: float | None = strawberry.UNSET


@strawberry.input
class UpdateActionInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.UNSET
    status: enums.ActionStatus | None = strawberry.UNSET
    error_message: str | None = strawberry.UNSET
    retry_count: int | None = strawberry.UNSET


@strawberry.input
class TriggerActionsInput:
    position_id: strawberry.ID
    reason: enums.TriggerReason
    price: float | None = strawberry.field(
        default=None, description="the price that met the condition, kept for the audit trail"
    )
    price_time: datetime | None = strawberry.field(
        default=None, description="the EA's time of that price; trailTriggeredAt takes it"
    )
    correlation_id: str | None = strawberry.field(
        default=None,
        description="the caller's id for this trigger decision (1-128 of A-Z a-z 0-9 . _ : -),"
        " kept on each action it moves and logged by every process; the server makes one if none",
    )


@strawberry.type
class TriggerActionsPayload:
    position: Position
    actions: list[Action] = strawberry.field(description="the actions this call moved PENDING -> EXECUTING")
