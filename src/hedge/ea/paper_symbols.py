"""SYMBOLS on the paper terminal: each quoted symbol's figures as a MetaTrader terminal reports them.

digits, point, contract size and volume limits come from the symbol's spec; `marginPerLot` is the
margin one lot needs now (notional / leverage, in the account currency) and `tickValue` what one
point's move of one lot is worth in the account currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from hedge.ea import paper_account as acct
from hedge.ea.paper_market import Market
from hedge.ea.protocol import SymbolInfo, Symbols

TICK_VALUE_PLACES = Decimal("0.00001")


def symbol_info(symbol: str, market: Market, currency: str, leverage: int) -> SymbolInfo:
    spec = market.spec(symbol)
    margin = acct.margin_for(symbol, Decimal(1), market, currency, leverage)
    tick_value = acct.value_of_point(symbol, market, currency).quantize(TICK_VALUE_PLACES)
    return SymbolInfo(
        symbol, spec.digits, Decimal(1).scaleb(-spec.digits), spec.contract_size,
        spec.volume_min, spec.volume_step, spec.volume_max, margin, tick_value,
    )  # fmt: skip


def symbols_message(symbols: Iterable[str], market: Market, currency: str, leverage: int) -> Symbols:
    """SYMBOLS for those of `symbols` the terminal quotes (others are left out)."""
    return Symbols(
        tuple(symbol_info(s, market, currency, leverage) for s in dict.fromkeys(symbols) if market.quote(s))
    )
