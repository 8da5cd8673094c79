"""A console's WebSocket (signed in by cookie, no bearer token) is closed with 4403 too when its
user is deactivated or its token rotated, like an agent's."""

from __future__ import annotations

import json

import pytest
from tests.api.conftest import Api
from tests.api.sockets import close_code_within
from tests.api.test_access import CLOSED_WITHIN_S, ROTATE, UPDATE_USER
from tests.web.test_session_api import cookie_socket, signed_in

from hedge.client.graphql import SubscriptionConnection

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("change", ["deactivate", "rotate"])
async def test_console_socket_of_a_revoked_user_is_closed_with_4403(server: Api, change: str) -> None:
    alice = await server.trader()
    page = await signed_in(server.url, alice.token)
    async with cookie_socket(server.url, page.cookie, server.url) as (ws, ack):
        assert ack["type"] == "connection_ack"
        subscribe = {"query": "subscription { onUpdatePosition { id } }"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        if change == "deactivate":
            await server.admin.execute(UPDATE_USER, {"input": {"id": alice.id, "isActive": False}})
        else:
            await server.admin.execute(ROTATE, {"id": alice.id})
        code = await close_code_within(SubscriptionConnection(ws), CLOSED_WITHIN_S)
    await page.http.aclose()
    assert code == 4403
