"""`reportPositionFigures` (an agent's 30 s figures of its OPEN positions) and `Position.figures`.

The figures never touch the position row (no version, no history, no change feed): a report is
one transaction that keeps the latest per position. `Position.figures` reads them for every
position of a response in one query (a DataLoader per request, without a cache, so a long-lived
subscription context never serves old figures).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from hedge.api.context import Context
from hedge.domain import figures as f
from hedge.domain.values import to_decimal
from hedge.store import figures as store


@strawberry.type(
    description="A position's price and P/L as its agent last reported them (every 30 s), not live"
)
class PositionFigures:
    price: float | None = strawberry.field(description="the closing price (BUY: bid, SELL: ask)")
    unrealized_pl: float | None = strawberry.field(name="unrealizedPL")
    currency: str | None = strawberry.field(description="of unrealizedPL")
    trail_distance_pips: float | None = strawberry.field(
        description="pips the price must still move before the trail fires; null without a watched trail"
    )
    at: datetime = strawberry.field(description="the time of the price these figures come from")


@strawberry.input
class PositionFiguresInput:
    position_id: strawberry.ID
    at: datetime
    price: float | None = None
    unrealized_pl: float | None = strawberry.field(default=None, name="unrealizedPL")
    currency: str | None = None
    trail_distance_pips: float | None = None


@strawberry.input
class ReportPositionFiguresInput:
    figures: list[PositionFiguresInput]


@strawberry.type
class ReportPositionFiguresPayload:
    recorded: int = strawberry.field(description="positions whose figures were replaced")
    ignored: int = strawberry.field(description="positions that already held newer figures")


def _d(value: float | None, name: str) -> Decimal | None:
    return None if value is None else to_decimal(value, name)


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def shown(figures: f.PositionFigures) -> PositionFigures:
    return PositionFigures(
        price=_f(figures.price),
        unrealized_pl=_f(figures.unrealized_pl),
        currency=figures.currency,
        trail_distance_pips=_f(figures.trail_distance_pips),
        at=figures.at,
    )


async def figures_of(info: Info[Context, None], position_id: str) -> PositionFigures | None:
    """The figures of one position of a response (batched with the others of the response)."""
    c = info.context
    loader = c.loaders.get("figures")
    if loader is None:

        async def load(ids: list[str]) -> list[f.PositionFigures | None]:
            found = await c.run(store.read, c.services.store.engine, ids)
            return [found.get(i) for i in ids]

        loader = c.loaders["figures"] = DataLoader(load_fn=load, cache=False)
    found = await loader.load(position_id)
    return None if found is None else shown(found)


@strawberry.type
class FiguresMutation:
    @strawberry.mutation
    async def report_position_figures(
        self, info: Info[Context, None], input: ReportPositionFiguresInput
    ) -> ReportPositionFiguresPayload:
        """An agent's figures of its user's positions, each with the time of its price; the latest
        per position is kept. Only a position's owner may report them (its agent)."""
        c = info.context.rated()
        report = [
            f.PositionFigures(
                position_id=str(i.position_id),
                price=_d(i.price, "price"),
                unrealized_pl=_d(i.unrealized_pl, "unrealizedPL"),
                currency=i.currency,
                trail_distance_pips=_d(i.trail_distance_pips, "trailDistancePips"),
                at=i.at,
            )
            for i in input.figures
        ]
        recorded = await c.run(store.record, c.services.store.engine, c.actor, report, c.services.store.now())
        return ReportPositionFiguresPayload(recorded=recorded, ignored=len(report) - recorded)
