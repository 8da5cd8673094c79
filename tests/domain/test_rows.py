"""Row images (hedge.domain.rows): entities to table columns and JSON change images and back, with
Decimals kept digit for digit, times in UTC milliseconds, enums as their values."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from tests.agent.core_rows import T0, account, action, position

from hedge.domain import creation
from hedge.domain.enums import PositionStatus, Side, UserRole
from hedge.domain.errors import ValidationError
from hedge.domain.ids import ActionId
from hedge.domain.models import Account, Action, Position, User
from hedge.domain.rows import (
    ENTITY_NAMES,
    ENTITY_TYPES,
    FIELD_NAMES,
    Entity,
    changed_columns,
    entity_name,
    from_mapping,
    to_image,
    to_row,
)


def filled() -> Position:
    """A position with a value in every kind of field: Decimals, times, a tuple, enums, None."""
    return position(
        PositionStatus.OPEN,
        version=4,
        entry_price=Decimal("150.050"),
        entry_time=datetime(2026, 11, 25, 9, 0, 1, 234000, tzinfo=UTC),  # the API's precision
        trail_width=Decimal("5"),
        trigger_action_ids=(ActionId("act-1"), ActionId("act-2")),
        mt_ticket="777",
    )


def user() -> User:
    return creation.new_user("ops@example.com", "Ops", "ADMIN", T0)


def mapped_account() -> Account:
    return replace(account(), symbol_map={"USDJPY.m": "USDJPY"})


ENTITIES: dict[str, Callable[[], Entity]] = {
    "Position": filled,
    "Action": action,
    "Account": mapped_account,
    "User": user,
}


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_image_through_json_and_back_is_the_same_entity(name: str) -> None:
    entity = ENTITIES[name]()
    image = json.loads(json.dumps(to_image(entity)))  # what the feed and the agent's copy hold
    kind: type[Any] = type(entity)
    assert from_mapping(kind, image) == entity


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_row_and_back_is_the_same_entity(name: str) -> None:
    entity = ENTITIES[name]()
    kind: type[Any] = type(entity)
    assert from_mapping(kind, to_row(entity)) == entity


def test_image_keeps_decimal_digits_as_text_and_times_as_utc_milliseconds() -> None:
    image = to_image(replace(filled(), entry_time=datetime(2026, 11, 25, 9, 0, 1, 234567, tzinfo=UTC)))
    assert image["entry_price"] == "150.050"  # not 150.05: the trailing zero is the broker's digit
    assert image["volume"] == "0.1"
    assert image["entry_time"] == "2026-11-25T09:00:01.234Z"
    assert image["status"] == "OPEN" and image["side"] == "BUY"
    assert image["trigger_action_ids"] == ["act-1", "act-2"]
    assert image["exit_price"] is None


def test_image_of_a_time_in_another_zone_is_written_in_utc() -> None:
    tokyo = datetime(2026, 11, 25, 18, 0, tzinfo=timezone(timedelta(hours=9)))
    assert to_image(replace(filled(), entry_time=tokyo))["entry_time"] == "2026-11-25T09:00:00.000Z"


def test_row_keeps_decimals_and_times_typed_and_enums_as_values() -> None:
    row = to_row(filled())
    assert row["entry_price"] == Decimal("150.050") and str(row["entry_price"]) == "150.050"
    assert row["entry_time"] == datetime(2026, 11, 25, 9, 0, 1, 234000, tzinfo=UTC)
    assert row["status"] == "OPEN" and type(row["status"]) is str
    assert row["trigger_action_ids"] == ["act-1", "act-2"]


def test_from_mapping_converts_text_to_typed_values_and_ignores_unknown_keys() -> None:
    image = {**to_image(filled()), "somethingNew": 1, "unrealizedPL": "3.2"}
    back = from_mapping(Position, image)
    assert back.entry_price == Decimal("150.050") and back.side is Side.BUY
    assert back.trigger_action_ids == ("act-1", "act-2")


def test_from_mapping_refuses_a_time_that_is_not_iso() -> None:
    with pytest.raises(ValidationError, match="ISO-8601"):
        from_mapping(Position, {**to_image(filled()), "entry_time": "yesterday"})


def test_changed_columns_names_only_what_differs_and_a_decimal_written_differently() -> None:
    before = filled()
    assert changed_columns(before, replace(before)) == {}
    after = replace(before, status=PositionStatus.CLOSING, entry_price=Decimal("150.05"), version=5)
    assert changed_columns(before, after) == {
        "status": "CLOSING",
        "entry_price": Decimal("150.05"),
        "version": 5,
    }


def test_every_entity_has_one_name_and_field_list() -> None:
    assert {ENTITY_TYPES[name] for name in ENTITY_NAMES.values()} == set(ENTITY_NAMES)
    assert entity_name(filled()) == "Position" and entity_name(user()) == "User"
    assert set(FIELD_NAMES[Account]) >= {"id", "user_id", "symbol_map", "version"}
    assert set(to_image(action())) == set(FIELD_NAMES[Action])
    assert user().role is UserRole.ADMIN
