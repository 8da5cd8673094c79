"""Client fixtures: the API fixtures' real server (uvicorn on a free port, in this event loop), and
tests/api's HTTPS one (`tls_url`, its certificate from the `ca` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from tests.api.conftest import Api, settings_for, start_api
from tests.api.conftest import ca as ca
from tests.api.conftest import cert_files as cert_files
from tests.api.conftest import tls_url as tls_url


@pytest_asyncio.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    async for started in start_api(settings_for(sqlite_url)):
        yield started
