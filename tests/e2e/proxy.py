"""A TCP proxy a test can cut and restore, for links between real processes (agent <-> EA).

`CutProxy(target_port).start()` listens on a free loopback port and forwards every connection to
the target. `cut()` drops every live connection (both sides see the TCP connection reset) and
stops listening, so new connections are refused, until `restore()` listens again on the same
port; `cut(mode="reset")` keeps listening but closes each new connection at once (what a broken
proxy or firewall does: the client sees the handshake fail); `cut(mode="silent")` keeps the
connections but forwards nothing either way (a dead route: only liveness timeouts notice).
`retarget(port)` points later connections elsewhere. It runs its own event loop in a thread, so
synchronous tests and the fault campaign use it alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from hedge.localservices import free_port

T = TypeVar("T")
CHUNK = 65536


class CutProxy:
    def __init__(self, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = 0
        self.connections_made = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cut-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._state = "open"  # open | cut | silent

    # --------------------------------------------------------------------------- the test's side

    def start(self) -> CutProxy:
        self._thread.start()
        self.port = self._call(self._listen())
        return self

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._state != "open"

    def cut(self, *, mode: str = "refuse") -> None:
        """Drop the link: "refuse" (default), "reset" or "silent", as the module says."""
        if mode not in ("refuse", "reset", "silent"):
            raise ValueError(f"mode must be refuse, reset or silent, was {mode!r}")
        self._call(self._cut(mode))

    def restore(self) -> None:
        """Forward again; connections made from now on reach the target."""
        self._call(self._restore())

    def retarget(self, target_port: int) -> None:
        self.target_port = target_port

    def live_connections(self) -> int:
        return self._call(self._count())

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    # --------------------------------------------------------------------------- the proxy's loop

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self, port: int | None = None) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, port or free_port())
        return int(self._server.sockets[0].getsockname()[1])

    async def _restore(self) -> None:
        if self._server is None:
            await self._listen(self.port)
        self._state = "open"

    async def _count(self) -> int:
        return len(self._live) // 2

    async def _cut(self, mode: str) -> None:
        self._state = mode
        if mode == "silent":
            return
        if mode == "refuse":
            await self._stop_listening()
        for writer in list(self._live):
            _abort(writer)
        self._live.clear()

    async def _stop_listening(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _shutdown(self) -> None:
        await self._cut("refuse")
        # the connections' pipes, their sockets aborted, end here rather than as "Task was
        # destroyed but it is pending" at close (not cancelled: 3.11's streams then log the
        # CancelledError of a connection's task as an exception in its callback)
        pipes = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if pipes:
            await asyncio.wait(pipes, timeout=2)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._state != "open":
            _abort(client_writer)
            return
        try:
            target_reader, target_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            _abort(client_writer)
            return
        self.connections_made += 1
        pair = {client_writer, target_writer}
        self._live |= pair
        try:
            await asyncio.gather(
                self._pipe(client_reader, target_writer), self._pipe(target_reader, client_writer)
            )
        finally:
            for writer in pair:
                self._live.discard(writer)
                _abort(writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                if self._state == "silent":
                    continue  # a dead route: bytes vanish
                if writer not in self._live:
                    return
                writer.write(data)
                await writer.drain()
        _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once, without waiting for buffered bytes (a link that drops does not flush)."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
