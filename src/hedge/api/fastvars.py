"""The variables of a prepared mutation (api/fastpath.py) coerced into its root field's input,
with the per-document work done once.

graphql-core's `get_variable_values` + `get_argument_values` resolve each variable's type from
its AST, wrap every value in source records and walk the argument's literal again on every
request: about a sixth of a prepared updatePosition's own CPU. A `Coercion` does that once per
document and keeps only what depends on the values: `coerce_input_value` of each variable (the
same graphql-core function, so the same values come out), and for an input written as a literal
(`input: {id: $id, memo: $m}`) its constant fields coerced at planning and its variables put in
place as graphql-core's `coerce_input_literal` does.

Whenever a request is anything but plain (a variable missing that must be there, a value that
does not coerce, a null where the type forbids it, input nested too deeply), `coerce` answers
`None` and the caller takes graphql-core's path, which then reports the error in its own words:
this module never makes an error of its own. tests/api/test_fastvars.py compares both paths on
good and bad variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLNonNull,
    ObjectValueNode,
    OperationDefinitionNode,
    Undefined,
    VariableNode,
    is_input_type,
)
from graphql.execution.values import input_is_nested_too_deeply
from graphql.utilities.coerce_input_value import (
    coerce_default_value,
    coerce_input_literal,
    coerce_input_value,
)
from graphql.utilities.type_from_ast import type_from_ast


@dataclass(frozen=True, slots=True)
class _Field:
    """One field of an input literal: a constant (coerced at planning) or a variable."""

    out_name: str
    constant: Any  # Undefined for a variable
    variable: str | None
    non_null: bool
    default: Any  # the field's coerced default (Undefined: none), for a variable not given


@dataclass(frozen=True, slots=True)
class Coercion:
    variables: tuple[tuple[str, GraphQLInputType, bool], ...]  # name, type, non-null
    whole: str | None  # `input: $name`: the variable that is the whole input
    literal: tuple[_Field, ...]  # `input: {...}`: its fields (when `whole` is None)
    input_type: GraphQLInputObjectType | None

    def coerce(self, inputs: dict[str, Any]) -> dict[str, Any] | None:
        """The root argument's value as graphql-core would coerce it, or None: take its path."""
        coerced: dict[str, Any] = {}
        for name, gtype, non_null in self.variables:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if non_null:
                    return None
                continue
            if input_is_nested_too_deeply(value, gtype):
                return None
            result = coerce_input_value(value, gtype)
            if result is Undefined:
                return None
            coerced[name] = result
        if self.whole is not None:
            value = coerced.get(self.whole)
            return value if isinstance(value, dict) else None
        assert self.input_type is not None
        out: dict[str, Any] = {}
        for field in self.literal:
            if field.variable is None:
                out[field.out_name] = field.constant
                continue
            if field.variable not in coerced:  # a nullable variable not given: as if not written
                if field.non_null:
                    return None
                if field.default is not Undefined:
                    out[field.out_name] = field.default
                continue
            value = coerced[field.variable]
            if value is None and field.non_null:
                return None
            out[field.out_name] = value
        result = self.input_type.out_type(out)
        return result if isinstance(result, dict) else None


def plan_coercion(
    schema: Any, operation: OperationDefinitionNode, argument: Any, arg_type: Any
) -> Coercion | None:
    """The coercion of `argument` (the root field's `input` ArgumentNode) of `operation`, or None
    when the document is not of a kind planned here (graphql-core's path then serves it)."""
    variables: list[tuple[str, GraphQLInputType, bool]] = []
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None or definition.directives:
            return None
        gtype = type_from_ast(schema, definition.type)
        if not is_input_type(gtype):
            return None
        variables.append((definition.variable.name.value, gtype, isinstance(gtype, GraphQLNonNull)))
    node = argument.value
    if isinstance(node, VariableNode):
        return Coercion(tuple(variables), node.name.value, (), None)
    input_type = arg_type.of_type if isinstance(arg_type, GraphQLNonNull) else arg_type
    if not isinstance(node, ObjectValueNode) or not isinstance(input_type, GraphQLInputObjectType):
        return None
    if input_type.is_one_of:
        return None
    given = {f.name.value: f.value for f in node.fields}
    if set(given) - set(input_type.fields):
        return None
    fields = []
    for name, field in input_type.fields.items():
        out_name = field.out_name or name
        value = given.get(name)
        non_null = isinstance(field.type, GraphQLNonNull)
        default = coerce_default_value(field)
        if value is None:  # not written: its default, if it has one (validation saw to the rest)
            if non_null and default is Undefined:
                return None
            if default is not Undefined:
                fields.append(_Field(out_name, default, None, non_null, Undefined))
        elif isinstance(value, VariableNode):
            fields.append(_Field(out_name, Undefined, value.name.value, non_null, default))
        else:
            constant = _constant(value, field.type)
            if constant is Undefined:
                return None
            fields.append(_Field(out_name, constant, None, non_null, Undefined))
    return Coercion(tuple(variables), None, tuple(fields), input_type)


def _constant(node: Any, gtype: Any) -> Any:
    """A literal without variables, coerced once (Undefined when it has one or does not coerce)."""
    if _has_variable(node):
        return Undefined
    return coerce_input_literal(node, gtype)


def _has_variable(node: Any) -> bool:
    if isinstance(node, VariableNode):
        return True
    children = getattr(node, "values", None) or [f.value for f in getattr(node, "fields", None) or ()]
    return any(_has_variable(child) for child in children)
