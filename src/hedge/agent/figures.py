"""The agent's report of its OPEN positions' figures for the console, at the seed's 30 s priority.

Prices stay on the trading PC: the server sees, every account push interval (30 s), each OPEN
position's closing price, unrealized P/L and the distance of its trail from the trigger, worked
out from the last quote and marked with that quote's time, never as if live. A report is best
effort: it never holds up an order, and a refused one is logged and replaced by the next.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING

from hedge.agent import views
from hedge.agent.wire import gql_value
from hedge.domain.enums import PositionStatus
from hedge.domain.figures import MAX_REPORT, PositionFigures, trail_distance_pips
from hedge.domain.models import Position
from hedge.domain.values import utc_from_ms

if TYPE_CHECKING:
    from hedge.agent.core import AgentCore
    from hedge.agent.link import ServerLink

log = logging.getLogger(__name__)

REPORT = """mutation ($input: ReportPositionFiguresInput!) {
  reportPositionFigures(input: $input) { recorded ignored } }"""


def distance(core: AgentCore, pos: Position, price: Decimal) -> Decimal | None:
    """Pips from `price` to the trail's trigger, for a position the trail book watches."""
    if pos.id not in core.book or pos.trail_width is None or pos.entry_price is None:
        return None
    best = core.book.best_price(pos.id) or pos.entry_price
    pip = core.catalog.spec(pos.symbol).pip_size
    return trail_distance_pips(pos.side, pos.trail_mode, pos.entry_price, best, pos.trail_width, pip, price)


def figures(core: AgentCore, now_ms: int) -> list[PositionFigures]:
    """The figures of every OPEN position with a quote, each at its quote's time (never later
    than now: a terminal clock ahead of the PC's would have the report refused)."""
    found: list[PositionFigures] = []
    for pos in core.state.positions_in(PositionStatus.OPEN):
        marked = views.unrealized(core, pos)
        quote = core.quotes.get((pos.account_id, pos.symbol))
        if marked is None or quote is None:
            continue
        price, pl, currency = marked
        found.append(
            PositionFigures(
                position_id=pos.id,
                price=price,
                unrealized_pl=pl,
                currency=currency,
                trail_distance_pips=distance(core, pos, price),
                at=utc_from_ms(min(quote.time_ms, now_ms)),
            )
        )
    return found[:MAX_REPORT]


def report_input(found: list[PositionFigures]) -> dict[str, object]:
    return {
        "figures": [
            {
                "positionId": f.position_id,
                "price": gql_value(f.price),
                "unrealizedPL": gql_value(f.unrealized_pl),
                "currency": f.currency,
                "trailDistancePips": gql_value(f.trail_distance_pips),
                "at": gql_value(f.at),
            }
            for f in found
        ]
    }


async def report(link: ServerLink, core: AgentCore) -> int:
    """Send the figures of the OPEN positions; how many the server recorded (0: none to send)."""
    found = figures(core, int(time.time() * 1000))
    if not found:
        return 0
    data = await link.mutate(REPORT, {"input": report_input(found)})
    recorded = int(data["reportPositionFigures"]["recorded"])
    log.debug("position figures: %d sent, %d recorded", len(found), recorded)
    return recorded
