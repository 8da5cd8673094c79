"""Price feeds for the paper terminal: a seeded random walk, a still market, or a CSV replay.

A feed yields, per tick, the (symbol, bid, ask) quotes to apply. The time on the frames is the
terminal clock's, not the feed's: a replay plays one timeMs group of rows per tick.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from hedge.domain.errors import ValidationError
from hedge.domain.symbols import default_spec
from hedge.domain.values import price

START_PRICES: dict[str, Decimal] = {
    "USDJPY": Decimal("150.000"),
    "EURUSD": Decimal("1.08000"),
    "GBPUSD": Decimal("1.27000"),
    "AUDUSD": Decimal("0.66000"),
    "USDCHF": Decimal("0.88000"),
    "EURJPY": Decimal("162.000"),
    "GBPJPY": Decimal("190.000"),
    "XAUUSD": Decimal("2000.00"),
    "XAGUSD": Decimal("24.000"),
}
DEFAULT_START = Decimal("100.00")
DEFAULT_SPREAD_PIPS = Decimal("1")
GOLD_SPREAD_PIPS = Decimal("3")
STEP_PIPS = 0.5  # standard deviation of one random-walk step, in pips


@dataclass(frozen=True, slots=True)
class FeedQuote:
    symbol: str
    bid: Decimal
    ask: Decimal


class Feed(Protocol):
    def initial(self) -> list[FeedQuote]:
        """The quotes the market starts with."""
        ...

    def next_quotes(self) -> list[FeedQuote]:
        """The quotes of the next tick (empty when nothing moves)."""
        ...


def _spread(symbol: str, spread_pips: Decimal | None) -> Decimal:
    spec = default_spec(symbol)
    pips = (
        spread_pips
        if spread_pips is not None
        else (GOLD_SPREAD_PIPS if symbol == "XAUUSD" else DEFAULT_SPREAD_PIPS)
    )
    return spec.price_offset(pips)


class StaticFeed:
    """Prices that move only when someone sets them (tests, demos)."""

    def __init__(self, symbols: Sequence[str], spread_pips: Decimal | None = None) -> None:
        self._symbols = tuple(symbols)
        self._spread_pips = spread_pips

    def initial(self) -> list[FeedQuote]:
        quotes = []
        for symbol in self._symbols:
            bid = START_PRICES.get(symbol, DEFAULT_START)
            quotes.append(FeedQuote(symbol, bid, bid + _spread(symbol, self._spread_pips)))
        return quotes

    def next_quotes(self) -> list[FeedQuote]:
        return []


class RandomFeed(StaticFeed):
    """A seeded random walk per symbol (normal steps of STEP_PIPS pips), constant spread."""

    def __init__(
        self, symbols: Sequence[str], seed: int | None = None, spread_pips: Decimal | None = None
    ) -> None:
        super().__init__(symbols, spread_pips)
        self._random = random.Random(seed)
        self._bids = {q.symbol: q.bid for q in self.initial()}

    def next_quotes(self) -> list[FeedQuote]:
        quotes = []
        for symbol, bid in self._bids.items():
            new_bid = random_step(symbol, bid, self._random)
            self._bids[symbol] = new_bid
            quotes.append(FeedQuote(symbol, new_bid, new_bid + _spread(symbol, self._spread_pips)))
        return quotes


def random_step(symbol: str, bid: Decimal, rng: random.Random) -> Decimal:
    """The next bid of a random walk: a normal step of STEP_PIPS pips, never below one pip."""
    spec = default_spec(symbol)
    step = spec.price_offset(Decimal(repr(round(rng.gauss(0.0, STEP_PIPS), 2))))
    return max(bid + step, spec.pip_size)


def spread_of(symbol: str, spread_pips: Decimal | None) -> Decimal:
    """The ask - bid of a symbol: `spread_pips` pips, or the default (1 pip, gold 3)."""
    return _spread(symbol, spread_pips)


class ReplayFeed:
    """Rows `timeMs,symbol,bid,ask` from a CSV file (header optional), one timeMs group per tick."""

    def __init__(self, path: Path) -> None:
        self._groups = _read_groups(path)
        self._next: Iterator[list[FeedQuote]] = iter(self._groups[1:])

    def initial(self) -> list[FeedQuote]:
        latest: dict[str, FeedQuote] = {}
        for group in self._groups:
            for quote in group:
                latest.setdefault(quote.symbol, quote)  # each symbol starts at its first row
        return list(latest.values())

    def next_quotes(self) -> list[FeedQuote]:
        return next(self._next, [])


def _read_groups(path: Path) -> list[list[FeedQuote]]:
    groups: list[list[FeedQuote]] = []
    last_time: int | None = None
    with path.open(newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.reader(handle), start=1):
            if not row or (line_number == 1 and row[0].strip().lower() == "timems"):
                continue
            where = f"{path.name} line {line_number}"
            if len(row) != 4:
                raise ValidationError(where, f"must have 4 columns timeMs,symbol,bid,ask, had {len(row)}")
            try:
                time_ms = int(row[0])
            except ValueError:
                raise ValidationError(where, f"timeMs must be an integer, was {row[0][:40]!r}") from None
            bid, ask = price(row[2], f"{where} bid"), price(row[3], f"{where} ask")
            quote = FeedQuote(row[1].strip().upper(), bid, ask)
            if time_ms != last_time or not groups:
                groups.append([])
            groups[-1].append(quote)
            last_time = time_ms
    if not groups:
        raise ValidationError(path.name, "must contain at least one row timeMs,symbol,bid,ask")
    return groups


def build_feed(spec: str, symbols: Sequence[str], seed: int | None, spread_pips: Decimal | None) -> Feed:
    """A feed from its command-line spec: `random`, `static` or `replay:FILE`."""
    if spec == "random":
        return RandomFeed(symbols, seed, spread_pips)
    if spec == "static":
        return StaticFeed(symbols, spread_pips)
    if spec.startswith("replay:"):
        return ReplayFeed(Path(spec.removeprefix("replay:")))
    raise ValidationError("feed", f"must be random, static or replay:FILE, was {spec[:40]!r}")
