"""The one converter from a domain row to its GraphQL object (api/images.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
import strawberry

from hedge.api.images import image, plain


@dataclass(frozen=True)
class Row:
    id: str
    price: Decimal | None
    ids: tuple[str, ...]
    hidden: str = "not shown"


@strawberry.type
class Shown:
    id: strawberry.ID
    price: float | None
    ids: list[strawberry.ID]
    extra: str
    note: str | None = None


def test_image_same_named_fields_copied_decimal_as_float_tuple_as_list() -> None:
    shown = image(Row("p1", Decimal("1.25"), ("a", "b")), Shown, extra="given")
    assert (shown.id, shown.price, shown.ids, shown.extra, shown.note) == (
        "p1",
        1.25,
        ["a", "b"],
        "given",
        None,
    )
    assert isinstance(shown.price, float)


def test_image_given_value_wins_over_the_rows() -> None:
    assert image(Row("p1", None, ()), Shown, extra="x", id="other").id == "other"


def test_image_field_neither_on_row_nor_given_fails_as_missing_argument() -> None:
    with pytest.raises(TypeError, match="extra"):
        image(Row("p1", None, ()), Shown)


def test_plain_leaves_other_values_as_they_are() -> None:
    assert plain(None) is None
    assert plain(3) == 3
    assert plain(["x"]) == ["x"]
