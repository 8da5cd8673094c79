"""Run a coroutine on uvloop where it exists (Linux, macOS), else on asyncio's own loop (Windows,
where the agents next to MetaTrader usually run)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

R = TypeVar("R")


def run(main: Coroutine[Any, Any, R]) -> R:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def tune_threads() -> None:
    """Let a thread waiting for the GIL have it after HEDGE_GIL_SWITCH_MS (default 0.5 ms) instead
    of Python's 5 ms: every store call hands work between the event loop and a worker thread, and
    on a busy machine each hand-over waited up to a whole switch interval (docs/performance.md)."""
    sys.setswitchinterval(float(os.environ.get("HEDGE_GIL_SWITCH_MS", "0.5")) / 1000)


async def within(seconds: float, done: Awaitable[object]) -> bool:
    """True when `done` ends within `seconds`; False when the time ran out (it is then cancelled)."""
    try:
        async with asyncio.timeout(seconds):
            await done
    except TimeoutError:
        return False
    return True


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task (None: there is none) and wait until it has ended; its
    CancelledError is what was asked for, not an error. Its other errors are raised."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
