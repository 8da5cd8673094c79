"""Account snapshot history: every 30 s for a day, every 5 minutes for 90 days, fed from the feed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.api.conftest import Api, error_code

from hedge.domain.clock import ManualClock
from hedge.jobs.account_history import record_history
from hedge.store import snapshots
from hedge.store.job_tables import account_snapshots
from hedge.store.repository import Store

START = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def timed_store(store_url: str, clock: ManualClock) -> Iterator[Store]:
    opened = Store(store_url, clock=clock)
    yield opened
    opened.close()


def _account(store: Store) -> str:
    user, _ = store.create_user("h@example.com", "H", "CLIENT")
    return store.create_account(user.id, "MT5", "1001", "Demo", "demo").id


def _push(store: Store, account_id: str, equity: str) -> None:
    store.update_account(account_id, {"balance": Decimal("1000"), "equity": Decimal(equity)})


def _series(store: Store, account_id: str, width: int, clock: ManualClock) -> list[tuple[datetime, Decimal]]:
    """The stored points of one series (as kept, whatever the query would pick)."""
    query = (
        select(account_snapshots.c.bucket_at, account_snapshots.c.equity)
        .where(account_snapshots.c.account_id == account_id, account_snapshots.c.resolution_s == width)
        .order_by(account_snapshots.c.bucket_at)
    )
    with store.engine.connect() as conn:
        return [(at, equity) for at, equity in conn.execute(query)]


def test_reports_in_one_bucket_keep_the_latest_and_each_bucket_gets_a_point(
    timed_store: Store, clock: ManualClock
) -> None:
    account = _account(timed_store)
    for equity in ("1000", "1001", "1002"):  # 10:00:00, :10, :20 -> one 30 s bucket
        _push(timed_store, account, equity)
        clock.advance(10)
    _push(timed_store, account, "1003")  # 10:00:30 -> the next bucket
    record_history(timed_store, clock)

    assert _series(timed_store, account, 30, clock) == [
        (START, Decimal("1002")),
        (START + timedelta(seconds=30), Decimal("1003")),
    ]
    assert [(p.at, p.equity) for p in snapshots.history(timed_store.engine, account, START, clock.now())] == [
        (START, Decimal("1002")),
        (START + timedelta(seconds=30), Decimal("1003")),
    ]


def test_thirty_second_points_expire_after_a_day_and_five_minute_points_after_ninety_days(
    timed_store: Store, clock: ManualClock
) -> None:
    account = _account(timed_store)
    for minute in range(10):  # a report a minute for ten minutes
        _push(timed_store, account, str(1000 + minute))
        clock.advance(60)
    record_history(timed_store, clock)
    fine, coarse = _series(timed_store, account, 30, clock), _series(timed_store, account, 300, clock)

    clock.advance(24 * 3600)
    record_history(timed_store, clock)
    after_a_day = (_series(timed_store, account, 30, clock), _series(timed_store, account, 300, clock))
    clock.advance(90 * 24 * 3600)
    record_history(timed_store, clock)

    assert len(fine) == 10 and coarse == [
        (START, Decimal("1004")),
        (START + timedelta(minutes=5), Decimal("1009")),
    ]
    assert after_a_day == ([], coarse)
    assert _series(timed_store, account, 300, clock) == []


def test_history_older_than_a_day_comes_in_five_minute_points_then_thirty_second_ones(
    timed_store: Store, clock: ManualClock
) -> None:
    account = _account(timed_store)
    _push(timed_store, account, "900")  # two days ago, seen from the end
    clock.advance(2 * 24 * 3600)
    _push(timed_store, account, "950")
    clock.advance(31)
    _push(timed_store, account, "960")
    record_history(timed_store, clock)

    points = snapshots.history(timed_store.engine, account, START - timedelta(days=1), clock.now())

    assert [(p.resolution_s, p.equity) for p in points] == [(300, Decimal("900")), (30, Decimal("950")),
                                                            (30, Decimal("960"))]  # fmt: skip


def test_history_job_reads_each_feed_event_once_across_runs(timed_store: Store, clock: ManualClock) -> None:
    account = _account(timed_store)
    _push(timed_store, account, "1000")
    first = record_history(timed_store, clock)
    second = record_history(timed_store, clock)
    clock.advance(30)
    _push(timed_store, account, "1010")
    third = record_history(timed_store, clock)

    assert first.startswith("3 feed events read") and second.startswith("0 feed events read")
    assert third.startswith("1 feed events read")
    assert [e for _, e in _series(timed_store, account, 30, clock)] == [Decimal("1000"), Decimal("1010")]


HISTORY = "query($a: ID!, $s: DateTime) { accountHistory(accountId: $a, since: $s) { accountId at resolutionS equity balance } }"  # noqa: E501
PUSH = "mutation($a: ID!, $e: Float!) { updateAccount(input: {id: $a, balance: 1000, equity: $e}) { id } }"


async def test_account_history_query_shows_the_owner_its_points(tmp_path: Path) -> None:
    from tests.api.conftest import settings_for, start_api

    settings = settings_for(f"sqlite:///{tmp_path / 'h.db'}", snapshot_interval_s=0.2)
    async for api in start_api(settings):
        owner = await api.trader()
        await owner.client.execute(PUSH, {"a": owner.account_id, "e": 1234.5})
        async with asyncio.timeout(30):  # the job runs every HEDGE_SNAPSHOT_INTERVAL_S; no event to await
            while True:
                points = (await owner.client.execute(HISTORY, {"a": owner.account_id}))["accountHistory"]
                if points:
                    break
                await asyncio.sleep(0.1)
    assert points[-1]["equity"] == 1234.5 and points[-1]["resolutionS"] == 30


async def test_account_history_of_another_users_account_is_forbidden(api: Api) -> None:
    owner, other = await api.trader(), await api.trader()
    body = await other.client.raw(HISTORY, {"a": owner.account_id})
    assert error_code(body) == "FORBIDDEN"


async def test_account_history_of_an_unknown_account_is_not_found(api: Api) -> None:
    body = await api.admin.raw(HISTORY, {"a": "acc-missing"})
    assert error_code(body) == "NOT_FOUND"


async def test_account_history_with_a_malformed_since_is_a_validation_error(api: Api) -> None:
    owner = await api.trader()
    body = await owner.client.raw(HISTORY, {"a": owner.account_id, "s": "yesterday"})
    assert error_code(body) in ("VALIDATION", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), body
