"""The targets of a fuzz run (hedge.fuzzing makes the inputs): a real `hedge server` over HTTP and an
EA gateway over its WebSocket. Each `send` returns the outcome's name for the counts and raises
FuzzFailure when the target broke a rule: an HTTP 500, an answer that is not coded JSON, a row
changed by a refused input, a refused EA frame handed on, or a dead target.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from hedge.agent.gateway import EAGateway
from hedge.child_processes import spawn
from hedge.domain.enums import BrokerType, ConnectionStatus
from hedge.domain.ids import AccountId, UserId
from hedge.domain.models import Account
from hedge.ea.protocol import Message
from hedge.fuzzing import Operation
from hedge.localservices import free_port
from hedge.store.engine import make_engine

CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "VALIDATION", "INVALID_TRANSITION", "CONFLICT",
         "RATE_LIMITED", "RESYNC_REQUIRED"}  # fmt: skip


class FuzzFailure(AssertionError):
    """The target broke a rule on one input (the message says which, and the input)."""


class GraphQLTarget:
    """`changed()` tells whether any row changed: (feed head, audit rows) read from the store."""

    def __init__(self, url: str, changed_marker: Callable[[], tuple[int, int]]) -> None:
        self._http = httpx.Client(base_url=url, timeout=30)
        self._marker = changed_marker

    def close(self) -> None:
        self._http.close()

    def send(self, op: Operation) -> str:
        before = self._marker()
        headers = {"Authorization": f"Bearer {op.token}".strip()} if op.token is not None else {}
        response = self._http.post(
            "/graphql", json={"query": op.document, "variables": op.variables}, headers=headers
        )
        if response.status_code >= 500:
            raise FuzzFailure(f"HTTP {response.status_code} for {op}: {response.text[:300]}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise FuzzFailure(
                f"not JSON (HTTP {response.status_code}) for {op}: {response.text[:300]}"
            ) from None
        errors = body.get("errors") or []
        codes = {str((e.get("extensions") or {}).get("code")) for e in errors}
        if not codes <= CODES:
            raise FuzzFailure(f"errors without a known code {codes - CODES} for {op}: {errors[:2]}")
        refused = bool(errors)
        if (refused or op.kind == "query") and self._marker() != before:
            raise FuzzFailure(f"a {'refused ' if refused else ''}{op.kind} changed rows: {op}: {errors[:1]}")
        return f"{op.kind}:{sorted(codes)[0] if codes else 'ok'}"


class EATarget:
    """An EA connection to a gateway (running in another thread's loop) that re-opens after a close."""

    def __init__(self, url: str, auth: dict[str, Any], delivered: Callable[[], int]) -> None:
        self._url = url
        self._auth = auth
        self._delivered = delivered
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()

    def _open(self) -> ClientConnection:
        if self._ws is None:
            self._ws = connect(self._url, open_timeout=10, max_size=2**22, legacy=True)  # open across calls
            self._ws.send(json.dumps(self._auth))
            reply = json.loads(self._ws.recv(timeout=10))
            if reply.get("type") != "AUTH_OK":
                raise FuzzFailure(f"the gateway refused a good AUTH after fuzzing: {reply}")
        return self._ws

    def send(self, frame: str | bytes) -> str:
        ws = self._open()
        before = self._delivered()
        ping = next(self._ids) + 10**9
        try:
            ws.send(frame)
            ws.send(json.dumps({"type": "PING", "id": ping}))
            refused = False
            while True:  # frames are handled in order: anything about ours comes before our PONG
                reply = json.loads(ws.recv(timeout=10))
                if reply.get("type") == "ERROR":
                    refused = True
                elif reply.get("type") == "PONG" and reply.get("id") == ping:
                    break
        except ConnectionClosed as closed:
            self._ws = None
            code = closed.rcvd.code if closed.rcvd else None
            if code is None or code == 1011:
                raise FuzzFailure(f"the gateway dropped the connection ({code}) on {frame!r:.200}") from None
            return f"closed:{code}"
        except TimeoutError:
            raise FuzzFailure(f"no PONG within 10 s after {frame!r:.200}") from None
        if refused and self._delivered() != before:
            raise FuzzFailure(f"a refused frame was handed to the agent: {frame!r:.200}")
        return "refused" if refused else "delivered"


class LoopThread:
    """An event loop in a daemon thread, to run an async server beside synchronous fuzz calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Any, timeout_s: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


# ---------------------------------------------------------------------------------------- set-ups

ADMIN_TOKEN = "fuzz-admin-token-0123456789"
_SETUP = {
    "user": """mutation($e: String!) { createUser(input: {email: $e, name: "F", role: CLIENT}) {
        user { id } token } }""",
    "account": """mutation($u: ID!, $n: String!) { createAccount(input: {userId: $u, brokerType: MT5,
        accountNumber: $n, serverName: "Fuzz", displayName: "f"}) { id } }""",
    "entry": """mutation($a: ID!) { createAction(input: {type: ENTRY, accountId: $a, symbol: "USDJPY",
        side: BUY, volume: 0.1, trailWidth: 5}) { action { id } position { id } } }""",
}


@dataclass
class FuzzServer:
    target: GraphQLTarget
    ids: list[str]
    tokens: list[str | None]
    proc: subprocess.Popen[bytes]

    def alive(self) -> bool:
        return self.proc.poll() is None


@contextmanager
def fuzz_server(folder: Path) -> Iterator[FuzzServer]:
    """A real `hedge server` process on a fresh SQLite file, with an admin and two traders."""
    database = folder / "fuzz.db"
    port = free_port()
    env = {**os.environ, "HEDGE_ADMIN_TOKEN": ADMIN_TOKEN, "HEDGE_MUTATION_RATE_PER_S": "1000000",
           "HEDGE_MUTATION_BURST": "1000000", "HEDGE_ALERT_ESCALATE_S": "0"}  # fmt: skip
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", str(port),
            "--database-url", f"sqlite:///{database}", "--log-level", "warning"]  # fmt: skip
    log = (folder / "server.log").open("wb")
    proc = spawn(argv, env=env, stdout=log, stderr=subprocess.STDOUT)  # dies with the fuzz run
    url = f"http://127.0.0.1:{port}"
    engine = make_engine(f"sqlite:///{database}")
    try:
        _until_up(url, proc)
        ids, tokens = _people(url)

        def marker() -> tuple[int, int]:
            with engine.connect() as conn:
                head = conn.execute(text("SELECT coalesce(max(seq), 0) FROM changes")).scalar_one()
                audited = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
            return int(head), int(audited)

        target = GraphQLTarget(url, marker)
        yield FuzzServer(target, ids, [ADMIN_TOKEN, *tokens, None], proc)
        target.close()
    finally:
        engine.dispose()
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # another process: no readiness event but /healthz
        if proc.poll() is not None:
            raise RuntimeError(f"hedge server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("hedge server did not come up within 30 s")


def _people(url: str) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    tokens: list[str] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as admin:

        def run(name: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            body = admin.post(
                "/graphql", json={"query": _SETUP[name], "variables": variables}, headers=headers
            )
            data: dict[str, Any] = body.json()["data"]
            return data

        for n in ("1", "2"):
            made = run("user", {"e": f"fuzz{n}@example.com"})["createUser"]
            account = run("account", {"u": made["user"]["id"], "n": n})["createAccount"]["id"]
            entry = run("entry", {"a": account}, made["token"])["createAction"]
            ids += [made["user"]["id"], account, entry["action"]["id"], entry["position"]["id"]]
            tokens.append(made["token"])
    return ids, tokens


class RecordingHandler:
    """The agent's side of the gateway, for fuzzing: one account, and a count of frames handed on."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.delivered = 0

    async def find_account(self, account_number: str, server_name: str) -> Account | str:
        known = (account_number, server_name) == (self.account.account_number, self.account.server_name)
        return self.account if known else "not an account of this user"

    def on_connect(self, account: Account) -> None:
        pass

    def on_disconnect(self, account: Account) -> None:
        pass

    def on_message(self, account: Account, msg: Message) -> None:
        self.delivered += 1

    def health(self) -> dict[str, object]:
        return {"delivered": self.delivered}


@contextmanager
def fuzz_gateway() -> Iterator[EATarget]:
    """An EAGateway on a free loopback port in a thread of its own, and an EA connection to it."""
    now = datetime.now(UTC)
    account = Account(
        id=AccountId("acc-fuzz"), user_id=UserId("u-fuzz"), broker_type=BrokerType.MT5,
        account_number="1001", server_name="Fuzz", display_name="fuzz", currency="USD",
        connection_status=ConnectionStatus.DISCONNECTED, created_at=now, updated_at=now,
    )  # fmt: skip
    handler = RecordingHandler(account)
    loop = LoopThread()
    gateway = EAGateway(handler, "ea-fuzz-secret", ping_interval_s=3600, dead_after_s=7200)
    try:
        port = loop.run(gateway.start("127.0.0.1", 0))
        auth = {"type": "AUTH", "token": "ea-fuzz-secret", "accountNumber": "1001", "serverName": "Fuzz"}
        target = EATarget(f"ws://127.0.0.1:{port}", auth, lambda: handler.delivered)
        yield target
        target.close()
    finally:
        loop.run(gateway.close())
        loop.stop()
