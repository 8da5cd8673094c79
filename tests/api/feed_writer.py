"""A separate writer process for the resume test: updates positions at a steady rate until its
standard input closes, then prints {"commits": n, "seconds": s} as one JSON line.

Usage: python feed_writer.py DATABASE_URL ADMIN_USER_ID RATE_PER_S POSITION_ID...
"""

from __future__ import annotations

import json
import sys
import threading
import time

from hedge.domain.authz import Actor
from hedge.domain.enums import UserRole
from hedge.domain.ids import UserId
from hedge.store.repository import Store


def main(argv: list[str]) -> None:
    url, admin_id, rate, *position_ids = argv
    per_s = float(rate)
    store = Store(url, migrate=False)
    actor = Actor(UserId(admin_id), UserRole.ADMIN)
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    print("ready", flush=True)
    commits = 0
    started = due = time.monotonic()
    while not stop.is_set():
        position_id = position_ids[commits % len(position_ids)]
        store.update_position(actor, position_id, {"memo": f"w{commits}"})
        commits += 1
        due += 1 / per_s
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > 0.05:  # fell behind (a busy machine): no burst to catch up
            due = now
    seconds = time.monotonic() - started
    store.close()
    print(json.dumps({"commits": commits, "seconds": round(seconds, 3)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
