"""The agent lease in the store, on SQLite and PostgreSQL: two claimants, expiry, renewal, release,
concurrent claims (never two holders), and refused input."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from tests.store.conftest import ClockedUser

from hedge.domain.errors import NotFound, ValidationError


@pytest.fixture
def leased(clocked_user: ClockedUser) -> ClockedUser:
    return clocked_user


def test_first_claimant_is_granted_second_stands_by(leased: ClockedUser) -> None:
    store, clock, user_id = leased
    first = store.claim_agent(user_id, "agent-a", 15)
    second = store.claim_agent(user_id, "agent-b", 15)
    assert first.granted and first.expires_at == clock.now() + timedelta(seconds=15)
    assert not second.granted and second.holder_id == "agent-a" and second.expires_at == first.expires_at


def test_renewal_extends_the_lease_and_keeps_others_out(leased: ClockedUser) -> None:
    store, clock, user_id = leased
    store.claim_agent(user_id, "agent-a", 15)
    clock.advance(10)
    renewed = store.claim_agent(user_id, "agent-a", 15)
    clock.advance(10)  # 20 s after the first claim: past its first expiry, within the renewal
    assert renewed.granted and not store.claim_agent(user_id, "agent-b", 15).granted


def test_expired_lease_goes_to_the_next_claimant(leased: ClockedUser) -> None:
    store, clock, user_id = leased
    store.claim_agent(user_id, "agent-a", 15)
    clock.advance(15)
    taken = store.claim_agent(user_id, "agent-b", 15)
    assert taken.granted and taken.holder_id == "agent-b"
    assert not store.claim_agent(user_id, "agent-a", 15).granted  # the old holder now stands by


def test_release_by_holder_frees_it_at_once_by_others_changes_nothing(leased: ClockedUser) -> None:
    store, _, user_id = leased
    store.claim_agent(user_id, "agent-a", 15)
    assert store.release_agent(user_id, "agent-b") is False
    assert not store.claim_agent(user_id, "agent-b", 15).granted
    assert store.release_agent(user_id, "agent-a") is True
    assert store.claim_agent(user_id, "agent-b", 15).granted
    assert store.release_agent(user_id, "agent-a") is False  # released twice: nothing to give up


def test_leases_of_two_users_are_independent(leased: ClockedUser) -> None:
    store, _, user_id = leased
    other, _ = store.create_user("other@x.io", "Other", "CLIENT")
    assert store.claim_agent(user_id, "agent-a").granted
    assert store.claim_agent(other.id, "agent-b").granted


@pytest.mark.parametrize(
    ("agent_id", "ttl_s", "field"), [("", 15, "agentId"), ("a", -1, "ttlS"), ("a", 0, "ttlS")]
)
def test_bad_claim_is_refused_and_stores_nothing(
    leased: ClockedUser, agent_id: str, ttl_s: float, field: str
) -> None:
    store, _, user_id = leased
    with pytest.raises(ValidationError) as raised:
        store.claim_agent(user_id, agent_id, ttl_s)
    assert raised.value.field == field and store.agent_lease(user_id) is None


def test_claim_for_unknown_user_is_not_found(leased: ClockedUser) -> None:
    store, _, _ = leased
    with pytest.raises(NotFound):
        store.claim_agent("nobody", "agent-a")


def test_many_claimants_at_once_get_exactly_one_grant(leased: ClockedUser) -> None:
    store, _, user_id = leased
    claimants = 6
    barrier = threading.Barrier(claimants)
    granted: list[str] = []
    errors: list[BaseException] = []

    def claim(agent_id: str) -> None:
        barrier.wait()
        try:
            if store.claim_agent(user_id, agent_id, 15).granted:
                granted.append(agent_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(f"agent-{i}",)) for i in range(claimants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    lease = store.agent_lease(user_id)
    assert errors == [] and len(granted) == 1
    assert lease is not None and lease.holder_id == granted[0]
