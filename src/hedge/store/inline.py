"""Short SQLite writes run in the caller's thread (the event loop) when the writer is free.

A store call handed to a worker thread costs the event loop more than the write itself (the
hand-over, the wake-up, the answer back). `Store.run_inline` runs a method marked `short_write`
in the calling thread instead, on one condition: its first transaction starts without waiting,
neither for this process's writer connection nor for SQLite's file lock (busy_timeout 0 for its
BEGIN IMMEDIATE). When either is taken it raises `WriterBusy` before anything was written, and
the caller runs the same call in a worker thread as before, where it waits its turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class WriterBusy(Exception):
    """The inline write could not start without waiting; nothing was written."""


def short_write(method: F) -> F:
    """Mark a store method as a short write: one (or a few) small transactions and no other wait,
    so it may run on the event loop (`Store.run_inline`)."""
    method.short_write = True  # type: ignore[attr-defined]
    return method


def is_short_write(fn: Callable[..., Any]) -> bool:
    return bool(getattr(fn, "short_write", False))


class InlineState(threading.local):
    """Per thread: whether an inline write runs here, and whether it committed a transaction yet
    (from then on it may no longer give up: its later transactions wait as any other)."""

    active: bool = False
    committed: bool = False

    def must_not_wait(self) -> bool:
        return self.active and not self.committed
