"""What a pcStatus change brings in the same transaction, on SQLite and PostgreSQL: OFFLINE makes
the user's accounts DISCONNECTED and raises AGENT_OFFLINE while positions are live; ONLINE
resolves that alert by itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.store.conftest import World

from hedge.domain.enums import AlertKind, AlertSeverity, ConnectionStatus
from hedge.domain.errors import NotFound
from hedge.domain.models import Alert

TTL = timedelta(seconds=15)


def _connect_accounts(world: World) -> None:
    for account_id in (world.account_id, world.second_account_id):
        world.store.update_account(account_id, {"connection_status": "CONNECTED"})


def _agent_offline(world: World, user_id: str) -> list[Alert]:
    return [a for a in world.store.list_alerts(user_id, open_only=True) if a.kind is AlertKind.AGENT_OFFLINE]


def test_offline_makes_every_account_of_the_user_disconnected_in_one_change(world: World) -> None:
    _connect_accounts(world)
    world.store.update_account(world.other_account_id, {"connection_status": "CONNECTED"})
    world.store.presence_join(world.client.user_id, "p1", 1, TTL)
    head = world.store.signal.head
    world.store.presence_leave(world.client.user_id, "p1")
    for account_id in (world.account_id, world.second_account_id):
        account = world.store.get_account(account_id)
        assert account is not None and account.connection_status is ConnectionStatus.DISCONNECTED
    other = world.store.get_account(world.other_account_id)
    assert other is not None and other.connection_status is ConnectionStatus.CONNECTED
    committed = {e.committed_at for e in world.store.read_changes(head)}
    assert len(committed) == 1  # the user and its accounts: one transaction


def test_offline_with_open_positions_raises_agent_offline_naming_them(world: World) -> None:
    _, position = world.entry()
    opened = world.open_position(position)
    world.entry()  # a PENDING one: not at the broker, not named
    world.store.presence_join(world.client.user_id, "p1", 1, TTL)
    world.store.presence_leave(world.client.user_id, "p1")
    (alert,) = _agent_offline(world, world.client.user_id)  # other rules may raise their own alerts
    assert alert.severity is AlertSeverity.WARNING
    assert alert.related_position_ids == (opened.id,) and "1 position" in alert.message


def test_offline_without_live_positions_raises_no_alert(world: World) -> None:
    world.entry()
    world.store.presence_join(world.client.user_id, "p1", 1, TTL)
    world.store.presence_leave(world.client.user_id, "p1")
    assert world.store.list_alerts(world.client.user_id) == []


def test_back_online_resolves_agent_offline_by_itself(world: World) -> None:
    world.open_position(world.entry()[1])
    world.store.presence_join(world.client.user_id, "p1", 1, TTL)
    world.store.presence_leave(world.client.user_id, "p1")
    world.store.presence_join(world.client.user_id, "p1", 1, TTL)
    assert _agent_offline(world, world.client.user_id) == []
    (resolved,) = [
        a
        for a in world.store.list_alerts(world.client.user_id, open_only=False)
        if a.kind is AlertKind.AGENT_OFFLINE
    ]
    assert resolved.resolved_by is None and resolved.resolved_at is not None


def test_going_offline_twice_counts_on_the_open_alert(world: World) -> None:
    world.open_position(world.entry()[1])
    world.store.presence_join(world.client.user_id, "process-a", 1, timedelta(seconds=30))
    world.store.presence_leave(world.client.user_id, "process-a")
    world.store.presence_leave(world.client.user_id, "process-a")  # no change: nothing new
    (alert,) = _agent_offline(world, world.client.user_id)
    assert alert.count == 1


def test_sweep_of_a_dead_process_takes_accounts_offline_too(world: World) -> None:
    _connect_accounts(world)
    world.open_position(world.entry()[1])
    world.store.presence_join(world.client.user_id, "dead-process", 1, timedelta(seconds=-1))
    world.store.presence_sweep()
    account = world.store.get_account(world.account_id)
    assert account is not None and account.connection_status is ConnectionStatus.DISCONNECTED
    assert len(_agent_offline(world, world.client.user_id)) == 1


def test_status_change_of_unknown_user_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.store.presence_leave("nobody", "process-a")
