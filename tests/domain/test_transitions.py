"""The Position and Action state tables: exactly the moves of the contract, every other pair refused."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

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


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(P, P)), ids=lambda s: s.value)
def test_position_move_allowed_exactly_when_in_contract(frm: PositionStatus, to: PositionStatus) -> None:
    if (frm, to) in POSITION_MOVES:
        check_position_move(frm, to)
        assert apply_position(frm, position_trigger_for(frm, to)) is to
        return
    with pytest.raises(InvalidTransition) as refused:
        check_position_move(frm, to)
    error = refused.value
    assert (error.entity, error.from_state, error.to_state) == ("Position", frm.value, to.value)
    assert f"Position cannot move from {frm.value} to {to.value}" in error.message


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(A, A)), ids=lambda s: s.value)
def test_action_move_allowed_exactly_when_in_contract(frm: ActionStatus, to: ActionStatus) -> None:
    if (frm, to) in ACTION_MOVES:
        check_action_move(frm, to)
        assert apply_action(frm, action_trigger_for(frm, to)) is to
        return
    with pytest.raises(InvalidTransition) as refused:
        check_action_move(frm, to)
    error = refused.value
    assert (error.entity, error.from_state, error.to_state) == ("Action", frm.value, to.value)
    assert f"Action cannot move from {frm.value} to {to.value}" in error.message


def test_refusal_message_lists_the_moves_allowed_from_the_state() -> None:
    with pytest.raises(InvalidTransition, match="allowed from OPEN: CLOSING, STOPPED"):
        check_position_move(P.OPEN, P.CLOSED)
    with pytest.raises(InvalidTransition, match=r"allowed from CLOSED: none \(final state\)"):
        check_position_move(P.CLOSED, P.OPEN)


@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(P, PositionTrigger)), ids=str)
def test_apply_position_trigger_not_in_table_raises(state: PositionStatus, trigger: PositionTrigger) -> None:
    if (state, trigger) in POSITION_TABLE:
        assert apply_position(state, trigger) is POSITION_TABLE[(state, trigger)]
    else:
        with pytest.raises(InvalidTransition, match=f"from {state.value} to {trigger.value}"):
            apply_position(state, trigger)


@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(A, ActionTrigger)), ids=str)
def test_apply_action_trigger_not_in_table_raises(state: ActionStatus, trigger: ActionTrigger) -> None:
    if (state, trigger) in ACTION_TABLE:
        assert apply_action(state, trigger) is ACTION_TABLE[(state, trigger)]
    else:
        with pytest.raises(InvalidTransition, match=f"from {state.value} to {trigger.value}"):
            apply_action(state, trigger)


def test_final_states_are_the_contracts() -> None:
    assert frozenset({P.CLOSED, P.STOPPED, P.CANCELED}) == FINAL_POSITION_STATES
    assert frozenset({A.EXECUTED, A.CANCELED}) == FINAL_ACTION_STATES
