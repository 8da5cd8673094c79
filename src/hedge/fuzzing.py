"""Hypothesis strategies for fuzzing the two edges that take input from outside: GraphQL operations
(built from the served schema, with generated arguments and tokens) and EA frames (built from the
EA protocol's message classes). Used by tests/test_fuzz.py (1,000 inputs) and bench/fuzz.py
(100,000); test tooling like hedge.localservices, it needs the dev dependencies (hypothesis).

An input is mostly well-formed, so that it gets past parsing and coercion to the rules behind
them: known field names, known ids, real enum values, and now and then a wrong type, an unknown
field, a huge number or a null where none belongs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import strategies as st

from hedge.ea.protocol_messages import MESSAGE_TYPES

JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


_HEADER_SAFE = st.characters(min_codepoint=33, max_codepoint=126)  # what an HTTP header carries


@dataclass(frozen=True)
class Operation:
    """One GraphQL request: the document, its variables, and the token it is sent with."""

    kind: str  # "query" | "mutation"
    field: str
    document: str
    variables: dict[str, Any]
    token: str | None


def _type_text(t: GraphQLInputType) -> str:
    if isinstance(t, GraphQLNonNull):
        return _type_text(t.of_type) + "!"
    if isinstance(t, GraphQLList):
        return "[" + _type_text(t.of_type) + "]"
    return t.name


def values_for(t: GraphQLInputType, ids: Sequence[str], depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly values of type `t`; sometimes null or a value of a wrong type."""
    wrong = ANY_JSON if depth < 2 else JSON_SCALARS
    if isinstance(t, GraphQLNonNull):
        return st.one_of(values_for(t.of_type, ids, depth), st.just(None).filter(lambda _: depth > 0))
    if isinstance(t, GraphQLList):
        return st.lists(values_for(t.of_type, ids, depth + 1), max_size=3) | st.none()
    right: st.SearchStrategy[Any]
    if isinstance(t, GraphQLEnumType):
        right = st.sampled_from(sorted(t.values)) | st.text(max_size=12)
    elif isinstance(t, GraphQLInputObjectType):
        fields = {name: values_for(f.type, ids, depth + 1) for name, f in t.fields.items()}
        required = {k: v for k, v in fields.items() if isinstance(t.fields[k].type, GraphQLNonNull)}
        optional = {k: v for k, v in fields.items() if k not in required}
        right = st.one_of(
            st.fixed_dictionaries(required, optional=optional),  # mostly: every required field given
            st.fixed_dictionaries(required, optional=optional),
            st.fixed_dictionaries({}, optional=fields),
            st.fixed_dictionaries(required, optional={"unknownField": JSON_SCALARS}),
        )
    elif isinstance(t, GraphQLScalarType):
        right = _scalar(t.name, ids)
    else:
        right = ANY_JSON
    return st.one_of(right, right, right, right, right, wrong, st.none())


def _scalar(name: str, ids: Sequence[str]) -> st.SearchStrategy[Any]:
    if name == "ID":
        return st.sampled_from(list(ids) or ["x"]) | st.text(max_size=70)
    if name == "Int":
        return st.integers(-5, 100) | st.integers()
    if name == "Float":
        return st.sampled_from([0.1, 1.0, 150.0, 0.0]) | st.floats(allow_nan=False, allow_infinity=False)
    if name == "Boolean":
        return st.booleans()
    if name == "DateTime":
        return st.sampled_from(["2026-12-01T00:00:00.000Z", "yesterday"]) | st.text(max_size=30)
    return st.text(max_size=40) | st.sampled_from(["USDJPY", "BUY", "a@example.com", "x" * 300])


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType):
        return ""
    scalars = [
        n for n, f in named.fields.items() if not isinstance(get_named_type(f.type), GraphQLObjectType)
    ]
    return " { __typename " + " ".join(scalars[:6]) + " }"


@st.composite
def operations(
    draw: st.DrawFn, schema: GraphQLSchema, ids: Sequence[str], tokens: Sequence[str | None]
) -> Operation:
    """A query or mutation of `schema`, its arguments passed as variables, and a token."""
    roots = [("query", schema.query_type), ("mutation", schema.mutation_type)]
    kind, root = draw(st.sampled_from([(k, r) for k, r in roots if r is not None]))
    assert root is not None
    name = draw(st.sampled_from(sorted(root.fields)))
    field = root.fields[name]
    args: dict[str, GraphQLArgument] = field.args
    chosen = draw(st.lists(st.sampled_from(sorted(args)), unique=True)) if args else []
    required = [a for a, arg in args.items() if isinstance(arg.type, GraphQLNonNull)]
    used = sorted(
        set(chosen) | set(draw(st.sets(st.sampled_from(required))) if required else set()) | set(required)
    )
    variables = {a: draw(values_for(args[a].type, ids)) for a in used}
    declared = ", ".join(f"${a}: {_type_text(args[a].type)}" for a in used)
    passed = ", ".join(f"{a}: ${a}" for a in used)
    document = (
        f"{kind}{'(' + declared + ')' if used else ''} "
        f"{{ {name}{'(' + passed + ')' if used else ''}{_selection(field)} }}"
    )
    token = draw(
        st.sampled_from(list(tokens)) | st.text(_HEADER_SAFE, max_size=40) | st.just("hs_" + "A" * 43)
    )
    return Operation(kind, name, document, variables, token)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_FRAME_FIELDS = {
    cls.TYPE: sorted({_camel(f.name) for f in dataclasses.fields(cls)}) for cls in MESSAGE_TYPES.values()
}


@st.composite
def ea_frames(draw: st.DrawFn) -> str | bytes:
    """One frame an EA might send: mostly JSON objects with a known type and its field names."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.binary(max_size=64))
    if shape == 1:
        return draw(st.text(max_size=64))
    frame_type = draw(st.sampled_from(sorted(_FRAME_FIELDS)) | st.text(max_size=10))
    names = _FRAME_FIELDS.get(frame_type, ["id"])
    body: dict[str, Any] = {"type": frame_type}
    for name in draw(st.lists(st.sampled_from(names), unique=True)):
        body[name] = draw(ANY_JSON | st.sampled_from(["1001", "USDJPY", "150.01", 1, 0.1]))
    if draw(st.booleans()):
        body.update(draw(st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=2)))
    return json.dumps(body)
