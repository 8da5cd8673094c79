"""pcStatus shared by server processes: ONLINE while any process holds a live connection of the user."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from tests.store.conftest import ClockedUser

from hedge.domain.enums import PCStatus
from hedge.domain.models import User
from hedge.store import presence_effects
from hedge.store.repository import Store

TTL = timedelta(seconds=15)


@pytest.fixture
def clocked(clocked_user: ClockedUser) -> ClockedUser:
    return clocked_user


def _status(store: Store, user_id: str) -> PCStatus:
    user = store.get_user(user_id)
    assert user is not None
    return user.pc_status


def test_a_held_connection_makes_the_user_online_and_its_release_offline(clocked: ClockedUser) -> None:
    store, _, user_id = clocked
    assert store.presence_join(user_id, "process-a", 1, TTL).pc_status is PCStatus.ONLINE
    assert store.presence_leave(user_id, "process-a").pc_status is PCStatus.OFFLINE


def test_user_stays_online_while_another_process_still_holds_it(clocked: ClockedUser) -> None:
    store, _, user_id = clocked
    store.presence_join(user_id, "process-a", 1, TTL)
    store.presence_join(user_id, "process-b", 1, TTL)  # the agent reconnected through process B
    assert store.presence_leave(user_id, "process-a").pc_status is PCStatus.ONLINE
    assert store.presence_leave(user_id, "process-b").pc_status is PCStatus.OFFLINE


def test_a_process_that_stops_refreshing_takes_its_users_offline_at_the_next_sweep(
    clocked: ClockedUser,
) -> None:
    store, clock, user_id = clocked
    store.presence_join(user_id, "process-a", 1, TTL)
    clock.advance(10)
    assert store.presence_sweep() == []  # not expired yet
    clock.advance(6)
    assert [u.id for u in store.presence_sweep()] == [user_id]
    assert _status(store, user_id) is PCStatus.OFFLINE


def test_a_refreshed_hold_outlives_its_first_expiry(clocked: ClockedUser) -> None:
    store, clock, user_id = clocked
    store.presence_join(user_id, "process-a", 1, TTL)
    clock.advance(10)
    store.presence_refresh("process-a", {user_id: 1}, TTL)
    clock.advance(10)  # 20 s after joining, 10 s after the refresh
    assert store.presence_sweep() == []
    assert _status(store, user_id) is PCStatus.ONLINE


def test_user_online_without_any_hold_is_swept_offline(clocked: ClockedUser) -> None:
    store, _, user_id = clocked
    with store._unit() as unit:  # as left by a server that died long ago (its row swept since)
        presence_effects.set_pc_status(unit, unit.require(User, user_id), PCStatus.ONLINE)
    store.presence_sweep()
    assert _status(store, user_id) is PCStatus.OFFLINE


def test_leaving_one_process_while_joining_another_ends_online(clocked: ClockedUser) -> None:
    store, _, user_id = clocked
    for round_ in range(10):
        store.presence_join(user_id, f"a{round_}", 1, TTL)
        barrier = threading.Barrier(2)

        def leave(process: str = f"a{round_}", start: threading.Barrier = barrier) -> None:
            start.wait()
            store.presence_leave(user_id, process)

        def join(process: str = f"b{round_}", start: threading.Barrier = barrier) -> None:
            start.wait()
            store.presence_join(user_id, process, 1, TTL)

        threads = [threading.Thread(target=leave), threading.Thread(target=join)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert _status(store, user_id) is PCStatus.ONLINE, f"round {round_}"
        store.presence_leave(user_id, f"b{round_}")
        assert _status(store, user_id) is PCStatus.OFFLINE
