"""A PostgreSQL restart drops every pooled connection: the store finds a dropped one at checkout
and takes a fresh one, so the first calls after the restart succeed (no round trip added)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from hedge.localservices import PostgresServer, start_postgres
from hedge.store.repository import Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def restartable(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own (the session's is shared by every other test)."""
    server = start_postgres()
    yield server
    server.stop()


def test_first_calls_after_postgres_restart_succeed_on_fresh_connections(restartable: PostgresServer) -> None:
    store = Store(restartable.create_database("restart"))
    try:
        user, token = store.create_user("a@example.com", "Alice", "CLIENT")
        barrier = threading.Barrier(4)

        def hold_a_connection() -> None:  # four connections in the pool, all of them used once
            with store.engine.connect():
                barrier.wait(timeout=10)

        threads = [threading.Thread(target=hold_a_connection) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        restartable.restart()

        for _ in range(6):  # more calls than pooled (dead) connections
            assert store.user_by_token(token) == user
        assert store.presence_join(user.id, "process-a", 1, timedelta(seconds=30)).version == 2
    finally:
        store.close()
