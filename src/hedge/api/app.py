"""The server as an ASGI app: /graphql (HTTP + graphql-transport-ws), /healthz, /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hedge.api.broker import ChangeBroker
from hedge.api.cache import EntityCache
from hedge.api.coalesce import FigureCoalescer
from hedge.api.context import Services
from hedge.api.metrics import Metrics
from hedge.api.presence import Presence
from hedge.api.ratelimit import RateLimiter
from hedge.api.schema import build_schema
from hedge.api.socket_guard import SocketGuard
from hedge.api.view import HedgeGraphQL
from hedge.config import ServerSettings, load_limits, load_symbol_specs
from hedge.domain.enums import UserRole
from hedge.domain.errors import ValidationError
from hedge.domain.tokens import check_token
from hedge.jobs.deadlines import expire_forever
from hedge.jobs.wiring import Jobs
from hedge.store.feed import head_seq
from hedge.store.repository import Store
from hedge.web.console import routes as console_routes

log = logging.getLogger(__name__)


def _error_body(message: str, code: str) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


class LimitsMiddleware:
    """HTTP request body size limit and a per-request time limit (WebSockets pass through)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(send, 413, f"request body over {self.max_body_bytes} bytes", "VALIDATION")
            return
        received = 0
        too_big = False

        async def limited_receive() -> Message:
            nonlocal received, too_big
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                too_big = True
                raise ValueError("request body too large")
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, limited_receive, tracking_send)
        except TimeoutError:
            if not started:
                await self._reject(send, 504, f"request took longer than {self.timeout_s} s", "TIMEOUT")
        except ValueError:
            if not too_big:
                raise
            if not started:
                await self._reject(send, 413, f"request body over {self.max_body_bytes} bytes", "VALIDATION")

    @staticmethod
    async def _reject(send: Send, status: int, message: str, code: str) -> None:
        body = _error_body(message, code)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def build_services(settings: ServerSettings, store: Store | None = None) -> Services:
    store = store or Store(
        settings.database_url,
        retention=timedelta(seconds=settings.feed_retention_s),
        catalog=load_symbol_specs(settings.symbol_specs),
        action_ttl=timedelta(seconds=settings.action_ttl_s),
        limits=load_limits(settings.limits),
    )
    metrics = Metrics()
    cache = EntityCache(store, metrics, settings.redis_url, settings.cache_l1_ttl_s, settings.cache_l2_ttl_s)
    broker = ChangeBroker(store, cache, metrics)
    return Services(
        settings=settings,
        store=store,
        cache=cache,
        broker=broker,
        limiter=RateLimiter(settings.mutation_rate_per_s, settings.mutation_burst),
        presence=Presence(store, settings.presence_grace_s),
        metrics=metrics,
        socket_guard=SocketGuard(store, broker),
        figures=FigureCoalescer(store),
    )


def ensure_admin(store: Store, token: str | None) -> None:
    """HEDGE_ADMIN_TOKEN is a bootstrap: with no ADMIN yet, create one whose token is that value.

    Once an ADMIN exists the variable does nothing (tokens are rotated with rotateToken), and the
    log says so, so that an operator who changed it is not left guessing. A token under 24
    characters is refused (ValidationError): the server does not start with a guessable one."""
    if not token:
        return
    check_token(token, "HEDGE_ADMIN_TOKEN")
    if any(u.role is UserRole.ADMIN for u in store.list_users()):
        log.warning(
            "HEDGE_ADMIN_TOKEN is set but ignored: an ADMIN already exists, and the variable only "
            "creates the first one; use rotateToken to change an admin's token, then unset it"
        )
        return
    try:
        store.create_user("admin@hedge.local", "Administrator", UserRole.ADMIN, token=token)
    except (ValidationError, IntegrityError):
        # several server processes started together on one fresh store: another one made it first
        if not any(u.role is UserRole.ADMIN for u in store.list_users()):
            raise
        log.info("the first ADMIN user was created by another server process at the same time")
        return
    log.info("created the first ADMIN user admin@hedge.local with the token from HEDGE_ADMIN_TOKEN")


def build_app(settings: ServerSettings, services: Services | None = None) -> Starlette:
    if settings.admin_token:
        check_token(settings.admin_token, "HEDGE_ADMIN_TOKEN")  # before the store is opened
    services = services or build_services(settings)
    ensure_admin(services.store, settings.admin_token)
    services.store.presence_sweep()  # users a stopped process left ONLINE, before anyone connects
    schema = build_schema(
        settings.max_query_depth,
        settings.max_query_tokens,
        settings.max_aliases,
        count_error=lambda code: services.metrics.errors.labels(code).inc(),
    )
    graphql = HedgeGraphQL(services, schema)
    jobs = Jobs(services)  # the scheduler's jobs and alert delivery (hedge.jobs)

    async def healthz(_: Request) -> Response:
        try:
            await run_in_threadpool(head_seq, services.store.engine)
        except Exception as exc:
            return JSONResponse({"ok": False, "store": str(exc)[:200]}, status_code=503)
        return JSONResponse(
            {"ok": True, "redis": services.cache.redis_up, "feedCursor": services.broker.cursor}
        )

    async def metrics(_: Request) -> Response:
        await run_in_threadpool(jobs.refresh_metrics)
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        services.broker.start()
        heartbeat = asyncio.create_task(services.presence.heartbeat_forever(), name="presence")
        guard = asyncio.create_task(services.socket_guard.watch_forever(), name="socket-guard")
        deadlines = asyncio.create_task(
            expire_forever(services.store, settings.deadline_sweep_s), name="deadlines"
        )
        await jobs.start()
        if services.figures is not None:
            services.figures.start()
        try:
            yield
        finally:
            deadlines.cancel()
            if services.figures is not None:
                await services.figures.stop()
            await jobs.stop()
            heartbeat.cancel()
            guard.cancel()
            services.broker.stop()
            await services.presence.close()
            services.cache.close()
            services.store.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *graphql.sessions.routes(),
            *console_routes(),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.jobs = jobs
    app.add_middleware(
        LimitsMiddleware, max_body_bytes=settings.max_body_bytes, timeout_s=settings.request_timeout_s
    )
    return app
