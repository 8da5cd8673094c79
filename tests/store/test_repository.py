"""Multi-row writes are atomic: ENTRY with its position, triggerActions, STOPPED, trigger lists."""

from __future__ import annotations

import time
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hedge.domain import creation
from hedge.domain.enums import ActionStatus, ActionType, ExitReason, PositionStatus, TriggerReason
from hedge.domain.errors import Forbidden, InvalidTransition
from hedge.domain.models import Position
from hedge.store.repository import Store

from .conftest import World, row_counts


def _fail_action_events(store: Store) -> None:
    """A database trigger that makes any Action change event fail: a real failure mid-transaction."""
    with store.engine.begin() as conn:
        if store.postgres:
            conn.execute(
                text(
                    "CREATE FUNCTION fail_action_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.entity = 'Action' THEN RAISE EXCEPTION 'provoked failure'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER fail_action_events BEFORE INSERT ON changes "
                    "FOR EACH ROW EXECUTE FUNCTION fail_action_events()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER fail_action_events BEFORE INSERT ON changes WHEN NEW.entity = 'Action' "
                    "BEGIN SELECT RAISE(ABORT, 'provoked failure'); END"
                )
            )


def test_create_entry_writes_action_and_pending_position_with_their_events_together(world: World) -> None:
    store = world.store
    head = store.signal.head
    action, position = world.entry()
    assert action.type is ActionType.ENTRY and action.status is ActionStatus.PENDING
    assert action.position_id == position.id and position.status is PositionStatus.PENDING
    assert store.get_action(action.id) == action and store.get_position(position.id) == position
    events = store.read_changes(head)
    assert [(e.entity, e.op, e.entity_id) for e in events] == [
        ("Position", "INSERT", position.id),
        ("Action", "INSERT", action.id),
    ]
    assert events[1].seq == events[0].seq + 1 and events[0].committed_at == events[1].committed_at


def test_create_entry_failing_feed_insert_leaves_neither_row_nor_event(world: World) -> None:
    _fail_action_events(world.store)
    before = row_counts(world.store)
    with pytest.raises(DBAPIError, match="provoked failure"):
        world.entry()
    assert row_counts(world.store) == before


def test_create_entry_id_collision_after_position_insert_leaves_neither(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken, _ = world.entry()
    fresh = count()
    # the position gets a fresh id, the action an id already taken: the second INSERT fails
    ids = iter([f"fresh-position-{next(fresh)}", taken.id])
    monkeypatch.setattr(creation, "new_id", lambda: next(ids))
    before = row_counts(world.store)
    with pytest.raises(DBAPIError):
        world.entry()
    assert row_counts(world.store) == before
    assert world.store.get_position("fresh-position-0") is None


def _hedged(world: World) -> tuple[Position, list[str]]:
    """An OPEN position of the client listing two ENTRY actions: the client's own and another user's."""
    _, position = world.entry()
    own, _ = world.entry(world.second_account_id, symbol="EURUSD")
    foreign, _ = world.entry(world.other_account_id, symbol="XAUUSD")
    ids: list[str] = [own.id, foreign.id]
    position = world.store.update_position(world.admin, position.id, {"trigger_action_ids": ids})
    return world.open_position(position), ids


def test_trigger_actions_moves_pending_triggers_and_stamps_once_in_one_transaction(world: World) -> None:
    store = world.store
    position, ids = _hedged(world)
    head = store.signal.head
    fired, started = store.trigger_actions(position.id, "TRAIL", 150.105)
    assert sorted(a.id for a in started) == sorted(ids)
    assert all(a.status is ActionStatus.EXECUTING for a in started)
    assert fired.trail_triggered_at is not None and fired.trigger_reason is TriggerReason.TRAIL
    assert fired.trigger_price == Decimal("150.105") and fired.version == position.version + 1
    events = store.read_changes(head)
    assert {(e.entity, e.entity_id) for e in events} == {("Position", position.id)} | {
        ("Action", i) for i in ids
    }
    assert len({e.committed_at for e in events}) == 1
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 3))


def test_trigger_actions_repeated_changes_nothing_and_returns_empty(world: World) -> None:
    store = world.store
    position, _ = _hedged(world)
    fired, _ = store.trigger_actions(position.id, "TRAIL")
    head = store.signal.head
    again, started = store.trigger_actions(position.id, "MANUAL", 151)
    assert started == [] and again == fired
    assert store.read_changes(head) == []


def test_trigger_actions_leaves_non_pending_trigger_actions_as_they_are(world: World) -> None:
    store = world.store
    position, (own, foreign) = _hedged(world)
    store.update_action(own, {"status": "CANCELED"})
    _, started = store.trigger_actions(position.id, "TRAIL")
    assert [a.id for a in started] == [foreign]
    canceled = store.get_action(own)
    assert canceled is not None and canceled.status is ActionStatus.CANCELED


@pytest.mark.parametrize("status", ["PENDING", "OPENING", "CANCELED"])
def test_trigger_actions_before_open_or_canceled_raises_invalid_transition(world: World, status: str) -> None:
    store = world.store
    _, position = world.entry()
    if status != "PENDING":
        position = store.update_position(world.admin, position.id, {"status": status})
    before = row_counts(store)
    with pytest.raises(InvalidTransition, match=f"from {status} to TRIGGER"):
        store.trigger_actions(position.id, "TRAIL")
    assert row_counts(store) == before


@pytest.mark.parametrize("status", ["OPEN", "CLOSING", "CLOSED", "STOPPED"])
def test_trigger_actions_open_or_later_is_accepted(world: World, status: str) -> None:
    store = world.store
    position, _ = _hedged(world)
    path = {"OPEN": [], "CLOSING": ["CLOSING"], "CLOSED": ["CLOSING", "CLOSED"], "STOPPED": ["STOPPED"]}
    for step in path[status]:  # the terminal's word comes from the owner's agent (issue 9)
        final = step in ("CLOSED", "STOPPED")
        exit_ = {"exit_price": "149.5", "exit_reason": "MANUAL_CLOSE"} if final else {}
        position = store.update_position(world.agent(position), position.id, {"status": step, **exit_})
    fired, _ = store.trigger_actions(position.id, "TRAIL")
    assert fired.status.value == status and fired.trail_triggered_at is not None


def test_position_stopped_fires_trigger_actions_as_stop_out_in_one_change(world: World) -> None:
    store = world.store
    position, ids = _hedged(world)
    head = store.signal.head
    stopped = store.update_position(world.client, position.id, {"status": "STOPPED", "exit_price": "149.2"})
    assert stopped.version == position.version + 1
    assert stopped.trigger_reason is TriggerReason.STOP_OUT and stopped.exit_reason is ExitReason.STOP_OUT
    assert stopped.trail_triggered_at is not None and stopped.trigger_price == Decimal("149.2")
    for action_id in ids:
        action = store.get_action(action_id)
        assert action is not None and action.status is ActionStatus.EXECUTING
    events = store.read_changes(head)
    assert len(events) == 3 and len({e.committed_at for e in events}) == 1
    assert store.trigger_actions(position.id, "TRAIL")[1] == []


def test_trigger_list_client_listing_another_users_action_is_forbidden(world: World) -> None:
    store = world.store
    _, position = world.entry()
    foreign, _ = world.entry(world.other_account_id)
    before = row_counts(store)
    with pytest.raises(Forbidden, match=foreign.id):
        store.update_position(world.client, position.id, {"trigger_action_ids": [foreign.id]})
    assert row_counts(store) == before
    assert store.get_action(foreign.id) == foreign


def test_trigger_list_admin_may_list_another_users_action_and_it_points_back(world: World) -> None:
    store = world.store
    _, position = world.entry()
    foreign, _ = world.entry(world.other_account_id)
    updated = store.update_position(world.admin, position.id, {"trigger_action_ids": [foreign.id]})
    assert updated.trigger_action_ids == (foreign.id,)
    linked = store.get_action(foreign.id)
    assert linked is not None and linked.trigger_position_id == position.id
    assert linked.version == foreign.version + 1


def test_trigger_list_client_own_action_listed_then_removed_clears_its_pointer(world: World) -> None:
    store = world.store
    _, position = world.entry()
    own, _ = world.entry(world.second_account_id)
    store.update_position(world.client, position.id, {"trigger_action_ids": [own.id]})
    head = store.signal.head
    store.update_position(world.client, position.id, {"trigger_action_ids": []})
    cleared = store.get_action(own.id)
    assert cleared is not None and cleared.trigger_position_id is None and cleared.version == own.version + 2
    assert {(e.entity, e.entity_id) for e in store.read_changes(head)} == {
        ("Position", position.id),
        ("Action", own.id),
    }


def test_close_action_for_position_of_the_account_is_created_pending(world: World) -> None:
    store = world.store
    _, position = world.entry()
    close, same = store.create_action(
        world.client.user_id, world.account_id, "CLOSE", position_id=position.id
    )
    assert close.type is ActionType.CLOSE and close.position_id == position.id and same == position


def test_decimal_text_is_kept_exactly_and_follows_a_numerically_equal_change(world: World) -> None:
    store = world.store
    _, position = world.entry()
    opened = world.open_position(position)
    assert str(opened.entry_price) == "150.000"
    # a broker fact is not editable after its move (issue 9), so a plan field shows the same rule
    store.update_position(world.admin, position.id, {"trail_width": "10.0", "memo": "same number"})
    reread = store.get_position(position.id)
    assert reread is not None and str(reread.trail_width) == "10.0" and str(reread.entry_price) == "150.000"


def test_close_returns_promptly(store_url: str) -> None:
    opened = Store(store_url)
    started = time.monotonic()
    opened.close()
    assert time.monotonic() - started < 0.3


def test_opening_a_pending_position_starts_its_pending_entry_action_in_the_same_transaction(
    world: World,
) -> None:
    action, position = world.entry()
    head = world.store.signal.head
    world.store.update_position(world.client, position.id, {"status": "OPENING"})
    started = world.store.get_action(action.id)
    assert started is not None and started.status is ActionStatus.EXECUTING
    # (the same transaction also raises a MARGIN_LOW note: margin cannot be checked without the
    # terminal's marginPerLot, issue 9's pre-trade rule)
    events = [e for e in world.store.read_changes(head) if e.entity != "Alert"]
    assert [(e.entity, e.entity_id) for e in events] == [("Position", position.id), ("Action", action.id)]
    assert events[0].committed_at == events[1].committed_at


def test_canceling_a_pending_position_cancels_its_pending_entry_action(world: World) -> None:
    action, position = world.entry()
    world.store.update_position(world.client, position.id, {"status": "CANCELED"})
    canceled = world.store.get_action(action.id)
    assert canceled is not None and canceled.status is ActionStatus.CANCELED


def test_opening_leaves_an_entry_action_that_already_runs_as_it_is(world: World) -> None:
    action, position = world.entry()
    running = world.store.update_action(action.id, {"status": "EXECUTING"})
    world.store.update_position(world.client, position.id, {"status": "OPENING"})
    assert world.store.get_action(action.id) == running
