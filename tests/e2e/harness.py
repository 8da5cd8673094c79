"""The e2e harness: the server, agents and paper EAs as real processes on free loopback ports.

Each test module shares one `system` (a server on a fresh SQLite file); each test makes its own
users, accounts, agents and EAs on it, so tests do not see each other's rows. Processes are started
as `python -m hedge.cli ...` with their logs in the module's temporary directory; a failing test
shows the tail of every log. Cross-process waits poll the API or /healthz with `wait_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hedge.child_processes import spawn
from hedge.localservices import free_port

ADMIN_TOKEN = "e2e-admin-token-of-24-chars"
SERVER_NAME = "Paper-E2E"
T = TypeVar("T")
_numbers = itertools.count(1)

POSITION_FIELDS = """id userId accountId symbol side volume status trailWidth triggerActionIds
trailTriggeredAt mtTicket entryPrice exitPrice exitReason realizedPL version"""
ACTION_FIELDS = "id userId positionId triggerPositionId type status errorMessage retryCount version"
CREATE_ACTION = f"""mutation($i: CreateActionInput!) {{
  createAction(input: $i) {{ action {{ {ACTION_FIELDS} }} position {{ {POSITION_FIELDS} }} }} }}"""
UPDATE_POSITION = f"""mutation($i: UpdatePositionInput!) {{
  updatePosition(input: $i) {{ {POSITION_FIELDS} }} }}"""
UPDATE_ACTION = f"mutation($i: UpdateActionInput!) {{ updateAction(input: $i) {{ {ACTION_FIELDS} }} }}"
GET_POSITION = f"query($id: ID!) {{ getPosition(id: $id) {{ {POSITION_FIELDS} }} }}"
GET_ACTION = f"query($id: ID!) {{ getAction(id: $id) {{ {ACTION_FIELDS} }} }}"


# How long a started process may take to serve: a bound, not a timing claim (it returns as soon as
# the process answers). A busy 2-core machine was seen taking 32 s to start a server.
STARTUP_S = 90.0


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `predicate` until it returns a truthy value (returned), or fail saying what was awaited.

    Only for waits across processes, where no event reaches the test: the API, /healthz, a log.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            found = predicate()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if found:
                return found
            last = found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last seen: {last!r}")
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------- processes


@dataclass
class Proc:
    """One `hedge` subcommand in its own process; output goes to a log file."""

    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} is already running"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_path.open("ab") as log:
            log.write(f"===== start {self.name}: {' '.join(self.args)}\n".encode())
            self.popen = spawn(  # dies with the test run, even one killed by a timeout
                [sys.executable, "-m", "hedge.cli", *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGINT (a clean stop), then SIGKILL if it does not end in time."""
        if not self.running:
            return
        assert self.popen is not None
        self.popen.send_signal(signal.SIGINT)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye frames."""
        if self.running:
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Api:
    """A synchronous GraphQL client for one token (the tests' and the fixtures' view of the server)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0)

    def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = self._http.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        ).json()
        return body

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.raw(query, variables)
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
        data: dict[str, Any] = body["data"]
        return data

    def position(self, position_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.execute(GET_POSITION, {"id": position_id})["getPosition"]
        return found

    def action(self, action_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.execute(GET_ACTION, {"id": action_id})["getAction"]
        return found

    def update_position(self, position_id: str, **changes: Any) -> dict[str, Any]:
        updated: dict[str, Any] = self.execute(UPDATE_POSITION, {"i": {"id": position_id, **changes}})[
            "updatePosition"
        ]
        return updated

    def update_action(self, action_id: str, **changes: Any) -> dict[str, Any]:
        updated: dict[str, Any] = self.execute(UPDATE_ACTION, {"i": {"id": action_id, **changes}})[
            "updateAction"
        ]
        return updated

    def entry(
        self, account_id: str, side: str = "BUY", volume: float = 0.1, symbol: str = "USDJPY", **extra: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new ENTRY action and its PENDING position: (action, position)."""
        data = self.execute(
            CREATE_ACTION,
            {"i": {"type": "ENTRY", "accountId": account_id, "symbol": symbol, "side": side,
                   "volume": volume, **extra}},
        )["createAction"]  # fmt: skip
        return data["action"], data["position"]

    def executing_entry(self, account_id: str, **entry: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new ENTRY action moved to EXECUTING at once, so the agent opens it: (action, position)."""
        action, position = self.entry(account_id, **entry)
        self.update_action(action["id"], status="EXECUTING")
        return action, position

    def open_entry(self, account_id: str, timeout: float = 10.0, **entry: Any) -> dict[str, Any]:
        """A new ENTRY carried out by the agent: its position once OPEN."""
        _, position = self.executing_entry(account_id, **entry)
        return self.wait_position(position["id"], "OPEN", timeout)

    def close_action(self, account_id: str, position_id: str) -> dict[str, Any]:
        data = self.execute(
            CREATE_ACTION, {"i": {"type": "CLOSE", "accountId": account_id, "positionId": position_id}}
        )
        action: dict[str, Any] = data["createAction"]["action"]
        return action

    def wait_position(self, position_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            found = self.position(position_id)
            return found if found["status"] == status else None

        return wait_for(reached, timeout, f"position {position_id} to be {status}")

    def wait_action(self, action_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            found = self.action(action_id)
            return found if found["status"] == status else None

        return wait_for(reached, timeout, f"action {action_id} to be {status}")

    def close(self) -> None:
        self._http.close()


@dataclass
class User:
    id: str
    token: str
    api: Api


@dataclass
class Account:
    id: str
    number: str
    user: User


@dataclass
class Agent:
    proc: Proc
    port: int
    ea_token: str
    user: User

    @property
    def ea_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2.0).json()
        return body

    def ea_numbers(self) -> set[str]:
        return {a["accountNumber"] for a in self.health()["accounts"]}

    def wait_ready(self, timeout: float = STARTUP_S) -> None:
        wait_for(lambda: self.health()["serverConnected"], timeout, f"{self.proc.name} linked to the server")

    def wait_ea(self, number: str, timeout: float = STARTUP_S) -> None:
        wait_for(
            lambda: number in self.ea_numbers(), timeout, f"the EA of account {number} at {self.proc.name}"
        )

    def restart(self) -> None:
        self.proc.start()
        self.wait_ready()


class System:
    """One server process and everything the tests start against it."""

    def __init__(
        self, workdir: Path, server_env: dict[str, str] | None = None, server_log_level: str = "warning"
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[Proc] = []
        self.server = self._proc(
            "server",
            ["server", "--port", str(self.port), "--database-url", f"sqlite:///{workdir / 'hedge.db'}",
             "--log-level", server_log_level],
            {"HEDGE_ADMIN_TOKEN": ADMIN_TOKEN, "HEDGE_PRESENCE_GRACE_S": "1", **(server_env or {})},
        )  # fmt: skip
        self.start_server()
        self.admin = Api(self.url, ADMIN_TOKEN)

    def _proc(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, args, self.workdir / f"{name}.log", env)
        self.procs.append(proc)
        return proc

    def start_server(self) -> None:
        self.server.start()
        wait_for(
            lambda: httpx.get(f"{self.url}/healthz", timeout=1.0).json().get("ok"),
            STARTUP_S,
            "the server's /healthz",
        )

    def user(self, label: str = "trader") -> User:
        n = next(_numbers)
        created = self.admin.execute(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } token } }",
            {"i": {"email": f"{label}{n}-{uuid.uuid4().hex[:6]}@e2e.local", "name": f"{label} {n}",
                   "role": "CLIENT"}},
        )["createUser"]  # fmt: skip
        return User(created["user"]["id"], created["token"], Api(self.url, created["token"]))

    def account(self, user: User, leverage: int = 100) -> Account:
        number = f"{next(_numbers)}{uuid.uuid4().int % 10**6:06d}"
        created = self.admin.execute(
            "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }",
            {"i": {"userId": user.id, "brokerType": "MT5", "accountNumber": number,
                   "serverName": SERVER_NAME, "displayName": f"e2e {number}", "leverage": leverage}},
        )["createAccount"]  # fmt: skip
        return Account(created["id"], number, user)

    def agent(self, user: User, env: dict[str, str] | None = None, wait: bool = True) -> Agent:
        n = next(_numbers)
        port = free_port()
        ea_token = f"ea-token-{n}"
        settings = {
            "HEDGE_AGENT_RECONNECT_MAX_S": "0.5",
            "HEDGE_AGENT_RETRY_BACKOFF_S": "0.05",
            # a killed agent's lease expires soon, so its restart (a new agent id) takes over
            "HEDGE_AGENT_LEASE_TTL_S": "2",
            **(env or {}),
        }
        proc = self._proc(
            f"agent{n}",
            ["agent", "--server", self.url, f"--token={user.token}", f"--ea-token={ea_token}",
             "--ea-port", str(port), "--state-dir", str(self.workdir / f"agent{n}-state")],
            settings,
        )  # fmt: skip
        agent = Agent(proc, port, ea_token, user)
        proc.start()
        if wait:
            agent.wait_ready()
        return agent

    def paper_ea(self, agent: Agent, account: Account, *options: str, wait: bool = True) -> Proc:
        """A paper EA for `account` at `agent`; static prices and no ticks unless `options` say so."""
        args = ["paper-ea", "--agent", agent.ea_url, f"--ea-token={agent.ea_token}",
                "--account-number", account.number, "--server-name", SERVER_NAME,
                "--symbols", "USDJPY", "--seed", "1"]  # fmt: skip
        if "--feed" not in options:
            args += ["--feed", "static", "--tick-interval-ms", "0"]
        proc = self._proc(f"ea{account.number}", [*args, *options], {})
        proc.start()
        if wait:
            agent.wait_ea(account.number)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop(timeout=3.0)
        self.admin.close()

    def logs_tail(self, lines: int = 40) -> str:
        parts = []
        for proc in self.procs:
            tail = proc.log().splitlines()[-lines:]
            parts.append(f"----- {proc.name} ({proc.log_path})\n" + "\n".join(tail))
        return "\n".join(parts)


def ramp_csv(
    path: Path, start_bid: Decimal, step: Decimal, rows: int, spread: Decimal = Decimal("0.010")
) -> str:
    """A replay feed for USDJPY whose bid moves by `step` every tick; returns the --feed value."""
    lines = ["timeMs,symbol,bid,ask"]
    for i in range(rows):
        bid = start_bid + step * i
        lines.append(f"{i},USDJPY,{bid:.3f},{bid + spread:.3f}")
    path.write_text("\n".join(lines) + "\n")
    return f"replay:{path}"


def fills_of(ea: Proc, position_id: str) -> int:
    """How many times the paper EA filled an OPEN for this position (from its log)."""
    return sum(
        1
        for line in ea.log().splitlines()
        if "filled ticket" in line and f"HedgeSystem[{position_id}]" in line
    )


async def wait_for_async(predicate: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """`wait_for` for async tests: the (blocking) predicate runs in a thread, the loop stays free."""
    return await asyncio.to_thread(wait_for, predicate, timeout_s, what)


class FakeEA:
    """A scripted EA: raw JSON frames to and from the agent's EA port, PINGs answered on the way."""

    def __init__(self, agent: Agent, number: str, token: str | None = None) -> None:
        self.agent = agent
        self.number = number
        self.token = agent.ea_token if token is None else token
        self.ws: ClientConnection | None = None
        self.skipped: list[dict[str, Any]] = []

    async def open(self) -> FakeEA:
        self.ws = await connect(self.agent.ea_url, max_size=None, compression=None)
        return self

    async def auth(self) -> dict[str, Any]:
        """Connect and AUTH; the agent's answer (AUTH_OK or AUTH_FAILED)."""
        if self.ws is None:
            await self.open()
        await self.send({"type": "AUTH", "token": self.token, "accountNumber": self.number,
                         "serverName": SERVER_NAME, "platform": "MT5", "eaVersion": "fake-1"})  # fmt: skip
        return await self.recv()

    async def send(self, frame: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout_s: float = 5.0) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            async with asyncio.timeout(timeout_s):
                frame: dict[str, Any] = json.loads(await self.ws.recv())
            if frame["type"] == "PING":
                await self.send({"type": "PONG", "id": frame["id"]})
                continue
            return frame

    async def expect(self, kind: str, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next frame of type `kind`; frames of other types on the way are kept in `skipped`."""
        while True:
            frame = await self.recv(timeout_s)
            if frame["type"] == kind:
                return frame
            self.skipped.append(frame)

    async def serve_sync(self, positions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        sync = await self.expect("SYNC")
        await self.send({"type": "POSITIONS", "commandId": sync["commandId"], "positions": positions or []})
        return sync

    async def barrier(self, n: int) -> None:
        """PING and wait for its PONG: every frame sent before has been read by the agent."""
        await self.send({"type": "PING", "id": n})
        pong = await self.expect("PONG")
        assert pong["id"] == n

    async def closed(self, timeout_s: float = 5.0) -> tuple[int | None, str]:
        """Wait until the agent closes the connection; (close code, reason)."""
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                async with asyncio.timeout(timeout_s):
                    await self.ws.recv()
        return self.ws.close_code, self.ws.close_reason or ""

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def opened_success(
    open_frame: dict[str, Any], ticket: str, price: float, time_ms: int = 1_790_000_000_000
) -> dict[str, Any]:
    return {"type": "OPENED", "commandId": open_frame["commandId"], "positionId": open_frame["positionId"],
            "status": "SUCCESS", "mtTicket": ticket, "price": price, "timeMs": time_ms}  # fmt: skip


async def fake_desk(
    system: System, label: str, agent_env: dict[str, str] | None = None
) -> tuple[User, Account, Agent, FakeEA]:
    """A new user with one account and an agent, and a FakeEA that has AUTHed and answered the
    agent's first SYNC with no positions: (user, account, agent, ea)."""
    user = system.user(label)
    account = system.account(user)
    agent = system.agent(user, agent_env)
    ea = FakeEA(agent, account.number)
    assert (await ea.auth())["type"] == "AUTH_OK"
    await ea.serve_sync()
    return user, account, agent, ea


def paper_desk(
    system: System, label: str, *ea_options: str, agent_env: dict[str, str] | None = None
) -> tuple[User, Account, Agent, Proc]:
    """A new user with one account, its agent and a paper EA on it: (user, account, agent, ea)."""
    user = system.user(label)
    account = system.account(user)
    agent = system.agent(user, agent_env)
    return user, account, agent, system.paper_ea(agent, account, *ea_options)
