"""The agent lease rules: who is granted, renewal, expiry, release, and the checks of the input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hedge.domain import lease as rules
from hedge.domain.errors import ValidationError
from hedge.domain.lease import Lease

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


def held_by(agent: str, expires_at: datetime = T0 + TTL) -> Lease:
    return Lease("u1", agent, expires_at, T0)


def test_claim_with_nobody_holding_is_granted_until_now_plus_ttl() -> None:
    answer, lease = rules.claim(None, "u1", "a", T0, TTL)
    assert (answer.granted, answer.holder_id, answer.expires_at) == (True, "a", T0 + TTL)
    assert lease == Lease("u1", "a", T0 + TTL, T0)


def test_claim_while_another_holds_is_refused_with_holder_and_expiry() -> None:
    answer, lease = rules.claim(held_by("a"), "u1", "b", T0 + timedelta(seconds=5), TTL)
    assert (answer.granted, answer.holder_id, answer.expires_at) == (False, "a", T0 + TTL)
    assert lease is None


def test_claim_by_the_holder_renews_and_keeps_the_first_claim_time() -> None:
    later = T0 + timedelta(seconds=5)
    answer, lease = rules.claim(held_by("a"), "u1", "a", later, TTL)
    assert answer.granted and answer.expires_at == later + TTL
    assert lease is not None and lease.claimed_at == T0


def test_claim_after_expiry_goes_to_the_new_claimant() -> None:
    at_expiry = T0 + TTL
    answer, lease = rules.claim(held_by("a"), "u1", "b", at_expiry, TTL)
    assert answer.granted and answer.holder_id == "b"
    assert lease is not None and lease.claimed_at == at_expiry


def test_release_only_by_the_holder() -> None:
    assert rules.may_release(held_by("a"), "a")
    assert not rules.may_release(held_by("a"), "b")
    assert not rules.may_release(None, "a")


@pytest.mark.parametrize("value", [0, -1, -0.5, float("nan"), float("inf"), 3601, True, "15"])
def test_ttl_outside_its_range_or_not_a_number_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        rules.checked_ttl(value)
    assert raised.value.field == "ttlS"


def test_ttl_none_is_the_default_fifteen_seconds() -> None:
    assert rules.checked_ttl(None) == timedelta(seconds=15)
    assert rules.checked_ttl(2) == timedelta(seconds=2)


@pytest.mark.parametrize("value", ["", "   ", "x" * 129, 7, None])
def test_agent_id_empty_too_long_or_not_text_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        rules.checked_agent_id(value)
    assert raised.value.field == "agentId"
