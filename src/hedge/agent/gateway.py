"""The agent's WebSocket server for its PC's EAs (the EA protocol), with GET /healthz on the same port.

Per connection: AUTH first (else close 4401), then PING/PONG liveness, and every other frame
decoded into a typed message and handed to the agent in arrival order. A frame that breaks the
contract gets ERROR BAD_MESSAGE and changes nothing. One EA per account: a second replaces the
first (closed with 4409).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from hedge import hops
from hedge.agent.page import PAGE_HTML, PAGE_JS
from hedge.agent.supervise import retrieve
from hedge.domain.models import Account
from hedge.ea import protocol as wire
from hedge.ea.errors import BadMessage, FrameTooLarge

log = logging.getLogger(__name__)

CLOSE_DEAD = 4408  # no frame heard for dead_after_s


@dataclass(eq=False)
class Session:
    account: Account
    connection: ServerConnection
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    heard_at: float = field(default_factory=time.monotonic)
    margin_mode: str | None = None  # AUTH marginMode (None from older EAs)

    def send(self, msg: wire.Message) -> None:
        self.outbox.put_nowait(wire.encode(msg))


class EAHandler(Protocol):
    """What the gateway calls; the agent runtime implements it."""

    async def find_account(self, account_number: str, server_name: str) -> Account | str:
        """The account for an AUTH, or the reason to refuse it."""
        ...

    def on_connect(self, account: Account) -> None: ...

    def on_disconnect(self, account: Account) -> None: ...

    def on_message(self, account: Account, msg: wire.Message) -> None:
        """An event from the account's EA (not PING/PONG, which the gateway answers itself)."""
        ...

    def health(self) -> dict[str, object]:
        """The body of GET /healthz on the EA port."""
        ...


class EAGateway:
    def __init__(
        self,
        handler: EAHandler,
        ea_token: str,
        *,
        ping_interval_s: float = 10.0,
        dead_after_s: float = 30.0,
        first_frame_timeout_s: float = 15.0,
    ) -> None:
        self._handler = handler
        self._ea_token = ea_token
        self._ping_interval_s = ping_interval_s
        self._dead_after_s = dead_after_s
        self._first_frame_timeout_s = first_frame_timeout_s
        self.sessions: dict[str, Session] = {}
        self._server: Server | None = None
        self._ping_ids = itertools.count(1)

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (pass 0 for a free one)."""
        self._server = await serve(
            self._serve,
            host,
            port,
            max_size=wire.MAX_FRAME_BYTES,
            ping_interval=None,  # liveness is the protocol's own PING/PONG
            compression=None,
            process_request=self._process_request,
        )
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def send(self, account_id: str, msg: wire.Message) -> bool:
        """Queue a frame for the account's EA; False when no EA is connected for it."""
        session = self.sessions.get(account_id)
        if session is None:
            return False
        session.send(msg)
        return True

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?")[0]
        remote = connection.remote_address[0] if connection.remote_address else ""
        if path in PAGES and request.headers.get("Upgrade", "").lower() != "websocket":
            return page_response(remote, path)
        if path != "/healthz":
            return None
        body = json.dumps(health_for(remote, self._handler.health())).encode()
        # one Content-Type: connection.respond() would add text/plain beside ours
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return Response(HTTPStatus.OK.value, HTTPStatus.OK.phrase, headers, body)

    async def _serve(self, connection: ServerConnection) -> None:
        authed = await self._authenticate(connection)
        if authed is None:
            return
        account, auth = authed
        session = Session(account, connection, margin_mode=auth.margin_mode)
        previous = self.sessions.get(account.id)
        self.sessions[account.id] = session
        if previous is not None:
            log.warning("a second EA connected for account %s; closing the first", account.account_number)
            await previous.connection.close(wire.CLOSE_REPLACED, "replaced by a newer EA connection")
        session.send(wire.AuthOk(account.id))
        log.info("EA connected for account %s (%s)", account.account_number, account.server_name)
        self._handler.on_connect(account)
        number = account.account_number
        writer = asyncio.create_task(self._write(session), name=f"EA {number} writer")
        pinger = asyncio.create_task(self._liveness(session), name=f"EA {number} liveness")
        for task in (writer, pinger):
            task.add_done_callback(retrieve)  # a failure is logged, never left unretrieved
        try:
            await self._read(session)
        finally:
            writer.cancel()
            pinger.cancel()
            if self.sessions.get(account.id) is session:
                del self.sessions[account.id]
                self._handler.on_disconnect(account)
            log.info("EA disconnected for account %s", account.account_number)

    async def _authenticate(self, connection: ServerConnection) -> tuple[Account, wire.Auth] | None:
        try:
            raw = await asyncio.wait_for(connection.recv(), self._first_frame_timeout_s)
        except (TimeoutError, ConnectionClosed):
            await connection.close(wire.CLOSE_AUTH_FAILED, "AUTH expected")
            return None
        try:
            msg = wire.decode(raw)
        except (BadMessage, FrameTooLarge) as exc:
            await self._refuse(connection, f"the first frame must be AUTH: {exc.message}")
            return None
        if not isinstance(msg, wire.Auth):
            await self._refuse(connection, f"the first frame must be AUTH, was {msg.TYPE}")
            return None
        if not hmac.compare_digest(msg.token.encode(), self._ea_token.encode()):
            await self._refuse(connection, "wrong EA token")
            return None
        found = await self._handler.find_account(msg.account_number, msg.server_name)
        if isinstance(found, str):
            await self._refuse(connection, found)
            return None
        return found, msg

    async def _refuse(self, connection: ServerConnection, reason: str) -> None:
        log.warning("EA refused: %s", reason)
        with contextlib.suppress(ConnectionClosed):
            await connection.send(wire.encode(wire.AuthFailed(reason)))
            await connection.close(wire.CLOSE_AUTH_FAILED, reason[:120])

    async def _read(self, session: Session) -> None:
        with contextlib.suppress(ConnectionClosed):  # an EA that drops without a close frame
            await self._read_frames(session)

    async def _read_frames(self, session: Session) -> None:
        async for raw in session.connection:
            session.heard_at = time.monotonic()
            if hops.ON:
                hops.frame_ns = time.monotonic_ns()
            try:
                msg = wire.decode(raw)
            except BadMessage as exc:
                session.send(wire.Error.bad_message(exc.message, exc.command_id))
                continue
            if isinstance(msg, wire.Ping):
                session.send(wire.Pong(msg.id))
            elif isinstance(msg, wire.Pong):
                continue
            elif msg.DIRECTION.value == "agent→EA" or isinstance(msg, wire.Auth):
                session.send(wire.Error.bad_message(f"{msg.TYPE} is not a frame an EA sends"))
            else:
                try:
                    self._handler.on_message(session.account, msg)
                except BadMessage as exc:
                    session.send(wire.Error.bad_message(exc.message, exc.command_id))

    async def _write(self, session: Session) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await session.connection.send(await session.outbox.get())

    async def _liveness(self, session: Session) -> None:
        while True:
            await asyncio.sleep(self._ping_interval_s)
            silent = time.monotonic() - session.heard_at
            if silent >= self._dead_after_s:
                log.warning(
                    "EA of account %s silent for %.0f s; closing", session.account.account_number, silent
                )
                await session.connection.close(CLOSE_DEAD, "no frame within the liveness window")
                return
            session.send(wire.Ping(next(self._ping_ids)))


PAGES = {"/": (PAGE_HTML, "text/html; charset=utf-8"), "/page.js": (PAGE_JS, "text/javascript")}


def page_response(remote_host: str, path: str) -> Response:
    """The agent's own page (hedge.agent.page), for this PC only: others get 403."""
    if not _loopback(remote_host):
        body = b"the agent's page is shown only on its own PC\n"
        headers = Headers([("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return Response(HTTPStatus.FORBIDDEN.value, HTTPStatus.FORBIDDEN.phrase, headers, body)
    text, kind = PAGES[path]
    body = text.encode()
    headers = Headers(
        [("Content-Type", kind), ("Content-Length", str(len(body))), ("Cache-Control", "no-cache")]
    )
    return Response(HTTPStatus.OK.value, HTTPStatus.OK.phrase, headers, body)


def _loopback(remote_host: str) -> bool:
    try:
        return ipaddress.ip_address(remote_host.split("%")[0]).is_loopback
    except ValueError:
        return False


def health_for(remote_host: str, details: dict[str, object]) -> dict[str, object]:
    """/healthz as a caller at `remote_host` may see it: the details (accounts, open positions and
    P/L) only on this PC; anyone else learns only that the agent is up."""
    try:
        local = ipaddress.ip_address(remote_host.split("%")[0]).is_loopback
    except ValueError:
        local = False
    return details if local else {"ok": True}
