"""Supervision: a failing task is logged with its name and started again; a fatal error ends it;
a fire-and-forget task's exception is always retrieved and logged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hedge.agent.supervise import retrieve, supervised
from hedge.client.graphql import TokenRefused


async def test_supervised_task_failing_twice_is_logged_and_restarted_until_it_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise KeyError(f"bad row {len(runs)}")

    with caplog.at_level(logging.ERROR, "hedge.agent.supervise"):
        await asyncio.wait_for(supervised("flaky-loop", flaky, max_delay_s=0.1), 5)
    assert runs == [0, 1, 2]
    failures = [r for r in caplog.records if "task flaky-loop failed; restarting it" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None and "bad row 1" in str(failures[0].exc_info[1])


async def test_supervised_task_raising_a_fatal_error_ends_with_it_and_is_not_restarted() -> None:
    runs: list[int] = []

    async def refused() -> None:
        runs.append(1)
        raise TokenRefused("WebSocket closed with 4403")

    with pytest.raises(TokenRefused):
        await asyncio.wait_for(supervised("link", refused, fatal=(TokenRefused,)), 5)
    assert runs == [1]


async def test_supervised_task_cancelled_stops_without_a_restart() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(supervised("forever", forever))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_retrieve_logs_the_exception_of_a_fire_and_forget_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom() -> None:
        raise ValueError("answer without data")

    task = asyncio.create_task(boom(), name="mutate Position:p-1")
    task.add_done_callback(retrieve)
    with caplog.at_level(logging.ERROR, "hedge.agent.supervise"):
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)  # done-callbacks run on the next loop pass
    assert "task mutate Position:p-1 failed" in caplog.text
    assert "answer without data" in caplog.text
