"""Client fixtures: the API fixtures' real server (uvicorn on a free port, in this event loop)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from tests.api.conftest import Api, settings_for, start_api


@pytest_asyncio.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    async for started in start_api(settings_for(sqlite_url)):
        yield started
