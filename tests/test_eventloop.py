"""hedge.eventloop.within: whether an awaitable ends before its time runs out."""

from __future__ import annotations

import asyncio

from hedge.eventloop import within


async def test_within_awaitable_that_ends_in_time_is_true() -> None:
    done = asyncio.Event()
    done.set()
    assert await within(5, done.wait()) is True


async def test_within_awaitable_that_never_ends_is_false_once_the_time_runs_out() -> None:
    assert await within(0.01, asyncio.Event().wait()) is False
