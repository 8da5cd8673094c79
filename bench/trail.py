"""Ticks per second through TrailBook against the plain reference loop, one JSON line per book size.

Positions are spread over 20 symbols with mixed sides and modes and widths wide enough that most
do not fire; prices follow a random walk. Both books get the same positions and the same ticks (the
reference only a bounded prefix of them at large sizes) and must fire the same positions there.

    uv run python bench/trail.py [--ticks 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from decimal import Decimal

from hedge.domain.enums import Side, TrailMode
from hedge.domain.ids import PositionId
from hedge.domain.symbols import default_spec
from hedge.domain.trail import Fired, ReferenceTrail, TrailBook

SIZES = (10, 1_000, 100_000)
SYMBOLS = (
    *("USDJPY EURJPY GBPJPY AUDJPY CADJPY CHFJPY NZDJPY".split()),
    *("EURUSD GBPUSD AUDUSD NZDUSD USDCAD USDCHF EURGBP EURAUD GBPAUD EURCHF GBPCHF AUDNZD".split()),
    "XAUUSD",
)
REFERENCE_VISITS = 20_000_000  # positions the reference loop may visit in total, per size

Tick = tuple[str, Decimal, Decimal]
Book = TrailBook | ReferenceTrail


def base_price(symbol: str) -> Decimal:
    if symbol == "XAUUSD":
        return Decimal("2400.00")
    return Decimal("150.000") if symbol.endswith("JPY") else Decimal("1.10000")


def make_ticks(count: int, rng: random.Random) -> list[Tick]:
    """A random walk per symbol, moving a few points per tick, with a spread of 1-3 pips."""
    points = dict.fromkeys(SYMBOLS, 0)
    ticks: list[Tick] = []
    for _ in range(count):
        symbol = rng.choice(SYMBOLS)
        spec = default_spec(symbol)
        point = Decimal(1).scaleb(-spec.digits)
        points[symbol] += rng.randint(-3, 3)
        bid = base_price(symbol) + points[symbol] * point
        ticks.append((symbol, bid, bid + rng.randint(10, 30) * point))
    return ticks


def fill(book: Book, size: int, seed: int) -> None:
    rng = random.Random(seed)
    for n in range(size):
        symbol = SYMBOLS[n % len(SYMBOLS)]
        spec = default_spec(symbol)
        entry = base_price(symbol) + rng.randint(-50, 50) * spec.pip_size
        # Pips: one in ten narrow enough for the walk to reach, the rest far out of its way.
        width = Decimal(rng.randint(1, 20) if rng.random() < 0.1 else rng.randint(100, 1000))
        mode = TrailMode.FROM_ENTRY if n % 4 < 2 else TrailMode.TRAILING_STOP
        side = Side.BUY if n % 2 else Side.SELL
        book.add(PositionId(f"p{n}"), symbol, side, mode, entry, width, spec.pip_size)


def run(book: Book, ticks: list[Tick]) -> tuple[float, list[list[Fired]]]:
    fired: list[list[Fired]] = []
    on_price = book.on_price
    started = time.perf_counter()
    for symbol, bid, ask in ticks:
        fired.append(on_price(symbol, bid, ask))
    return time.perf_counter() - started, fired


def measure(size: int, ticks: list[Tick], seed: int) -> dict[str, object]:
    fast, plain = TrailBook(), ReferenceTrail()
    fill(fast, size, seed)
    fill(plain, size, seed)
    reference_ticks = min(len(ticks), max(100, REFERENCE_VISITS // size))
    fast_s, fast_fired = run(fast, ticks)
    plain_s, plain_fired = run(plain, ticks[:reference_ticks])
    if fast_fired[:reference_ticks] != plain_fired:
        raise SystemExit(f"TrailBook and the reference disagree at {size} positions")
    fast_rate = len(ticks) / fast_s
    plain_rate = reference_ticks / plain_s
    return {
        "bench": "trail",
        "positions": size,
        "symbols": len(SYMBOLS),
        "trailbook_ticks": len(ticks),
        "trailbook_ticks_per_s": round(fast_rate),
        "reference_ticks": reference_ticks,
        "reference_ticks_per_s": round(plain_rate, 1),
        "speedup": round(fast_rate / plain_rate, 1),
        "fired": sum(map(len, fast_fired)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=100_000, help="ticks fed to TrailBook per size")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    ticks = make_ticks(args.ticks, random.Random(args.seed))
    for size in SIZES:
        print(json.dumps(measure(size, ticks, args.seed)), flush=True)


if __name__ == "__main__":
    main()
