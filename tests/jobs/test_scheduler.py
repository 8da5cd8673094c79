"""The scheduler: each job runs when due, once across processes, and every run is recorded."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import select

from hedge.domain.clock import ManualClock
from hedge.jobs.metrics import JobMetrics
from hedge.jobs.scheduler import Job, Scheduler, daily_at
from hedge.store import jobs as rows
from hedge.store.job_tables import job_schedule
from hedge.store.repository import Store


class Counter:
    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.calls = 0
        self.fail_on = fail_on or set()
        self.lock = threading.Lock()

    def __call__(self) -> str:
        with self.lock:
            self.calls += 1
            number = self.calls
        if number in self.fail_on:
            raise RuntimeError(f"run {number} broke")
        return f"run {number}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


async def test_interval_job_runs_at_start_then_each_interval(store: Store, clock: ManualClock) -> None:
    work = Counter()
    scheduler = Scheduler(store.engine, [Job("tick", work, 60.0)], clock, process_id="p1")

    first = await scheduler.run_due()
    again = await scheduler.run_due()
    clock.advance(59)
    early = await scheduler.run_due()
    clock.advance(1)
    second = await scheduler.run_due()

    assert [r.detail for r in first] == ["run 1"] and again == [] and early == []
    assert [r.detail for r in second] == ["run 2"] and work.calls == 2
    assert [r.outcome for r in rows.list_runs(store.engine, "tick")] == ["OK", "OK"]


async def test_two_processes_on_one_store_run_a_due_job_once(store: Store, clock: ManualClock) -> None:
    work = Counter()
    a = Scheduler(store.engine, [Job("tick", work, 30.0)], clock, process_id="a")
    b = Scheduler(store.engine, [Job("tick", work, 30.0)], clock, process_id="b")

    for _ in range(3):
        ran = await asyncio.gather(a.run_due(), b.run_due())
        assert sum(len(r) for r in ran) == 1
        clock.advance(30)

    assert work.calls == 3


async def test_failing_job_is_recorded_failed_and_runs_again_when_due(
    store: Store, clock: ManualClock
) -> None:
    work = Counter(fail_on={1})
    registry = CollectorRegistry()
    scheduler = Scheduler(store.engine, [Job("flaky", work, 10.0)], clock, metrics=JobMetrics(registry))

    failed = await scheduler.run_due()
    clock.advance(10)
    recovered = await scheduler.run_due()

    assert failed[0].outcome == "FAILED" and failed[0].detail == "RuntimeError: run 1 broke"
    assert recovered[0].outcome == "OK"
    text = generate_latest(registry).decode()
    assert 'hedge_job_runs_total{job="flaky",outcome="FAILED"} 1.0' in text
    assert 'hedge_job_last_success{job="flaky"} 1.0' in text


async def test_lease_of_a_process_that_died_mid_run_blocks_others_until_it_expires(
    store: Store, clock: ManualClock
) -> None:
    work = Counter()
    job = Job("tick", work, 10.0, lease_s=60.0)
    survivor = Scheduler(store.engine, [job], clock, process_id="survivor")
    await survivor.prepare()
    now = clock.now()
    # another process claimed the job and died before finishing: its lease stays in the store
    assert rows.claim(
        store.engine, "tick", "dead", now, now + timedelta(seconds=10), now + timedelta(seconds=60)
    )

    clock.advance(30)  # due again, but the dead holder's lease is still live
    blocked = await survivor.run_due()
    clock.advance(31)  # the lease has expired
    taken = await survivor.run_due()

    assert blocked == [] and [r.process_id for r in taken] == ["survivor"] and work.calls == 1


async def test_daily_job_waits_for_its_time_of_day(store: Store, clock: ManualClock) -> None:
    work = Counter()
    scheduler = Scheduler(store.engine, [Job("daily", work, 86400.0, next_after=daily_at("10:30"))], clock)

    before = await scheduler.run_due()
    clock.advance(30 * 60)
    at_time = await scheduler.run_due()
    clock.advance(23 * 3600)
    next_day_early = await scheduler.run_due()

    assert before == [] and len(at_time) == 1 and next_day_early == []
    assert rows.next_due(store.engine, "daily") == datetime(2026, 3, 3, 10, 30, tzinfo=UTC)


def test_daily_at_gives_the_next_occurrence_of_the_time() -> None:
    next_after = daily_at("03:00")
    assert next_after(datetime(2026, 3, 2, 2, 59, tzinfo=UTC)) == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert next_after(datetime(2026, 3, 2, 3, 0, tzinfo=UTC)) == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["3", "25:00", "ab:cd", "03:60", ""])
def test_daily_at_with_a_malformed_time_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        daily_at(bad)


def test_scheduler_with_two_jobs_of_one_name_is_refused(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        with pytest.raises(ValueError, match="unique"):
            Scheduler(store.engine, [Job("x", Counter(), 1.0), Job("x", Counter(), 2.0)], ManualClock())
    finally:
        store.close()


async def test_started_scheduler_runs_jobs_on_its_own_and_stops_cleanly(tmp_path: Path) -> None:
    from hedge.domain.clock import SystemClock

    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    work = Counter(fail_on={2})
    loop, fourth_run = asyncio.get_running_loop(), asyncio.Event()

    def job() -> str:
        if work.calls >= 4:  # the fourth run is recorded before a fifth starts
            loop.call_soon_threadsafe(fourth_run.set)
        return work()  # the second run fails, and the loop goes on

    scheduler = Scheduler(store.engine, [Job("fast", job, 0.05)], SystemClock(), poll_cap_s=0.05)
    try:
        await scheduler.start()
        await asyncio.wait_for(fourth_run.wait(), 10)
        await scheduler.stop()
        recorded = len(rows.list_runs(store.engine, "fast"))
        await asyncio.sleep(0.2)  # a stopped scheduler starts and records nothing more
        assert len(rows.list_runs(store.engine, "fast")) == recorded and work.calls <= 5
        outcomes = [r.outcome for r in reversed(rows.list_runs(store.engine, "fast"))]
        assert outcomes[:4] == ["OK", "FAILED", "OK", "OK"]
    finally:
        store.close()


class Blocking:
    """A job that runs until `release` is set (a long archive, say)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> str:
        self.started.set()
        if not self.release.wait(30):
            raise RuntimeError("never released")
        return "finished"


def _holder(store: Store, job: str) -> tuple[str | None, datetime | None]:
    with store.engine.connect() as conn:
        row = conn.execute(
            select(job_schedule.c.holder, job_schedule.c.lease_until).where(job_schedule.c.job == job)
        ).one()
    return row[0], row[1]


async def test_stop_lets_a_running_job_finish_and_records_it(store: Store, clock: ManualClock) -> None:
    work = Blocking()
    scheduler = Scheduler(store.engine, [Job("long", work, 60.0)], clock, process_id="p1", stop_wait_s=30)
    await scheduler.start()
    assert await asyncio.to_thread(work.started.wait, 10)

    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0.2)
    still_waiting = not stopping.done()  # stop waits for the run...
    work.release.set()
    await asyncio.wait_for(stopping, 10)  # ...and returns once it has finished

    (run,) = rows.list_runs(store.engine, "long")
    assert still_waiting and (run.outcome, run.detail) == ("OK", "finished")
    assert _holder(store, "long") == (None, None)


async def test_stop_records_a_run_still_going_after_the_wait_as_interrupted_and_frees_its_lease(
    store: Store, clock: ManualClock
) -> None:
    work = Blocking()
    job = Job("long", work, 60.0, lease_s=600.0)
    a = Scheduler(store.engine, [job], clock, process_id="a", stop_wait_s=0.2)
    await a.start()
    assert await asyncio.to_thread(work.started.wait, 10)
    try:
        await asyncio.wait_for(a.stop(), 10)
        (run,) = rows.list_runs(store.engine, "long")
        holder = _holder(store, "long")
    finally:
        work.release.set()  # the worker thread itself cannot be killed; let it end
    clock.advance(60)  # due again, far inside the 600 s lease the stopped run held
    b = Scheduler(store.engine, [Job("long", lambda: "taken over", 60.0)], clock, process_id="b")
    taken = await b.run_due()

    assert run.outcome == "INTERRUPTED" and "stopped while it ran" in run.detail and run.process_id == "a"
    assert holder == (None, None)
    assert [r.detail for r in taken] == ["taken over"]


async def test_stopped_scheduler_starts_no_new_run(store: Store, clock: ManualClock) -> None:
    work = Counter()
    scheduler = Scheduler(store.engine, [Job("tick", work, 60.0)], clock, process_id="p1")
    await scheduler.stop()

    assert await scheduler.run_due() == [] and work.calls == 0
