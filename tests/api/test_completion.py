"""The compiled completion of a prepared plan (hedge.api.completion) against Strawberry's own
execution of the same selection on the same value: lists, nulls (with their propagation to the
nearest nullable parent), enums, custom scalars, nested objects, and the errors of each."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from types import SimpleNamespace as Row
from typing import Any

import pytest
import strawberry
from graphql import FieldNode, OperationDefinitionNode, parse

from hedge.api.completion import Completion
from hedge.api.fastpath import FastMutations


@strawberry.enum
class Side(Enum):
    BUY = "BUY"
    SELL = "SELL"


@strawberry.type
class Leg:
    id: strawberry.ID
    side: Side
    price: Decimal | None


@strawberry.type
class Shown:
    name: str
    count: int | None
    tags: list[str]
    maybe_tags: list[str | None] | None
    legs: list[Leg] | None
    first: Leg | None
    must: Leg


SHOWN: Any = None


@strawberry.type
class Query:
    @strawberry.field
    def shown(self) -> Shown | None:
        return SHOWN  # type: ignore[no-any-return]

    @strawberry.field
    def sure(self) -> Shown:
        return SHOWN  # type: ignore[no-any-return]


SCHEMA = strawberry.Schema(query=Query)
ALL = "name count tags maybeTags legs { id side price } first { id side } must { id price }"


class _Raises:
    """A row whose `side` cannot be read."""

    id = "broken"
    price = None

    @property
    def side(self) -> Side:
        raise RuntimeError("the side went missing")


def leg(id: str | None = "l1", side: Any = Side.BUY, price: Any = Decimal("1.10450")) -> Any:
    return Row(id=id, side=side, price=price)


def shown(**changes: Any) -> Any:
    fields: dict[str, Any] = {
        "name": "hedge",
        "count": 3,
        "tags": ["a", "b"],
        "maybe_tags": ["x", None],
        "legs": [leg("l1"), leg("l2", Side.SELL, None)],
        "first": leg("l3"),
        "must": leg("l4"),
    }
    return Row(**{**fields, **changes})


def both(value: Any, selection: str = ALL, root: str = "shown") -> tuple[Any, Any]:
    """(Strawberry's answer, the compiled completion's answer) for `{ root { selection } }`."""
    global SHOWN
    SHOWN = value
    text = f"{{ {root} {{ {selection} }} }}"
    result = SCHEMA.execute_sync(text)
    theirs = {"data": result.data, "errors": [e.formatted for e in result.errors or ()]}
    operation = parse(text).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode)
    fast = FastMutations(SCHEMA, 10_000, (), None)
    query_type = SCHEMA._schema.query_type
    assert query_type is not None
    output = fast._output(node, query_type.fields[root].type, "Query")
    assert output is not None
    data, errors = Completion(output).complete(value)
    return theirs, {"data": data, "errors": [e.formatted for e in errors]}


CASES: dict[str, tuple[Any, str, str]] = {
    "every field given": (shown(), ALL, "shown"),
    "nullable fields null": (shown(count=None, maybe_tags=None, legs=None, first=None), ALL, "shown"),
    "empty lists": (shown(tags=[], legs=[], maybe_tags=[]), ALL, "shown"),
    "aliases": (shown(), "n: name again: name l: legs { i: id }", "shown"),
    "root null, nullable": (None, ALL, "shown"),
    "root null, non-null": (None, ALL, "sure"),
    "non-null leaf null, in a nullable object": (shown(first=leg(id=None)), ALL, "shown"),
    "non-null leaf null, up to a non-null root": (shown(name=None), ALL, "sure"),
    "non-null object null": (shown(must=None), ALL, "shown"),
    "non-null list item null": (shown(tags=["a", None]), ALL, "shown"),
    "non-null item of a nullable list null": (shown(legs=[leg(), None]), ALL, "shown"),
    "a list item's field null": (shown(legs=[leg(), leg(side=None)]), ALL, "shown"),
    "enum value not of the enum": (shown(first=leg(side="NOPE")), ALL, "shown"),
    "enum given by its value": (shown(first=leg(side="SELL")), ALL, "shown"),
    "an int that is not one": (shown(count="many"), ALL, "shown"),
    "a list that is not one": (shown(legs=7), ALL, "shown"),
    "a field that raises, nullable parent": (shown(first=_Raises()), ALL, "shown"),
    "a field that raises, in a list": (shown(legs=[leg(), _Raises()]), ALL, "shown"),
    "a field that raises, up to a non-null root": (shown(must=_Raises()), ALL, "sure"),
    "several errors in one answer": (shown(first=leg(id=None), legs=[leg(side="NOPE")]), ALL, "shown"),
}


@pytest.mark.parametrize(("value", "selection", "root"), CASES.values(), ids=CASES.keys())
def test_completion_answers_as_strawberry_does(value: Any, selection: str, root: str) -> None:
    theirs, ours = both(value, selection, root)
    assert ours == theirs


def test_completion_of_a_value_with_errors_keeps_the_fields_that_completed() -> None:
    _, ours = both(shown(first=leg(id=None)))
    assert ours["data"]["shown"]["first"] is None
    assert ours["data"]["shown"]["must"] == {"id": "l4", "price": "1.10450"}
    assert [e["path"] for e in ours["errors"]] == [["shown", "first", "id"]]
    assert ours["errors"][0]["message"] == "Cannot return null for non-nullable field Leg.id."
