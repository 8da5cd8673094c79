"""Whole-system fixtures: one `system` (server process on a fresh SQLite file) per test module.

A failing test shows the tail of every process log of its module.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest
from tests.e2e.harness import System

_systems: dict[str, System] = {}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[System]:
    env: dict[str, str] = getattr(request.module, "SERVER_ENV", {})
    level: str = getattr(request.module, "SERVER_LOG_LEVEL", "warning")
    made = System(tmp_path_factory.mktemp("e2e"), env, level)
    _systems[request.module.__name__] = made
    try:
        yield made
    finally:
        _systems.pop(request.module.__name__, None)
        made.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome: Any = yield
    report = outcome.get_result()
    if report.failed and call.when == "call":
        module = getattr(item, "module", None)
        found = _systems.get(module.__name__ if module else "")
        if found is not None:
            report.sections.append(("process logs", found.logs_tail()))
