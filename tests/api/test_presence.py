"""pcStatus: ONLINE while a CLIENT's graphql-transport-ws connection is open, OFFLINE soon after."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tests.api.conftest import Api, Person

pytestmark = pytest.mark.asyncio(loop_scope="module")

STATUS = "query($id: ID!) { getUser(id: $id) { pcStatus } }"


async def pc_status(api: Api, person: Person) -> str:
    return str((await api.admin.execute(STATUS, {"id": person.id}))["getUser"]["pcStatus"])


async def until_status(api: Api, person: Person, wanted: str, within_s: float) -> None:
    """No event tells a client that a grace period ran out: ask until it did, within a bound."""
    async with asyncio.timeout(within_s):
        while await pc_status(api, person) != wanted:  # noqa: ASYNC110 - no event reaches the client
            await asyncio.sleep(0.05)


async def test_client_connection_open_online_then_offline_after_close(shared_api: Api) -> None:
    alice = await shared_api.new_user()
    assert await pc_status(shared_api, alice) == "OFFLINE"

    async with alice.client.connection():
        online = await pc_status(shared_api, alice)  # recorded before connection_ack

    assert online == "ONLINE"
    await until_status(shared_api, alice, "OFFLINE", within_s=3.0)


async def test_client_one_of_two_connections_closed_stays_online(shared_api: Api) -> None:
    alice = await shared_api.new_user()
    async with alice.client.connection():
        async with alice.client.connection():
            pass
        await asyncio.sleep(shared_api.settings.presence_grace_s * 2)  # the grace period must pass

        still = await pc_status(shared_api, alice)

    assert still == "ONLINE"
    await until_status(shared_api, alice, "OFFLINE", within_s=3.0)


async def test_client_quick_reconnect_within_grace_does_not_go_offline(shared_api: Api) -> None:
    alice = await shared_api.new_user()
    async with alice.client.connection():
        pass
    async with alice.client.connection():
        await asyncio.sleep(shared_api.settings.presence_grace_s * 2)

        status = await pc_status(shared_api, alice)

    assert status == "ONLINE"


async def test_admin_connection_leaves_presence_alone(shared_api: Api) -> None:
    me = (await shared_api.admin.execute("{ me { id pcStatus } }"))["me"]

    async with shared_api.admin.connection():
        during = (await shared_api.admin.execute("{ me { pcStatus } }"))["me"]["pcStatus"]

    assert me["pcStatus"] == during == "OFFLINE"


async def test_user_left_online_by_a_stopped_sqlite_server_is_offline_after_restart(sqlite_url: str) -> None:
    from hedge.api.app import build_app
    from hedge.config import ServerSettings
    from hedge.domain.enums import PCStatus
    from hedge.store.repository import Store

    store = Store(sqlite_url)
    user, _ = store.create_user("left@x.io", "Left", "CLIENT")
    # as a server that died with the agent connected: ONLINE, its presence row left to expire
    store.presence_join(user.id, "dead-server", 1, timedelta(seconds=-1))
    store.close()

    app = build_app(ServerSettings.from_env({}, database_url=sqlite_url))
    services = app.state.services
    try:
        found = services.store.get_user(user.id)
        assert found is not None and found.pc_status is PCStatus.OFFLINE
    finally:
        services.cache.close()
        services.store.close()


OPEN_ALERTS = "query($u: ID) { listAlerts(userId: $u, open: true) { kind relatedPositionIds } }"
ACCOUNT = "query($id: ID!) { getAccount(id: $id) { connectionStatus } }"


async def test_agent_gone_with_an_open_position_disconnects_accounts_and_alerts_until_back(
    shared_api: Api,
) -> None:
    alice = await shared_api.trader()
    await shared_api.move_position(shared_api.admin, alice.position_id, "OPENING", "OPEN")
    await shared_api.admin.execute(
        "mutation($id: ID!) { updateAccount(input: {id: $id, connectionStatus: CONNECTED}) { id } }",
        {"id": alice.account_id},
    )
    async with alice.client.connection():
        pass
    await until_status(shared_api, alice, "OFFLINE", within_s=3.0)
    account = (await shared_api.admin.execute(ACCOUNT, {"id": alice.account_id}))["getAccount"]
    alerts = (await shared_api.admin.execute(OPEN_ALERTS, {"u": alice.id}))["listAlerts"]
    offline = [a for a in alerts if a["kind"] == "AGENT_OFFLINE"]  # MARGIN_LOW's note rides along
    assert account["connectionStatus"] == "DISCONNECTED"
    assert offline == [{"kind": "AGENT_OFFLINE", "relatedPositionIds": [alice.position_id]}]

    async with alice.client.connection():
        back = (await shared_api.admin.execute(OPEN_ALERTS, {"u": alice.id}))["listAlerts"]
    assert [a for a in back if a["kind"] == "AGENT_OFFLINE"] == []
