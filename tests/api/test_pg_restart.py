"""A PostgreSQL restart while two servers run: the pooled connections it dropped are found at
checkout and replaced, so no request after the restart fails, and open subscriptions go on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from tests.api import conftest as api
from tests.api.conftest import ADMIN_TOKEN
from tests.api.test_multiprocess import Process, two_servers

from hedge.client.graphql import GraphQLClient
from hedge.localservices import PostgresServer, RedisServer, start_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def restartable_postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own (the session's is shared by every other test)."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def servers(
    restartable_postgres: PostgresServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Process, Process]]:
    yield from two_servers(restartable_postgres, redis_server, tmp_path_factory.mktemp("pg-restart"))


async def test_postgres_restart_between_requests_no_client_sees_an_error(
    servers: tuple[Process, Process], restartable_postgres: PostgresServer
) -> None:
    a, b = servers
    async with GraphQLClient(a.url, ADMIN_TOKEN) as admin:
        user = {"email": "r@example.com", "role": "CLIENT"}
        made = (await admin.execute(api.CREATE_USER, user))["createUser"]
        account = await admin.execute(api.CREATE_ACCOUNT, {"userId": made["user"]["id"], "number": "77"})
    token = made["token"]
    async with (
        GraphQLClient(a.url, token) as via_a,
        GraphQLClient(b.url, token) as via_b,
        via_b.connection() as on_b,
    ):
        entry = await via_a.execute(api.CREATE_ENTRY, {"accountId": account["createAccount"]["id"]})
        position_id = entry["createAction"]["position"]["id"]
        op_id = await on_b.start("subscription { onUpdatePosition { id memo } }")
        for i in range(20):  # every pooled connection of both processes has been used
            await asyncio.gather(
                via_a.execute(api.UPDATE_POSITION, {"input": {"id": position_id, "memo": f"before {i}"}}),
                via_b.execute(api.GET_POSITION, {"id": position_id}),
            )

        await asyncio.to_thread(restartable_postgres.restart)

        for i in range(20):
            written, read = await asyncio.gather(
                via_a.execute(api.UPDATE_POSITION, {"input": {"id": position_id, "memo": f"after {i}"}}),
                via_b.execute(api.GET_POSITION, {"id": position_id}),
            )
            assert (
                written["updatePosition"]["memo"] == f"after {i}" and read["getPosition"]["id"] == position_id
            )
        async with asyncio.timeout(10):  # the subscription on B outlived the restart
            while True:
                message = await on_b.next_message()
                assert message["type"] == "next", message
                if (
                    message["id"] == op_id
                    and message["payload"]["data"]["onUpdatePosition"]["memo"] == "after 19"
                ):
                    break
