"""settlePosition's pure rule: from which states a person may settle, to which, with which facts,
and what each bad input is answered with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hedge.domain.creation import EntryRequest, new_entry
from hedge.domain.enums import PositionStatus
from hedge.domain.errors import Refused, ValidationError
from hedge.domain.ids import AccountId, UserId
from hedge.domain.models import Position
from hedge.domain.settle import settle
from hedge.domain.symbols import SymbolCatalog

P = PositionStatus
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
HELD = {"mt_ticket": "55", "entry_price": "150.1"}
WHY = "the terminal shows ticket 55"


def _at(status: PositionStatus, **facts: Any) -> Position:
    _, position = new_entry(
        UserId("u"), AccountId("a"), EntryRequest("USDJPY", "BUY", "0.1"), SymbolCatalog(), NOW
    )
    return replace(position, status=status, **facts)


def test_settle_opening_as_open_records_the_terminals_facts_and_bumps_the_version_once() -> None:
    before = _at(P.OPENING)
    after = settle(before, "OPEN", HELD, WHY, LATER)
    assert (after.status, after.mt_ticket, after.entry_price) == (P.OPEN, "55", Decimal("150.1"))
    assert (after.version, after.updated_at) == (before.version + 1, LATER)


def test_settle_closing_as_closed_with_the_exit_price_closes_it() -> None:
    closing = _at(P.CLOSING, mt_ticket="55", entry_price=Decimal("150.1"))
    closed = settle(closing, "CLOSED", {"exit_price": "150.4"}, WHY, LATER)
    assert closed.status is P.CLOSED and closed.exit_price == Decimal("150.4")


def test_settle_a_pending_position_never_opened_as_canceled_needs_no_facts() -> None:
    assert settle(_at(P.PENDING), "CANCELED", {}, "never sent", LATER).status is P.CANCELED


@pytest.mark.parametrize("reason", ["", "   ", "\n", None, 5])
def test_settle_without_a_reason_is_refused_naming_the_reason(reason: object) -> None:
    with pytest.raises(ValidationError) as refused:
        settle(_at(P.OPENING), "OPEN", HELD, reason, LATER)
    assert refused.value.field == "reason"


def test_settle_with_a_reason_over_500_characters_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        settle(_at(P.OPENING), "OPEN", HELD, "x" * 501, LATER)
    assert refused.value.field == "reason"


@pytest.mark.parametrize("status", ["PENDING", "OPENING", "CLOSING"])
def test_settle_to_a_state_that_is_not_an_outcome_is_refused(status: str) -> None:
    with pytest.raises(ValidationError, match=f"must be OPEN, CLOSED, STOPPED or CANCELED, was {status}"):
        settle(_at(P.OPENING), status, HELD, WHY, LATER)


def test_settle_to_an_unknown_status_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as refused:
        settle(_at(P.OPENING), "FILLED", HELD, WHY, LATER)
    assert refused.value.field == "status"


@pytest.mark.parametrize("final", [P.CLOSED, P.STOPPED])
def test_settle_of_a_closed_or_stopped_position_is_refused(final: PositionStatus) -> None:
    with pytest.raises(Refused, match="settlePosition settles a position whose outcome is open"):
        settle(_at(final, mt_ticket="55", entry_price=Decimal("150.1")), "OPEN", HELD, WHY, LATER)


@pytest.mark.parametrize("state", [P.OPEN, P.CLOSING])
def test_settle_as_canceled_of_a_position_that_was_opened_is_refused(state: PositionStatus) -> None:
    with pytest.raises(Refused, match="CANCELED is only for one never opened") as refused:
        settle(_at(state, mt_ticket="55", entry_price=Decimal("150.1")), "CANCELED", {}, WHY, LATER)
    assert (refused.value.from_state, refused.value.to_state) == (state.value, "CANCELED")


def test_settle_of_a_canceled_position_the_terminal_holds_after_all_opens_it() -> None:
    assert settle(_at(P.CANCELED), "OPEN", HELD, WHY, LATER).status is P.OPEN


def test_settle_with_a_field_that_is_not_a_broker_fact_names_it() -> None:
    with pytest.raises(ValidationError, match="is not a fact settlePosition records") as refused:
        settle(_at(P.OPENING), "OPEN", {**HELD, "memo": "by hand", "trail_width": "5"}, WHY, LATER)
    assert refused.value.field == "memo"  # the first unknown name, in order


@pytest.mark.parametrize("missing", ["mt_ticket", "entry_price"])
def test_settle_as_open_without_ticket_or_entry_price_is_refused(missing: str) -> None:
    facts = {name: value for name, value in HELD.items() if name != missing}
    with pytest.raises(ValidationError, match="and mtTicket are required to settle a position as OPEN"):
        settle(_at(P.OPENING), "OPEN", facts, WHY, LATER)


@pytest.mark.parametrize("target", ["CLOSED", "STOPPED"])
def test_settle_as_closed_or_stopped_without_an_exit_price_is_refused(target: str) -> None:
    with pytest.raises(ValidationError, match=f"exitPrice is required to settle a position as {target}"):
        settle(_at(P.OPENING), target, HELD, WHY, LATER)


def test_settle_that_changes_nothing_is_refused() -> None:
    held = _at(P.OPEN, mt_ticket="55", entry_price=Decimal("150.1"))
    with pytest.raises(ValidationError, match="settles nothing"):
        settle(held, "OPEN", {"mt_ticket": None}, WHY, LATER)


def test_settle_with_a_bad_price_is_refused_and_leaves_the_position_as_it_was() -> None:
    before = _at(P.OPENING)
    with pytest.raises(ValidationError):
        settle(before, "OPEN", {"mt_ticket": "55", "entry_price": "-1"}, WHY, LATER)
    assert before.status is P.OPENING and before.mt_ticket is None
