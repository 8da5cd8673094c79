"""Redis refreshes of this process's own commits, off the committing thread.

The change broker's commit hook applies an own commit at once (memory copies dropped, cursor
moved), so that the tail thread need not read it back from the feed; what is left, refreshing
the shared copies in Redis, is a network round trip the committing call must not wait for. This
thread does it, in commit order. The refresh only ever moves a key to a newer version (the
set-if-newer script), so a late one cannot undo a later write; a request that must see its own
write through another server is served by `EntityCache.written`, which the resolvers still call
before they answer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")


class Refresher(Generic[E]):
    """A daemon thread calling `refresh` for each item handed over with `put`, in order."""

    def __init__(self, refresh: Callable[[E], None], name: str = "cache-refresh") -> None:
        self._refresh = refresh
        self._queue: queue.SimpleQueue[E | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def put(self, item: E) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        self._queue.put(item)

    def close(self, timeout_s: float = 2.0) -> None:
        """Finish what was handed over (up to `timeout_s`), then stop."""
        with self._lock:
            if not self._started:
                return
        self._queue.put(None)
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._refresh(item)
            except Exception:  # a refresh that fails leaves Redis to its TTL, as a lost one would
                log.exception("refreshing the shared cache failed")
