"""claimAgent / releaseAgent on a real server: one acting agent per user, coded refusals."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import Person, World, error_code

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLAIM = """mutation($agentId: String!, $ttl: Float) {
  claimAgent(input: {agentId: $agentId, ttlS: $ttl}) { granted holderId expiresAt } }"""
RELEASE = "mutation($agentId: String!) { releaseAgent(agentId: $agentId) }"


async def claim(person: Person, agent_id: str, ttl: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = (await person.client.execute(CLAIM, {"agentId": agent_id, "ttl": ttl}))[
        "claimAgent"
    ]
    return result


async def test_second_agent_of_a_user_stands_by_until_the_first_releases(world: World) -> None:
    alice = world.alice
    first = await claim(alice, "pc-1")
    second = await claim(alice, "pc-2")
    assert first["granted"] and first["holderId"] == "pc-1" and first["expiresAt"]
    assert not second["granted"] and second["holderId"] == "pc-1"
    assert (await alice.client.execute(RELEASE, {"agentId": "pc-2"}))["releaseAgent"] is False
    assert (await alice.client.execute(RELEASE, {"agentId": "pc-1"}))["releaseAgent"] is True
    assert (await claim(alice, "pc-2"))["granted"]


async def test_renewal_by_the_holder_is_granted_with_a_later_expiry(world: World) -> None:
    first = await claim(world.alice, "pc-1", 5)
    again = await claim(world.alice, "pc-1", 30)
    assert again["granted"] and again["expiresAt"] > first["expiresAt"]


async def test_each_user_has_its_own_lease(world: World) -> None:
    assert (await claim(world.alice, "same-id"))["granted"]
    assert (await claim(world.bob, "same-id"))["granted"]


async def test_admin_claims_for_its_own_user_only(world: World) -> None:
    admin_claim = await claim(world.admin, "admin-pc")
    assert admin_claim["granted"]
    assert (await claim(world.alice, "pc-9"))["granted"]  # the admin's lease is not alice's


@pytest.mark.parametrize(
    ("agent_id", "ttl"),
    [("", None), ("   ", None), ("x" * 129, None), ("pc", -1), ("pc", 0), ("pc", 1e9), ("pc", "15")],
)
async def test_bad_claim_is_a_validation_error(world: World, agent_id: str, ttl: Any) -> None:
    body = await world.alice.client.raw(CLAIM, {"agentId": agent_id, "ttl": ttl})
    assert error_code(body) == "VALIDATION", body


async def test_claim_without_a_token_is_unauthenticated(world: World) -> None:
    body = await world.api.client(None).raw(CLAIM, {"agentId": "pc"})
    assert error_code(body) == "UNAUTHENTICATED"
