"""Two real `hedge server` processes on one PostgreSQL and one Redis form one API: a change through
one reaches the other, and a deactivated or rotated token is refused by both within 1 s.

Also the command line itself: `hedge schema` satisfies the shared contract, and a started
server answers /healthz, /metrics and GraphiQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from tests.api.conftest import (
    ADMIN_TOKEN,
    CREATE_ACCOUNT,
    CREATE_ENTRY,
    CREATE_USER,
    GET_POSITION,
    UPDATE_POSITION,
)
from tests.api.sockets import close_code_within
from tests.conftest import new_database

from hedge.client.graphql import GraphQLClient
from hedge.localservices import HedgeServer, PostgresServer, RedisServer, hedge_servers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.asyncio(loop_scope="module")]


Process = HedgeServer  # one `hedge server` process of the pair


def two_servers(
    postgres: PostgresServer, redis: RedisServer, base_dir: Path
) -> Iterator[tuple[Process, Process]]:
    """The pair these tests and tests/api/test_pg_restart.py run, for a fixture to yield from: two
    processes on a new database of `postgres` and on `redis`, each with its own HEDGE_DATA_DIR under
    `base_dir` (reports and backups stay in the test's temporary folder)."""
    with hedge_servers(
        new_database(postgres), base_dir, ("a", "b"), admin_token=ADMIN_TOKEN, redis_url=redis.url,
        env={"HEDGE_PRESENCE_GRACE_S": "0.2"},
    ) as (a, b):  # fmt: skip
        yield a, b


@pytest.fixture(scope="module")
def pair(
    postgres_server: PostgresServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Process, Process]]:
    yield from two_servers(postgres_server, redis_server, tmp_path_factory.mktemp("servers"))


@dataclass
class Trader:
    id: str
    via_a: GraphQLClient
    via_b: GraphQLClient
    position_id: str


@pytest_asyncio.fixture(loop_scope="module")
async def trader(pair: tuple[Process, Process]) -> AsyncIterator[Trader]:
    a, b = pair
    async with GraphQLClient(a.url, ADMIN_TOKEN) as admin:
        made = await admin.execute(
            CREATE_USER, {"email": f"{uuid.uuid4().hex[:8]}@example.com", "role": "CLIENT"}
        )
        user, token = made["createUser"]["user"], made["createUser"]["token"]
        account = await admin.execute(CREATE_ACCOUNT, {"userId": user["id"], "number": uuid.uuid4().hex[:10]})
    async with GraphQLClient(a.url, token) as via_a, GraphQLClient(b.url, token) as via_b:
        entry = await via_a.execute(CREATE_ENTRY, {"accountId": account["createAccount"]["id"]})
        yield Trader(user["id"], via_a, via_b, entry["createAction"]["position"]["id"])


async def test_reports_of_the_pair_land_in_their_data_folders_only(pair: tuple[Process, Process]) -> None:
    """With PostgreSQL the reports' default place is HEDGE_DATA_DIR: each test server has its own
    under the test's temporary folder, so nothing is written to the user's data folder."""

    def reports() -> list[Path]:
        deadline = time.monotonic() + 30  # the stats job runs at start, on whichever process claims it
        while not (found := [f for s in pair for f in (s.data_dir / "reports").rglob("stats-*.json")]):
            if time.monotonic() > deadline:
                return []
            time.sleep(0.2)  # another process: nothing to wait on but the file
        return found

    found = await asyncio.to_thread(reports)
    assert found and all(s.data_dir.is_relative_to(s.log.parent) for s in pair)


async def test_each_process_serves_healthz_metrics_and_graphiql(pair: tuple[Process, Process]) -> None:
    async with httpx.AsyncClient() as http:
        for process in pair:
            health = await http.get(process.url + "/healthz")
            metrics = await http.get(process.url + "/metrics")
            ide = await http.get(process.url + "/graphql", headers={"accept": "text/html"})

            assert health.status_code == 200 and health.json()["redis"] is True
            for name in ("hedge_requests_total", "hedge_errors_total", "hedge_subscriptions_open",
                         "hedge_change_feed_lag_seconds"):  # fmt: skip
                assert name in metrics.text
            assert ide.status_code == 200 and "graphiql" in ide.text.lower()


async def test_changes_through_a_reach_subscriber_on_b_each_once_in_order(trader: Trader) -> None:
    """Every change written through server A is delivered by server B, once and in version order.
    How fast is a benchmark's question (bench/hedge_latency.py --pg-servers 2), not this test's."""
    written_versions: list[int] = []
    seen: list[int] = []
    async with trader.via_b.connection() as conn:
        op_id = await conn.start("subscription { onUpdatePosition { id version memo } }")
        # the first change proves the subscription is live on B (there is no 'subscribed' message)
        async with asyncio.timeout(30):
            while True:
                warm = await trader.via_a.execute(
                    UPDATE_POSITION, {"input": {"id": trader.position_id, "memo": "warm"}}
                )
                try:
                    await asyncio.wait_for(conn.next_message(), 0.5)
                    break
                except TimeoutError:
                    continue
        after = warm["updatePosition"]["version"]
        for i in range(15):
            written = await trader.via_a.execute(
                UPDATE_POSITION, {"input": {"id": trader.position_id, "memo": f"m{i}"}}
            )
            written_versions.append(written["updatePosition"]["version"])
        async with asyncio.timeout(30):
            while not seen or seen[-1] < written_versions[-1]:
                message = await conn.next_message()
                if message["id"] != op_id:
                    continue
                version = message["payload"]["data"]["onUpdatePosition"]["version"]
                if version > after:
                    seen.append(version)
    assert seen == written_versions


async def test_read_on_b_right_after_write_on_a_never_older(trader: Trader) -> None:
    await trader.via_b.execute(GET_POSITION, {"id": trader.position_id})  # fill B's caches
    for i in range(150):
        written = await trader.via_a.execute(
            UPDATE_POSITION, {"input": {"id": trader.position_id, "memo": f"w{i}"}}
        )

        read = (await trader.via_b.execute(GET_POSITION, {"id": trader.position_id}))["getPosition"]

        assert read["version"] >= written["updatePosition"]["version"], (i, read, written)
        assert read["memo"] == f"w{i}"


async def _pc_status(client: GraphQLClient) -> str:
    status: str = (await client.execute("{ me { pcStatus } }"))["me"]["pcStatus"]
    return status


async def test_agent_moving_from_process_a_to_b_stays_online_and_goes_offline_after_the_last(
    trader: Trader,
) -> None:
    grace_and_margin_s = 0.2 + 0.5  # HEDGE_PRESENCE_GRACE_S of these processes, and some slack
    async with contextlib.AsyncExitStack() as via_b:
        async with trader.via_a.connection():
            assert await _pc_status(trader.via_b) == "ONLINE"
            await via_b.enter_async_context(trader.via_b.connection())
        # A's connection is closed; once its grace period is over A records its leave, but B
        # still holds the user, so the user stays ONLINE (the grace has no event to wait on)
        await asyncio.sleep(grace_and_margin_s)
        assert await _pc_status(trader.via_a) == "ONLINE"
    async with asyncio.timeout(5):
        while await _pc_status(trader.via_a) != "OFFLINE":  # noqa: ASYNC110 - no event reaches the client
            await asyncio.sleep(0.05)


async def _new_client_token(a: Process) -> tuple[str, str]:
    async with GraphQLClient(a.url, ADMIN_TOKEN) as admin:
        made = await admin.execute(
            CREATE_USER, {"email": f"{uuid.uuid4().hex[:8]}@example.com", "role": "CLIENT"}
        )
    return made["createUser"]["user"]["id"], made["createUser"]["token"]


async def _refused_within(client: GraphQLClient, within_s: float) -> bool:
    async with asyncio.timeout(within_s):
        while True:
            body = await client.raw("{ me { id } }")
            if (body.get("errors") or [{}])[0].get("extensions", {}).get("code") == "UNAUTHENTICATED":
                return True


@pytest.mark.parametrize("change", ["deactivate", "rotate"])
async def test_token_refused_through_a_closes_sockets_on_both_and_http_on_b_within_1s(
    pair: tuple[Process, Process], change: str
) -> None:
    a, b = pair
    user_id, token = await _new_client_token(a)
    async with (
        GraphQLClient(a.url, token) as via_a,
        GraphQLClient(b.url, token) as via_b,
        GraphQLClient(a.url, ADMIN_TOKEN) as admin,
        via_a.connection() as on_a,
        via_b.connection() as on_b,
    ):
        await on_a.start("subscription { onUpdatePosition { id } }")
        await on_b.start("subscription { onUpdatePosition { id } }")
        assert (await via_b.execute("{ me { id } }"))["me"]["id"] == user_id  # B has the token cached
        started = time.monotonic()
        if change == "deactivate":
            await admin.execute(
                "mutation($id: ID!) { updateUser(input: {id: $id, isActive: false}) { id } }", {"id": user_id}
            )
        else:
            await admin.execute("mutation($id: ID!) { rotateToken(userId: $id) { token } }", {"id": user_id})

        codes = await asyncio.gather(close_code_within(on_a, 1.0), close_code_within(on_b, 1.0))
        assert await _refused_within(via_b, max(0.05, 1.0 - (time.monotonic() - started)))
    assert list(codes) == [4403, 4403]
    print(f"{change}: both sockets closed and B refuses HTTP after {time.monotonic() - started:.3f} s")
