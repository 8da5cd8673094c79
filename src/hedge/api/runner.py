"""Run the server inside the current event loop on a free port (tests, benchmarks, the demo)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import uvicorn

from hedge.api.app import build_app
from hedge.config import ServerSettings


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside a larger program: signals (Ctrl-C) are the program's to handle, not uvicorn's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serve(settings: ServerSettings) -> AsyncIterator[str]:
    """Start the app with uvicorn on settings.host:settings.port (0 = a free port); yield its URL."""
    app = build_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=settings.max_body_bytes,
        ws_per_message_deflate=False,  # small frames on a LAN: compressing costs more than it saves
        lifespan="on",
        ssl_certfile=settings.tls_cert or None,
        ssl_keyfile=settings.tls_key or None,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    # uvicorn offers no start event; startup takes a few milliseconds
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped before it started")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"{settings.scheme}://{settings.host}:{port}"
    finally:
        server.should_exit = True
        await task
