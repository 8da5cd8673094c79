"""hedge.scoped: a context variable set for one block, then back to what it was."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from hedge.scoped import scoped

WHO: contextvars.ContextVar[str | None] = contextvars.ContextVar("test_scoped_who", default=None)


def test_the_value_holds_inside_the_block_and_the_old_one_comes_back_after() -> None:
    with scoped(WHO, "outer"):
        with scoped(WHO, "inner"):
            assert WHO.get() == "inner"
        assert WHO.get() == "outer"
    assert WHO.get() is None


def test_an_error_in_the_block_still_puts_the_old_value_back() -> None:
    with pytest.raises(RuntimeError), scoped(WHO, "failing"):
        raise RuntimeError("boom")
    assert WHO.get() is None


def test_a_task_started_inside_the_block_sees_the_value() -> None:
    async def main() -> str | None:
        with scoped(WHO, "request"):
            return await asyncio.create_task(asyncio.to_thread(WHO.get))

    assert asyncio.run(main()) == "request"
