"""Run a coroutine on uvloop where it exists (Linux, macOS), else on asyncio's own loop (Windows,
where the agents next to MetaTrader usually run)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

R = TypeVar("R")


def run(main: Coroutine[Any, Any, R]) -> R:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
