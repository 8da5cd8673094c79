"""What the row history costs on the write path: update_position calls with the history written
(the store as it is) against the same calls with it switched off, in the same run.

Run: `uv run python bench/history.py [--updates N] [--rounds N]`. Prints one JSON line (SQLite file
in WAL mode): the writer thread's CPU microseconds per update, the median of alternating rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from hedge.domain.authz import Actor
from hedge.domain.creation import EntryRequest
from hedge.domain.enums import UserRole
from hedge.store import unit as unit_module  # its HISTORY_TYPES is switched off for the baseline
from hedge.store.repository import Store


def _round(store: Store, name: str, count: int) -> float:
    user, _ = store.create_user(f"{name}@example.com", "Bench", "CLIENT")
    account = store.create_account(user.id, "MT5", name, "Bench-Server", "bench")
    _, position = store.create_action(
        user.id, account.id, "ENTRY", entry=EntryRequest("USDJPY", "BUY", "0.1")
    )
    actor, version = Actor(user.id, UserRole.CLIENT), position.version
    started = time.thread_time()
    for i in range(count):
        version = store.update_position(
            actor, position.id, {"memo": f"m{i}"}, expected_version=version
        ).version
    return (time.thread_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    kept = getattr(unit_module, "HISTORY_TYPES")  # noqa: B009 - set back below, a module global
    with_history: list[float] = []
    without: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            _round(store, "warm", args.updates // 10)
            for n in range(args.rounds):  # alternating, so that machine noise falls on both
                with_history.append(_round(store, f"with{n}", args.updates))
                setattr(unit_module, "HISTORY_TYPES", frozenset())  # noqa: B010
                try:
                    without.append(_round(store, f"without{n}", args.updates))
                finally:
                    setattr(unit_module, "HISTORY_TYPES", kept)  # noqa: B010
        finally:
            store.close()
    history_us, baseline_us = statistics.median(with_history), statistics.median(without)
    print(
        json.dumps(
            {
                "bench": "history",
                "engine": "sqlite",
                "updates_per_round": args.updates,
                "rounds": args.rounds,
                "cpu_us_per_update_with_history": round(history_us, 1),
                "cpu_us_per_update_baseline_without_history": round(baseline_us, 1),
                "ratio": round(history_us / baseline_us, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
