"""Exposure: net lots per symbol (BUY positive, SELL negative) of the positions that hold or
may hold an order (OPENING, OPEN, CLOSING), per user, per hedge and overall, and the unpaired
legs: live legs of a hedge that fired while another leg of it is not live."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from hedge.domain.enums import PositionStatus, Side
from hedge.domain.models import Position

LIVE = frozenset({PositionStatus.OPENING, PositionStatus.OPEN, PositionStatus.CLOSING})


@dataclass(frozen=True, slots=True)
class Line:
    symbol: str
    long_lots: Decimal
    short_lots: Decimal

    @property
    def net_lots(self) -> Decimal:
        return self.long_lots - self.short_lots


@dataclass(frozen=True, slots=True)
class UserExposure:
    user_id: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class HedgeExposure:
    head_position_id: str
    position_ids: tuple[str, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Exposure:
    by_user: tuple[UserExposure, ...]
    by_hedge: tuple[HedgeExposure, ...]
    overall: tuple[Line, ...]
    unpaired_legs: tuple[Position, ...]


def lines(positions: Iterable[Position]) -> tuple[Line, ...]:
    long: dict[str, Decimal] = {}
    short: dict[str, Decimal] = {}
    for p in positions:
        size = p.filled_volume or p.volume
        book = long if p.side is Side.BUY else short
        book[p.symbol] = book.get(p.symbol, Decimal(0)) + size
    symbols = sorted(set(long) | set(short))
    return tuple(Line(s, long.get(s, Decimal(0)), short.get(s, Decimal(0))) for s in symbols)


def exposure(
    live: Iterable[Position], hedges: Mapping[str, Iterable[str]], every: Mapping[str, Position]
) -> Exposure:
    """`live`: the positions to count; `hedges`: head id -> its legs' ids; `every`: the known
    rows of all of them (legs of other users or final legs included)."""
    counted = [p for p in live if p.status in LIVE]
    mine = {p.id for p in counted}
    users = sorted({p.user_id for p in counted})
    by_user = tuple(UserExposure(u, lines(p for p in counted if p.user_id == u)) for u in users)
    by_hedge = []
    unpaired: list[Position] = []
    for head_id in sorted(hedges):
        members = [every[i] for i in (head_id, *sorted(set(hedges[head_id]))) if i in every]
        alive = [m for m in members if m.status in LIVE]
        if not any(m.id in mine for m in members):
            continue
        by_hedge.append(HedgeExposure(head_id, tuple(m.id for m in members), lines(alive)))
        head = every.get(head_id)
        fired = head is not None and head.trail_triggered_at is not None
        if fired and len(alive) < len(members):
            unpaired.extend(m for m in alive if m.id in mine)
    return Exposure(by_user, tuple(by_hedge), lines(counted), tuple(unpaired))
