"""Money on the paper terminal: held positions, floating profit, margin and the account snapshot.

Profit is (close - open) x volume x contract size in the symbol's quote currency, converted to the
account currency at the current mid price of a quoted pair (USDJPY in a USD account: JPY / USDJPY
mid). Margin is the notional at the current price / leverage, converted the same way. A symbol
whose currencies cannot be converted (no pair quoted) counts 1:1: quote the pair to be exact. Money is rounded
to cents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hedge.domain.enums import Side
from hedge.ea.paper_market import Market

CENT = Decimal("0.01")
_PAIR = re.compile(r"^([A-Z]{3})([A-Z]{3})$")


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """An open position on the terminal. `position_id` is None for positions not from the system."""

    ticket: str
    position_id: str | None
    symbol: str
    side: Side
    volume: Decimal
    open_price: Decimal
    open_time_ms: int
    comment: str


@dataclass(frozen=True, slots=True)
class CloseRecord:
    """How a ticket was closed; a repeated CLOSE answers with it."""

    ticket: str
    position_id: str | None
    price: Decimal
    time_ms: int
    profit: Decimal
    reason: str  # "CLOSE" for the agent's CLOSE, else the STOPPED reason


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def quote_currency(symbol: str, account_currency: str) -> str:
    """The currency a symbol's prices are in (the last three letters of a pair)."""
    pair = _PAIR.match(symbol)
    return pair.group(2) if pair else account_currency


def to_account(amount: Decimal, currency: str, account_currency: str, market: Market) -> Decimal:
    rate = market.rate(currency, account_currency)
    return amount * rate if rate is not None else amount


def closing_price(position: HeldPosition, market: Market) -> Decimal:
    """The price the position closes at now: BUY at bid, SELL at ask."""
    quote = market.quote(position.symbol)
    if quote is None:
        return position.open_price
    return quote.bid if position.side is Side.BUY else quote.ask


def profit_at(position: HeldPosition, close_price: Decimal, market: Market, account_currency: str) -> Decimal:
    direction = 1 if position.side is Side.BUY else -1
    contract = market.spec(position.symbol).contract_size
    in_quote = (close_price - position.open_price) * direction * position.volume * contract
    return money(
        to_account(in_quote, quote_currency(position.symbol, account_currency), account_currency, market)
    )


def floating_profit(position: HeldPosition, market: Market, account_currency: str) -> Decimal:
    return profit_at(position, closing_price(position, market), market, account_currency)


def margin_for(symbol: str, volume: Decimal, market: Market, account_currency: str, leverage: int) -> Decimal:
    quote = market.quote(symbol)
    current = quote.mid if quote is not None else Decimal(0)
    notional = volume * market.spec(symbol).contract_size * current
    return money(
        to_account(notional, quote_currency(symbol, account_currency), account_currency, market) / leverage
    )


@dataclass(frozen=True, slots=True)
class AccountState:
    balance: Decimal
    credit: Decimal
    equity: Decimal
    margin: Decimal
    margin_level: Decimal  # percent; 0 when no margin is used

    @property
    def free_margin(self) -> Decimal:
        return self.equity - self.margin
