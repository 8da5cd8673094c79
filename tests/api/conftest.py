"""API fixtures: a real server (uvicorn on a free port, in this event loop) and users to call it as.

`api` is a fresh server on a fresh SQLite store per test. `shared_api` is one server per test
module (starting one costs little, but tens of tests add up), and `world` gives each test fresh
users on it: the ADMIN and two CLIENTs (alice, bob), each with an account and one ENTRY action
with its PENDING position. Modules using them run in one event loop per module:
`pytestmark = pytest.mark.asyncio(loop_scope="module")`.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme
from sqlalchemy import Engine, select

from hedge.api.runner import serve
from hedge.client.graphql import GraphQLClient
from hedge.config import ServerSettings
from hedge.store.engine import make_engine
from hedge.store.feed import head_seq
from hedge.store.tables import changes

ADMIN_TOKEN = "admin-token-for-the-tests"
_numbers = itertools.count(1)

CREATE_USER = """mutation($email: String!, $role: UserRole!) {
  createUser(input: {email: $email, name: "Test User", role: $role}) { user { id role } token } }"""
CREATE_ACCOUNT = """mutation($userId: ID!, $number: String!) {
  createAccount(input: {userId: $userId, brokerType: MT5, accountNumber: $number,
                        serverName: "Demo-Server", displayName: "demo"}) { id userId version } }"""
CREATE_ENTRY = """mutation($accountId: ID!, $userId: ID) {
  createAction(input: {type: ENTRY, userId: $userId, accountId: $accountId, symbol: "USDJPY",
                       side: BUY, volume: 0.1, trailWidth: 5}) {
    action { id userId status positionId version } position { id userId status version } } }"""
UPDATE_POSITION = """mutation($input: UpdatePositionInput!) {
  updatePosition(input: $input) { id userId status version triggerActionIds trailTriggeredAt memo } }"""
UPDATE_ACTION = """mutation($input: UpdateActionInput!) {
  updateAction(input: $input) { id userId status version triggerPositionId errorMessage } }"""
TRIGGER = """mutation($positionId: ID!) {
  triggerActions(input: {positionId: $positionId, reason: TRAIL, price: 150.05}) {
    position { id version trailTriggeredAt } actions { id userId status version } } }"""
OWNER_OF = "query($id: ID!) { getPosition(id: $id) { userId } }"
SETTLE = """mutation($input: SettlePositionInput!) {
  settlePosition(input: $input) { id userId status version triggerActionIds trailTriggeredAt memo } }"""
GET_POSITION = "query($id: ID!) { getPosition(id: $id) { id status version memo triggerActionIds } }"
GET_ACTION = "query($id: ID!) { getAction(id: $id) { id status version triggerPositionId } }"


def settings_for(database_url: str, **overrides: Any) -> ServerSettings:
    base = ServerSettings(port=0, database_url=database_url, admin_token=ADMIN_TOKEN, presence_grace_s=0.2)
    return replace(base, **overrides)


def error_code(body: dict[str, Any]) -> str | None:
    """The first error's extensions.code, or None when the response has no errors."""
    errors = body.get("errors") or []
    return None if not errors else str((errors[0].get("extensions") or {}).get("code"))


@dataclass
class Person:
    id: str
    token: str
    client: GraphQLClient
    account_id: str = ""
    position_id: str = ""  # the PENDING position of its ENTRY action
    action_id: str = ""  # its ENTRY action


@dataclass
class Api:
    url: str
    settings: ServerSettings
    engine: Engine
    admin: GraphQLClient
    _clients: list[GraphQLClient] = field(default_factory=list)
    _people: dict[str, Person] = field(default_factory=dict)  # CLIENT users by id: their agents

    def client(self, token: str | None) -> GraphQLClient:
        made = GraphQLClient(self.url, token)
        self._clients.append(made)
        return made

    def feed_head(self) -> int:
        """The newest change-feed sequence number: unchanged means nothing was written."""
        return head_seq(self.engine)

    def written_since(self, head: int) -> set[str]:
        """The ids of the rows the change feed shows written after `head` (by anything: a
        background job such as the presence sweep may write another user's row meanwhile)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(changes.c.entity_id).where(changes.c.seq > head))
            return {str(entity_id) for (entity_id,) in found}

    def kinds_written_since(self, head: int) -> set[str]:
        """The entity kinds ("Position", "Action", ...) the change feed shows written after `head`."""
        with self.engine.connect() as conn:
            found = conn.execute(select(changes.c.entity).where(changes.c.seq > head))
            return {str(kind) for (kind,) in found}

    async def new_user(self, role: str = "CLIENT") -> Person:
        email = f"user{next(_numbers)}@example.com"
        made = (await self.admin.execute(CREATE_USER, {"email": email, "role": role}))["createUser"]
        person = Person(made["user"]["id"], made["token"], self.client(made["token"]))
        if role == "CLIENT":
            self._people[person.id] = person
        return person

    async def new_account(self, user_id: str) -> str:
        number = str(next(_numbers))
        account: dict[str, Any] = (
            await self.admin.execute(CREATE_ACCOUNT, {"userId": user_id, "number": number})
        )["createAccount"]
        return str(account["id"])

    async def entry(self, person: Person, account_id: str | None = None) -> tuple[str, str]:
        """An ENTRY action made by `person` itself; returns (actionId, positionId)."""
        made = (await person.client.execute(CREATE_ENTRY, {"accountId": account_id or person.account_id}))[
            "createAction"
        ]
        return made["action"]["id"], made["position"]["id"]

    async def trader(self, role: str = "CLIENT") -> Person:
        """A user with an account and one ENTRY action (its position PENDING)."""
        person = await self.new_user(role)
        person.account_id = await self.new_account(person.id)
        person.action_id, person.position_id = await self.entry(person)
        return person

    async def move_position(self, client: GraphQLClient, position_id: str, *statuses: str) -> dict[str, Any]:
        """Walk a position through `statuses`, giving the fields each one needs. `client` requests
        the moves; the terminal's word (OPEN, CLOSED, STOPPED) comes from the owner's agent, as
        the who-writes-what rules say (an ADMIN's own position is settled by the ADMIN instead)."""
        extra: dict[str, dict[str, Any]] = {
            "OPEN": {"entryPrice": 150.0, "mtTicket": "1001"},
            "CLOSED": {"exitPrice": 150.1},
            "STOPPED": {"exitPrice": 149.9},
        }
        result: dict[str, Any] = {}
        for status in statuses:
            data = {"id": position_id, "status": status, **extra.get(status, {})}
            if status not in extra:
                result = (await client.execute(UPDATE_POSITION, {"input": data}))["updatePosition"]
                continue
            owner = (await self.admin.execute(OWNER_OF, {"id": position_id}))["getPosition"]["userId"]
            agent = self._people.get(owner)
            if agent is not None:
                result = (await agent.client.execute(UPDATE_POSITION, {"input": data}))["updatePosition"]
            else:
                settled = {**data, "reason": "the test's terminal said so"}
                result = (await self.admin.execute(SETTLE, {"input": settled}))["settlePosition"]
        return result

    async def close(self) -> None:
        for made in self._clients:
            await made.close()
        await self.admin.close()
        self.engine.dispose()


@dataclass
class World:
    api: Api
    admin: Person
    alice: Person
    bob: Person


async def start_api(settings: ServerSettings) -> AsyncIterator[Api]:
    async with serve(settings) as url:
        api = Api(url, settings, make_engine(settings.database_url), GraphQLClient(url, ADMIN_TOKEN))
        try:
            yield api
        finally:
            await api.close()


@pytest_asyncio.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    async for started in start_api(settings_for(sqlite_url)):
        yield started


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'hedge.db'}"
    async for started in start_api(settings_for(url)):
        yield started


async def build_world(api: Api) -> World:
    me = (await api.admin.execute("{ me { id } }"))["me"]
    admin = Person(me["id"], ADMIN_TOKEN, api.admin)
    admin.account_id = await api.new_account(admin.id)
    admin.action_id, admin.position_id = await api.entry(admin)
    return World(api, admin, await api.trader(), await api.trader())


@pytest_asyncio.fixture(loop_scope="module")
async def world(shared_api: Api) -> World:
    return await build_world(shared_api)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A CA of the test's own (trustme), once per module."""
    return trustme.CA()


@pytest.fixture(scope="module")
def cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = folder / "server.pem", folder / "server.key"
    issued.private_key_pem.write_to_path(str(key))
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    return cert, key


@pytest_asyncio.fixture
async def tls_url(sqlite_url: str, cert_files: tuple[Path, Path]) -> AsyncIterator[str]:
    """An in-process server speaking HTTPS/WSS with a certificate of `ca` for 127.0.0.1."""
    cert, key = cert_files
    async with serve(settings_for(sqlite_url, tls_cert=str(cert), tls_key=str(key))) as url:
        yield url
