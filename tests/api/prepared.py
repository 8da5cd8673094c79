"""What the tests of the prepared paths (hedge.api.fastpath, ws_prepared, sub_prepared) share: a
server run with its answers made comparable (ids named, server times aside), two users with an
account and an entry each, the same scenario on a server with the prepared paths and on one
without (HEDGE_FAST_MUTATIONS=0), and a count of the mutations the prepared path ran."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest

from hedge.api.fastpath import FastMutations

from .conftest import ADMIN_TOKEN, CREATE_ACCOUNT, CREATE_ENTRY, CREATE_USER, settings_for, start_api

MEMO = "mutation($id: ID!, $m: String) { updatePosition(input: {id: $id, memo: $m}) { id version memo } }"
NAMED = 'mutation Named($id: ID!) { updatePosition(input: {id: $id, memo: "n"}) { id version } }'
TIME = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')
MILLIS = re.compile(r"-\d{13}\b")  # the server's clock in a correlation id it makes

CODE = re.compile(r'"code": ?"([A-Z_]+)"')

T = TypeVar("T")


class Run:
    """One server: its users and a recorder of (status, media type, body) with ids named."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.names: dict[str, str] = {}
        self.http = httpx.AsyncClient(base_url=url)

    def name(self, real: str, symbolic: str) -> str:
        self.names[real] = symbolic
        return real

    def named(self, text: str) -> str:
        """The text with each id given its symbolic name and the server's times taken out."""
        for real, symbolic in self.names.items():
            text = text.replace(real, symbolic)
        return MILLIS.sub("-<ms>", TIME.sub('"<time>"', text))

    async def post(
        self, token: str | None, query: str, variables: Any = None, **extra: Any
    ) -> tuple[int, str, str]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(extra.pop("headers", {}))
        body = {"query": query, "variables": variables, **extra}
        response = await self.http.post("/graphql", json=body, headers=headers)
        return response.status_code, response.headers.get("content-type", ""), self.named(response.text)

    async def data(self, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


@dataclass(frozen=True)
class Person:
    """A CLIENT made on the run, named `<userN>`, with an account `<accountN>` and, when asked
    for, an entry (`<positionN>`, `<actionN>`)."""

    token: str
    user: str
    account: str
    position: str = ""
    action: str = ""


async def two_people(run: Run, email: str, number: str, entry: bool = True) -> tuple[Person, Person]:
    """Users `{email}1@example.com` and `{email}2@...`, their accounts numbered `{number}1`, `{number}2`."""
    people = []
    for n in (1, 2):
        made = (
            await run.data(ADMIN_TOKEN, CREATE_USER, {"email": f"{email}{n}@example.com", "role": "CLIENT"})
        )["createUser"]
        token, user = made["token"], run.name(made["user"]["id"], f"<user{n}>")
        made = await run.data(ADMIN_TOKEN, CREATE_ACCOUNT, {"userId": user, "number": f"{number}{n}"})
        account = run.name(made["createAccount"]["id"], f"<account{n}>")
        if not entry:
            people.append(Person(token, user, account))
            continue
        made = (await run.data(token, CREATE_ENTRY, {"accountId": account}))["createAction"]
        position = run.name(made["position"]["id"], f"<position{n}>")
        people.append(Person(token, user, account, position, run.name(made["action"]["id"], f"<action{n}>")))
    return people[0], people[1]


async def answers(tmp_path: Path, name: str, fast: int, scenario: Callable[[Run], Awaitable[T]]) -> T:
    """The scenario's answers from a fresh server, with (fast=1) or without (0) the prepared paths."""
    settings = settings_for(f"sqlite:///{tmp_path / name}.db", fast_mutations=fast, mutation_burst=1000)
    runs = cast(AsyncGenerator[Any, None], start_api(settings))
    api = await runs.__anext__()
    run = Run(api.url)
    try:
        return await scenario(run)
    finally:
        await run.http.aclose()
        await runs.aclose()


def count_prepared(monkeypatch: pytest.MonkeyPatch, socket_only: bool = False) -> list[str]:
    """The root field of each mutation the prepared path runs from now on (with socket_only, of
    those that came over a WebSocket)."""
    ran: list[str] = []
    original = FastMutations.run

    async def counted(self: FastMutations, plan: Any, argument: Any, context: Any) -> dict[str, Any]:
        if not socket_only or context.socket is not None:
            ran.append(plan.root.name.value)
        return await original(self, plan, argument, context)

    monkeypatch.setattr(FastMutations, "run", counted)
    return ran


async def fast_and_ordinary(
    tmp_path: Path, scenario: Callable[[Run], Awaitable[list[T]]], ran: list[str]
) -> list[T]:
    """The scenario on a server with the prepared paths, then on one without: each answer of the
    first is the one the second gave, and the second ran nothing on the prepared paths (`ran`,
    from count_prepared or the like, grows by none). The second server's answers."""
    fast = await answers(tmp_path, "fast", 1, scenario)
    prepared = len(ran)
    ordinary = await answers(tmp_path, "ordinary", 0, scenario)
    assert len(ran) == prepared  # the second server ran none of them
    for index, (mine, theirs) in enumerate(zip(fast, ordinary, strict=True)):
        assert mine == theirs, index
    return ordinary


def error_codes(texts: Iterable[str]) -> set[str]:
    """The error codes (extensions.code) the answers carry."""
    return {code for text in texts for code in CODE.findall(text)}
