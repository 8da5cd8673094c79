"""The agent lease on the agent's side: granted -> acts, another holder -> stands by, a grant not
renewed in time -> stops acting by itself, a server without the lease -> acts with a warning, a
refused token -> TokenRefused. The server is scripted (httpx MockTransport): its side is tested
in the API's tests and end to end with two agents."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from hedge.agent.lease import AgentLease, LeaseState
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
