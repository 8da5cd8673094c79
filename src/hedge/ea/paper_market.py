"""The paper terminal's market watch: one bid/ask quote per symbol, rounded to the symbol's digits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedge.domain.errors import ValidationError
from hedge.domain.symbols import SymbolCatalog, SymbolSpec, check_symbol


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    time_ms: int

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


class Market:
    """Current quotes by symbol. Only quoted symbols can be traded or streamed."""

    def __init__(self, catalog: SymbolCatalog | None = None) -> None:
        self._catalog = catalog or SymbolCatalog()
        self._quotes: dict[str, Quote] = {}

    def spec(self, symbol: str) -> SymbolSpec:
        return self._catalog.spec(symbol)

    def set_price(self, symbol: str, bid: Decimal, ask: Decimal, time_ms: int) -> Quote:
        """Quote `symbol` at bid/ask (rounded to its digits); bid must be > 0 and not above ask."""
        check_symbol(symbol)
        step = Decimal(1).scaleb(-self.spec(symbol).digits)
        bid, ask = bid.quantize(step), ask.quantize(step)
        if not bid.is_finite() or bid <= 0:
            raise ValidationError(f"{symbol} bid", f"must be > 0, was {bid}")
        if not ask.is_finite() or ask < bid:
            raise ValidationError(f"{symbol} ask", f"must be >= bid {bid}, was {ask}")
        quote = Quote(symbol, bid, ask, time_ms)
        self._quotes[symbol] = quote
        return quote

    def quote(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def symbols(self) -> tuple[str, ...]:
        return tuple(self._quotes)

    def rate(self, from_currency: str, to_currency: str) -> Decimal | None:
        """Units of `to_currency` per unit of `from_currency` at mid prices, when a pair is quoted."""
        if from_currency == to_currency:
            return Decimal(1)
        direct = self._quotes.get(from_currency + to_currency)
        if direct is not None:
            return direct.mid
        inverse = self._quotes.get(to_currency + from_currency)
        if inverse is not None:
            return 1 / inverse.mid
        return None
