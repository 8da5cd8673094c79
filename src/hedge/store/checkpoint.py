"""SQLite's WAL checkpoints, moved off the write path.

By default SQLite checkpoints inside the commit that crosses 1,000 WAL pages, and that commit
waits for the checkpoint's fsync (tens of milliseconds here): a latency spike for whichever
write was unlucky. The store turns the automatic checkpoint off on its connections and this
thread runs a PASSIVE checkpoint every second instead, which never blocks writers.

A checkpoint that copied the whole WAL back leaves one cost behind: the next write starts the WAL
over and syncs its new header inside that commit (2.5 ms median, 5.8 ms max, measured with strace
here; more on slower disks). `wal_restart_due` says so until a write has been made, so that a
write on the event loop (store/inline.py) can leave that one to a worker thread.
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
        self._restart_due = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.checkpoint("TRUNCATE")  # leave a small WAL behind

    @property
    def wal_restart_due(self) -> bool:
        """The WAL was copied back whole: the next write starts it over (and syncs its header)."""
        return self._restart_due.is_set()

    def wrote(self) -> None:
        """A write committed: the WAL, if it was due to start over, has."""
        if self._restart_due.is_set():  # every commit calls this: no lock taken when not due
            self._restart_due.clear()

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        try:
            with self._engine.connect() as conn:
                row = conn.execute(text(f"PRAGMA wal_checkpoint({mode})")).first()
        except DBAPIError as exc:
            log.warning("SQLite checkpoint (%s) failed: %s", mode, exc)
            return
        if row is not None and restarts_wal(*row):
            self._restart_due.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.checkpoint()


def restarts_wal(busy: int, log_frames: int, checkpointed: int) -> bool:
    """Whether a checkpoint's answer (busy, frames in the WAL, frames copied back) means the next
    write starts the WAL over: it was not blocked and copied every frame there was."""
    return busy == 0 and log_frames > 0 and checkpointed == log_frames
