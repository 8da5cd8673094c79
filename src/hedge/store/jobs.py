"""The scheduler's rows: each job's next due time and lease, and the record of its runs.

A job is claimed with one conditional UPDATE (due, and no live lease), so on any number of
server processes sharing a PostgreSQL database exactly one gets it; the others see rowcount 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hedge.store.engine import begin_write
from hedge.store.job_tables import job_cursors, job_runs, job_schedule


@dataclass(frozen=True, slots=True)
class JobRun:
    job: str
    process_id: str
    started_at: datetime
    finished_at: datetime
    duration_s: float
    outcome: str  # OK | FAILED | INTERRUPTED (the server stopped while it ran)
    detail: str


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite) outside the entity Unit."""
    with engine.connect() as conn, conn.begin():
        begin_write(conn)
        yield conn


def ensure_job(engine: Engine, job: str, first_due: datetime) -> None:
    """The job's schedule row, made once: several server processes starting together on one fresh
    store all ask, and the first insert wins (the others change nothing)."""
    dialect_insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(job_schedule).values(job=job, next_due_at=first_due)
    with writing(engine) as conn:
        conn.execute(statement.on_conflict_do_nothing(index_elements=[job_schedule.c.job]))


def next_due(engine: Engine, job: str) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(select(job_schedule.c.next_due_at).where(job_schedule.c.job == job)).scalar()
    return value


def claim(
    engine: Engine, job: str, holder: str, now: datetime, next_due_at: datetime, lease_until: datetime
) -> bool:
    """Take the job if it is due and nobody holds a live lease; move its due time on."""
    statement = (
        update(job_schedule)
        .where(
            job_schedule.c.job == job,
            job_schedule.c.next_due_at <= now,
            or_(job_schedule.c.lease_until.is_(None), job_schedule.c.lease_until < now),
        )
        .values(holder=holder, lease_until=lease_until, next_due_at=next_due_at)
    )
    with writing(engine) as conn:
        return conn.execute(statement).rowcount == 1


def renew(engine: Engine, job: str, holder: str, lease_until: datetime) -> bool:
    statement = (
        update(job_schedule)
        .where(job_schedule.c.job == job, job_schedule.c.holder == holder)
        .values(lease_until=lease_until)
    )
    with writing(engine) as conn:
        return conn.execute(statement).rowcount == 1


def finish(engine: Engine, run: JobRun, keep_runs: int = 200) -> None:
    """Record the run, let go of the lease, and keep only the newest `keep_runs` runs of the job."""
    release = (
        update(job_schedule)
        .where(job_schedule.c.job == run.job, job_schedule.c.holder == run.process_id)
        .values(holder=None, lease_until=None)
    )
    with writing(engine) as conn:
        conn.execute(insert(job_runs).values(**_row(run)))
        conn.execute(release)
        oldest_kept = (
            select(job_runs.c.id)
            .where(job_runs.c.job == run.job)
            .order_by(job_runs.c.id.desc())
            .offset(keep_runs)
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(job_runs.delete().where(job_runs.c.job == run.job, job_runs.c.id <= oldest_kept))


def _row(run: JobRun) -> dict[str, object]:
    return {
        "job": run.job,
        "process_id": run.process_id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_s": run.duration_s,
        "outcome": run.outcome,
        "detail": run.detail[:2000],
    }


def list_runs(engine: Engine, job: str | None = None, limit: int = 50) -> list[JobRun]:
    query = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(job_runs.c.job == job)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [_run(row) for row in rows]


def latest_runs(engine: Engine) -> list[JobRun]:
    """The newest run of every job."""
    newest = select(func.max(job_runs.c.id)).group_by(job_runs.c.job).scalar_subquery()
    query = select(job_runs).where(job_runs.c.id.in_(newest)).order_by(job_runs.c.job)
    with engine.connect() as conn:
        return [_run(row) for row in conn.execute(query).mappings()]


def _run(row: object) -> JobRun:
    m = dict(row)  # type: ignore[call-overload]
    return JobRun(
        m["job"],
        m["process_id"],
        m["started_at"],
        m["finished_at"],
        m["duration_s"],
        m["outcome"],
        m["detail"],
    )


def read_cursor(conn: Connection, name: str) -> int | None:
    return conn.execute(select(job_cursors.c.seq).where(job_cursors.c.name == name)).scalar()


def write_cursor(conn: Connection, name: str, seq: int) -> None:
    if conn.execute(update(job_cursors).where(job_cursors.c.name == name).values(seq=seq)).rowcount == 0:
        conn.execute(insert(job_cursors).values(name=name, seq=seq))


def hold_lease(engine: Engine, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take or keep a standing lease (a job that runs all the time, on one process)."""
    ensure_job(engine, name, now)
    statement = (
        update(job_schedule)
        .where(
            job_schedule.c.job == name,
            or_(
                job_schedule.c.lease_until.is_(None),
                job_schedule.c.lease_until < now,
                job_schedule.c.holder == holder,
            ),
        )
        .values(holder=holder, lease_until=until)
    )
    with writing(engine) as conn:
        return conn.execute(statement).rowcount == 1


def release_lease(engine: Engine, name: str, holder: str) -> None:
    statement = (
        update(job_schedule)
        .where(job_schedule.c.job == name, job_schedule.c.holder == holder)
        .values(holder=None, lease_until=None)
    )
    with writing(engine) as conn:
        conn.execute(statement)
