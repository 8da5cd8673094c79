"""Trail rules of Hedge System: which watched positions fire on a tick.

The rules are in `trail_rules` (read its docstring), the plain reference book in
`trail_reference`, and the indexed book the agent uses in `trail_book`; this module gathers them.
"""

from __future__ import annotations

from hedge.domain.trail_book import TrailBook
from hedge.domain.trail_reference import ReferenceTrail, TrailWatch
from hedge.domain.trail_rules import Fired, closing_price, improved_best, should_fire

__all__ = [
    "Fired",
    "ReferenceTrail",
    "TrailBook",
    "TrailWatch",
    "closing_price",
    "improved_best",
    "should_fire",
]
