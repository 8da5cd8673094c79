"""What the agent shows of its state on /healthz: OPEN positions marked to the last quote, and
the order trackers that wait for a terminal's word."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from hedge.domain.enums import PositionStatus, Side
from hedge.domain.models import Position
from hedge.domain.orders import OrderState
from hedge.domain.trail import closing_price

if TYPE_CHECKING:
    from hedge.agent.core import AgentCore


def unrealized(core: AgentCore, pos: Position) -> tuple[Decimal, Decimal, str | None] | None:
    """(currentPrice, unrealizedPL, its currency) of an OPEN position, from the last quote.

    In the account currency when the terminal reported the symbol's tickValue (SYMBOLS), else the
    terminal's own profit from the last POSITIONS, else in the quote currency from the contract
    size. Kept locally and worked out when asked, never written per tick (the seed's LocalCache)."""
    quote = core.quotes.get((pos.account_id, pos.symbol))
    if quote is None or pos.entry_price is None:
        return None
    current = closing_price(pos.side, quote.bid, quote.ask)
    sign = 1 if pos.side is Side.BUY else -1
    account = core.state.accounts.get(pos.account_id)
    currency = account.currency if account is not None else None
    term = core.terminals.get(pos.account_id)
    info = term.symbols.get(pos.symbol) if term is not None else None
    if info is not None and info.tick_value is not None:
        points = (current - pos.entry_price) * sign / info.point
        return current, points * info.tick_value * pos.volume, currency
    report = term.reports.get(pos.id) if term is not None else None
    if report is not None:
        return current, report.profit, currency
    spec = core.catalog.spec(pos.symbol)
    quote_currency = pos.symbol[3:] if len(pos.symbol) == 6 else None
    return current, (current - pos.entry_price) * sign * pos.volume * spec.contract_size, quote_currency


def open_positions(core: AgentCore) -> list[dict[str, object]]:
    """The OPEN positions with their current price and unrealized P/L, for the agent's /healthz."""
    shown: list[dict[str, object]] = []
    for pos in core.state.positions_in(PositionStatus.OPEN):
        marked = unrealized(core, pos)
        shown.append(
            {
                "positionId": pos.id,
                "accountId": pos.account_id,
                "symbol": pos.symbol,
                "side": pos.side.value,
                "volume": str(pos.volume),
                "entryPrice": None if pos.entry_price is None else str(pos.entry_price),
                "currentPrice": None if marked is None else str(marked[0]),
                "unrealizedPL": None if marked is None else str(marked[1]),
                "plCurrency": None if marked is None else marked[2],
                "quoteCurrency": pos.symbol[3:] if len(pos.symbol) == 6 else None,
            }
        )
    return shown


def orders_view(core: AgentCore) -> list[dict[str, object]]:
    """Each tracker that is not simply HELD, for /healthz: what waits for a terminal's word."""
    return [
        {
            "positionId": t.position_id,
            "accountId": t.account_id,
            "state": t.state.value,
            "command": t.kind or None,
            "failure": t.failure,
        }
        for t in core.orders.values()
        if t.state is not OrderState.HELD
    ]
