"""Resolvers of the trade record: history, changes, trading controls, symbol specs, exposure,
settlePosition, setTradingState, createHedgePlan and onUpdateTradingControl."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import strawberry
from strawberry.types import Info

from hedge.api import convert
from hedge.api import gqltypes as g
from hedge.api import record_types as r
from hedge.api.context import Context
from hedge.api.images import image
from hedge.domain import exposure as x
from hedge.domain.creation import EntryRequest
from hedge.domain.enums import ActionType
from hedge.domain.errors import ValidationError
from hedge.store.history import Change
from hedge.store.plans import LegRequest, Plan


def change(c: Change) -> r.Change:
    return image(c, r.Change)


def _lines(lines: tuple[x.Line, ...]) -> list[r.ExposureLine]:
    return [r.ExposureLine(symbol=i.symbol, net_lots=float(i.net_lots), long_lots=float(i.long_lots),
                           short_lots=float(i.short_lots)) for i in lines]  # fmt: skip


def plan(p: Plan) -> r.HedgePlanPayload:
    return r.HedgePlanPayload(
        entry_action=convert.action(p.entry_action),
        entry_position=convert.position(p.entry_position),
        hedge_actions=[convert.action(a) for a in p.hedge_actions],
        hedge_positions=[convert.position(p) for p in p.hedge_positions],
    )


@strawberry.type
class RecordQuery:
    @strawberry.field
    async def position_history(self, info: Info[Context, None], id: strawberry.ID) -> list[g.Position]:
        c = info.context
        versions = await c.run(c.services.store.position_history, c.actor, str(id))
        return [convert.position(p) for p in versions]

    @strawberry.field
    async def changes(
        self,
        info: Info[Context, None],
        position_id: strawberry.ID | None = None,
        action_id: strawberry.ID | None = None,
    ) -> list[r.Change]:
        c = info.context
        found = await c.run(
            c.services.store.changes,
            c.actor,
            None if position_id is None else str(position_id),
            None if action_id is None else str(action_id),
        )
        return [change(i) for i in found]

    @strawberry.field
    async def trading_controls(self, info: Info[Context, None]) -> list[r.TradingControl]:
        c = info.context
        return [convert.control(i) for i in await c.run(c.services.store.trading_controls, c.actor)]

    @strawberry.field
    async def symbol_specs(
        self, info: Info[Context, None], account_id: strawberry.ID | None = None
    ) -> list[g.SymbolSpec]:
        c = info.context
        found = await c.run(
            c.services.store.symbol_specs, c.actor, None if account_id is None else str(account_id)
        )
        return [convert.symbol_spec(s) for s in found]

    @strawberry.field
    async def exposure(self, info: Info[Context, None]) -> r.Exposure:
        c = info.context
        found = await c.run(c.services.store.exposure, c.actor)
        return r.Exposure(
            by_user=[
                r.UserExposure(user_id=strawberry.ID(u.user_id), lines=_lines(u.lines)) for u in found.by_user
            ],
            by_hedge=[
                r.HedgeExposure(
                    head_position_id=strawberry.ID(h.head_position_id),
                    position_ids=[strawberry.ID(i) for i in h.position_ids],
                    lines=_lines(h.lines),
                )
                for h in found.by_hedge
            ],
            overall=_lines(found.overall),
            unpaired_legs=[convert.position(p) for p in found.unpaired_legs],
        )


@strawberry.type
class RecordMutation:
    @strawberry.mutation
    async def set_trading_state(
        self, info: Info[Context, None], input: r.SetTradingStateInput
    ) -> r.TradingControl:
        c = info.context.rated()
        made = await c.run(
            c.services.store.set_trading_state,
            c.actor,
            input.scope,
            None if input.target_id is None else str(input.target_id),
            input.state,
            input.reason,
        )
        return convert.control(made)

    @strawberry.mutation
    async def settle_position(self, info: Info[Context, None], input: r.SettlePositionInput) -> g.Position:
        c = info.context.rated()
        names = ("mt_ticket", "entry_price", "entry_time", "filled_volume", "exit_price", "exit_time",
                 "exit_reason", "realized_pl")  # fmt: skip
        facts = {name: getattr(input, name) for name in names}
        settled = await c.run(
            c.services.store.settle_position, c.actor, str(input.id), input.status, facts, input.reason
        )
        return convert.position(c.written(settled))

    @strawberry.mutation
    async def create_hedge_plan(
        self, info: Info[Context, None], input: r.CreateHedgePlanInput
    ) -> r.HedgePlanPayload:
        c = info.context.rated()
        e = input.entry
        if e.type is not ActionType.ENTRY:
            raise ValidationError("entry.type", f"must be ENTRY, was {e.type.value}")
        if e.position_id is not None:
            raise ValidationError("entry.positionId", "must be omitted (the plan creates the position)")
        request = EntryRequest(e.symbol, e.side, e.volume, e.trail_width, e.trail_mode)
        legs = [
            LegRequest(str(h.account_id), h.symbol, h.side, h.volume, h.max_slippage_pips)
            for h in input.hedges
        ]
        made = await c.run(
            c.services.store.create_hedge_plan,
            c.actor,
            str(e.account_id),
            request,
            legs,
            input.client_request_id if input.client_request_id is not None else e.client_request_id,
        )
        for action in (made.entry_action, *made.hedge_actions):
            c.services.cache.written(action)
        for position in (made.entry_position, *made.hedge_positions):
            c.services.cache.written(position)
        return plan(made)


@strawberry.type
class RecordSubscription:
    @strawberry.subscription
    async def on_update_trading_control(self, info: Info[Context, None]) -> AsyncIterator[r.TradingControl]:
        c = info.context
        actor = c.actor  # raises before any data without a credential
        broker = c.services.broker

        async def generate() -> AsyncGenerator[r.TradingControl, None]:
            async with broker.subscribe("TradingControl", "ANY", None) as sub:
                while True:
                    value = await broker.next_value(sub)
                    if actor.is_admin or value.governs in ("", actor.user_id):
                        yield value

        return generate()
