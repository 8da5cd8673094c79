"""`hedge server` and `hedge schema`."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from dataclasses import replace

from hedge import eventloop, heap, logs
from hedge.config import ServerSettings, flag_values
from hedge.domain.errors import DomainError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    server = subparsers.add_parser("server", help="run the GraphQL API server")
    server.add_argument("--host", default=None, help="bind address (HEDGE_HOST, default 127.0.0.1)")
    server.add_argument("--port", type=int, default=None, help="port (HEDGE_PORT, default 8000)")
    server.add_argument("--database-url", default=None, help="SQLite or PostgreSQL URL (HEDGE_DATABASE_URL)")
    server.add_argument("--redis-url", default=None, help="Redis URL for the shared cache (HEDGE_REDIS_URL)")
    server.add_argument(
        "--tls-cert", default=None, help="PEM certificate file: serve HTTPS/WSS (HEDGE_TLS_CERT)"
    )
    server.add_argument("--tls-key", default=None, help="PEM private key file (HEDGE_TLS_KEY)")
    server.add_argument("--log-level", default="info")
    server.set_defaults(func=run_server)
    schema = subparsers.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.set_defaults(func=print_schema)


def run_server(args: argparse.Namespace) -> int:
    """Start in an order where a failure leaves nothing behind: settings, TLS files, the port, the
    store's lock, and only then the store (created here when new), then serve."""
    import uvicorn

    from hedge.api.app import build_app
    from hedge.store.sqlite_file import StoreInUse, StoreLock, absolute_url, sqlite_path

    try:
        logs.configure(args.log_level)
    except ValueError as exc:  # HEDGE_LOG_FORMAT
        sys.stderr.write(f"cannot start the server: {exc}\n")
        return 2
    eventloop.tune_threads()
    log = logging.getLogger("hedge")
    lock: StoreLock | None = None
    try:
        settings = ServerSettings.from_env(**flag_values(args, ServerSettings))
        settings = replace(settings, database_url=absolute_url(settings.database_url))
        log.info("starting server: %s", settings.describe())
        heap.limit_malloc_arenas(settings.malloc_arena_max)  # before the worker threads exist
        check_tls_files(settings)
        exposed = plain_http_warning(settings)
        if exposed:
            log.warning("%s", exposed)
        listening = bind(settings.host, settings.port)
        lock = StoreLock.acquire(settings.database_url)
        path = sqlite_path(settings.database_url)
        if path is not None:
            state = "exists" if path.exists() else "new: creating it"
            log.info("store: SQLite file %s (%s)", path, state)
        else:
            log.info("store: %s", settings.describe()["database_url"])
        app = build_app(settings)
    except (ValueError, OSError, DomainError, StoreInUse) as exc:  # settings, port, the database file
        log.error("cannot start the server: %s", exc)
        if lock is not None:
            lock.release()
        return 2
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        ws_max_size=settings.max_body_bytes,
        ws_per_message_deflate=False,  # small frames on a LAN: compressing costs more than it saves
        ws="websockets-sansio",
        ssl_certfile=settings.tls_cert or None,
        ssl_keyfile=settings.tls_key or None,
        log_config=None,  # the logging set up above (plain or JSON lines)
    )
    heap.settle_now_and_later()  # the start-up heap out of the collector's full passes
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        if lock is not None:
            lock.release()
    return 0


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else is created (a port in use stops here)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def plain_http_warning(settings: ServerSettings) -> str | None:
    """A warning when tokens would cross a network in clear: plain HTTP on a non-loopback address."""
    import ipaddress

    if settings.tls_cert or settings.host == "localhost":
        return None
    try:
        if ipaddress.ip_address(settings.host).is_loopback:
            return None
    except ValueError:
        pass  # a host name: it may well resolve beyond this machine
    return (
        f"serving plain HTTP on {settings.host}: tokens cross the network in clear; "
        "use --tls-cert/--tls-key, or bind 127.0.0.1 behind a TLS reverse proxy "
        "(deploy/nginx/hedge.conf), and firewall the port"
    )


def check_tls_files(settings: ServerSettings) -> None:
    """Load the certificate and key once before anything starts: a wrong file stops start-up with
    its reason instead of failing after the store was opened."""
    if not settings.tls_cert:
        return
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            settings.tls_cert, settings.tls_key
        )
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"cannot load the TLS certificate {settings.tls_cert!r} and key {settings.tls_key!r}: {exc}"
        ) from None


def print_schema(_: argparse.Namespace) -> int:
    from hedge.api.schema import print_sdl

    sys.stdout.write(print_sdl() + "\n")
    return 0
