"""Domain values to GraphQL objects (Decimal -> Float at the edge, ids as ID)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from hedge.api import gqltypes as g
from hedge.api import record_types as r
from hedge.domain import models as m
from hedge.domain.account_specs import reported_spec
from hedge.domain.symbols import SymbolSpec


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def user(u: m.User) -> g.User:
    return g.User(
        id=strawberry.ID(u.id),
        email=u.email,
        name=u.name,
        role=u.role,
        pc_status=u.pc_status,
        is_active=u.is_active,
        created_at=u.created_at,
        updated_at=u.updated_at,
    )


def account(a: m.Account) -> g.Account:
    return g.Account(
        id=strawberry.ID(a.id),
        user_id=strawberry.ID(a.user_id),
        broker_type=a.broker_type,
        account_number=a.account_number,
        server_name=a.server_name,
        display_name=a.display_name,
        currency=a.currency,
        leverage=a.leverage,
        balance=_f(a.balance),
        credit=_f(a.credit),
        equity=_f(a.equity),
        margin=_f(a.margin),
        margin_level=_f(a.margin_level),
        connection_status=a.connection_status,
        last_synced_at=a.last_synced_at,
        symbol_map=[g.SymbolMapping(broker_symbol=b, symbol=c) for b, c in sorted(a.symbol_map.items())],
        symbol_specs=[symbol_spec(s) for s in reported_specs(a)],
        margin_mode=a.margin_mode,
        version=a.version,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def position(p: m.Position) -> g.Position:
    return g.Position(
        id=strawberry.ID(p.id),
        user_id=strawberry.ID(p.user_id),
        account_id=strawberry.ID(p.account_id),
        symbol=p.symbol,
        side=p.side,
        volume=float(p.volume),
        status=p.status,
        trail_width=_f(p.trail_width),
        trail_mode=p.trail_mode,
        trigger_action_ids=[strawberry.ID(i) for i in p.trigger_action_ids],
        trail_triggered_at=p.trail_triggered_at,
        trigger_reason=p.trigger_reason,
        trigger_price=_f(p.trigger_price),
        mt_ticket=p.mt_ticket,
        entry_price=_f(p.entry_price),
        entry_time=p.entry_time,
        exit_price=_f(p.exit_price),
        exit_time=p.exit_time,
        exit_reason=p.exit_reason,
        realized_pl=_f(p.realized_pl),
        memo=p.memo,
        filled_volume=_f(p.filled_volume),
        retried_as_position_id=None
        if p.retried_as_position_id is None
        else strawberry.ID(p.retried_as_position_id),
        version=p.version,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def action(a: m.Action) -> g.Action:
    return g.Action(
        id=strawberry.ID(a.id),
        user_id=strawberry.ID(a.user_id),
        account_id=strawberry.ID(a.account_id),
        position_id=strawberry.ID(a.position_id),
        trigger_position_id=None if a.trigger_position_id is None else strawberry.ID(a.trigger_position_id),
        type=a.type,
        status=a.status,
        error_message=a.error_message,
        retry_count=a.retry_count,
        executed_at=a.executed_at,
        expires_at=a.expires_at,
        max_slippage_pips=_f(a.max_slippage_pips),
        client_request_id=a.client_request_id,
        trigger_price=_f(a.trigger_price),
        correlation_id=a.correlation_id,
        version=a.version,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def symbol_spec(s: SymbolSpec) -> g.SymbolSpec:
    return g.SymbolSpec(
        symbol=s.symbol,
        pip_size=float(s.pip_size),
        digits=s.digits,
        contract_size=float(s.contract_size),
        volume_min=float(s.volume_min),
        volume_step=float(s.volume_step),
        volume_max=float(s.volume_max),
        margin_per_lot=_f(s.margin_per_lot),
        tick_value=_f(s.tick_value),
        source=s.source,
    )


def reported_specs(a: m.Account) -> list[SymbolSpec]:
    return [spec for spec in (reported_spec(a, symbol) for symbol in sorted(a.symbol_specs)) if spec]


def control(c: m.TradingControl) -> r.TradingControl:
    return r.TradingControl(
        scope=c.scope,
        target_id=None if c.target_id is None else strawberry.ID(c.target_id),
        state=c.state,
        reason=c.reason,
        updated_at=c.updated_at,
        updated_by=None if c.updated_by is None else strawberry.ID(c.updated_by),
        governs=c.user_id,
    )
