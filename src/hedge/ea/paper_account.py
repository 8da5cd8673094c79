"""Money on the paper terminal: held positions, floating profit, margin and the account snapshot.

Profit is (close - open) x volume x contract size in the symbol's quote currency, converted to the
account currency at the current mid price of a quoted pair (USDJPY in a USD account: JPY / USDJPY
mid). Margin is the notional at the current price / leverage, converted the same way. A symbol
whose currencies cannot be converted (no pair quoted) counts 1:1: quote the pair to be exact. Money is rounded
to cents.

Profit on the wire is net: gross + swap + commission (`Costs`). Commission is charged per lot on
each side (the entry side counts in the floating profit, both sides at the close); swap per lot for
every 00:00 UTC rollover the position was held over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hedge.domain.enums import Side
from hedge.ea.paper_market import Market

MS_PER_DAY = 86_400_000

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
    comment: str  # as the broker keeps it (maybe cut to its comment limit)
    magic: int = 0
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CloseRecord:
    """How a ticket was closed (the terminal's deal history); a repeated CLOSE answers with it."""

    ticket: str
    position_id: str | None
    price: Decimal
    time_ms: int
    profit: Decimal  # net: gross + swap + commission
    reason: str  # "CLOSE" for the agent's CLOSE, else the StopReason value
    swap: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Costs:
    """What the broker charges besides the price move, in the account currency."""

    commission_per_lot: Decimal = Decimal(0)  # per lot and side, charged as a negative amount
    swap_per_lot_day: Decimal = Decimal(0)  # per lot and rollover, signed as the broker books it

    def commission(self, volume: Decimal, sides: int) -> Decimal:
        return money(-self.commission_per_lot * volume * sides)

    def swap(self, position: HeldPosition, now_ms: int) -> Decimal:
        rollovers = max(0, now_ms // MS_PER_DAY - position.open_time_ms // MS_PER_DAY)
        return money(self.swap_per_lot_day * position.volume * rollovers)


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
    """The gross floating profit (price move only)."""
    return profit_at(position, closing_price(position, market), market, account_currency)


def value_of_point(symbol: str, market: Market, account_currency: str) -> Decimal:
    """What one point's move of one lot is worth in the account currency (MT's tick value)."""
    spec = market.spec(symbol)
    point = Decimal(1).scaleb(-spec.digits)
    in_quote = point * spec.contract_size
    return to_account(in_quote, quote_currency(symbol, account_currency), account_currency, market)


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
