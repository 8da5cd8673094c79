"""Correlation ids (hedge.domain.correlation): how they are made, which a caller may give, and
when an action gets one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hedge.domain import correlation
from hedge.domain.enums import ActionStatus, ActionType
from hedge.domain.errors import ValidationError
from hedge.domain.ids import AccountId, ActionId, PositionId, UserId
from hedge.domain.models import Action

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ACTION = Action(
    id=ActionId("act-1"), user_id=UserId("u1"), account_id=AccountId("acc-1"),
    position_id=PositionId("pos-1"), type=ActionType.ENTRY, status=ActionStatus.EXECUTING,
    created_at=T0, updated_at=T0,
)  # fmt: skip


def test_made_names_kind_subject_and_epoch_ms() -> None:
    assert correlation.made(correlation.TRIGGER, "pos-1", T0) == f"trg-pos-1-{int(T0.timestamp() * 1000)}"
    assert correlation.made(correlation.STOP_OUT, "pos-1", 1_790_000_000_123) == "stp-pos-1-1790000000123"
    assert correlation.checked(correlation.made(correlation.MANUAL, "a" * 200, T0)) is not None  # cut to 128


@pytest.mark.parametrize("good", [None, "trg-0b7c-1790000000123", "x", "a.b_c:d-E9", "z" * 128])
def test_checked_takes_none_or_a_plain_id(good: str | None) -> None:
    assert correlation.checked(good) == good


@pytest.mark.parametrize("bad", ["", " ", "two words", "new\nline", "z" * 129, "日本", 42, 'a"b', "{}"])
def test_checked_refuses_anything_that_could_break_a_log_line(bad: object) -> None:
    with pytest.raises(ValidationError, match=r"^correlationId must be 1-128 characters"):
        correlation.checked(bad)


def test_correlated_gives_an_executing_action_without_one_a_server_id() -> None:
    made = correlation.correlated(ACTION, correlation.MANUAL, T0)
    assert made.correlation_id == correlation.made(correlation.MANUAL, "act-1", T0)


def test_correlated_keeps_an_existing_id_and_leaves_other_states_alone() -> None:
    given = replace(ACTION, correlation_id="trg-pos-9-1")
    assert correlation.correlated(given, correlation.MANUAL, T0) is given
    pending = replace(ACTION, status=ActionStatus.PENDING)
    assert correlation.correlated(pending, correlation.MANUAL, T0).correlation_id is None
