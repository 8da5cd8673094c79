"""The console's sign-in: a pasted token becomes an HttpOnly, SameSite=Strict session cookie.

Routes: `POST /session` {"token": "..."} signs in (the answer carries the CSRF token and the user),
`GET /session` says who is signed in (and the CSRF token again, for a reloaded page),
`POST /session/signout` ends it. `/graphql` accepts the cookie in place of a bearer token:
over HTTP with the `X-CSRF-Token` header and a same-origin Origin, over WebSocket with a
same-origin Origin on the handshake. What the cookie holds and how it is signed:
`hedge.web.sessions`.
"""

from __future__ import annotations

import json
import time

from cachetools import TTLCache
from cross_web import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hedge.api.context import Services
from hedge.domain.models import User
from hedge.store.sessions import user_with_token_hash
from hedge.web import sessions

_CHECKED_FOR_S = 1.0  # a rotated token or a deactivated user ends its sessions within this


def _user_json(user: User) -> dict[str, object]:
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role.value}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


class SessionAuth:
    """Checks session cookies against the store (briefly cached) and answers the /session routes."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._checked: TTLCache[str, tuple[User, str] | None] = TTLCache(maxsize=10_000, ttl=_CHECKED_FOR_S)

    @property
    def _pepper(self) -> str:
        return self.services.settings.session_secret

    async def _session(self, value: str | None) -> tuple[User, str] | None:
        """The active user a cookie value signs for, and its token hash; None for anything else."""
        if not value:
            return None
        if value in self._checked:
            return self._checked[value]
        claim = sessions.parse(value)
        found = (
            None
            if claim is None
            else await run_in_threadpool(user_with_token_hash, self.services.store, claim.user_id)
        )
        ok = (
            claim is not None
            and found is not None
            and found[0].is_active
            and sessions.valid(claim, found[1], time.time(), self._pepper)
        )
        result = found if ok else None
        self._checked[value] = result
        return result

    @staticmethod
    def _same_origin(conn: HTTPConnection) -> bool:
        return sessions.same_origin(
            conn.headers.get("origin"), conn.headers.get("host"), conn.headers.get("x-forwarded-proto")
        )

    async def http_user(self, request: Request) -> User | None:
        """The signed-in user of a /graphql HTTP request that carries a session cookie, or None.

        A cookie without its CSRF header or from another origin is refused outright (403), so a
        page on another site can never act with the operator's session.
        """
        value = request.cookies.get(sessions.COOKIE_NAME)
        found = await self._session(value)
        if found is None or value is None:
            return None
        if not self._same_origin(request) or not sessions.csrf_valid(
            request.headers.get(sessions.CSRF_HEADER), value, found[1], self._pepper
        ):
            raise HTTPException(403, "the session cookie needs a same-origin request with its X-CSRF-Token")
        return found[0]

    async def websocket_user(self, conn: HTTPConnection) -> User | None:
        """The signed-in user of a WebSocket handshake from the console's own origin, or None."""
        if not self._same_origin(conn):
            return None
        found = await self._session(conn.cookies.get(sessions.COOKIE_NAME))
        return None if found is None else found[0]

    async def websocket_still_valid(self, conn: HTTPConnection) -> bool:
        """Whether the cookie an open console socket signed in with still signs for an active
        user (read from the store, not the cache: the socket guard asks after a User change)."""
        value = conn.cookies.get(sessions.COOKIE_NAME)
        self._checked.pop(value or "", None)
        return await self._session(value) is not None

    # ------------------------------------------------------------------------------ the routes

    def _signed_in(self, user: User, token_hash: str, request: Request, status: int = 200) -> Response:
        value = sessions.issue(
            user.id, token_hash, time.time(), self.services.settings.session_max_age_s, self._pepper
        )
        body = {"user": _user_json(user), "csrfToken": sessions.csrf_token(value, token_hash, self._pepper)}
        response = JSONResponse(body, status_code=status)
        response.set_cookie(
            sessions.COOKIE_NAME,
            value,
            max_age=int(self.services.settings.session_max_age_s),
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
        )
        return response

    async def sign_in(self, request: Request) -> Response:
        if not self._same_origin(request):
            return _error(403, "FORBIDDEN", "sign in from the console's own page (the Origin header differs)")
        if not self.services.limiter.allow(f"sign-in:{request.client.host if request.client else '?'}"):
            return _error(429, "RATE_LIMITED", "too many sign-in attempts; wait a moment and retry")
        try:
            body = json.loads(await request.body())
            token = body["token"]
            if not isinstance(token, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, "VALIDATION", 'the body must be JSON {"token": "<your token>"}')
        user = await run_in_threadpool(self.services.store.user_by_token, token.strip())
        if user is None or not user.is_active:
            return _error(
                401, "UNAUTHENTICATED", "this token is not valid (mistyped, rotated or deactivated)"
            )
        found = await run_in_threadpool(user_with_token_hash, self.services.store, user.id)
        assert found is not None
        return self._signed_in(found[0], found[1], request)

    async def current(self, request: Request) -> Response:
        value = request.cookies.get(sessions.COOKIE_NAME)
        found = await self._session(value)
        if found is None or value is None:
            return JSONResponse({"user": None})  # not an error: the page then shows the sign-in form
        user, token_hash = found
        return JSONResponse(
            {"user": _user_json(user), "csrfToken": sessions.csrf_token(value, token_hash, self._pepper)}
        )

    async def sign_out(self, request: Request) -> Response:
        value = request.cookies.get(sessions.COOKIE_NAME)
        found = await self._session(value)
        if (
            found is not None
            and value is not None
            and not (
                self._same_origin(request)
                and sessions.csrf_valid(
                    request.headers.get(sessions.CSRF_HEADER), value, found[1], self._pepper
                )
            )
        ):
            return _error(403, "FORBIDDEN", "signing out needs the page's X-CSRF-Token")
        response = JSONResponse({"signedOut": True})
        response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return response

    def routes(self) -> list[Route]:
        return [
            Route("/session", self.sign_in, methods=["POST"]),
            Route("/session", self.current, methods=["GET"]),
            Route("/session/signout", self.sign_out, methods=["POST"]),
        ]
