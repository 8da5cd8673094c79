"""The console's sign-in against a real server: cookie flags, CSRF, Origin checks, the WebSocket
handshake with the cookie, sign-out, and what a CLIENT's session may read."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from tests.api.conftest import Api, Person
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from hedge.web import sessions

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Browser:
    """An HTTP client that behaves like the console's page: same Origin, cookie jar, CSRF header."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, headers={"Origin": url}, timeout=10.0)
        self.csrf = ""

    async def sign_in(self, token: str) -> httpx.Response:
        response = await self.http.post("/session", json={"token": token})
        if response.status_code == 200:
            self.csrf = response.json()["csrfToken"]
        return response

    async def graphql(self, query: str, csrf: str | None = None, **headers: str) -> httpx.Response:
        sent = {"x-csrf-token": self.csrf if csrf is None else csrf, **headers}
        return await self.http.post("/graphql", json={"query": query}, headers=sent)

    @property
    def cookie(self) -> str:
        return self.http.cookies.get(sessions.COOKIE_NAME) or ""


async def signed_in(url: str, token: str) -> Browser:
    """A console page at `url` signed in with `token` (close its `http` when done)."""
    page = Browser(url)
    await page.sign_in(token)
    return page


@asynccontextmanager
async def cookie_socket(url: str, cookie: str, origin: str) -> AsyncIterator[tuple[ClientConnection, Any]]:
    """The console's GraphQL socket signed in by its session cookie, opened from `origin`: its
    connection_init sent and the server's answer read."""
    async with connect(
        url.replace("http://", "ws://") + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers={"Cookie": f"{sessions.COOKIE_NAME}={cookie}"},
        origin=origin,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        yield ws, json.loads(await ws.recv())


@pytest_asyncio.fixture(loop_scope="module")
async def browser(server: Api) -> AsyncIterator[Browser]:
    made = Browser(server.url)
    yield made
    await made.http.aclose()


def code(response: httpx.Response) -> str | None:
    body: dict[str, Any] = response.json()
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


async def test_sign_in_sets_an_httponly_strict_cookie_and_returns_the_csrf_token(
    server: Api, browser: Browser
) -> None:
    response = await browser.sign_in("admin-token-for-the-tests")

    assert response.status_code == 200
    header = response.headers["set-cookie"]
    assert header.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
    assert "admin-token-for-the-tests" not in header
    assert response.json()["user"]["role"] == "ADMIN" and len(response.json()["csrfToken"]) == 64


async def test_session_answers_carry_the_feed_head_the_page_subscribes_from(
    server: Api, browser: Browser
) -> None:
    signed_in = (await browser.sign_in("admin-token-for-the-tests")).json()
    assert signed_in["feedCursor"] == str(server.feed_head())
    await server.admin.execute(
        'mutation { createUser(input: {email: "cursor@example.com", name: "C", role: CLIENT}) { token } }'
    )
    again = (await browser.http.get("/session")).json()
    assert int(again["feedCursor"]) == server.feed_head() > int(signed_in["feedCursor"])
    head = (await browser.graphql("{ feedCursor }")).json()["data"]["feedCursor"]
    assert head == again["feedCursor"]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"token": "not-a-token-of-anyone-at-all"}, 401, "UNAUTHENTICATED"),
        ({"token": 42}, 400, "VALIDATION"),
        ({}, 400, "VALIDATION"),
        ("not json", 400, "VALIDATION"),
    ],
)
async def test_sign_in_with_bad_input_is_refused_with_a_code(
    browser: Browser, body: object, status: int, expected: str
) -> None:
    content = body if isinstance(body, str) else json.dumps(body)

    response = await browser.http.post("/session", content=content)

    assert response.status_code == status and code(response) == expected
    assert sessions.COOKIE_NAME not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("origin", [None, "http://evil.example"])
async def test_sign_in_from_another_origin_is_forbidden(server: Api, origin: str | None) -> None:
    headers = {} if origin is None else {"Origin": origin}
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/session", json={"token": "admin-token-for-the-tests"}, headers=headers)

    assert response.status_code == 403 and code(response) == "FORBIDDEN"


async def test_graphql_with_the_cookie_and_csrf_header_answers_as_the_user(browser: Browser) -> None:
    await browser.sign_in("admin-token-for-the-tests")

    response = await browser.graphql("{ me { role } }")

    assert response.json() == {"data": {"me": {"role": "ADMIN"}}}


async def test_graphql_with_the_cookie_but_no_csrf_header_is_forbidden(browser: Browser) -> None:
    await browser.sign_in("admin-token-for-the-tests")

    missing = await browser.graphql("{ me { role } }", csrf="")
    wrong = await browser.graphql("{ me { role } }", csrf="0" * 64)

    assert (missing.status_code, code(missing)) == (403, "FORBIDDEN")
    assert (wrong.status_code, code(wrong)) == (403, "FORBIDDEN")


async def test_graphql_with_the_cookie_from_another_origin_is_forbidden(browser: Browser) -> None:
    await browser.sign_in("admin-token-for-the-tests")

    response = await browser.graphql("{ me { role } }", Origin="http://evil.example")

    assert (response.status_code, code(response)) == (403, "FORBIDDEN")


async def test_a_tampered_cookie_authenticates_nobody(server: Api, browser: Browser) -> None:
    await browser.sign_in("admin-token-for-the-tests")
    user_id, expiry, signature = browser.cookie.split(".")
    browser.http.cookies.set(sessions.COOKIE_NAME, f"{user_id}.{int(expiry) + 3600}.{signature}")

    response = await browser.graphql("{ me { role } }")

    assert code(response) == "UNAUTHENTICATED"


async def test_session_route_says_who_is_signed_in_and_sign_out_ends_it(browser: Browser) -> None:
    assert (await browser.http.get("/session")).json() == {"user": None}
    await browser.sign_in("admin-token-for-the-tests")
    assert (await browser.http.get("/session")).json()["user"]["role"] == "ADMIN"

    refused = await browser.http.post("/session/signout")
    done = await browser.http.post("/session/signout", headers={"x-csrf-token": browser.csrf})

    assert (refused.status_code, code(refused)) == (403, "FORBIDDEN")
    assert done.status_code == 200 and "Max-Age=0" in done.headers["set-cookie"]
    assert (await browser.http.get("/session")).json() == {"user": None}


async def test_a_client_session_reads_only_its_own_rows(
    server: Api, world_pair: tuple[Person, Person]
) -> None:
    alice, bob = world_pair
    page = await signed_in(server.url, alice.token)

    body = (await page.graphql("{ listPositions { userId } listAccounts { userId } }")).json()
    foreign = await page.graphql(f'{{ getPosition(id: "{bob.position_id}") {{ id }} }}')
    await page.http.aclose()

    assert {p["userId"] for p in body["data"]["listPositions"]} == {alice.id}
    assert {a["userId"] for a in body["data"]["listAccounts"]} == {alice.id}
    assert foreign.json().get("data", {}).get("getPosition") is None


@pytest_asyncio.fixture(loop_scope="module")
async def world_pair(server: Api) -> tuple[Person, Person]:
    return await server.trader(), await server.trader()


async def _ws_init(url: str, cookie: str, origin: str) -> dict[str, Any]:
    async with cookie_socket(url, cookie, origin) as (ws, reply):
        if reply["type"] == "connection_ack":
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ me { role } }"}})
            )
            reply = json.loads(await ws.recv())
        answer: dict[str, Any] = reply
        return answer


async def test_websocket_with_the_cookie_from_the_same_origin_is_accepted(
    server: Api, browser: Browser
) -> None:
    await browser.sign_in("admin-token-for-the-tests")

    reply = await _ws_init(server.url, browser.cookie, server.url)

    assert reply["type"] == "next" and reply["payload"]["data"] == {"me": {"role": "ADMIN"}}


async def test_websocket_with_the_cookie_from_another_origin_is_refused(
    server: Api, browser: Browser
) -> None:
    await browser.sign_in("admin-token-for-the-tests")

    with pytest.raises(InvalidStatus) as raised:  # Strawberry refuses a foreign Origin at the handshake
        await _ws_init(server.url, browser.cookie, "http://evil.example")

    assert raised.value.response.status_code == 403


async def test_a_client_console_websocket_does_not_mark_its_pc_online(
    server: Api, world_pair: tuple[Person, Person]
) -> None:
    alice, _ = world_pair
    page = await signed_in(server.url, alice.token)

    reply = await _ws_init(server.url, page.cookie, server.url)
    status = (await server.admin.execute(f'{{ getUser(id: "{alice.id}") {{ pcStatus }} }}'))["getUser"]
    await page.http.aclose()

    assert reply["type"] == "next"
    assert status["pcStatus"] == "OFFLINE"


async def test_console_page_allows_only_its_own_origin(server: Api) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/")
        graphiql = await http.get("/graphql", headers={"Accept": "text/html"})
        module = await http.get("/assets/app/main.js")

    csp = page.headers["content-security-policy"]
    assert (
        "default-src 'self'" in csp
        and "connect-src 'self'" in csp
        and "unsafe-inline" not in csp.split(";")[1]
    )
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert graphiql.status_code == 200 and "/assets/vendor/graphiql/graphiql.min.js" in graphiql.text
    assert not re.search(r"(src|href)=\"https?://", graphiql.text + page.text)


@pytest.mark.parametrize(
    "revoke",
    [
        'mutation { rotateToken(userId: "%s") { token } }',
        'mutation { updateUser(input: {id: "%s", isActive: false}) { id } }',
    ],
    ids=["rotated", "deactivated"],
)
async def test_revoking_the_token_ends_the_console_session_and_closes_its_socket_4403(
    server: Api, revoke: str
) -> None:
    person = await server.new_user()
    page = await signed_in(server.url, person.token)
    async with cookie_socket(server.url, page.cookie, server.url) as (ws, ack):
        assert ack["type"] == "connection_ack"

        await server.admin.execute(revoke % person.id)

        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
    await asyncio.sleep(1.1)  # the cookie check's cache
    refused = await page.graphql("{ me { id } }")
    await page.http.aclose()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert code(refused) == "UNAUTHENTICATED"
