"""Store benchmark: conditional updates per second and commit-to-reader latency of the change feed,
against the floor of the same statements sent by the bare driver.

Run: `uv run python bench/store.py [--updates N] [--latency-samples N] [--ordinary]`. Prints one JSON line per
engine (SQLite file in WAL mode, PostgreSQL started here with fsync on).

The floor replays, through the bare driver (sqlite3 / psycopg) on a copy of the database, the very
statements and parameters the store sent for the same number of updates (recorded from the
store's own cursor: SQLAlchemy's `before_cursor_execute` for what still goes through SQLAlchemy and
the raw path's listener for the hot statements, hedge.store.raw), each call in its own transaction
as the store does: so it keeps in step with whatever the store's write path sends (the row, its
change event, its history).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.report import percentile

from hedge.domain.authz import Actor
from hedge.domain.creation import EntryRequest
from hedge.domain.enums import UserRole
from hedge.localservices import start_postgres
from hedge.store.repository import Store

Statement = tuple[str, Any, bool]  # SQL, parameters, executemany


def _prepare(store: Store, name: str) -> tuple[Actor, str, int]:
    user, _ = store.create_user(f"{name}@example.com", "Bench", "CLIENT")
    account = store.create_account(user.id, "MT5", name, "Bench-Server", "bench")
    _, position = store.create_action(
        user.id, account.id, "ENTRY", entry=EntryRequest("USDJPY", "BUY", "0.1")
    )
    return Actor(user.id, UserRole.CLIENT), position.id, position.version


def measure_updates(store: Store, count: int) -> tuple[float, float]:
    """Committed update_position calls per second from one thread, each with expected_version,
    and the writer thread's CPU time per update (steadier than wall time on a shared machine)."""
    actor, position_id, version = _prepare(store, "updates")
    started, cpu_started = time.perf_counter(), time.thread_time()
    for i in range(count):
        changed = store.update_position(actor, position_id, {"memo": f"m{i}"}, expected_version=version)
        version = changed.version
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return count / elapsed, cpu / count * 1e6


def record_statements(store: Store, count: int) -> tuple[list[Statement], list[list[Statement]]]:
    """`count` updates through the store on a fresh position, with the statements each sent.

    Returns the statements that made the position (user, account, action) and those of each update:
    replayed in that order on an empty store of the same schema, they do the same work."""
    current: list[Statement] = []
    caller = threading.get_ident()

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if threading.get_ident() != caller:
            return  # the store's own checkpoints, on its own thread, are not part of an update
        # a batched INSERT comes already expanded into one statement with flat parameters
        batch = many and isinstance(params, list) and bool(params) and isinstance(params[0], tuple | dict)
        current.append((statement, params, batch))

    def capture_raw(statement: str, params: Any) -> None:
        if threading.get_ident() == caller:
            current.append((statement, params, False))

    event.listen(store.engine, "before_cursor_execute", capture)
    if store.raw is not None:
        store.raw.listen(capture_raw)
    try:
        actor, position_id, version = _prepare(store, "floor")
        setup = current.copy()
        current.clear()
        calls: list[list[Statement]] = []
        for i in range(count):
            version = store.update_position(
                actor, position_id, {"memo": f"f{i}"}, expected_version=version
            ).version
            calls.append(current.copy())
            current.clear()
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
        if store.raw is not None:
            store.raw.unlisten(capture_raw)
    return setup, calls


def floor_sqlite(path: Path, setup: list[Statement], calls: list[list[Statement]]) -> tuple[float, float]:
    """The recorded calls through bare sqlite3, with the store's pragmas and BEGIN IMMEDIATE."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "wal_autocheckpoint=0"):
        conn.execute(f"PRAGMA {pragma}")
    for statements in [setup]:  # untimed: the position the updates change
        conn.execute("BEGIN IMMEDIATE")
        for sql, params, many in statements:
            cursor = conn.executemany(sql, params) if many else conn.execute(sql, params)
            cursor.fetchall()
        conn.execute("COMMIT")
    started, cpu_started = time.perf_counter(), time.thread_time()
    for statements in calls:
        conn.execute("BEGIN IMMEDIATE")
        for sql, params, many in statements:
            cursor = conn.executemany(sql, params) if many else conn.execute(sql, params)
            cursor.fetchall()
        conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    conn.close()
    return len(calls) / elapsed, cpu / len(calls) * 1e6


def floor_postgres(dsn: str, setup: list[Statement], calls: list[list[Statement]]) -> tuple[float, float]:
    """The recorded calls through bare psycopg, one transaction each."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cursor:  # untimed: the position the updates change
            for sql, params, many in setup:
                if many:
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
        conn.commit()
        started, cpu_started = time.perf_counter(), time.thread_time()
        for statements in calls:
            with conn.cursor() as cursor:
                for sql, params, many in statements:
                    if many:
                        cursor.executemany(sql, params)
                    else:
                        cursor.execute(sql, params)
                        if cursor.description is not None:
                            cursor.fetchall()
            conn.commit()
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return len(calls) / elapsed, cpu / len(calls) * 1e6


def measure_latency(store: Store, samples: int) -> dict[str, float]:
    """Writer in this thread, reader blocked in wait_changes in another; ms percentiles."""
    actor, position_id, version = _prepare(store, "latency")
    cursor = store.signal.head
    seen_at: dict[int, int] = {}  # position version -> ns when the reader got it
    reader_ready = threading.Event()
    done = threading.Event()
    got = threading.Semaphore(0)

    def read() -> None:
        nonlocal cursor
        reader_ready.set()
        while not done.is_set():
            for change in store.wait_changes(cursor, timeout_s=1.0):
                now = time.perf_counter_ns()
                cursor = change.seq
                if change.entity_id == position_id:
                    seen_at[change.version] = now
                    got.release()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader_ready.wait()
    commit_start: dict[int, int] = {}
    commit_end: dict[int, int] = {}
    for i in range(samples):
        time.sleep(0.001)  # let the reader block in wait_changes again
        begin = time.perf_counter_ns()
        version = store.update_position(
            actor, position_id, {"memo": f"l{i}"}, expected_version=version
        ).version
        commit_end[version] = time.perf_counter_ns()
        commit_start[version] = begin
        got.acquire(timeout=5)
    done.set()
    reader.join(timeout=5)
    after_return = [max(0, seen_at[v] - commit_end[v]) / 1e6 for v in commit_end if v in seen_at]
    from_start = [(seen_at[v] - commit_start[v]) / 1e6 for v in commit_start if v in seen_at]
    return {
        "commit_to_reader_p50_ms": round(statistics.median(after_return), 3),
        "commit_to_reader_p99_ms": round(percentile(after_return, 0.99), 3),
        "call_start_to_reader_p50_ms": round(statistics.median(from_start), 3),
        "call_start_to_reader_p99_ms": round(percentile(from_start, 0.99), 3),
        "latency_samples": len(after_return),
    }


def run(
    engine: str,
    url: str,
    floor_url: str,
    updates: int,
    samples: int,
    extra: dict[str, Any],
    ordinary_url: str = "",
) -> None:
    """The store's figures and the floor's, in one run: record, measure the store, replay.
    With `ordinary_url`, the same updates through the SQLAlchemy path too (Store(raw_writes=False)),
    measured right after the store's own."""
    Store(floor_url).close()  # the same schema, empty, for the floor
    store = Store(url)
    try:
        _prepare(store, "warm-up")
        setup, calls = record_statements(store, updates)
        rate, cpu_us = measure_updates(store, updates)
        latency = measure_latency(store, samples)
    finally:
        store.close()
    if ordinary_url:
        ordinary = Store(ordinary_url, raw_writes=False)
        try:
            _prepare(ordinary, "warm-up")
            extra = {
                **extra,
                "ordinary_path_cpu_us_per_update": round(measure_updates(ordinary, updates)[1], 1),
            }
        finally:
            ordinary.close()
    if engine == "sqlite":
        floor_rate, floor_cpu_us = floor_sqlite(Path(floor_url.removeprefix("sqlite:///")), setup, calls)
    else:
        dsn = floor_url.replace("postgresql+psycopg://", "postgresql://")
        floor_rate, floor_cpu_us = floor_postgres(dsn, setup, calls)
    line = {
        "bench": "store",
        "engine": engine,
        "updates": updates,
        "updates_per_s": round(rate, 1),
        "writer_cpu_us_per_update": round(cpu_us, 1),
        "floor_updates_per_s": round(floor_rate, 1),
        "floor_cpu_us_per_update": round(floor_cpu_us, 1),
        "cpu_ratio_to_floor": round(cpu_us / floor_cpu_us, 2),
        "rate_ratio_to_floor": round(rate / floor_rate, 2),
        "statements_per_update": round(sum(map(len, calls)) / len(calls), 1),
        "load_avg_1m": os.getloadavg()[0],
    }
    print(json.dumps({**line, **latency, **extra}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--latency-samples", type=int, default=1000)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--ordinary", action="store_true", help="also measure the SQLAlchemy path (Store(raw_writes=False))"
    )
    args = parser.parse_args()
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="hedge-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            run(
                "sqlite",
                url,
                f"sqlite:///{Path(tmp) / 'floor.db'}",
                args.updates,
                args.latency_samples,
                {"journal_mode": "WAL", "synchronous": "NORMAL"},
                f"sqlite:///{Path(tmp) / 'ordinary.db'}" if args.ordinary else "",
            )
    if args.engine in ("postgres", "both"):
        server = start_postgres(fsync=True)
        try:
            url = server.create_database("bench")
            import psycopg

            with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=bench") as conn:
                row = conn.execute("SHOW fsync").fetchone()
                fsync = row[0] if row else "unknown"
            floor_url = server.create_database("floor")
            ordinary_url = server.create_database("ordinary") if args.ordinary else ""
            run(
                "postgres", url, floor_url, args.updates, args.latency_samples, {"fsync": fsync}, ordinary_url
            )
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
