"""The fast trail book: watched positions indexed so that a tick costs O((k + 1) log n).

Same behaviour as `ReferenceTrail` (the rules are in `trail_rules`), but a tick only touches its
own symbol and, within it, only positions that fire or index entries that are due.

Prices are normalised per side so that "up" is always the position's favour: x = bid for BUY and
x = -ask for SELL (entry likewise), so one `_SideBook` serves both sides. With offset d = W * pip:

FROM_ENTRY      fires when x >= entry + d: a min-heap of thresholds, popped while due.
TRAILING_STOP   with M = the highest x since the add, fires when max(entry, M) - d >= x, i.e.
                (1) entry - d >= x   - a fixed key per position: one max-heap, popped while due;
                (2) M - d >= x       - M moves on every new high, so positions are grouped into
                segments of those added between the same two ticks (they share M). Older segments
                have seen more ticks, so their M is >= a newer one's: the segments form a stack
                whose top holds the lowest M. A tick x pops the top segments with M < x and merges
                them (small-to-large) into one with M = x. Each segment keeps a min-heap of d, and a
                heap over segments holds M - min d with a version stamp (stale entries are skipped):
                segments with M - min d >= x are due, and only their smallest offsets are popped.
Removal marks the watch dead; heaps drop dead entries when they meet them, and a side book is
rebuilt once dead entries outnumber live ones (amortised O(1) per removal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from heapq import heapify, heappop, heappush

from hedge.domain.enums import Side, TrailMode
from hedge.domain.errors import ValidationError
from hedge.domain.ids import PositionId
from hedge.domain.trail_rules import Fired, check_quote, check_watch, closing_price, should_fire

_MINUS_INFINITY = Decimal("-Infinity")


@dataclass(slots=True, eq=False)
class _Watch:
    position_id: PositionId
    mode: TrailMode
    seq: int
    book: _SideBook
    entry: Decimal  # normalised (x = bid for BUY, -ask for SELL); TRAILING_STOP: the best so far
    buy: bool = field(init=False)  # from the entry: normalised SELL prices are negative
    alive: bool = True
    segment: _Segment | None = None  # TRAILING_STOP: the segment whose m it shares

    def __post_init__(self) -> None:
        self.buy = self.entry > 0


_Entry = tuple[Decimal, int, _Watch]  # (key, seq, watch): seq is unique, so watches never compare


class _Segment:
    """TRAILING_STOP positions added between the same two ticks: they share the highest price m."""

    __slots__ = ("heap", "m", "version")

    def __init__(self) -> None:
        self.m: Decimal | None = None  # None until the first tick after the adds
        self.heap: list[_Entry] = []  # (offset, seq, watch), smallest offset first
        self.version = 0


class _SideBook:
    """The watched positions of one symbol and side, in normalised prices (up = favourable)."""

    def __init__(self, rebuild_slack: int) -> None:
        self._slack = rebuild_slack
        self._reset()

    def _reset(self) -> None:
        self.live = 0  # live watches
        self._live_entries = 0  # FROM_ENTRY watches count once, TRAILING_STOP twice
        self._entries = 0  # entries in thresholds, floors and segment heaps, dead ones included
        self._thresholds: list[_Entry] = []  # FROM_ENTRY: fire when x >= key
        self._floors: list[_Entry] = []  # TRAILING_STOP (1): key = -(entry - d), fire when key <= -x
        self._stack: list[_Segment] = []  # TRAILING_STOP (2): oldest segment first
        self._due: list[tuple[Decimal, int, _Segment]] = []  # (-(m - min d), version, segment)
        self._stamp = 0

    def add(self, watch: _Watch, entry: Decimal, offset: Decimal, fire_at_once: bool) -> None:
        self.live += 1
        if watch.mode is TrailMode.FROM_ENTRY:
            threshold = _MINUS_INFINITY if fire_at_once else entry + offset
            heappush(self._thresholds, (threshold, watch.seq, watch))
            self._live_entries += 1
            self._entries += 1
            return
        heappush(self._floors, (offset - entry, watch.seq, watch))
        stack = self._stack
        if not stack or stack[-1].m is not None:
            stack.append(_Segment())
        heappush(stack[-1].heap, (offset, watch.seq, watch))
        watch.segment = stack[-1]
        self._live_entries += 2
        self._entries += 2

    def discard(self, watch: _Watch) -> None:
        """Forget a live watch (its index entries die lazily)."""
        watch.alive = False
        self._forget(watch)
        self._tidy()

    def _forget(self, watch: _Watch) -> None:
        self.live -= 1
        self._live_entries -= 1 if watch.mode is TrailMode.FROM_ENTRY else 2

    def on_tick(self, x: Decimal, fired: list[_Watch]) -> None:
        """Feed normalised price x; append the watches that fire to `fired`."""
        minus_x = -x
        for heap, bound in ((self._thresholds, x), (self._floors, minus_x)):
            while heap and heap[0][0] <= bound:
                watch = heappop(heap)[2]
                self._entries -= 1
                if watch.alive:
                    self._fire(watch, fired)
        stack = self._stack
        if stack and _below(stack[-1].m, x):
            self._raise_top(x)
        due = self._due
        while due and due[0][0] <= minus_x:
            _, version, segment = heappop(due)
            if version == segment.version:
                self._pop_due(segment, x, fired)
        self._tidy()

    def _raise_top(self, x: Decimal) -> None:
        """Merge the top segments whose highest price is below x into one whose highest is x."""
        stack = self._stack
        merged = stack.pop()
        while stack and _below(stack[-1].m, x):
            other = stack.pop()
            if len(other.heap) > len(merged.heap):
                merged, other = other, merged
            other.version = -1  # its due entries are stale now
            self._entries -= len(other.heap)
            for entry in other.heap:
                if entry[2].alive:
                    heappush(merged.heap, entry)
                    entry[2].segment = merged
                    self._entries += 1
        merged.m = x
        stack.append(merged)
        self._schedule(merged)

    def _pop_due(self, segment: _Segment, x: Decimal, fired: list[_Watch]) -> None:
        assert segment.m is not None  # only segments with a highest price are scheduled
        limit = segment.m - x
        heap = segment.heap
        while heap and (heap[0][0] <= limit or not heap[0][2].alive):
            watch = heappop(heap)[2]
            self._entries -= 1
            if watch.alive:
                self._fire(watch, fired)
        self._schedule(segment)

    def _schedule(self, segment: _Segment) -> None:
        """Give the segment a fresh version and, if it holds offsets, a due entry."""
        self._stamp += 1
        segment.version = self._stamp
        if segment.heap and segment.m is not None:
            heappush(self._due, (segment.heap[0][0] - segment.m, self._stamp, segment))

    def _fire(self, watch: _Watch, fired: list[_Watch]) -> None:
        watch.alive = False
        self._forget(watch)
        fired.append(watch)

    def _tidy(self) -> None:
        if self.live == 0:
            self._reset()
        elif self._entries > 2 * self._live_entries + self._slack:
            self._rebuild()
        elif len(self._due) > 2 * len(self._stack) + self._slack:
            self._reschedule()

    def _rebuild(self) -> None:
        """Drop dead entries and empty segments (older segments keep their higher m: order holds)."""
        self._thresholds = _alive_heap(self._thresholds)
        self._floors = _alive_heap(self._floors)
        kept: list[_Segment] = []
        for segment in self._stack:
            segment.heap = _alive_heap(segment.heap)
            if segment.heap:
                kept.append(segment)
        self._stack = kept
        self._entries = len(self._thresholds) + len(self._floors) + sum(len(segment.heap) for segment in kept)
        self._reschedule()

    def _reschedule(self) -> None:
        self._due = []
        for segment in self._stack:
            self._schedule(segment)


def _below(highest: Decimal | None, x: Decimal) -> bool:
    """Whether x is a new high for a segment (None: no tick has reached it yet)."""
    return highest is None or highest < x


def _alive_heap(heap: list[_Entry]) -> list[_Entry]:
    result = [entry for entry in heap if entry[2].alive]
    heapify(result)
    return result


class TrailBook:
    """Positions watched for their trail rule, fed ticks, answering which fire (each at most once).

    `add` judges the new position on its symbol's last known quote at once (a width of 0 fires
    there), so the caller needs no timer; prices before the add never raise a TRAILING_STOP's best.
    A fired position leaves the book; adding it again starts a new watch.

    `rebuild_slack` is how many dead index entries a side book tolerates beyond twice its live
    ones before it is rebuilt (some slack keeps small books from rebuilding on every removal).
    """

    def __init__(self, rebuild_slack: int = 64) -> None:
        if rebuild_slack < 0:
            raise ValidationError("rebuildSlack", f"must be >= 0, was {rebuild_slack}")
        self._slack = rebuild_slack
        self._watches: dict[PositionId, _Watch] = {}
        self._books: dict[str, tuple[_SideBook, _SideBook]] = {}  # (BUY, SELL) per symbol
        self._last_quote: dict[str, tuple[Decimal, Decimal]] = {}
        self._seq = 0

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
        """Watch a position; a one-element list if the last known quote already meets its rule.

        `best_price` (TRAILING_STOP) is where the best price starts instead of the entry: the
        closing price at the fill, or the best an earlier run of the agent had seen."""
        check_watch(entry_price, width_pips, pip_size)
        if position_id in self._watches:
            raise ValidationError("positionId", f"is already watched: {position_id}")
        start = entry_price
        if mode is TrailMode.TRAILING_STOP and best_price is not None:
            check_watch(best_price, width_pips, pip_size)
            start = best_price
        last = self._last_quote.get(symbol)
        if last is not None:
            price = closing_price(side, *last)
            if should_fire(side, mode, entry_price, start, width_pips, pip_size, price):
                return [Fired(position_id, price, mode)]
        books = self._books.get(symbol)
        if books is None:
            books = self._books[symbol] = (_SideBook(self._slack), _SideBook(self._slack))
        book = books[0] if side is Side.BUY else books[1]
        self._seq += 1
        entry = start if side is Side.BUY else -start
        watch = _Watch(position_id, mode, self._seq, book, entry)
        book.add(watch, entry, width_pips * pip_size, width_pips == 0)
        self._watches[position_id] = watch
        return []

    def remove(self, position_id: PositionId) -> bool:
        """Stop watching; False if the position was not watched."""
        watch = self._watches.pop(position_id, None)
        if watch is None:
            return False
        watch.book.discard(watch)
        return True

    def on_price(self, symbol: str, bid: Decimal, ask: Decimal) -> list[Fired]:
        """Feed one tick; the positions that fire, in the order they were added."""
        check_quote(bid, ask)
        self._last_quote[symbol] = (bid, ask)
        books = self._books.get(symbol)
        if books is None:
            return []
        buys: list[_Watch] = []
        sells: list[_Watch] = []
        if books[0].live:
            books[0].on_tick(bid, buys)
        if books[1].live:
            books[1].on_tick(-ask, sells)
        if not buys and not sells:
            return []
        watches = self._watches
        fired = [(watch.seq, Fired(watch.position_id, bid, watch.mode)) for watch in buys]
        fired += [(watch.seq, Fired(watch.position_id, ask, watch.mode)) for watch in sells]
        fired.sort(key=lambda pair: pair[0])
        for _, result in fired:
            del watches[result.position_id]
        return [result for _, result in fired]

    def best_price(self, position_id: PositionId) -> Decimal | None:
        """A watched TRAILING_STOP position's best price since entry (None for others)."""
        watch = self._watches.get(position_id)
        if watch is None or watch.segment is None:
            return None
        best = watch.entry if watch.segment.m is None else max(watch.entry, watch.segment.m)
        return best if watch.buy else -best

    def last_quote(self, symbol: str) -> tuple[Decimal, Decimal] | None:
        """The last (bid, ask) fed for `symbol`, if any."""
        return self._last_quote.get(symbol)

    def __len__(self) -> int:
        return len(self._watches)

    def __contains__(self, position_id: object) -> bool:
        return position_id in self._watches
