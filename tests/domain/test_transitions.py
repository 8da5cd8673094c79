"""The Position and Action state tables: exactly the moves of the contract, every other pair refused."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from hedge.domain.enums import ActionStatus, PositionStatus
from hedge.domain.errors import InvalidTransition
from hedge.domain.transitions import (
    ACTION_TABLE,
    FINAL_ACTION_STATES,
    FINAL_POSITION_STATES,
    POSITION_TABLE,
    ActionTrigger,
    PositionTrigger,
    action_trigger_for,
    apply_action,
    apply_position,
    check_action_move,
    check_position_move,
    position_trigger_for,
)

P, A = PositionStatus, ActionStatus
S = TypeVar("S", bound=Enum)
T = TypeVar("T", bound=Enum)
CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "contract" / "schema.graphql"

POSITION_MOVES = {
    (P.PENDING, P.OPENING), (P.PENDING, P.CANCELED), (P.OPENING, P.OPEN), (P.OPENING, P.CANCELED),
    (P.OPEN, P.CLOSING), (P.OPEN, P.STOPPED), (P.CLOSING, P.CLOSED), (P.CLOSING, P.OPEN),
}  # fmt: skip
ACTION_MOVES = {
    (A.PENDING, A.EXECUTING), (A.PENDING, A.CANCELED), (A.EXECUTING, A.EXECUTED), (A.EXECUTING, A.FAILED),
    (A.FAILED, A.PENDING),
}  # fmt: skip


def _contract_moves(machine: str) -> set[tuple[str, str]]:
    """The moves the contract's header comment lists for `machine` ("Position" or "Action")."""
    header = CONTRACT.read_text().split("State machines", 1)[1].split("\n#\n", 1)[0]
    block = header.split(f"{machine}:", 1)[1]
    block = re.split(r"\n#\s+\w+:", block, maxsplit=1)[0]
    return {
        (frm, to) for frm, targets in re.findall(r"([A-Z]+)->([A-Z|]+)", block) for to in targets.split("|")
    }


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract is not next to the repository")
def test_tables_equal_the_contracts_state_machines() -> None:
    assert _contract_moves("Position") == {(a.value, b.value) for a, b in POSITION_MOVES}
    assert _contract_moves("Action") == {(a.value, b.value) for a, b in ACTION_MOVES}


def test_tables_hold_exactly_the_contract_moves() -> None:
    assert {(frm, to) for (frm, _), to in POSITION_TABLE.items()} == POSITION_MOVES
    assert {(frm, to) for (frm, _), to in ACTION_TABLE.items()} == ACTION_MOVES


@dataclass(frozen=True)
class Machine(Generic[S, T]):
    """One state machine's table and functions, so each test below runs for both machines."""

    entity: str
    states: tuple[S, ...]
    triggers: tuple[T, ...]
    moves: set[tuple[S, S]]
    table: Mapping[tuple[S, T], S]
    check: Callable[[S, S], None]
    apply: Callable[[S, T], S]
    trigger_for: Callable[[S, S], T]


POSITION = Machine(
    "Position", tuple(P), tuple(PositionTrigger), POSITION_MOVES, POSITION_TABLE,
    check_position_move, apply_position, position_trigger_for,
)  # fmt: skip
ACTION = Machine(
    "Action", tuple(A), tuple(ActionTrigger), ACTION_MOVES, ACTION_TABLE,
    check_action_move, apply_action, action_trigger_for,
)  # fmt: skip
MACHINES: list[Machine[Any, Any]] = [POSITION, ACTION]
EVERY_PAIR = [pytest.param(m, frm, to, id=f"{m.entity}-{frm.value}-{to.value}") for m in MACHINES
              for frm, to in itertools.product(m.states, m.states)]  # fmt: skip
EVERY_TRIGGER = [pytest.param(m, state, trigger, id=f"{m.entity}-{state}-{trigger}") for m in MACHINES
                 for state, trigger in itertools.product(m.states, m.triggers)]  # fmt: skip


@pytest.mark.parametrize(("machine", "frm", "to"), EVERY_PAIR)
def test_move_allowed_exactly_when_in_contract(machine: Machine[Any, Any], frm: Any, to: Any) -> None:
    if (frm, to) in machine.moves:
        machine.check(frm, to)
        assert machine.apply(frm, machine.trigger_for(frm, to)) is to
        return
    with pytest.raises(InvalidTransition) as refused:
        machine.check(frm, to)
    error = refused.value
    assert (error.entity, error.from_state, error.to_state) == (machine.entity, frm.value, to.value)
    assert f"{machine.entity} cannot move from {frm.value} to {to.value}" in error.message


def test_refusal_message_lists_the_moves_allowed_from_the_state() -> None:
    with pytest.raises(InvalidTransition, match="allowed from OPEN: CLOSING, STOPPED"):
        check_position_move(P.OPEN, P.CLOSED)
    with pytest.raises(InvalidTransition, match=r"allowed from CLOSED: none \(final state\)"):
        check_position_move(P.CLOSED, P.OPEN)


@pytest.mark.parametrize(("machine", "state", "trigger"), EVERY_TRIGGER)
def test_apply_trigger_not_in_table_raises(machine: Machine[Any, Any], state: Any, trigger: Any) -> None:
    if (state, trigger) in machine.table:
        assert machine.apply(state, trigger) is machine.table[(state, trigger)]
    else:
        with pytest.raises(InvalidTransition, match=f"from {state.value} to {trigger.value}"):
            machine.apply(state, trigger)


def test_final_states_are_the_contracts() -> None:
    assert frozenset({P.CLOSED, P.STOPPED, P.CANCELED}) == FINAL_POSITION_STATES
    assert frozenset({A.EXECUTED, A.CANCELED}) == FINAL_ACTION_STATES
