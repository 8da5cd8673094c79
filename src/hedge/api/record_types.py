"""GraphQL types of the trade record (next/record.graphql): trading controls, changes, hedge
plans, settlement and exposure."""

from __future__ import annotations

from datetime import datetime

import strawberry

from hedge.api import gqltypes as g
from hedge.domain import enums


@strawberry.type
class TradingControl:
    scope: enums.TradingScope
    target_id: strawberry.ID | None = strawberry.field(description="null for GLOBAL")
    state: enums.TradingState
    reason: str | None
    updated_at: datetime
    updated_by: strawberry.ID | None
    governs: strawberry.Private[str]  # whose rows it governs ("" for GLOBAL): who may see it


@strawberry.input
class SetTradingStateInput:
    scope: enums.TradingScope
    state: enums.TradingState
    reason: str
    target_id: strawberry.ID | None = None


@strawberry.type(description="Who or what made one version of a row")
class Change:
    entity: str
    id: strawberry.ID
    version: int
    at: datetime
    by: strawberry.ID | None = strawberry.field(description="the credential's user; null for a server rule")
    source: enums.ChangeSource
    fields: list[str]
    reason: str | None


@strawberry.input
class SettlePositionInput:
    id: strawberry.ID
    status: enums.PositionStatus
    reason: str
    mt_ticket: str | None = None
    entry_price: float | None = None
    entry_time: datetime | None = None
    filled_volume: float | None = None
    exit_price: float | None = None
    exit_time: datetime | None = None
    exit_reason: enums.ExitReason | None = None
    realized_pl: float | None = strawberry.field(default=None, name="realizedPL")


@strawberry.input
class HedgeLegInput:
    account_id: strawberry.ID
    symbol: str
    side: enums.Side
    volume: float
    max_slippage_pips: float | None = None


@strawberry.input
class CreateHedgePlanInput:
    entry: g.CreateActionInput
    hedges: list[HedgeLegInput]
    client_request_id: str | None = None


@strawberry.type
class HedgePlanPayload:
    entry_action: g.Action
    entry_position: g.Position
    hedge_actions: list[g.Action]
    hedge_positions: list[g.Position]


@strawberry.type(description="Lots on one symbol: BUY is long, SELL is short")
class ExposureLine:
    symbol: str
    net_lots: float
    long_lots: float
    short_lots: float


@strawberry.type
class UserExposure:
    user_id: strawberry.ID
    lines: list[ExposureLine]


@strawberry.type(description="One hedge: a position and the positions its trigger actions open")
class HedgeExposure:
    head_position_id: strawberry.ID
    position_ids: list[strawberry.ID]
    lines: list[ExposureLine]


@strawberry.type(description="Positions that hold or may hold an order: OPENING, OPEN, CLOSING")
class Exposure:
    by_user: list[UserExposure]
    by_hedge: list[HedgeExposure]
    overall: list[ExposureLine]
    unpaired_legs: list[g.Position] = strawberry.field(
        description="live legs of a fired hedge whose other legs are not live"
    )
