"""SQLite's WAL checkpoints, moved off the write path.

By default SQLite checkpoints inside the commit that crosses 1,000 WAL pages, and that commit
waits for the checkpoint's fsync (tens of milliseconds here): a latency spike for whichever
write was unlucky. The store turns the automatic checkpoint off on its connections and this
thread runs a PASSIVE checkpoint every second instead, which never blocks writers.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, engine: Engine, interval_s: float = 1.0) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.checkpoint("TRUNCATE")  # leave a small WAL behind

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        try:
            with self._engine.connect() as conn:
                conn.execute(text(f"PRAGMA wal_checkpoint({mode})"))
        except DBAPIError as exc:
            log.warning("SQLite checkpoint (%s) failed: %s", mode, exc)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.checkpoint()
