"""The trail rule itself: when one position's trail fires, as small pure functions.

A BUY is judged on the bid and a SELL on the ask (the price it would close at). Widths are in
pips of the symbol (`SymbolSpec.pip_size`) and every comparison is exact Decimal arithmetic:
"moved W pips" means the price difference is >= W * pip_size, so 150.050 - 150.000 is exactly
5 pips on USDJPY and fires at W = 5, while 4.9 pips does not.

FROM_ENTRY     fires once the price has moved W pips in the position's favour from the entry
               (BUY: bid - entry >= W pips; SELL: entry - ask >= W pips).
TRAILING_STOP  fires once the price has retraced W pips from the best price since entry
               (BUY: best - bid >= W pips; SELL: ask - best >= W pips). The best price starts at
               the entry price, or where the caller says (the agent: the bid (SELL: the ask) at
               the fill, or the best an earlier run had seen), and is improved by every price
               evaluated after the position was watched, the current one included
               (BUY: max(start, bids), SELL: min(start, asks)).
               A price seen before the position was watched never raises it.
Width 0        fires on the first price evaluated, in both modes ("0 fires as soon as OPEN"). For
               TRAILING_STOP that is what the rule gives anyway (best - price >= 0 once the price
               is part of best); for FROM_ENTRY it is a deliberate exception, so that a BUY filled at
               the ask does not wait for the bid to cross the spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedge.domain.enums import Side, TrailMode
from hedge.domain.errors import ValidationError
from hedge.domain.ids import PositionId
from hedge.domain.values import MAX_TRAIL_PIPS


@dataclass(frozen=True, slots=True)
class Fired:
    """A position whose trail condition was met: the price that met it (bid for BUY, ask for SELL)."""

    position_id: PositionId
    price: Decimal
    mode: TrailMode


def closing_price(side: Side, bid: Decimal, ask: Decimal) -> Decimal:
    """The price a position of `side` is judged on: the bid for BUY, the ask for SELL."""
    return bid if side is Side.BUY else ask


def improved_best(side: Side, best: Decimal, price: Decimal) -> Decimal:
    """The best price after seeing `price`: the higher for BUY, the lower for SELL."""
    if side is Side.BUY:
        return max(best, price)
    return min(best, price)


def should_fire(
    side: Side,
    mode: TrailMode,
    entry_price: Decimal,
    best_price: Decimal,
    width_pips: Decimal,
    pip_size: Decimal,
    price: Decimal,
) -> bool:
    """Whether a position meets its trail rule at `price` (its closing price).

    `best_price` is used by TRAILING_STOP only and must already include `price` when `price` came
    after the position was watched (see `improved_best`).
    """
    if width_pips == 0:
        return True
    return rule_move(side, mode, entry_price, best_price, price) >= width_pips * pip_size


def rule_move(
    side: Side, mode: TrailMode, entry_price: Decimal, best_price: Decimal, price: Decimal
) -> Decimal:
    """The price move the trail rule measures: FROM_ENTRY, how far the price has moved in the
    position's favour from the entry; TRAILING_STOP, how far it has retraced from the best."""
    if mode is TrailMode.FROM_ENTRY:
        return price - entry_price if side is Side.BUY else entry_price - price
    return best_price - price if side is Side.BUY else price - best_price


def check_watch(entry_price: Decimal, width_pips: Decimal, pip_size: Decimal) -> None:
    """Raise ValidationError unless the numbers of a watched position make sense."""
    if not entry_price.is_finite() or entry_price <= 0:
        raise ValidationError("entryPrice", f"must be a finite price > 0, was {entry_price}")
    if not width_pips.is_finite() or width_pips < 0 or width_pips > MAX_TRAIL_PIPS:
        raise ValidationError("trailWidth", f"must be between 0 and {MAX_TRAIL_PIPS} pips, was {width_pips}")
    if not pip_size.is_finite() or pip_size <= 0:
        raise ValidationError("pipSize", f"must be a finite number > 0, was {pip_size}")


def check_quote(bid: Decimal, ask: Decimal) -> None:
    """Raise ValidationError unless bid and ask are finite prices > 0."""
    if not bid.is_finite() or bid <= 0:
        raise ValidationError("bid", f"must be a finite price > 0, was {bid}")
    if not ask.is_finite() or ask <= 0:
        raise ValidationError("ask", f"must be a finite price > 0, was {ask}")
