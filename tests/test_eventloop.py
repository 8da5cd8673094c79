"""hedge.eventloop: the loop a coroutine runs on (uvloop, else asyncio), the GIL switch interval
from the environment, and `within` (whether an awaitable ends before its time runs out)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from hedge.eventloop import cancel_and_wait, run, tune_threads, within


async def test_within_awaitable_that_ends_in_time_is_true() -> None:
    done = asyncio.Event()
    done.set()
    assert await within(5, done.wait()) is True


async def test_within_awaitable_that_never_ends_is_false_once_the_time_runs_out() -> None:
    assert await within(0.01, asyncio.Event().wait()) is False


def test_run_gives_back_what_the_coroutine_returns_on_uvloop_where_it_is_installed() -> None:
    async def main() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run(main()).startswith("uvloop")  # uvloop is a dependency on Linux


def test_run_without_uvloop_falls_back_to_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows, where it does not install

    async def main() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run(main()).startswith("asyncio")


@pytest.mark.parametrize(("env", "seconds"), [({}, 0.0005), ({"HEDGE_GIL_SWITCH_MS": "2"}, 0.002)])
def test_tune_threads_sets_the_switch_interval_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], seconds: float
) -> None:
    monkeypatch.delenv("HEDGE_GIL_SWITCH_MS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = sys.getswitchinterval()
    try:
        tune_threads()
        assert sys.getswitchinterval() == pytest.approx(seconds)
    finally:
        sys.setswitchinterval(before)


def test_cancel_and_wait_ends_a_running_task_and_takes_none_for_no_task() -> None:
    async def main() -> tuple[bool, bool]:
        task = asyncio.create_task(asyncio.sleep(60))
        await asyncio.sleep(0)
        await cancel_and_wait(task)
        await cancel_and_wait(None)
        return task.done(), task.cancelled()

    assert run(main()) == (True, True)


def test_cancel_and_wait_raises_what_the_task_failed_with() -> None:
    async def failing() -> None:
        raise ValueError("broken")

    async def main() -> None:
        task = asyncio.create_task(failing())
        await asyncio.sleep(0)
        await cancel_and_wait(task)

    with pytest.raises(ValueError, match="broken"):
        run(main())
