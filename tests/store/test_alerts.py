"""Alerts in the store, on SQLite and PostgreSQL: raise inside any transaction, de-duplication of an
open condition, acknowledge/resolve with who and when, escalation, and the refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.store.conftest import World, race, seed

from hedge.domain.alerts import AlertDraft
from hedge.domain.clock import ManualClock
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.domain.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from hedge.store.alerts import raise_alert, resolve_alerts
from hedge.store.repository import Store
from hedge.store.tables import alerts

ESCALATE_S = 900.0


def draft(world: World, **changes: Any) -> AlertDraft:
    fields: dict[str, Any] = {
        "user_id": world.client.user_id,
        "kind": AlertKind.OUTCOME_UNKNOWN,
        "severity": AlertSeverity.WARNING,
        "message": "OPEN sent to the terminal, no answer yet",
        "account_id": world.account_id,
        **changes,
    }
    return AlertDraft(**fields)


def alert_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(alerts)).scalar_one())


def test_raise_alert_stores_it_and_feeds_an_alert_insert(world: World) -> None:
    raised = world.store.raise_alert(draft(world))
    event = world.store.read_changes(0)[-1]
    assert (event.entity, event.op, event.entity_id, event.user_id) == (
        "Alert", "INSERT", raised.id, world.client.user_id,
    )  # fmt: skip
    assert world.store.get_alert(raised.id) == raised


def test_raise_alert_of_an_open_condition_updates_it_instead_of_adding_one(world: World) -> None:
    first = world.store.raise_alert(draft(world, severity=AlertSeverity.CRITICAL))
    again = world.store.raise_alert(draft(world, severity=AlertSeverity.INFO, message="still nothing"))
    assert again.id == first.id and (again.count, again.version) == (2, 2)
    assert again.severity is AlertSeverity.CRITICAL and again.message == "still nothing"
    assert alert_rows(world.store) == 1
    assert world.store.read_changes(0)[-1].op == "UPDATE"


def test_raise_alert_for_another_position_or_kind_is_another_condition(world: World) -> None:
    _, position = world.entry()
    base = world.store.raise_alert(draft(world))
    other_position = world.store.raise_alert(draft(world, position_id=position.id))
    other_kind = world.store.raise_alert(draft(world, kind=AlertKind.EA_UNREACHABLE))
    assert len({base.id, other_position.id, other_kind.id}) == 3


def test_raise_alert_after_resolution_opens_a_new_alert(world: World) -> None:
    first = world.store.raise_alert(draft(world))
    world.store.resolve_alert(world.admin, first.id, "settled by SYNC")
    second = world.store.raise_alert(draft(world))
    assert second.id != first.id and second.count == 1


def test_raise_alert_inside_a_transaction_that_fails_leaves_nothing(world: World) -> None:
    # a server rule raises inside its own write transaction (Store._unit is that transaction)
    with pytest.raises(RuntimeError), world.store._unit() as unit:
        raise_alert(unit, draft(world))
        raise RuntimeError("the rule's own change failed")
    assert alert_rows(world.store) == 0


def test_resolve_alerts_resolves_only_the_named_condition_by_the_system(world: World) -> None:
    target = world.store.raise_alert(draft(world, kind=AlertKind.EA_UNREACHABLE))
    kept = world.store.raise_alert(draft(world))
    with world.store._unit() as unit:
        done = resolve_alerts(
            unit, user_id=world.client.user_id, kind=AlertKind.EA_UNREACHABLE,
            account_id=world.account_id, note="EA back",
        )  # fmt: skip
    assert [a.id for a in done] == [target.id]
    assert done[0].resolved_at is not None and done[0].resolved_by is None and done[0].note == "EA back"
    still = world.store.get_alert(kept.id)
    assert still is not None and still.resolved_at is None


def test_resolve_alerts_with_nothing_open_returns_nothing_and_writes_nothing(world: World) -> None:
    head = world.store.signal.head
    with world.store._unit() as unit:
        assert resolve_alerts(unit, user_id=world.client.user_id, kind=AlertKind.AGENT_OFFLINE) == []
    assert world.store.signal.head == head


def test_raise_alert_for_unknown_user_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.store.raise_alert(draft(world, user_id="nobody", account_id=None))
    assert alert_rows(world.store) == 0


@pytest.mark.parametrize(("field", "value"), [("message", ""), ("kind", "BAD"), ("severity", None)])
def test_raise_alert_with_bad_draft_is_refused(world: World, field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        world.store.raise_alert(draft(world, **{field: value}))
    assert alert_rows(world.store) == 0


def test_client_raising_for_another_user_is_forbidden(world: World) -> None:
    with pytest.raises(Forbidden):
        world.store.raise_alert(draft(world, user_id=world.other.user_id, account_id=None), world.client)
    assert alert_rows(world.store) == 0


def test_client_naming_another_users_account_is_forbidden(world: World) -> None:
    with pytest.raises(Forbidden):
        world.store.raise_alert(draft(world, account_id=world.other_account_id), world.client)


def test_admin_naming_an_account_of_another_user_than_the_alerts_is_a_validation_error(world: World) -> None:
    with pytest.raises(ValidationError) as raised:
        world.store.raise_alert(draft(world, account_id=world.other_account_id), world.admin)
    assert raised.value.field == "accountId"


def test_raise_alert_naming_a_missing_account_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.store.raise_alert(draft(world, account_id="no-such-account"), world.client)


def test_raise_alert_naming_a_position_the_server_does_not_have_is_accepted(world: World) -> None:
    # an orphan at the broker carries a positionId in its comment that the server may not know
    raised = world.store.raise_alert(
        draft(world, kind=AlertKind.ORPHAN_AT_BROKER, position_id="unknown-pos", requires_action=True),
        world.client,
    )
    assert raised.position_id == "unknown-pos" and raised.requires_action


def test_acknowledge_records_who_when_and_note(world: World) -> None:
    raised = world.store.raise_alert(draft(world))
    done = world.store.acknowledge_alert(world.client, raised.id, "on it")
    assert done.acknowledged_by == world.client.user_id and done.acknowledged_at is not None
    assert done.note == "on it" and done.version == 2


def test_acknowledge_of_another_users_alert_is_forbidden_and_changes_nothing(world: World) -> None:
    raised = world.store.raise_alert(draft(world))
    with pytest.raises(Forbidden):
        world.store.acknowledge_alert(world.other, raised.id, "not mine")
    assert world.store.get_alert(raised.id) == raised


def test_acknowledge_twice_is_an_invalid_transition(world: World) -> None:
    raised = world.store.raise_alert(draft(world))
    world.store.acknowledge_alert(world.client, raised.id)
    with pytest.raises(InvalidTransition):
        world.store.acknowledge_alert(world.admin, raised.id)


def test_acknowledge_unknown_alert_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.store.acknowledge_alert(world.admin, "no-such-alert")


def test_resolve_by_a_person_records_who_and_automatic_leaves_it_empty(world: World) -> None:
    by_hand = world.store.raise_alert(draft(world))
    by_itself = world.store.raise_alert(draft(world, kind=AlertKind.EA_UNREACHABLE))
    done = world.store.resolve_alert(world.admin, by_hand.id, "closed at the terminal")
    auto = world.store.resolve_alert(world.client, by_itself.id, None, automatic=True)
    assert done.resolved_by == world.admin.user_id and done.note == "closed at the terminal"
    assert auto.resolved_by is None and auto.resolved_at is not None


def test_resolve_a_resolved_alert_is_an_invalid_transition(world: World) -> None:
    raised = world.store.raise_alert(draft(world))
    done = world.store.resolve_alert(world.client, raised.id)
    with pytest.raises(InvalidTransition):
        world.store.resolve_alert(world.client, raised.id, "again")
    assert world.store.get_alert(raised.id) == done


def test_resolve_with_an_overlong_note_is_refused(world: World) -> None:
    raised = world.store.raise_alert(draft(world))
    with pytest.raises(ValidationError):
        world.store.resolve_alert(world.client, raised.id, "x" * 2001)


def test_list_alerts_by_user_and_open_state(world: World) -> None:
    mine = world.store.raise_alert(draft(world))
    done = world.store.raise_alert(draft(world, kind=AlertKind.GHOST_POSITION))
    world.store.resolve_alert(world.admin, done.id)
    theirs = world.store.raise_alert(draft(world, user_id=world.other.user_id, account_id=None))
    store = world.store
    assert [a.id for a in store.list_alerts(world.client.user_id)] == [mine.id, done.id]
    assert [a.id for a in store.list_alerts(world.client.user_id, open_only=True)] == [mine.id]
    assert [a.id for a in store.list_alerts(world.client.user_id, open_only=False)] == [done.id]
    assert {a.id for a in store.list_alerts()} == {mine.id, done.id, theirs.id}


def test_escalate_due_raises_open_unacknowledged_alerts_one_step(
    clocked_store: Store, clock: ManualClock
) -> None:
    world = seed(clocked_store)
    info = clocked_store.raise_alert(draft(world, severity=AlertSeverity.INFO))
    seen = clocked_store.raise_alert(draft(world, kind=AlertKind.GHOST_POSITION))
    clocked_store.acknowledge_alert(world.client, seen.id)
    clock.advance(ESCALATE_S - 1)
    assert clocked_store.escalate_due(clock.now(), ESCALATE_S) == []
    clock.advance(1)
    escalated = clocked_store.escalate_due(clock.now(), ESCALATE_S)
    assert [(a.id, a.severity, a.escalated_at) for a in escalated] == [
        (info.id, AlertSeverity.WARNING, clock.now())
    ]
    assert clocked_store.escalate_due(clock.now(), ESCALATE_S) == []  # not again in the same period
    assert clocked_store.read_changes(0)[-1].entity_id == info.id  # delivered again as an update


def test_escalate_due_critical_once_then_never_again(clocked_store: Store, clock: ManualClock) -> None:
    world = seed(clocked_store)
    clocked_store.raise_alert(draft(world, severity=AlertSeverity.CRITICAL))
    clock.advance(ESCALATE_S)
    assert len(clocked_store.escalate_due(clock.now(), ESCALATE_S)) == 1
    clock.advance(10 * ESCALATE_S)
    assert clocked_store.escalate_due(clock.now(), ESCALATE_S) == []


@pytest.mark.parametrize("after_s", [0.0, -5.0])
def test_escalate_due_with_non_positive_period_is_refused(world: World, after_s: float) -> None:
    with pytest.raises(ValidationError):
        world.store.escalate_due(world.store.now() + timedelta(days=1), after_s)


def test_raise_alert_of_one_condition_from_many_threads_keeps_one_open_alert(world: World) -> None:
    raisers, each = 4, 5
    _, errors = race(lambda: [world.store.raise_alert(draft(world)) for _ in range(each)], raisers)
    assert errors == []
    (only,) = world.store.list_alerts(world.client.user_id)
    assert only.count == raisers * each
