"""The plain, obviously correct trail book: every tick looks at every watched position.

It is the specification `TrailBook` is tested against, and the baseline its benchmark beats.
Same interface and the same behaviour as `TrailBook`; only the speed differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedge.domain.enums import Side, TrailMode
from hedge.domain.errors import ValidationError
from hedge.domain.ids import PositionId
from hedge.domain.trail_rules import (
    Fired,
    check_quote,
    check_watch,
    closing_price,
    improved_best,
    should_fire,
)


@dataclass(slots=True)
class TrailWatch:
    """One watched position and the best price it has seen since it was watched."""

    position_id: PositionId
    symbol: str
    side: Side
    mode: TrailMode
    entry_price: Decimal
    width_pips: Decimal
    pip_size: Decimal
    best_price: Decimal

    def observe(self, bid: Decimal, ask: Decimal) -> Fired | None:
        """Take a price that arrived after the watch began; the Fired if the rule is now met."""
        price = closing_price(self.side, bid, ask)
        self.best_price = improved_best(self.side, self.best_price, price)
        return self._judge(price)

    def judge_earlier(self, bid: Decimal, ask: Decimal) -> Fired | None:
        """Judge a price from before the watch began (it does not move the best price)."""
        return self._judge(closing_price(self.side, bid, ask))

    def _judge(self, price: Decimal) -> Fired | None:
        met = should_fire(
            self.side, self.mode, self.entry_price, self.best_price, self.width_pips, self.pip_size, price
        )
        return Fired(self.position_id, price, self.mode) if met else None


class ReferenceTrail:
    """Watched positions in a list-like dict; `on_price` loops over all of them."""

    def __init__(self) -> None:
        self._watches: dict[PositionId, TrailWatch] = {}
        self._last_quote: dict[str, tuple[Decimal, Decimal]] = {}

    def add(
        self,
        position_id: PositionId,
        symbol: str,
        side: Side,
        mode: TrailMode,
        entry_price: Decimal,
        width_pips: Decimal,
        pip_size: Decimal,
        best_price: Decimal | None = None,
    ) -> list[Fired]:
        """Watch a position; judged at once on the symbol's last known price, if there is one.

        `best_price` (TRAILING_STOP): where the best price starts instead of the entry."""
        check_watch(entry_price, width_pips, pip_size)
        if position_id in self._watches:
            raise ValidationError("positionId", f"is already watched: {position_id}")
        start = entry_price
        if mode is TrailMode.TRAILING_STOP and best_price is not None:
            check_watch(best_price, width_pips, pip_size)
            start = best_price
        watch = TrailWatch(position_id, symbol, side, mode, entry_price, width_pips, pip_size, start)
        last = self._last_quote.get(symbol)
        if last is not None:
            fired = watch.judge_earlier(*last)
            if fired is not None:
                return [fired]
        self._watches[position_id] = watch
        return []

    def remove(self, position_id: PositionId) -> bool:
        """Stop watching; False if the position was not watched."""
        return self._watches.pop(position_id, None) is not None

    def on_price(self, symbol: str, bid: Decimal, ask: Decimal) -> list[Fired]:
        """Feed one tick; the positions that fire, in the order they were added."""
        check_quote(bid, ask)
        self._last_quote[symbol] = (bid, ask)
        fired: list[Fired] = []
        for watch in self._watches.values():
            if watch.symbol == symbol:
                result = watch.observe(bid, ask)
                if result is not None:
                    fired.append(result)
        for result in fired:
            del self._watches[result.position_id]
        return fired

    def last_quote(self, symbol: str) -> tuple[Decimal, Decimal] | None:
        """The last (bid, ask) fed for `symbol`, if any."""
        return self._last_quote.get(symbol)

    def __len__(self) -> int:
        return len(self._watches)

    def __contains__(self, position_id: object) -> bool:
        return position_id in self._watches
