"""Who writes what through the store, on both engines: every field x role (ADMIN, the owner's
agent, another user's agent) x state, and the rules around the moves. A refused write leaves
the row as it was and adds nothing to the change feed or the history."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from tests.domain.position_values import WRITE_VALUES
from tests.store.conftest import World

from hedge.domain.enums import ActionStatus, PositionStatus, TriggerReason
from hedge.domain.errors import Conflict, DomainError, Forbidden, InvalidTransition, ValidationError
from hedge.domain.models import Position
from hedge.store.tables import row_history

P = PositionStatus
FACTS = {"mt_ticket", "entry_price", "entry_time", "filled_volume", "exit_price", "exit_time",
         "exit_reason", "realized_pl"}  # fmt: skip
PLAN = {"trail_width", "trail_mode", "trigger_action_ids"}
# the store checks more than the domain: the fill no larger than the 0.1 ordered, trigger ids that exist
VALUES: dict[str, Any] = {**WRITE_VALUES, "filled_volume": "0.1", "trigger_action_ids": []}
WALK: dict[P, list[dict[str, Any]]] = {
    P.PENDING: [],
    P.OPENING: [{"status": "OPENING"}],
    P.OPEN: [{"status": "OPENING"}, {"status": "OPEN", "entry_price": "150", "mt_ticket": "T1"}],
    P.CLOSING: [{"status": "OPENING"}, {"status": "OPEN", "entry_price": "150", "mt_ticket": "T1"},
                {"status": "CLOSING"}],
    P.CLOSED: [{"status": "OPENING"}, {"status": "OPEN", "entry_price": "150", "mt_ticket": "T1"},
               {"status": "CLOSING"}, {"status": "CLOSED", "exit_price": "150.2"}],
    P.STOPPED: [{"status": "OPENING"}, {"status": "OPEN", "entry_price": "150", "mt_ticket": "T1"},
                {"status": "STOPPED", "exit_price": "149", "exit_reason": "MANUAL_CLOSE"}],
    P.CANCELED: [{"status": "CANCELED"}],
}  # fmt: skip


def _position_at(world: World, state: P) -> Position:
    _, position = world.entry()
    for step in WALK[state]:
        position = world.store.update_position(world.agent(position), position.id, step)
    assert position.status is state
    return position


def _expected(role: str, state: P, field: str) -> type[DomainError] | None:
    if role == "foreign":
        return Forbidden
    if state in (P.CLOSED, P.STOPPED, P.CANCELED):
        return None if field == "memo" else InvalidTransition
    if field in FACTS:  # never without its move
        return Forbidden if role == "admin" else InvalidTransition
    if field in PLAN and state not in (P.PENDING, P.OPEN):
        return InvalidTransition
    return None


def _history_rows(world: World) -> int:
    with world.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(row_history)).scalar_one())


@pytest.mark.parametrize("state", list(P))
def test_position_edit_every_field_and_role_in_each_state_follows_the_rules(world: World, state: P) -> None:
    position = _position_at(world, state)
    actors = {"admin": world.admin, "owner": world.agent(position), "foreign": world.other}
    wrong: list[tuple[object, ...]] = []
    for field in sorted(VALUES):
        for role, actor in actors.items():
            before = world.store.get_position(position.id)
            head, kept = world.store.signal.head, _history_rows(world)
            want = _expected(role, state, field)
            try:
                world.store.update_position(actor, position.id, {field: VALUES[field]})
                got: type[DomainError] | None = None
            except (Forbidden, InvalidTransition) as refused:
                got = type(refused) if not isinstance(refused, InvalidTransition) else InvalidTransition
            unchanged = world.store.get_position(position.id) == before and world.store.signal.head == head
            if got is not None and not (unchanged and _history_rows(world) == kept):
                wrong.append((field, role, "a refused write changed something"))
            if want is not got:
                wrong.append((field, role, want, got))
    assert wrong == []


def test_position_admin_moves_are_requests_only(world: World) -> None:
    position = _position_at(world, P.OPENING)
    with pytest.raises(Forbidden, match="terminal's word"):
        world.store.update_position(
            world.admin, position.id, {"status": "OPEN", "entry_price": "1", "mt_ticket": "9"}
        )
    opened = _position_at(world, P.OPEN)
    closing = world.store.update_position(world.admin, opened.id, {"status": "CLOSING"})
    assert closing.status is P.CLOSING


def test_position_stopped_by_hand_in_the_terminal_fires_nothing(world: World) -> None:
    _, position = world.entry()
    hedge, _ = world.entry(world.other_account_id)
    position = world.store.update_position(world.admin, position.id, {"trigger_action_ids": [hedge.id]})
    position = world.open_position(position)
    stopped = world.store.update_position(
        world.agent(position),
        position.id,
        {"status": "STOPPED", "exit_price": "149", "exit_reason": "TERMINAL_CLOSE"},
    )
    assert stopped.trail_triggered_at is None
    action = world.store.get_action(hedge.id)
    assert action is not None and action.status is ActionStatus.PENDING


def test_position_stopped_out_while_closing_fires_the_chain(world: World) -> None:
    _, position = world.entry()
    hedge, _ = world.entry(world.other_account_id)
    position = world.store.update_position(world.admin, position.id, {"trigger_action_ids": [hedge.id]})
    position = world.open_position(position)
    world.store.update_position(world.admin, position.id, {"status": "CLOSING"})
    closed = world.store.update_position(
        world.agent(position),
        position.id,
        {"status": "CLOSED", "exit_price": "149", "exit_reason": "STOP_OUT"},
    )
    assert closed.trigger_reason is TriggerReason.STOP_OUT
    action = world.store.get_action(hedge.id)
    assert action is not None and action.status is ActionStatus.EXECUTING and action.expires_at is not None


def test_position_opening_raced_by_a_cancel_loser_changes_nothing(world: World) -> None:
    action, position = world.entry()
    world.store.update_position(world.admin, position.id, {"status": "CANCELED"})
    head = world.store.signal.head
    with pytest.raises(Conflict):  # the agent read version 1: its conditional write loses
        world.store.update_position(
            world.agent(position), position.id, {"status": "OPENING"}, expected_version=1
        )
    with pytest.raises(InvalidTransition):  # or, re-read, the move is no longer there to make
        world.store.update_position(world.agent(position), position.id, {"status": "OPENING"})
    assert world.store.signal.head == head
    assert world.store.get_action(action.id).status is ActionStatus.CANCELED  # type: ignore[union-attr]


def test_account_symbol_specs_are_the_terminals_word(world: World) -> None:
    spec = {"symbol": "US30", "digits": 1, "point": "0.1", "contract_size": "1", "volume_min": "0.1",
            "volume_step": "0.1", "volume_max": "50"}  # fmt: skip
    with pytest.raises(Forbidden, match="symbolSpecs"):
        world.store.update_account(world.account_id, {"symbol_specs": [spec]}, actor=world.admin)
    updated = world.store.update_account(world.account_id, {"symbol_specs": [spec]}, actor=world.client)
    assert updated.symbol_specs["US30"]["point"] == "0.1"
    with pytest.raises(ValidationError, match="volumeMin must not be above volumeMax"):
        world.store.update_account(
            world.account_id, {"symbol_specs": [{**spec, "volume_min": "60"}]}, actor=world.client
        )
