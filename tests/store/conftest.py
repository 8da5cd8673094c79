"""Store test helpers: a seeded world (an admin, two clients, their accounts) and row counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from hedge.domain.authz import Actor
from hedge.domain.clock import ManualClock
from hedge.domain.creation import EntryRequest
from hedge.domain.enums import UserRole
from hedge.domain.models import Action, Position
from hedge.store.repository import Store
from hedge.store.tables import accounts, actions, changes, positions, users


@dataclass(frozen=True)
class World:
    store: Store
    admin: Actor
    client: Actor
    other: Actor
    account_id: str  # the client's
    second_account_id: str  # the client's second account (hedge side)
    other_account_id: str  # the other client's

    def entry(
        self, account_id: str | None = None, symbol: str = "USDJPY", volume: Any = "0.1"
    ) -> tuple[Action, Position]:
        account = self.store.get_account(account_id or self.account_id)
        assert account is not None
        return self.store.create_action(
            account.user_id, account.id, "ENTRY", entry=EntryRequest(symbol, "BUY", volume, trail_width="10")
        )

    @staticmethod
    def agent(position: Position) -> Actor:
        """The owner's agent (a CLIENT credential of the position's user): the terminal's word."""
        return Actor(position.user_id, UserRole.CLIENT)

    def open_position(self, position: Position) -> Position:
        """PENDING -> OPENING -> OPEN, as the agent does after the EA's fill."""
        store = self.store
        agent = self.agent(position)
        opening = store.update_position(agent, position.id, {"status": "OPENING"})
        return store.update_position(
            agent,
            opening.id,
            {
                "status": "OPEN",
                "entry_price": "150.000",
                "mt_ticket": "T1",
                "entry_time": "2026-01-05T09:00:00Z",
            },
        )


def seed(store: Store) -> World:
    admin, _ = store.create_user("admin@example.com", "Admin", "ADMIN")
    client, _ = store.create_user("client@example.com", "Client", "CLIENT")
    other, _ = store.create_user("other@example.com", "Other", "CLIENT")
    account = store.create_account(client.id, "MT5", "1001", "Broker-Live", "main")
    second = store.create_account(client.id, "MT4", "1002", "Broker-Live", "hedge")
    other_account = store.create_account(other.id, "MT5", "2001", "Broker-Live", "other")
    return World(
        store,
        Actor(admin.id, UserRole.ADMIN),
        Actor(client.id, UserRole.CLIENT),
        Actor(other.id, UserRole.CLIENT),
        account.id,
        second.id,
        other_account.id,
    )


@pytest.fixture
def world(store: Store) -> World:
    return seed(store)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def clocked_store(store_url: str, clock: ManualClock) -> Iterator[Store]:
    opened = Store(store_url, clock=clock)
    yield opened
    opened.close()


def row_counts(store: Store) -> dict[str, int]:
    """Rows per table, the change feed included: equal before and after means nothing was written."""
    with store.engine.connect() as conn:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (users, accounts, positions, actions, changes)
        }


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait for a condition another thread makes true (no event exists for these; 1 ms steps)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.001)


R = TypeVar("R")


def race(call: Callable[[], R], threads: int) -> tuple[list[R], list[BaseException]]:
    """Run `call` in `threads` threads released together by a barrier: (results, errors)."""
    barrier = threading.Barrier(threads)
    results: list[R] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome = call()
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(outcome)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=60)
    return results, errors


ClockedUser = tuple[Store, ManualClock, str]


@pytest.fixture
def clocked_user(clocked_store: Store, clock: ManualClock) -> ClockedUser:
    """A store on a hand-moved clock with one CLIENT user: (store, clock, user id)."""
    user, _ = clocked_store.create_user("trader@x.io", "Trader", "CLIENT")
    return clocked_store, clock, user.id
