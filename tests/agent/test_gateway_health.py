"""GET /healthz on the EA port: JSON with one Content-Type; details (accounts, positions, P/L) only
for callers on the PC itself (loopback), others learn only whether the agent is up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from tests.agent.test_gateway import Handler

from hedge.agent.gateway import EAGateway, _is_loopback


@pytest_asyncio.fixture
async def port() -> AsyncIterator[int]:
    gateway = EAGateway(Handler(), "ea-secret")
    yield await gateway.start("127.0.0.1", 0)
    await gateway.close()


async def test_healthz_answers_json_with_exactly_one_content_type(port: int) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/healthz")
    assert response.status_code == 200
    assert response.headers.get_list("content-type") == ["application/json"]
    assert response.json() == {"serverConnected": True, "accounts": []}  # a loopback caller sees all


@pytest.mark.parametrize(
    ("address", "loopback"),
    [(("127.0.0.1", 5), True), (("::1", 5, 0, 0), True), (("127.8.9.1", 5), True),
     (("192.168.1.20", 5), False), (("10.0.0.1", 5), False), (("fe80::1%eth0", 5, 0, 2), False),
     (None, False), (("not-an-address", 5), False)],
)  # fmt: skip
def test_is_loopback_tells_the_pc_itself_from_other_hosts(address: object, loopback: bool) -> None:
    assert _is_loopback(address) is loopback
