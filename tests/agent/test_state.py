"""The agent's local copy of its rows: the newest version wins, and the positions by status and
the EXECUTING actions it answers from follow every kept change (and ignore stale ones)."""

from __future__ import annotations

from tests.agent.core_rows import T0, action, position

from hedge.agent.state import LocalState
from hedge.domain.enums import ActionStatus, ActionType, PositionStatus
from hedge.domain.ids import PositionId

P = PositionStatus


def test_positions_in_follows_a_position_through_its_statuses() -> None:
    state = LocalState()
    state.apply(position(P.PENDING, version=1))
    state.apply(position(P.OPENING, version=2))

    assert [p.status for p in state.positions_in(P.OPENING)] == [P.OPENING]
    assert state.positions_in(P.PENDING) == []


def test_positions_in_ignores_an_older_version_arriving_late() -> None:
    state = LocalState()
    state.apply(position(P.OPEN, version=3))

    assert state.apply(position(P.OPENING, version=2)) is False
    assert state.positions_in(P.OPENING) == []
    assert [p.version for p in state.positions_in(P.OPEN)] == [3]


def test_positions_in_several_statuses_in_creation_order() -> None:
    state = LocalState()
    later = T0.replace(minute=5)
    state.apply(position(P.CLOSING, id=PositionId("b"), created_at=later))
    state.apply(position(P.OPEN, id=PositionId("a")))
    state.apply(position(P.PENDING, id=PositionId("c")))

    assert [p.id for p in state.positions_in(P.OPEN, P.CLOSING)] == ["a", "b"]


def test_executing_actions_follow_status_changes() -> None:
    state = LocalState()
    state.apply(action(status=ActionStatus.EXECUTING, version=2))
    assert [a.status for a in state.executing_actions()] == [ActionStatus.EXECUTING]

    state.apply(action(status=ActionStatus.EXECUTED, version=3))
    assert state.executing_actions() == []
    state.apply(action(status=ActionStatus.EXECUTING, version=2))  # a stale repeat
    assert state.executing_actions() == []


def test_symbols_of_keeps_a_symbol_while_any_live_position_of_the_account_has_it() -> None:
    state = LocalState()
    state.apply(position(P.OPEN, id=PositionId("a"), symbol="EURUSD"))
    state.apply(position(P.OPEN, id=PositionId("b"), symbol="EURUSD"))
    state.apply(position(P.PENDING, id=PositionId("c")))  # USDJPY

    state.apply(position(P.CLOSED, version=2, id=PositionId("a"), symbol="EURUSD"))

    assert state.symbols_of("acc-1") == ["EURUSD", "USDJPY"]
    state.apply(position(P.CANCELED, version=2, id=PositionId("b"), symbol="EURUSD"))
    assert state.symbols_of("acc-1") == ["USDJPY"]


def test_symbols_of_ignores_other_accounts_and_stale_versions() -> None:
    state = LocalState()
    state.apply(position(P.OPEN, version=3))
    state.apply(position(P.OPEN, id=PositionId("x"), account_id="acc-2", symbol="EURUSD"))

    state.apply(position(P.CLOSED, version=2))  # older than the OPEN kept

    assert state.symbols_of("acc-1") == ["USDJPY"]
    assert state.symbols_of("acc-2") == ["EURUSD"]
    assert state.symbols_of("acc-3") == []


def test_action_for_answers_from_the_position_s_own_actions_as_their_status_changes() -> None:
    state = LocalState()
    state.apply(action(status=ActionStatus.EXECUTING, version=2))
    state.apply(action(status=ActionStatus.EXECUTING, version=2, type_=ActionType.CLOSE))

    state.apply(action(status=ActionStatus.EXECUTED, version=3))

    assert [a.type for a in state.action_for("pos-A", ActionStatus.EXECUTING)] == [ActionType.CLOSE]
    assert [a.type for a in state.action_for("pos-A", ActionStatus.EXECUTED)] == [ActionType.ENTRY]
    assert state.action_for("pos-B", ActionStatus.EXECUTING) == []
    assert len(state.actions_of("pos-A")) == 2
