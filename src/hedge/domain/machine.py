"""How every state machine's table is read: one move function for all of them.

A table maps `(state, trigger) -> state` (domain/transitions.py for Position and Action,
domain/orders.py for the agent's order tracker, domain/alerts.py for alerts). These functions
apply a move, find the trigger between two states, and name the final states, the same way for
each table, so the tables stay the one place a machine's rules are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeVar

from hedge.domain.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
T = TypeVar("T", bound=StrEnum)


def apply_move(table: Mapping[tuple[S, T], S], entity: str, state: S, trigger: T) -> S:
    """The state `entity` reaches from `state` on `trigger`; InvalidTransition otherwise."""
    to = table.get((state, trigger))
    if to is None:
        allowed = tuple(t.value for (s, t) in table if s == state)
        raise InvalidTransition(entity, state.value, trigger.value, allowed)
    return to


def trigger_between(table: Mapping[tuple[S, T], S], entity: str, state: S, target: S) -> T:
    """The trigger that moves `entity` from `state` to `target`; InvalidTransition otherwise."""
    for (frm, trigger), to in table.items():
        if frm == state and to == target:
            return trigger
    allowed = tuple(to.value for (frm, _), to in table.items() if frm == state)
    raise InvalidTransition(entity, state.value, target.value, allowed)


def final_states(table: Mapping[tuple[S, T], S], states: Iterable[S]) -> frozenset[S]:
    """The states no line of the table leaves."""
    return frozenset(s for s in states if not any(frm == s for (frm, _) in table))
