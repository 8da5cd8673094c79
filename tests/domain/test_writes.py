"""Who writes what, as a generated matrix: every field x writer x state x move (or none).

The expected outcome of each cell comes from the contract's sentences, restated here on their
own (not from hedge.domain.writes): broker facts only from the owner's agent and only with the
move that produces them; requests by either; plans while PENDING or OPEN; a final row only memo.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.domain.position_values import WRITE_VALUES

from hedge.domain.creation import EntryRequest, new_entry
from hedge.domain.enums import ActionStatus, ChangeSource, PositionStatus
from hedge.domain.errors import DomainError, Forbidden, InvalidTransition
from hedge.domain.ids import AccountId, UserId
from hedge.domain.models import Position
from hedge.domain.symbols import SymbolCatalog
from hedge.domain.transitions import POSITION_TABLE
from hedge.domain.updates import POSITION_FIELDS, apply_action_update, apply_position_update
from hedge.domain.writes import POSITION_MOVES

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=5)
P = PositionStatus

# --- the contract, restated -------------------------------------------------------------------
ENTRY_FACTS = {"mt_ticket", "entry_price", "entry_time", "filled_volume"}
EXIT_FACTS = {"exit_price", "exit_time", "exit_reason", "realized_pl"}
FACTS_WITH = {
    (P.OPENING, P.OPEN): ENTRY_FACTS,
    (P.CLOSING, P.CLOSED): EXIT_FACTS,
    (P.OPEN, P.STOPPED): EXIT_FACTS,
}
REQUESTS = {(P.PENDING, P.OPENING), (P.PENDING, P.CANCELED), (P.OPEN, P.CLOSING)}
PLAN = {"trail_width", "trail_mode", "trigger_action_ids"}
FINAL = {P.CLOSED, P.STOPPED, P.CANCELED}

VALUES = WRITE_VALUES
NEEDED = {  # what a move needs to be complete, so that the field under test decides the cell
    (P.OPENING, P.OPEN): {"entry_price": "150", "mt_ticket": "T1"},
    (P.CLOSING, P.CLOSED): {"exit_price": "150.1"},
    (P.OPEN, P.STOPPED): {"exit_price": "149.9"},
}


def expected(writer: ChangeSource, state: P, target: P | None, field: str) -> str:
    """OK, FORBIDDEN or INVALID_TRANSITION, from the contract's words."""
    if target is not None and (state, target) not in {(a, b) for (a, _), b in POSITION_TABLE.items()}:
        return "INVALID_TRANSITION"
    if state in FINAL:
        return "OK" if field == "memo" and target is None else "INVALID_TRANSITION"
    move = None if target is None else (state, target)
    if move is not None and move not in REQUESTS and writer is ChangeSource.USER:
        return "FORBIDDEN"  # the terminal's word: only the owner's agent reports it
    if field in ENTRY_FACTS | EXIT_FACTS:
        if writer is ChangeSource.USER:
            return "FORBIDDEN"
        return "OK" if move is not None and field in FACTS_WITH.get(move, set()) else "INVALID_TRANSITION"
    if field in PLAN:
        return "OK" if state in (P.PENDING, P.OPEN) else "INVALID_TRANSITION"
    return "OK"


# --- the cells ----------------------------------------------------------------------------------
def _at(state: P) -> Position:
    _, position = new_entry(
        UserId("u"), AccountId("a"), EntryRequest("USDJPY", "BUY", 1), SymbolCatalog(), NOW
    )
    facts: dict[str, Any] = {}
    if state in (P.OPEN, P.CLOSING, P.CLOSED, P.STOPPED):
        facts = {"entry_price": Decimal("150"), "mt_ticket": "T1"}
    if state in (P.CLOSED, P.STOPPED):
        facts["exit_price"] = Decimal("150.2")
    return replace(position, status=state, **facts)


def _outcome(writer: ChangeSource, state: P, target: P | None, field: str) -> str:
    changes = {field: VALUES[field]}
    if target is not None:
        changes = {**NEEDED.get((state, target), {}), **changes, "status": target.value}
    try:
        apply_position_update(_at(state), changes, LATER, writer)
    except Forbidden:
        return "FORBIDDEN"
    except InvalidTransition:
        return "INVALID_TRANSITION"
    except DomainError as other:
        return f"{other.code}: {other.message}"
    return "OK"


CELLS = list(
    itertools.product(
        (ChangeSource.USER, ChangeSource.AGENT),
        list(P),
        [None, *P],
        sorted(POSITION_FIELDS - {"status"}),
    )
)


@pytest.mark.parametrize("state", list(P))
def test_position_write_every_field_writer_and_move_follows_the_contract(state: P) -> None:
    wrong = []
    for writer, at, target, field in CELLS:
        if at is not state or target is state:
            continue
        want, got = expected(writer, at, target, field), _outcome(writer, at, target, field)
        if want != got:
            wrong.append((writer.value, at.value, None if target is None else target.value, field, want, got))
    assert wrong == []


def test_position_write_matrix_covers_every_field_and_move() -> None:
    fields = {cell[3] for cell in CELLS}
    assert fields == set(POSITION_FIELDS) - {"status"} == set(VALUES)
    assert set(POSITION_MOVES) == {(a, b) for (a, _), b in POSITION_TABLE.items()}


def test_position_write_admin_stopping_an_open_position_is_forbidden() -> None:
    with pytest.raises(Forbidden, match="terminal's word"):
        apply_position_update(
            _at(P.OPEN), {"status": "STOPPED", "exit_price": "149"}, LATER, ChangeSource.USER
        )


def test_position_write_closed_row_rewriting_realized_pl_is_refused_naming_the_rule() -> None:
    with pytest.raises(InvalidTransition, match="final and accepts only memo, was given realizedPL"):
        apply_position_update(_at(P.CLOSED), {"realized_pl": 1000000}, LATER, ChangeSource.AGENT)


def test_position_write_stopped_without_exit_price_is_validation() -> None:
    with pytest.raises(DomainError, match="exitPrice is required to move a position to STOPPED"):
        apply_position_update(_at(P.OPEN), {"status": "STOPPED"}, LATER, ChangeSource.AGENT)


def test_position_write_filled_volume_over_the_volume_is_validation() -> None:
    changes = {"status": "OPEN", "entry_price": "150", "mt_ticket": "1", "filled_volume": "1.5"}
    with pytest.raises(DomainError, match="filledVolume must not exceed the volume 1"):
        apply_position_update(_at(P.OPENING), changes, LATER, ChangeSource.AGENT)


@pytest.mark.parametrize(
    ("state", "target", "writer", "allowed"),
    [
        (ActionStatus.EXECUTING, ActionStatus.EXECUTED, ChangeSource.AGENT, True),
        (ActionStatus.EXECUTING, ActionStatus.EXECUTED, ChangeSource.USER, False),
        (ActionStatus.EXECUTING, ActionStatus.FAILED, ChangeSource.USER, True),
        (ActionStatus.PENDING, ActionStatus.EXECUTING, ChangeSource.USER, True),
        (ActionStatus.FAILED, ActionStatus.PENDING, ChangeSource.USER, True),
    ],
)
def test_action_write_executed_is_the_agents_word_the_rest_requests(
    state: ActionStatus, target: ActionStatus, writer: ChangeSource, allowed: bool
) -> None:
    action, _ = new_entry(UserId("u"), AccountId("a"), EntryRequest("USDJPY", "BUY", 1), SymbolCatalog(), NOW)
    action = replace(action, status=state)
    if allowed:
        assert apply_action_update(action, {"status": target.value}, LATER, writer).status is target
    else:
        with pytest.raises(Forbidden):
            apply_action_update(action, {"status": target.value}, LATER, writer)
