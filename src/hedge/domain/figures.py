"""Per-position figures an agent works out from its last quote (the seed's 30 s priority): the
price, the unrealized P/L, and how far the price still is from the trail's trigger, each report
marked with the time of the price it came from. The checks for a report, and the distance rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hedge.domain.enums import Side, TrailMode
from hedge.domain.errors import ValidationError
from hedge.domain.trail_rules import rule_move
from hedge.domain.values import price as checked_price
from hedge.domain.values import to_decimal

MAX_REPORT = 1000  # figures in one report
FUTURE_SKEW = timedelta(seconds=60)  # how far ahead of the server's clock a report's time may be
_CURRENCY = re.compile(r"^[A-Z]{3,8}$")


@dataclass(frozen=True, slots=True)
class PositionFigures:
    position_id: str
    price: Decimal | None
    unrealized_pl: Decimal | None
    currency: str | None
    trail_distance_pips: Decimal | None
    at: datetime  # the time of the price the figures were worked out from (UTC)


def trail_distance_pips(
    side: Side,
    mode: TrailMode,
    entry_price: Decimal,
    best_price: Decimal,
    width_pips: Decimal,
    pip_size: Decimal,
    price: Decimal,
) -> Decimal:
    """Pips the closing price must still move before the trail fires (<= 0: it meets the rule).

    The same rule as `trail_rules.should_fire`, turned into a distance: FROM_ENTRY fires once the
    price has moved W pips in the position's favour from the entry, so the distance is W minus the
    pips moved; TRAILING_STOP fires once the price has retraced W pips from the best, so the
    distance is W minus the retrace. Width 0 fires on any price: distance 0."""
    if width_pips == 0:
        return Decimal(0)
    return width_pips - rule_move(side, mode, entry_price, best_price, price) / pip_size


def check_report(figures: Sequence[PositionFigures], now: datetime) -> None:
    """Raise ValidationError unless a report is 1-MAX_REPORT figures of distinct positions with
    finite numbers, a price > 0, a currency code, and a time no later than now + FUTURE_SKEW."""
    if not 1 <= len(figures) <= MAX_REPORT:
        raise ValidationError("figures", f"must hold 1 to {MAX_REPORT} positions, held {len(figures)}")
    seen: set[str] = set()
    for f in figures:
        if f.position_id in seen:
            raise ValidationError("figures", f"names position {f.position_id!r} twice")
        seen.add(f.position_id)
        if f.price is not None:
            checked_price(f.price, "price")
        for name, value in (("unrealizedPL", f.unrealized_pl), ("trailDistancePips", f.trail_distance_pips)):
            if value is not None:
                to_decimal(value, name)
        if f.currency is not None and not _CURRENCY.match(f.currency):
            raise ValidationError("currency", f"must be a currency code like USD, was {f.currency[:40]!r}")
        if f.at.tzinfo is None:
            raise ValidationError("at", f"must carry its time zone, was {f.at.isoformat()}")
        if f.at > now + FUTURE_SKEW:
            raise ValidationError("at", f"must not be ahead of the server's clock, was {f.at.isoformat()}")
