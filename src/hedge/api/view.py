"""The GraphQL endpoint: Strawberry's ASGI view with our authentication and presence tracking."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from hedge.api.context import Context, Services
from hedge.api.errors import FORBIDDEN, UNAUTHENTICATED, VALIDATION
from hedge.api.fastpath import FastMutations, covers
from hedge.api.http_spec import GraphQLOverHTTP, response_media_type
from hedge.api.lanes import is_figures_push
from hedge.api.schema import HedgeSchema
from hedge.api.session import SessionAuth
from hedge.api.sub_prepared import PreparedSubscriptions
from hedge.api.ws_prepared import PreparedTransportWS
from hedge.domain.enums import UserRole
from hedge.domain.models import User
from hedge.domain.tokens import plausible
from hedge.store.account_store import hash_token
from hedge.web.console import graphiql_html

CONTEXT_KEY = "hedge.context"
GUARDED_KEY = "hedge.guarded_socket"


def bearer(value: object) -> str | None:
    if not isinstance(value, str) or not value.startswith("Bearer "):
        return None
    token = value[len("Bearer ") :].strip()
    return token or None


class HedgeGraphQL(GraphQLOverHTTP):
    graphql_transport_ws_handler_class = PreparedTransportWS  # the prepared mutations over WS too

    def __init__(self, services: Services, schema: Any) -> None:
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            graphql_ide="graphiql",
            connection_init_wait_timeout=timedelta(seconds=10),
            allow_queries_via_get=True,  # queries only: a mutation over GET is 405 (http_spec)
        )
        self.services = services
        self.sessions = SessionAuth(services)
        self.fast = (
            FastMutations(schema, schema.max_tokens, schema.limit_rules, schema.count_error)
            if services.settings.fast_mutations and isinstance(schema, HedgeSchema) and covers(schema)
            else None
        )
        self.subscriptions = PreparedSubscriptions(self.fast) if self.fast is not None else None

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()  # GraphiQL with its assets served from this server, not a CDN

    async def _user_for(self, token: str | None) -> User | None:
        if token is None or not plausible(token):
            return None  # too short to be one of ours: no store read
        cache = self.services.cache
        user = cache.user_for_token(token)
        if user is None:
            user = await run_in_threadpool(self.services.store.user_by_token, token)
            if user is not None:
                cache.remember_token(token, user)
        return user if user is not None and user.is_active else None

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        address = request.client.host if request.client is not None else None
        if isinstance(request, WebSocket):
            context = Context(
                self.services,
                address=address,
                socket=request,
                session_user=await self.sessions.websocket_user(request),
            )
            request.scope[CONTEXT_KEY] = context
            return context
        self.services.metrics.requests.labels("http").inc()
        token = bearer(request.headers.get("authorization"))
        user = await self._user_for(token) if token else await self.sessions.http_user(request)
        return Context(self.services, user=user, address=address)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        token = bearer(context.connection_params.get("authorization"))
        if token is None and context.session_user is not None:
            context.user = context.session_user  # the console, not an agent: no presence
            console: WebSocket = context.socket
            await self._guard(
                context, context.user, "", check=lambda: self.sessions.websocket_still_valid(console)
            )
            return None
        user = await self._user_for(token)
        if user is None:
            raise ConnectionRejectionError({"reason": "a valid token is required in connection_init"})
        context.user = user
        await self._guard(context, user, hash_token(token or ""))
        if user.role is UserRole.CLIENT:
            await self.services.presence.connected(user.id)
        return None

    async def _guard(
        self,
        context: Context,
        user: User,
        token_hash: str,
        check: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Register the socket with the socket guard (closed with 4403 when its token goes, or,
        for the console's cookie session, when `check` says the session is no longer good)."""
        socket: WebSocket = context.socket
        guarded = self.services.socket_guard.opened(user.id, token_hash, socket, check=check)
        socket.scope[GUARDED_KEY] = guarded
        if not await self.services.socket_guard.valid(guarded):
            raise ConnectionRejectionError({"reason": "a valid token is required in connection_init"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
            return
        self.services.metrics.requests.labels("websocket").inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            guarded = scope.get(GUARDED_KEY)
            if guarded is not None:
                self.services.socket_guard.closed(guarded)
            context: Context | None = scope.get(CONTEXT_KEY)
            if (
                context is not None
                and context.user is not None
                and context.user is not context.session_user
                and context.user.role is UserRole.CLIENT
            ):
                self.services.presence.disconnected(context.user.id)

    async def _fast(self, request: Request) -> Response | None:
        """A prepared mutation (api/fastpath.py), or None: Strawberry then takes the request as
        it came (its body stays readable), nothing having run."""
        assert self.fast is not None
        if not request.headers.get("content-type", "").startswith("application/json"):
            return None
        accept = request.headers.get("accept")
        if accept and any(kind in accept for kind in ("multipart/", "text/event-stream")):
            return None
        try:
            data = json.loads(await request.body())
        except (ValueError, RecursionError):
            return None  # Strawberry answers with its coded 400
        if not isinstance(data, dict) or not isinstance(data.get("query"), str):
            return None
        if set(data) - {"query", "variables"} and any(
            data.get(k) is not None for k in set(data) - {"query", "variables"}
        ):
            return None  # operationName, extensions: Strawberry's
        plan = self.fast.plan(data["query"])
        call = None if plan is None else self.fast.prepare(plan, data.get("variables"))
        if plan is None or call is None:
            return None
        context = await self.get_context(request, Response())
        body = await self.fast.run(plan, call, context)
        return Response(json.dumps(body, separators=(",", ":")), media_type=response_media_type(accept))

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's HTTP handling (a prepared mutation first, api/fastpath.py), with a request
        it cannot read answered in JSON with a code; account-figure pushes go behind every other
        request (hedge.api.lanes)."""
        request = Request(scope=scope, receive=receive)
        lanes = self.services.lanes

        async def respond() -> Response:
            fast = await self._fast(request) if self.fast is not None and request.method == "POST" else None
            return fast if fast is not None else await self.run(request)

        try:
            if lanes is None:
                response = await respond()
            elif scope.get("method") == "POST" and is_figures_push(await request.body()):
                await lanes.background_turn()
                response = await respond()
            else:
                with lanes.foreground():
                    response = await respond()
        except HTTPException as exc:
            code = {401: UNAUTHENTICATED, 403: FORBIDDEN}.get(exc.status_code, VALIDATION)
            self.services.metrics.errors.labels(code).inc()
            body = {"errors": [{"message": exc.reason, "extensions": {"code": code}}]}
            accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
            response = JSONResponse(body, status_code=exc.status_code, media_type=response_media_type(accept))
            if exc.status_code == 405:
                response.headers["Allow"] = "POST" if scope.get("method") == "GET" else "GET, POST"
        await response(scope, receive, send)
