"""Domain values to GraphQL objects (Decimal -> Float at the edge, ids as ID)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from hedge.api import gqltypes as g
from hedge.domain import models as m


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
        version=a.version,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )
