"""The completion of a prepared plan's result (api/fastpath.py, api/sub_prepared.py): the
resolver's value turned into the answer's JSON for the plan's selection set, compiled once per
plan into nested closures instead of walked per request.

The closures do what graphql-core's completion does for the shapes the plans allow (fields that
read their own attributes, leaves, lists, nested objects): a null for a non-null field is an
error ("Cannot return null for non-nullable field T.f.") and makes its nearest nullable parent
null, leaves are serialised by their type, an exception in a field is located at its path. The
path is carried as (parent, key) pairs and made into a list only for an error.
tests/api/test_completion.py compares the answers with Strawberry's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLString,
    is_leaf_type,
    located_error,
)
from graphql.pyutils import is_iterable

# a path as graphql-core's Path without its type names: (parent, key), the root's parent None
_Path = tuple[Any, str | int]
_Step = Callable[[Any, _Path, list[GraphQLError]], Any]


class _Null(Exception):
    """A null for a non-null output field (graphql-core's null propagation)."""


@dataclass(frozen=True, slots=True)
class Output:
    """One selected output field: response key, the attribute it reads, its type, sub-fields."""

    key: str
    attribute: str
    type: GraphQLOutputType
    fields: tuple[Output, ...]
    parent: str
    name: str
    node: FieldNode


class Completion:
    """The root field's completion: `complete(value)` is the answer's data (None when the root
    field is non-null and came out null) and the errors met on the way."""

    __slots__ = ("_key", "_path", "_step")

    def __init__(self, output: Output) -> None:
        self._key = output.key
        self._path: _Path = (None, output.key)
        self._step = _compiled(output, output.type)

    def complete(self, value: Any) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
        errors: list[GraphQLError] = []
        try:
            data: dict[str, Any] | None = {self._key: self._step(value, self._path, errors)}
        except _Null:
            data = None
        return data, errors


def _listed(path: _Path) -> list[str | int]:
    keys: list[str | int] = []
    step: Any = path
    while step is not None:
        step, key = step
        keys.append(key)
    keys.reverse()
    return keys


def _compiled(output: Output, gtype: Any) -> _Step:
    if isinstance(gtype, GraphQLNonNull):
        return _non_null(output, gtype.of_type)
    node = output.node
    if isinstance(gtype, GraphQLList):
        item = _compiled(output, gtype.of_type)
        not_a_list = f"Expected Iterable, but did not find one for field '{output.parent}.{output.name}'."

        def listed(value: Any, path: _Path, errors: list[GraphQLError]) -> Any:
            if value is None:
                return None
            if not is_iterable(value):
                errors.append(GraphQLError(not_a_list, [node], path=_listed(path)))
                return None
            try:
                return [item(v, (path, i), errors) for i, v in enumerate(value)]
            except _Null:
                return None  # a nullable list takes the null of its non-null item
            except Exception as exc:
                errors.append(located_error(exc, [node], _listed(path)))
                return None

        return listed
    if is_leaf_type(gtype):
        serialize = gtype.serialize
        plain_text = gtype is GraphQLString or gtype is GraphQLID  # they return a str as it is

        def leaf(value: Any, path: _Path, errors: list[GraphQLError]) -> Any:
            if value is None:
                return None
            if plain_text and type(value) is str:
                return value
            try:
                return serialize(value)
            except Exception as exc:
                errors.append(located_error(exc, [node], _listed(path)))
                return None

        return leaf
    fields = tuple(
        (f.key, f.attribute, _compiled(f, f.type), f.node, isinstance(f.type, GraphQLNonNull))
        for f in output.fields
    )

    def object_(value: Any, path: _Path, errors: list[GraphQLError]) -> Any:
        if value is None:
            return None
        result: dict[str, Any] = {}
        try:
            for key, attribute, step, field_node, non_null in fields:
                try:
                    read = getattr(value, attribute)
                except Exception as exc:  # graphql-core's resolver error: located at the field
                    errors.append(located_error(exc, [field_node], _listed((path, key))))
                    if non_null:
                        raise _Null from None
                    result[key] = None
                    continue
                result[key] = step(read, (path, key), errors)
        except _Null:
            return None  # a nullable object takes the null of its non-null field
        return result

    return object_


def _non_null(output: Output, of_type: Any) -> _Step:
    inner = _compiled(output, of_type)
    message = f"Cannot return null for non-nullable field {output.parent}.{output.name}."
    node = output.node

    def non_null(value: Any, path: _Path, errors: list[GraphQLError]) -> Any:
        before = len(errors)
        result = inner(value, path, errors) if value is not None else None
        if result is None:
            if len(errors) == before:  # a null of its own, not a child's error
                errors.append(GraphQLError(message, [node], path=_listed(path)))
            raise _Null
        return result

    return non_null
