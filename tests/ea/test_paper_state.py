"""The paper EA's state file: the books round-trip, a broken file is a named error, files are whole."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hedge.domain.enums import Side
from hedge.domain.errors import ValidationError
from hedge.ea.paper_account import CloseRecord, HeldPosition
from hedge.ea.paper_state import (
    Books,
    PendingOrder,
    books_from_json,
    books_to_json,
    load_state,
    read_state,
    save_state,
)
from hedge.ea.protocol import Opened, Stopped

D = Decimal
HELD = HeldPosition(
    "7", "p1", "USDJPY", Side.BUY, D("0.10"), D("150.010"), 5, "HedgeSystem[p1]", 7077001, D("149")
)
GONE = CloseRecord("8", "p2", D("149.500"), 9, D("-12.34"), "STOP_OUT", D("-1.00"), D("-0.70"))


def full_books() -> Books:
    return Books(
        balance=D("9987.66"),
        next_ticket=9,
        held={"7": HELD},
        closes={"8": GONE},
        journal={"p1": HELD},
        pending={"p3": PendingOrder("p3", "EURUSD", Side.SELL, D("0.2"), "HedgeSystem[p3]", ["c3", "c4"])},
        answers={"c1": Opened.success("c1", "p1", "7", D("150.010"), 5, D("0.10"))},
        unsent=[Stopped("p2", "8", D("149.500"), 9, D("-12.34"), "STOP_OUT")],
        control_offset=42,
    )


def test_books_round_trip_through_json() -> None:
    books = full_books()
    assert books_from_json(books_to_json(books)) == books


def test_save_then_read_gives_the_books_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "terminal.json"
    save_state(path, full_books())
    assert read_state(path) == full_books() and [p.name for p in tmp_path.iterdir()] == ["terminal.json"]


def test_load_of_missing_file_is_a_fresh_terminal(tmp_path: Path) -> None:
    assert load_state(tmp_path / "none.json") is None


def test_read_state_of_missing_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="--state-file"):
        read_state(tmp_path / "none.json")


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"version": 99}', '{"version": 1, "balance": "x"}',
     books_to_json(full_books()).replace('"BUY"', '"FLY"', 1)],
)  # fmt: skip
def test_broken_state_file_is_a_validation_error_naming_the_file(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        books_from_json(text, "here.json")
    assert caught.value.field == "here.json"
