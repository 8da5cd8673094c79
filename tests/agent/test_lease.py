"""The agent lease on the agent's side: granted -> acts, another holder -> stands by, a grant not
renewed in time -> stops acting by itself, a server without the lease -> acts with a warning, a
refused token -> TokenRefused. The server is scripted (httpx MockTransport): its side is tested
in the API's tests and end to end with two agents."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from hedge.agent.lease import AgentLease, LeaseState, next_claim_in
from hedge.client.graphql import GraphQLClient, TokenRefused

Answer = Callable[[dict[str, object]], httpx.Response]


def _grant(granted: bool, holder: str) -> Answer:
    def answer(body: dict[str, object]) -> httpx.Response:
        claim = {"granted": granted, "holderId": holder, "expiresAt": "2026-12-01T00:00:15.000Z"}
        return httpx.Response(200, json={"data": {"claimAgent": claim}})

    return answer


def _errors(message: str, code: str) -> Answer:
    return lambda body: httpx.Response(
        200, json={"errors": [{"message": message, "extensions": {"code": code}}]}
    )


class Server:
    """Answers each POST with the current `answer`; keeps the request bodies."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.bodies: list[dict[str, object]] = []

    def client(self) -> GraphQLClient:
        client = GraphQLClient("http://server.invalid", "t")

        def handle(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            self.bodies.append(body)
            return self.answer(body)

        client._http = httpx.AsyncClient(
            base_url="http://server.invalid", transport=httpx.MockTransport(handle)
        )
        return client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _lease(
    server: Server, ttl_s: float = 15.0, clock: Clock | None = None
) -> tuple[AgentLease, list[tuple[LeaseState, LeaseState]]]:
    moves: list[tuple[LeaseState, LeaseState]] = []
    lease = AgentLease(
        server.client(), "pc-1", ttl_s, lambda old, new: moves.append((old, new)), clock=clock or Clock()
    )
    return lease, moves


def _virtual_sleep(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, stop: Callable[[list[float]], bool]
) -> list[float]:
    """The lease's sleeps, on `clock`: each moves it on at once and is recorded; the run is
    cancelled once `stop(sleeps)` says so."""
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds
        if stop(sleeps):
            raise asyncio.CancelledError

    monkeypatch.setattr("hedge.agent.lease.asyncio.sleep", fake_sleep)
    return sleeps


async def test_claim_granted_holds_the_lease_and_sends_its_id_and_ttl() -> None:
    server = Server(_grant(True, "pc-1"))
    lease, moves = _lease(server)

    await lease.claim()

    assert lease.holds()
    assert moves == [(LeaseState.UNKNOWN, LeaseState.HELD)]
    assert server.bodies[0]["variables"] == {"input": {"agentId": "pc-1", "ttlS": 15.0}}


async def test_claim_held_by_another_agent_stands_by_and_names_the_holder(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lease, moves = _lease(Server(_grant(False, "pc-2")))

    await lease.claim()

    assert not lease.holds()
    assert lease.state is LeaseState.STANDBY and lease.holder_id == "pc-2"
    assert moves == [(LeaseState.UNKNOWN, LeaseState.STANDBY)]
    assert "standing by: agent pc-2 holds the lease" in caplog.text


async def test_grant_not_renewed_within_its_ttl_stops_acting_by_itself() -> None:
    server, clock = Server(_grant(True, "pc-1")), Clock()
    lease, moves = _lease(server, ttl_s=15.0, clock=clock)
    await lease.claim()
    server.answer = lambda body: httpx.Response(502, text="<html>502 Bad Gateway</html>")

    clock.now += 10.0
    await lease.claim()  # not renewed: the server is behind a broken proxy
    still_held = lease.holds()
    clock.now += 5.0  # 15 s after the claim that was granted

    assert still_held  # within the ttl of the last grant it still acts
    assert not lease.holds()
    assert lease.state is LeaseState.UNKNOWN
    assert moves[-1] == (LeaseState.HELD, LeaseState.UNKNOWN)


async def test_lost_lease_moves_from_held_to_standby() -> None:
    server = Server(_grant(True, "pc-1"))
    lease, moves = _lease(server)
    await lease.claim()
    server.answer = _grant(False, "pc-2")

    await lease.claim()

    assert moves == [(LeaseState.UNKNOWN, LeaseState.HELD), (LeaseState.HELD, LeaseState.STANDBY)]


async def test_server_without_the_lease_lets_the_agent_act_and_stops_claiming() -> None:
    server = Server(_errors("Unknown type 'ClaimAgentInput'.", "GRAPHQL_VALIDATION_FAILED"))
    lease, _ = _lease(server)

    await lease.run()  # returns: nothing to renew

    assert lease.holds() and lease.state is LeaseState.UNSUPPORTED
    assert len(server.bodies) == 1


async def test_claim_with_a_refused_token_raises_token_refused() -> None:
    lease, _ = _lease(Server(_errors("a valid token is required", "UNAUTHENTICATED")))
    with pytest.raises(TokenRefused):
        await lease.claim()


async def test_release_gives_the_lease_up_only_when_held() -> None:
    server = Server(_grant(False, "pc-2"))
    lease, _ = _lease(server)
    await lease.claim()
    await lease.release()
    assert len(server.bodies) == 1  # standing by: nothing to release

    server.answer = _grant(True, "pc-1")
    await lease.claim()
    server.answer = lambda body: httpx.Response(200, json={"data": {"releaseAgent": True}})
    await lease.release()

    assert "releaseAgent" in str(server.bodies[-1]["query"])
    assert server.bodies[-1]["variables"] == {"agentId": "pc-1"}
    assert not lease.holds()


def test_next_claim_is_a_third_of_the_ttl_after_the_claim_was_sent_not_after_its_answer() -> None:
    assert next_claim_in(sent=100.0, now=104.0, ttl_s=15.0, reachable=True) == pytest.approx(1.0)


def test_next_claim_after_an_answer_slower_than_a_third_of_the_ttl_is_at_once() -> None:
    assert next_claim_in(sent=100.0, now=107.0, ttl_s=15.0, reachable=True) == 0.0


def test_next_claim_while_the_server_is_unreachable_is_within_one_second() -> None:
    assert next_claim_in(sent=100.0, now=100.0, ttl_s=15.0, reachable=False) == pytest.approx(1.0)
    assert next_claim_in(sent=100.0, now=100.25, ttl_s=15.0, reachable=False) == pytest.approx(0.75)


def test_next_claim_with_a_short_ttl_while_unreachable_keeps_a_third_of_it() -> None:
    assert next_claim_in(sent=100.0, now=100.0, ttl_s=1.5, reachable=False) == pytest.approx(0.5)


async def test_run_with_answers_slower_than_a_third_of_the_ttl_renews_before_every_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    held_when_each_answer_came: list[bool] = []

    def slow_grant(body: dict[str, object]) -> httpx.Response:
        clock.now += 6.0  # each answer takes 6 s: more than the 5 s between renewals (ttl 15 s)
        held_when_each_answer_came.append(lease.holds())
        return _grant(True, "pc-1")(body)

    server = Server(slow_grant)
    lease, moves = _lease(server, ttl_s=15.0, clock=clock)
    sleeps = _virtual_sleep(monkeypatch, clock, lambda sleeps: len(sleeps) == 6)

    with pytest.raises(asyncio.CancelledError):
        await lease.run()

    assert held_when_each_answer_came[1:] == [True] * 5  # the first answer is the first grant
    assert moves == [(LeaseState.UNKNOWN, LeaseState.HELD)]  # never expired in between
    assert sleeps == [0.0] * 6  # the answer came after ttl/3 from its claim: renew at once


async def test_run_with_quick_answers_sends_a_claim_every_third_of_the_ttl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    sent_at: list[float] = []

    def grant_in_two_seconds(body: dict[str, object]) -> httpx.Response:
        sent_at.append(clock.now)
        clock.now += 2.0
        return _grant(True, "pc-1")(body)

    lease, _ = _lease(Server(grant_in_two_seconds), ttl_s=15.0, clock=clock)

    _virtual_sleep(monkeypatch, clock, lambda _: len(sent_at) == 4)

    with pytest.raises(asyncio.CancelledError):
        await lease.run()

    assert sent_at == [1000.0, 1005.0, 1010.0, 1015.0]


async def test_run_while_the_server_is_unreachable_claims_again_within_one_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    server = Server(lambda body: httpx.Response(200, json={"data": None}))

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    lease, _ = _lease(server, ttl_s=15.0, clock=clock)
    lease.client._http = httpx.AsyncClient(
        base_url="http://server.invalid", transport=httpx.MockTransport(unreachable)
    )
    sleeps = _virtual_sleep(monkeypatch, clock, lambda sleeps: len(sleeps) == 3)

    with pytest.raises(asyncio.CancelledError):
        await lease.run()

    assert not lease.reachable
    assert sleeps == [pytest.approx(1.0)] * 3
