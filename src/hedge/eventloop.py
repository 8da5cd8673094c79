"""Run a coroutine on uvloop where it exists (Linux, macOS), else on asyncio's own loop (Windows,
where the agents next to MetaTrader usually run)."""

from __future__ import annotations

import asyncio
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
