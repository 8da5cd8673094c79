"""Store benchmark: conditional updates per second and commit-to-reader latency of the change feed.

Run: `uv run python bench/store.py [--updates N] [--latency-samples N]`. Prints one JSON line per
engine (SQLite file in WAL mode, PostgreSQL started here with fsync on).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from hedge.domain.authz import Actor
from hedge.domain.creation import EntryRequest
from hedge.domain.enums import UserRole
from hedge.localservices import start_postgres
from hedge.store.repository import Store


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


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
            for event in store.wait_changes(cursor, timeout_s=1.0):
                now = time.perf_counter_ns()
                cursor = event.seq
                if event.entity_id == position_id:
                    seen_at[event.version] = now
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
        "commit_to_reader_p99_ms": round(_percentile(after_return, 0.99), 3),
        "call_start_to_reader_p50_ms": round(statistics.median(from_start), 3),
        "call_start_to_reader_p99_ms": round(_percentile(from_start, 0.99), 3),
        "latency_samples": len(after_return),
    }


def run(engine: str, url: str, updates: int, samples: int, extra: dict[str, Any]) -> None:
    store = Store(url)
    try:
        rate, cpu_us = measure_updates(store, updates)
        latency = measure_latency(store, samples)
    finally:
        store.close()
    line = {
        "bench": "store",
        "engine": engine,
        "updates": updates,
        "updates_per_s": round(rate, 1),
        "writer_cpu_us_per_update": round(cpu_us, 1),
        "load_avg_1m": os.getloadavg()[0],
    }
    print(json.dumps({**line, **latency, **extra}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--latency-samples", type=int, default=1000)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="hedge-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            run(
                "sqlite",
                url,
                args.updates,
                args.latency_samples,
                {"journal_mode": "WAL", "synchronous": "NORMAL"},
            )
    if args.engine in ("postgres", "both"):
        server = start_postgres(fsync=True)
        try:
            url = server.create_database("bench")
            import psycopg

            with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=bench") as conn:
                row = conn.execute("SHOW fsync").fetchone()
                fsync = row[0] if row else "unknown"
            run("postgres", url, args.updates, args.latency_samples, {"fsync": fsync})
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
