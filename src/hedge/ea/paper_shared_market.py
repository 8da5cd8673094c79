"""One market quoted by several paper EAs (`hedge paper-ea --market-file PATH`).

The file holds the market's reference bids: `{"version": 1, "timeMs": <last move>, "bids":
{"USDJPY": "150.012", ...}}`. Every paper EA started with the same `--market-file` quotes from
it, each as its own broker: bid = reference bid + `--market-offset-pips`, ask = bid +
`--spread-pips`. With `--feed random` whichever EA comes first after a tick interval moves the
reference (a seeded random walk from the file's bids) and writes it; the others read it. With
`--feed static` nobody moves it: prices change only when someone writes the file, for example a
test through `set_shared_bid` (under the same lock, so the walk goes on from the new price).

Reads and writes hold an exclusive lock on `PATH.lock` (fcntl on POSIX, msvcrt on Windows) and
the file is replaced atomically, so any number of EA processes may share it. A symbol missing
from the file is added at its start price by the first EA that quotes it.
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO

from hedge.domain.clock import Clock
from hedge.domain.errors import ValidationError
from hedge.domain.symbols import default_spec
from hedge.ea.paper_feed import DEFAULT_START, START_PRICES, FeedQuote, random_step, spread_of

VERSION = 1


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        _lock(handle, True)
        try:
            yield
        finally:
            _lock(handle, False)


def _lock(handle: IO[bytes], take: bool) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if take else msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX if take else fcntl.LOCK_UN)


def _read(path: Path) -> tuple[int, dict[str, Decimal]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0, {}
    except ValueError as exc:
        raise ValidationError(str(path), f"is not a shared market file ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("bids"), dict):
        raise ValidationError(str(path), f'must be {{"version": {VERSION}, "timeMs": ..., "bids": {{...}}}}')
    return int(data.get("timeMs", 0)), {str(k): Decimal(str(v)) for k, v in data["bids"].items()}


def _write(path: Path, time_ms: int, bids: dict[str, Decimal]) -> None:
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    text = json.dumps({"version": VERSION, "timeMs": time_ms, "bids": {k: str(v) for k, v in bids.items()}})
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def read_shared_bids(path: Path) -> dict[str, Decimal]:
    """The reference bids in a market file now (empty when it does not exist yet)."""
    with _locked(path):
        return _read(path)[1]


def set_shared_bid(path: Path, symbol: str, bid: Decimal, time_ms: int = 0) -> None:
    """Move the shared market: every EA on `path` quotes `symbol` from `bid` from its next tick."""
    with _locked(path):
        stamp, bids = _read(path)
        bids[symbol] = bid
        _write(path, max(stamp, time_ms), bids)


class SharedMarketFeed:
    """A Feed (see paper_feed) whose prices come from the market file, offset and spread by this EA."""

    def __init__(
        self,
        path: Path,
        symbols: Sequence[str],
        clock: Clock,
        *,
        moves: bool,
        tick_interval_ms: int,
        seed: int | None = None,
        offset_pips: Decimal = Decimal(0),
        spread_pips: Decimal | None = None,
    ) -> None:
        self.path = path
        self._symbols = tuple(symbols)
        self._clock = clock
        self._moves = moves
        self._interval_ms = max(tick_interval_ms, 1)
        self._random = random.Random(seed)
        self._offset_pips = offset_pips
        self._spread_pips = spread_pips

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def _quotes(self, bids: dict[str, Decimal]) -> list[FeedQuote]:
        quotes = []
        for symbol in self._symbols:
            bid = bids[symbol] + default_spec(symbol).price_offset(self._offset_pips)
            quotes.append(FeedQuote(symbol, bid, bid + spread_of(symbol, self._spread_pips)))
        return quotes

    def initial(self) -> list[FeedQuote]:
        with _locked(self.path):
            stamp, bids = _read(self.path)
            missing = [s for s in self._symbols if s not in bids]
            for symbol in missing:
                bids[symbol] = START_PRICES.get(symbol, DEFAULT_START)
            if missing or not self.path.exists():
                _write(self.path, stamp or self._now_ms(), bids)
            return self._quotes(bids)

    def next_quotes(self) -> list[FeedQuote]:
        with _locked(self.path):
            stamp, bids = _read(self.path)
            for symbol in self._symbols:
                bids.setdefault(symbol, START_PRICES.get(symbol, DEFAULT_START))
            now = self._now_ms()
            if self._moves and now - stamp >= self._interval_ms:
                for symbol in list(bids):
                    bids[symbol] = random_step(symbol, bids[symbol], self._random)
                _write(self.path, now, bids)
            return self._quotes(bids)
