"""The resolver's input of a prepared mutation (api/fastpath.py), built from the coerced
variables as Strawberry's `convert_argument` builds it, with the per-type work done once.

Strawberry converts an input on every request by walking its type: for each field it converts
the field's name, resolves its type and recurses, so an input holding a list of input objects
costs per item what the whole top level costs (`reportPositionFigures` with 100 figures: ~8 ms
of the event loop's time per report, more than the store's transaction). An `InputShape` is that
walk made once per input type: the GraphQL and Python name of each field, whether it is a list,
and the shape of an input object it holds. Leaves (scalars, enums) are passed on as graphql-core
coerced them, as Strawberry does.

A field whose type the shape cannot describe (a list of lists, a `from_input` type, a lazy
type) is named in `unshaped`: a request giving it is left to Strawberry, before anything ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass
from typing import Any

from strawberry.types.arguments import _is_leaf_type
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional

_DEEPEST = 8  # nesting kept in a shape; deeper inputs are left to Strawberry


@dataclass(frozen=True, slots=True)
class Field:
    graphql_name: str
    python_name: str
    listed: bool
    shape: InputShape | None  # an input object (or a list of them); None: a leaf


@dataclass(frozen=True, slots=True)
class InputShape:
    input_type: type[Any]
    fields: tuple[Field, ...]
    required: tuple[str, ...]  # python names of the fields without a default (None until set)
    unshaped: frozenset[str]  # graphql names of the fields a request must not give (Strawberry's)

    def build(self, raw: Mapping[str, Any]) -> Any:
        """The input object of a coerced value, in one walk; Unshaped when the value gives an
        unshaped field at any depth (nothing is built then: Strawberry's path)."""
        if any(raw.get(name) is not None for name in self.unshaped):
            raise Unshaped
        kwargs: dict[str, Any] = dict.fromkeys(self.required, None)
        for field in self.fields:
            if field.graphql_name not in raw:
                continue
            value = raw[field.graphql_name]
            if value is not None:
                if field.shape is None:
                    value = list(value) if field.listed else value
                elif field.listed:
                    value = [None if item is None else field.shape.build(item) for item in value]
                else:
                    value = field.shape.build(value)
            kwargs[field.python_name] = value
        return self.input_type(**kwargs)


class Unshaped(Exception):
    """A value gives a field its shape does not build."""


def shape_of(input_type: Any, names: Any, scalars: Any, depth: int = 0) -> InputShape | None:
    """The shape of a Strawberry input type (None: not an input type this module builds)."""
    definition = getattr(input_type, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
        return None
    if definition.from_input is not None or depth > _DEEPEST:
        return None
    fields: list[Field] = []
    unshaped: set[str] = set()
    for input_field in definition.fields:
        graphql_name = names.from_field(input_field)
        kind = _required_type(input_field.type)
        listed = isinstance(kind, StrawberryList)
        if listed:
            kind = _required_type(kind.of_type)
        if _is_leaf_type(kind, scalars):
            fields.append(Field(graphql_name, input_field.python_name, listed, None))
            continue
        nested = shape_of(kind, names, scalars, depth + 1)
        if nested is None:
            unshaped.add(graphql_name)
        else:
            fields.append(Field(graphql_name, input_field.python_name, listed, nested))
    required = tuple(f.python_name for f in definition.fields if _required(f))
    return InputShape(input_type, tuple(fields), required, frozenset(unshaped))


def _required_type(kind: Any) -> Any:
    return kind.of_type if isinstance(kind, StrawberryOptional) else kind


def _required(field: Any) -> bool:
    return field.default_value is MISSING and field.default_factory is MISSING
