"""Supervision of the agent's long-lived tasks: an unexpected exception is logged with the task's
name and the task started again after a backoff (websockets' reconnect delays); the exceptions
named in `fatal` end the supervision and reach the caller (a refused token)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator

from websockets.client import backoff

log = logging.getLogger(__name__)

HEALTHY_AFTER_S = 30.0  # a task that ran this long without failing starts its backoff again


async def supervised(
    name: str,
    run: Callable[[], Awaitable[None]],
    *,
    fatal: tuple[type[BaseException], ...] = (),
    max_delay_s: float = 5.0,
) -> None:
    """Run `run()` until it returns; restart it after each unexpected exception."""
    delays = _delays(max_delay_s)
    while True:
        started = time.monotonic()
        try:
            await run()
            return
        except fatal:
            raise
        except Exception:  # every other failure is the supervisor's to log and to restart
            if time.monotonic() - started >= HEALTHY_AFTER_S:
                delays = _delays(max_delay_s)
            delay = next(delays)
            log.exception("task %s failed; restarting it in %.2f s", name, delay)
        await asyncio.sleep(delay)


def _delays(max_delay_s: float) -> Iterator[float]:
    return backoff(initial_delay=0.1, min_delay=0.1, max_delay=max(0.1, max_delay_s), factor=2.0)


def retrieve(task: asyncio.Task[object]) -> None:
    """A done-callback for fire-and-forget tasks: their exception is always retrieved and logged."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("task %s failed", task.get_name(), exc_info=exc)
