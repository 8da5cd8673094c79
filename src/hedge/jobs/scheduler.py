"""One scheduler for the server's periodic work: a supervised asyncio loop per job.

Each job's due time and lease live in the store (hedge.store.jobs), so with several server
processes on one PostgreSQL database exactly one process runs a given job at a time: a process
claims a due job with a conditional UPDATE, renews the lease while the job runs, and records the
run (start, duration, outcome) when it ends. A process that dies mid-run stops renewing; once its
lease has expired another process takes the job at its next due time.

Jobs are blocking functions (store work) run in a worker thread; they return a one-line detail
for the record. A job that raises is logged with its traceback and recorded as FAILED; the loop
goes on. Time comes from a `Clock`, so tests drive `run_due()` with a `ManualClock`.

`stop()` starts no new run and lets a running one finish (its lease still renewed) for up to
`stop_wait_s`, then records it. A run still going after that is recorded as INTERRUPTED and its
lease released, so the next process may take the job at once instead of after the lease runs out
(a thread cannot be killed: the jobs are resumable, e.g. the archive's recorded steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine

from hedge.domain.clock import Clock
from hedge.jobs.metrics import JobMetrics
from hedge.store import jobs as rows
from hedge.store.jobs import JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: `run` every `interval_s`, or at the times `next_after` gives."""

    name: str
    run: Callable[[], str]
    interval_s: float
    next_after: Callable[[datetime], datetime] | None = None
    lease_s: float = 120.0  # renewed every third of it while the job runs

    def due_after(self, now: datetime) -> datetime:
        if self.next_after is not None:
            return self.next_after(now)
        return now + timedelta(seconds=self.interval_s)


def daily_at(clock_time: str) -> Callable[[datetime], datetime]:
    """The next moment after `now` when the UTC wall clock reads `clock_time` ("HH:MM")."""
    try:
        hour, minute = (int(part) for part in clock_time.split(":"))
        at = time(hour, minute, tzinfo=UTC)
    except ValueError:
        raise ValueError(f"a time of day must be HH:MM (UTC), was {clock_time!r}") from None

    def next_after(now: datetime) -> datetime:
        candidate = datetime.combine(now.astimezone(UTC).date(), at)
        return candidate if candidate > now else candidate + timedelta(days=1)

    return next_after


def default_process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        jobs: list[Job],
        clock: Clock,
        *,
        metrics: JobMetrics | None = None,
        process_id: str | None = None,
        poll_cap_s: float = 5.0,
        stop_wait_s: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique, were {names}")
        self.engine = engine
        self.jobs = {job.name: job for job in jobs}
        self.clock = clock
        self.metrics = metrics
        self.process_id = process_id or default_process_id()
        self._poll_cap_s = poll_cap_s
        self._sleep = sleep
        self._stop_wait_s = stop_wait_s
        self._tasks: list[asyncio.Task[None]] = []
        self._runs: set[asyncio.Task[JobRun]] = set()  # runs under way (they outlive a loop's cancel)
        self._stopping = False
        self._prepared = False

    def _now(self) -> datetime:
        moment = self.clock.now()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    async def prepare(self) -> None:
        """Give every job its schedule row (interval jobs are due at once, timed jobs at their time)."""
        now = self._now()
        for job in self.jobs.values():
            first = now if job.next_after is None else job.next_after(now)
            await asyncio.to_thread(rows.ensure_job, self.engine, job.name, first)
        self._prepared = True

    async def start(self) -> None:
        await self.prepare()
        for job in self.jobs.values():
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"job:{job.name}"))

    async def stop(self) -> None:
        """Start no new run; let the runs under way finish within `stop_wait_s` and record them,
        else record them INTERRUPTED and let go of their leases."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()  # a loop waiting on its run lets go of the wait; the run goes on
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._runs:
            _done, late = await asyncio.wait(set(self._runs), timeout=self._stop_wait_s)
            for run in late:
                run.cancel()  # _run records it as INTERRUPTED
            for run in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await run

    async def run_due(self) -> list[JobRun]:
        """One pass: run every job that is due now and that this process can claim."""
        if not self._prepared:
            await self.prepare()
        done = []
        for job in self.jobs.values():
            run = await self.run_if_due(job)
            if run is not None:
                done.append(run)
        return done

    async def run_if_due(self, job: Job) -> JobRun | None:
        if self._stopping:
            return None
        now = self._now()
        lease_until = now + timedelta(seconds=job.lease_s)
        claimed = await asyncio.to_thread(
            rows.claim, self.engine, job.name, self.process_id, now, job.due_after(now), lease_until
        )
        if not claimed:
            return None
        run = asyncio.create_task(self._run(job, now), name=f"run:{job.name}")
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        return await asyncio.shield(run)  # stop() decides how long a run may go on

    async def _run(self, job: Job, started_at: datetime) -> JobRun:
        renewer = asyncio.create_task(self._renew_while_running(job))
        began = self.clock.monotonic()
        interrupted = False
        try:
            detail = await asyncio.to_thread(job.run)
            outcome = "OK"
        except asyncio.CancelledError:  # stop() waited long enough: record it, free the lease
            interrupted = True
            detail = f"the server stopped while it ran (still running after {self._stop_wait_s:g} s)"
            outcome = "INTERRUPTED"
            log.warning("job %s: %s; recorded as INTERRUPTED and its lease released", job.name, detail)
        except Exception as exc:
            log.exception("job %s failed; it runs again when next due", job.name)
            detail, outcome = f"{type(exc).__name__}: {exc}", "FAILED"
        finally:
            renewer.cancel()
        run = JobRun(
            job.name,
            self.process_id,
            started_at,
            self._now(),
            max(self.clock.monotonic() - began, 0.0),
            outcome,
            detail or "",
        )
        await asyncio.to_thread(rows.finish, self.engine, run)
        if self.metrics is not None:
            self.metrics.observe(run)
        if interrupted:
            raise asyncio.CancelledError
        return run

    async def _renew_while_running(self, job: Job) -> None:
        while True:
            await asyncio.sleep(job.lease_s / 3)
            lease_until = self._now() + timedelta(seconds=job.lease_s)
            if not await asyncio.to_thread(rows.renew, self.engine, job.name, self.process_id, lease_until):
                log.warning("job %s: lost its lease while running", job.name)

    async def _loop(self, job: Job) -> None:
        """Supervises one job: wait until it is due, claim it, run it; never dies of an error."""
        while True:
            try:
                due = await asyncio.to_thread(rows.next_due, self.engine, job.name)
                wait_s = 0.0 if due is None else (due - self._now()).total_seconds()
                if wait_s <= 0:
                    if await self.run_if_due(job) is None:
                        # another process holds it, or took it first: look again soon
                        await self._sleep(min(job.interval_s, self._poll_cap_s))
                    continue
                await self._sleep(min(wait_s, self._poll_cap_s))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "scheduler loop of job %s failed; retrying in %.0f s", job.name, self._poll_cap_s
                )
                await self._sleep(self._poll_cap_s)
