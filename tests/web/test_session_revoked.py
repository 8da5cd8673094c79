"""A console's WebSocket (signed in by cookie, no bearer token) is closed with 4403 too when its
user is deactivated or its token rotated, like an agent's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from tests.api.conftest import Api, settings_for, start_api
from tests.api.sockets import close_code_within
from tests.api.test_access import CLOSED_WITHIN_S, ROTATE, UPDATE_USER
from tests.web.test_session_api import Browser
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from hedge.client.graphql import SubscriptionConnection
from hedge.web import sessions

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web-revoked') / 'hedge.db'}"
    async for started in start_api(settings_for(url)):
        yield started


@pytest.mark.parametrize("change", ["deactivate", "rotate"])
async def test_console_socket_of_a_revoked_user_is_closed_with_4403(server: Api, change: str) -> None:
    alice = await server.trader()
    page = Browser(server.url)
    await page.sign_in(alice.token)
    async with connect(
        server.url.replace("http://", "ws://") + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers={"Cookie": f"{sessions.COOKIE_NAME}={page.cookie}"},
        origin=server.url,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"query": "subscription { onUpdatePosition { id } }"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        if change == "deactivate":
            await server.admin.execute(UPDATE_USER, {"input": {"id": alice.id, "isActive": False}})
        else:
            await server.admin.execute(ROTATE, {"id": alice.id})
        code = await close_code_within(SubscriptionConnection(ws), CLOSED_WITHIN_S)
    await page.http.aclose()
    assert code == 4403
