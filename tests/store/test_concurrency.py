"""Optimistic concurrency: versions, stale expectedVersion, and real races between threads."""

from __future__ import annotations

import pytest

from hedge.domain.enums import ActionStatus
from hedge.domain.errors import Conflict, InvalidTransition

from .conftest import World, race

THREADS = 16


def test_version_increases_by_one_on_each_change(world: World) -> None:
    store = world.store
    action, position = world.entry()
    assert (action.version, position.version) == (1, 1)
    position = store.update_position(world.client, position.id, {"memo": "a"})
    position = store.update_position(world.client, position.id, {"memo": "b"}, expected_version=2)
    assert position.version == 3
    action = store.update_action(action.id, {"status": "EXECUTING"}, expected_version=1)
    account = store.update_account(world.account_id, {"balance": 1000.5}, expected_version=1)
    assert (action.version, account.version) == (2, 2)


@pytest.mark.parametrize("entity", ["Position", "Action", "Account"])
def test_stale_expected_version_raises_conflict_naming_both_versions(world: World, entity: str) -> None:
    store = world.store
    action, position = world.entry()
    if entity == "Position":
        store.update_position(world.client, position.id, {"memo": "moved on"})
        row_id: str = position.id

        def stale() -> object:
            return store.update_position(world.client, position.id, {"memo": "late"}, expected_version=1)
    elif entity == "Action":
        store.update_action(action.id, {"error_message": "moved on"})
        row_id = action.id

        def stale() -> object:
            return store.update_action(action.id, {"status": "CANCELED"}, expected_version=1)
    else:
        store.update_account(world.account_id, {"display_name": "moved on"})
        row_id = world.account_id

        def stale() -> object:
            return store.update_account(world.account_id, {"display_name": "late"}, expected_version=1)

    head = store.signal.head
    with pytest.raises(Conflict, match="is at version 2, the update expected version 1") as conflict:
        stale()
    assert (conflict.value.entity, conflict.value.entity_id) == (entity, row_id)
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert store.read_changes(head) == []


@pytest.mark.parametrize("expected_version", [None, 1])
def test_concurrent_writers_moving_one_action_to_executing_exactly_one_wins(
    world: World, expected_version: int | None
) -> None:
    store = world.store
    action, _ = world.entry()
    head = store.signal.head
    results, errors = race(
        lambda: store.update_action(action.id, {"status": "EXECUTING"}, expected_version=expected_version),
        THREADS,
    )
    assert len(results) == 1 and results[0].status is ActionStatus.EXECUTING
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, Conflict | InvalidTransition) for e in errors), errors
    events = store.read_changes(head)
    assert [(e.entity_id, e.version, e.image["status"]) for e in events] == [(action.id, 2, "EXECUTING")]


def test_concurrent_trigger_actions_on_one_position_exactly_one_returns_the_actions(world: World) -> None:
    store = world.store
    _, position = world.entry()
    hedge, _ = world.entry(world.second_account_id, symbol="EURUSD")
    store.update_position(world.client, position.id, {"trigger_action_ids": [hedge.id]})
    world.open_position(store.get_position(position.id) or position)
    results, errors = race(lambda: store.trigger_actions(position.id, "TRAIL", "150.2"), THREADS)
    assert errors == []
    fired = [started for _, started in results if started]
    assert len(fired) == 1 and [a.id for a in fired[0]] == [hedge.id]
    assert len({p.version for p, _ in results}) == 1  # every caller sees the one stamped row
