"""Our trail engine against the peer's: NautilusTrader's OrderEmulator holding N trailing-stop
orders on one FX instrument, and our TrailBook holding N TRAILING_STOP positions, on the same quote
stream, in one run. One JSON line per N.

NautilusTrader is an optional dependency group, for benchmarks only:

    uv sync --group peer && uv run python bench/peer_trail.py [--sizes 1000,10000] [--seed 1]

The peer runs in its BacktestEngine (the supported way to drive the emulator without a live venue):
a strategy submits N emulated TRAILING_STOP_MARKET orders (trigger BID_ASK, offsets in price) and
the engine replays the quotes; the engine's time with no orders is measured too, so what the
orders cost is plain. Offsets are wide (100-1,000 pips) so both sides fire rarely and the figures
are the cost of watching, not of filling.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from decimal import Decimal
from typing import Any

from hedge.domain.enums import Side, TrailMode
from hedge.domain.ids import PositionId
from hedge.domain.symbols import default_spec
from hedge.domain.trail import TrailBook

SYMBOL = "USDJPY"
PIP = default_spec(SYMBOL).pip_size
POINT = Decimal("0.001")
START = Decimal("150.000")

Quote = tuple[Decimal, Decimal]


def make_quotes(count: int, rng: random.Random) -> list[Quote]:
    """A random walk of a few points per quote, spread 1-3 pips."""
    points = 0
    quotes: list[Quote] = []
    for _ in range(count):
        points += rng.randint(-3, 3)
        bid = START + points * POINT
        quotes.append((bid, bid + rng.randint(10, 30) * POINT))
    return quotes


def widths(size: int, seed: int) -> list[Decimal]:
    rng = random.Random(seed)
    return [Decimal(rng.randint(100, 1000)) for _ in range(size)]


def ours(size: int, quotes: list[Quote], seed: int) -> dict[str, Any]:
    book = TrailBook()
    for n, width in enumerate(widths(size, seed)):
        book.add(PositionId(f"p{n}"), SYMBOL, Side.BUY, TrailMode.TRAILING_STOP, START, width, PIP)
    on_price = book.on_price
    fired = 0
    started = time.perf_counter()
    for bid, ask in quotes:
        fired += len(on_price(SYMBOL, bid, ask))
    elapsed = time.perf_counter() - started
    return {"quotes": len(quotes), "quotes_per_s": round(len(quotes) / elapsed), "fired": fired}


def peer(size: int, quotes: list[Quote], seed: int) -> dict[str, Any]:
    """Quotes per second through NautilusTrader's BacktestEngine with `size` emulated trailing stops."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.enums import (
        AccountType,
        OmsType,
        OrderSide,
        OrderStatus,
        TrailingOffsetType,
        TriggerType,
    )
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money, Price, Quantity
    from nautilus_trader.test_kit.providers import TestInstrumentProvider
    from nautilus_trader.trading.strategy import Strategy

    venue = Venue("SIM")
    instrument = TestInstrumentProvider.default_fx_ccy("USD/JPY", venue)
    offsets = [w * PIP for w in widths(size, seed)]

    marks: dict[str, float] = {}

    class Watch(Strategy):  # type: ignore[misc]
        """Submits the orders on the first quote (the emulator needs a price to start a trail)."""

        def on_start(self) -> None:
            self.subscribe_quote_ticks(instrument.id)

        def on_quote_tick(self, tick: Any) -> None:
            if "watching" in marks:
                return
            for offset in offsets:
                order = self.order_factory.trailing_stop_market(
                    instrument_id=instrument.id,
                    order_side=OrderSide.SELL,
                    quantity=Quantity.from_int(1_000),
                    trailing_offset=offset,
                    trailing_offset_type=TrailingOffsetType.PRICE,
                    trigger_type=TriggerType.BID_ASK,
                    emulation_trigger=TriggerType.BID_ASK,
                )
                self.submit_order(order)
            marks["watching"] = time.perf_counter()

    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(
        venue=venue,
        oms_type=OmsType.HEDGING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000_000, USD)],
    )
    engine.add_instrument(instrument)
    ticks = [
        QuoteTick(
            instrument_id=instrument.id,
            bid_price=Price.from_str(f"{bid:.3f}"),
            ask_price=Price.from_str(f"{ask:.3f}"),
            bid_size=Quantity.from_int(1_000_000),
            ask_size=Quantity.from_int(1_000_000),
            ts_event=(n + 1) * 1_000_000,
            ts_init=(n + 1) * 1_000_000,
        )
        for n, (bid, ask) in enumerate(quotes)
    ]
    engine.add_data(ticks)
    strategy = Watch()
    engine.add_strategy(strategy)
    engine.run()
    elapsed = time.perf_counter() - marks["watching"]  # the quotes after the first, orders in place
    orders = engine.cache.orders()
    fired = sum(1 for o in orders if o.status not in (OrderStatus.EMULATED, OrderStatus.INITIALIZED))
    emulated = sum(1 for o in orders if o.status is OrderStatus.EMULATED)
    engine.dispose()
    return {
        "quotes": len(quotes) - 1,
        "quotes_per_s": round((len(quotes) - 1) / elapsed, 1),
        "fired": fired,
        "still_emulated": emulated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N")
    parser.add_argument("--ours-quotes", type=int, default=200_000)
    parser.add_argument(
        "--peer-quote-budget",
        type=int,
        default=2_000_000,
        help="orders x quotes the peer may process per size (bounds its run time)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    try:
        import nautilus_trader
    except ImportError:
        raise SystemExit("nautilus_trader is not installed: uv sync --group peer") from None
    rng = random.Random(args.seed)
    quotes = make_quotes(args.ours_quotes, rng)
    for size in (int(s) for s in args.sizes.split(",")):
        peer_quotes = quotes[: max(100, min(len(quotes), args.peer_quote_budget // max(size, 1)))]
        mine = ours(size, quotes, args.seed)
        theirs = peer(size, peer_quotes, args.seed)
        baseline = peer(0, peer_quotes, args.seed)
        print(
            json.dumps(
                {
                    "bench": "peer_trail",
                    "positions": size,
                    "ours": mine,
                    "nautilus_trader": {"version": nautilus_trader.__version__, **theirs},
                    "nautilus_engine_no_orders_quotes_per_s": baseline["quotes_per_s"],
                    "ratio": round(mine["quotes_per_s"] / theirs["quotes_per_s"], 1),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
