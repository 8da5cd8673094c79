"""The EA conformance kit: plays the agent's side of the EA protocol against whatever EA connects.

`Listener` accepts one EA; `check_ea` runs every rule in order against it (the rules live in
conformance_session, conformance_trading and conformance_frames) and reports one Result per rule.
The kit trades: it opens one position of `KitConfig.volume` lots and closes it, so run it against a
demo account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve

from hedge.domain.clock import Clock, SystemClock
from hedge.ea import conformance_additions as added
from hedge.ea.conformance_frames import BAD_FRAME_RULES, WRAP_UP_RULES
from hedge.ea.conformance_model import KitConfig, Report, Result, Rule, Run, Skip, Status, Unmet, Verdict
from hedge.ea.conformance_peer import EAGone, Peer
from hedge.ea.conformance_session import HANDSHAKE_RULES, SESSION_RULES
from hedge.ea.conformance_trading import TRADING_RULES
from hedge.ea.protocol import CLOSE_AUTH_FAILED, MAX_FRAME_BYTES, AuthFailed


def _in_order() -> tuple[Rule, ...]:
    """The rules in the order they run; this round's additions sit next to the rules they build on."""
    trading = {r.id: i for i, r in enumerate(TRADING_RULES)}
    at_open, at_sync, at_close = (
        trading["open.success"] + 1,
        trading["sync.one-position"] + 1,
        trading["close.repeat"] + 1,
    )
    subscribed = [r.id for r in SESSION_RULES].index("subscribe.price") + 1
    return (
        *HANDSHAKE_RULES,
        SESSION_RULES[0], *added.AUTH_RULES, *added.AFTER_AUTH_OK_RULES,
        *SESSION_RULES[1:subscribed], *added.SUBSCRIBE_RULES,
        *SESSION_RULES[subscribed:],
        *TRADING_RULES[:at_open], *added.OPENED_RULES, *TRADING_RULES[at_open:at_sync], *added.HELD_RULES,
        *TRADING_RULES[at_sync:at_close], *added.CLOSED_RULES, *TRADING_RULES[at_close:],
        *BAD_FRAME_RULES, *WRAP_UP_RULES[:-1], *added.LOOK_BACK_RULES, WRAP_UP_RULES[-1],
    )  # fmt: skip


RULES: tuple[Rule, ...] = _in_order()
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: a second EA while the kit checks the first


class NoEAConnected(Exception):
    def __init__(self, wait_s: float) -> None:
        super().__init__(f"no EA connected within {wait_s:g} s")
        self.wait_s = wait_s


async def check_ea(
    peer: Peer, config: KitConfig, on_result: Callable[[Result], None] | None = None
) -> Report:
    """Run every rule in order against the EA behind `peer` (already reading) and report each."""
    run = Run(config, peer)
    results: list[Result] = []
    unauthenticated = False
    for rule in RULES:
        if rule is SESSION_RULES[0] and run.auth is None:
            unauthenticated = True
            await _refuse(peer)
        if unauthenticated:
            verdict = Verdict(Status.SKIP, "the EA was not authenticated (see the auth rules)")
        elif peer.closed and rule.needs_connection:
            verdict = Verdict(Status.SKIP, f"the connection is closed (code {peer.close_code})")
        else:
            verdict = await _judge(rule, run)
        result = Result(rule, verdict)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return Report(tuple(results))


async def _judge(rule: Rule, run: Run) -> Verdict:
    try:
        return await rule.check(run)
    except Unmet as exc:
        return Verdict(Status.FAIL, exc.detail)
    except Skip as exc:
        return Verdict(Status.SKIP, exc.reason)
    except EAGone as exc:
        return Verdict(Status.FAIL, str(exc))


async def _refuse(peer: Peer) -> None:
    """What an agent does with an EA it does not accept: AUTH_FAILED, then close 4401."""
    if peer.closed:
        return
    try:
        await peer.send(AuthFailed("refused by the conformance kit: see its auth rules"))
    except EAGone:
        return
    await peer.close(CLOSE_AUTH_FAILED, "AUTH refused")


class Listener:
    """Listens like the agent does; the first EA to connect is checked, later ones are turned away."""

    def __init__(self, host: str, port: int, *, clock: Clock | None = None) -> None:
        self.host = host
        self.port = port
        self._clock = clock or SystemClock()
        self._server: Server | None = None
        self._taken: asyncio.Future[ServerConnection] = asyncio.get_running_loop().create_future()
        self._finished = asyncio.Event()

    async def __aenter__(self) -> Listener:
        self._server = await serve(
            self._handler, self.host, self.port, max_size=MAX_FRAME_BYTES, compression=None
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finished.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    async def _handler(self, ws: ServerConnection) -> None:
        if self._taken.done():
            await ws.close(CLOSE_TRY_AGAIN_LATER, "the conformance kit checks one EA at a time")
            return
        self._taken.set_result(ws)
        await self._finished.wait()

    async def check(
        self, config: KitConfig, on_result: Callable[[Result], None] | None = None, *, wait_s: float = 300.0
    ) -> Report:
        """Wait up to `wait_s` for an EA, then run every rule against it."""
        try:
            async with asyncio.timeout(wait_s):
                ws = await asyncio.shield(self._taken)
        except TimeoutError:
            raise NoEAConnected(wait_s) from None
        peer = Peer(ws, self._clock)
        peer.start()
        try:
            return await check_ea(peer, config, on_result)
        finally:
            await peer.stop()
            await ws.close()
            self._finished.set()
