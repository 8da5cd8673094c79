"""GET /healthz on the agent's EA port: one Content-Type, and details only for callers on this PC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from tests.agent.test_gateway import Handler

from hedge.agent.gateway import EAGateway, health_for

DETAILS: dict[str, object] = {
    "serverConnected": True,
    "accounts": [{"accountNumber": "1001"}],
    "openPositions": [1],
}


@pytest_asyncio.fixture
async def port() -> AsyncIterator[int]:
    made = EAGateway(Handler(), "ea-secret")
    bound = await made.start("127.0.0.1", 0)
    yield bound
    await made.close()


async def test_healthz_sends_one_content_type_of_json(port: int) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/healthz")
    assert response.status_code == 200
    assert response.headers.get_list("content-type") == ["application/json"]
    assert response.json() == {"serverConnected": True, "accounts": []}


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.8.9.10", "::1"])
def test_health_for_loopback_caller_shows_details(remote: str) -> None:
    assert health_for(remote, DETAILS) == DETAILS


@pytest.mark.parametrize("remote", ["192.168.1.20", "10.0.0.5", "fe80::1%eth0", "2001:db8::1", "", "junk"])
def test_health_for_other_caller_shows_only_that_the_agent_is_up(remote: str) -> None:
    assert health_for(remote, DETAILS) == {"ok": True}
