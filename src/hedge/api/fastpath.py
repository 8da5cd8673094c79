"""A prepared path for the fixed mutation documents clients send over and over over HTTP
(the agents' updatePosition, updateAction, triggerActions, updateAccount, reportPositionFigures
and claimAgent).

Each document text is parsed and validated once (with the request limits and a superset of the
rules Strawberry applies) and, when its shape allows (one mutation operation, one root field of
FAST_FIELDS, no fragments or directives, output fields that read their own attributes), kept as a
plan: how to build the resolver's input from the variables and how to write the result. A
request with that text then runs the same resolver (so authorization, the rate limit, the store
transaction and every error stay what they are) without Strawberry's per-request execution:
extension hooks, argument conversion with name conversion per field, the executor.

Whatever the plan does not cover goes to Strawberry unchanged, and always before anything was
executed: a document that does not parse or validate, variables that do not coerce (so their
errors keep their usual wording), an operationName, extensions, batches. Errors the resolver
raises are located, coded and counted as Strawberry's ErrorCodes extension does, and the answer
has the same JSON as Strawberry's (tests/api/test_fastpath.py compares them).
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    OperationType,
    is_leaf_type,
    located_error,
    parse,
    specified_rules,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.schema.schema import validate_document
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

from hedge.api.completion import Completion, Output
from hedge.api.context import Context
from hedge.api.errors import ErrorCodes
from hedge.api.fastinput import InputShape, Unshaped, shape_of
from hedge.api.fastvars import Coercion, plan_coercion

log = logging.getLogger(__name__)

# updateAccount: the agents' figure pushes (hedge.api.coalesce), a hundred a second and more
# reportPositionFigures: every agent's figures of its OPEN positions, every 30 s, a list of inputs;
# claimAgent: every agent's lease renewal, every ttl/3 (5 s), over HTTP
FAST_FIELDS = frozenset(
    {
        "updatePosition",
        "updateAction",
        "triggerActions",
        "updateAccount",
        "reportPositionFigures",
        "claimAgent",
    }
)
_KEPT_PLANS = 256  # distinct document texts kept (clients send a handful)

P = TypeVar("P")


def remembered(
    plans: OrderedDict[str, P | None], text: str, prepare: Callable[[str], P | None], kept: int
) -> P | None:
    """The plan of a document text (None: Strawberry runs it), prepared on first sight; `plans`
    keeps the `kept` most recently used texts' plans."""
    if text in plans:
        plans.move_to_end(text)
        return plans[text]
    try:
        plan = prepare(text)
    except Exception:  # anything unexpected in a document: Strawberry's path says what
        log.debug("no prepared plan for a document", exc_info=True)
        plan = None
    plans[text] = plan
    if len(plans) > kept:
        plans.popitem(last=False)
    return plan


@dataclass(frozen=True, slots=True)
class Prepared:
    """What every prepared document has: its one operation, its one root field and that field's
    graphql-core definition, the response key, and the resolver it runs."""

    operation: OperationDefinitionNode
    root: FieldNode
    root_def: Any  # the graphql-core GraphQLField
    key: str
    resolver: Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Plan(Prepared):
    """A prepared mutation: its root field's resolver, how to make its input, what to answer."""

    argument: str  # the resolver's input argument (python name)
    shape: InputShape  # how its input is built from the coerced variables (api/fastinput.py)
    finish: Completion  # the resolver's value into the answer's data, compiled once
    coercion: Coercion | None  # the variables into the input, planned (None: graphql-core's path)


class _Info:
    """What our resolvers read of Strawberry's Info: the context."""

    __slots__ = ("context",)

    def __init__(self, context: Context) -> None:
        self.context = context


def covers(schema: Any) -> bool:
    """Whether the plans do all the schema's extensions do per operation (RequestGate's limits at
    planning, ErrorCodes' codes and counts on errors). A schema with another extension is left
    to Strawberry entirely, so that no extension is skipped unnoticed."""
    from hedge.api.schema import RequestGate

    kinds = {type(factory()) if callable(factory) else type(factory) for factory in schema.extensions}
    return kinds <= {RequestGate, ErrorCodes}


class FastMutations:
    """Prepared plans by document text, and their execution."""

    def __init__(
        self, schema: Any, max_tokens: int, rules: tuple[Any, ...], count: Callable[[str], None] | None
    ):
        self._schema = schema
        self._max_tokens = max_tokens
        self._rules = (*specified_rules, *rules)
        self._codes = ErrorCodes(count)
        self._plans: OrderedDict[str, Plan | None] = OrderedDict()
        self._mutation = cast(StrawberryObjectDefinition, schema.get_type_by_name("Mutation"))

    def plan(self, text: str) -> Plan | None:
        """The plan of a document text (None: Strawberry runs it), prepared on first sight."""
        return remembered(self._plans, text, self._prepare, _KEPT_PLANS)

    def _prepare(self, text: str) -> Plan | None:
        single = self.single_field(text, OperationType.MUTATION)
        if single is None:
            return None
        operation, root = single
        if root.name.value not in FAST_FIELDS:
            return None
        if len(root.arguments or ()) != 1 or (root.arguments or ())[0].name.value != "input":
            return None
        graphql_mutation = self._schema._schema.mutation_type
        root_def = graphql_mutation.fields[root.name.value]
        found = self.async_field(self._mutation, root.name.value)
        if found is None:
            return None
        field, resolver = found
        arguments = field.arguments
        if len(arguments) != 1:
            return None
        shape = shape_of(
            _unwrap(arguments[0].type),
            self._schema.config.name_converter,
            self._schema.schema_converter.scalar_registry,
        )
        if shape is None:
            return None
        output = self._output(root, root_def.type, "Mutation")
        if output is None:
            return None
        return Plan(
            operation,
            root,
            root_def,
            root.alias.value if root.alias else root.name.value,
            cast(Callable[..., Any], resolver.wrapped_func),
            arguments[0].python_name,
            shape,
            Completion(output),
            plan_coercion(
                self._schema._schema, operation, (root.arguments or ())[0], root_def.args["input"].type
            ),
        )

    def single_field(
        self, text: str, kind: OperationType
    ) -> tuple[OperationDefinitionNode, FieldNode] | None:
        """The operation and its root field, for a document that parses and validates (with the
        request limits) and is one `kind` operation selecting one root field, no directives on
        either; None for any other."""
        try:
            document = parse(text, max_tokens=self._max_tokens)
        except GraphQLError:
            return None
        if len(document.definitions) != 1 or validate_document(self._schema._schema, document, self._rules):
            return None
        operation = document.definitions[0]
        if (
            not isinstance(operation, OperationDefinitionNode)
            or operation.operation is not kind
            or operation.directives
            or len(operation.selection_set.selections) != 1
        ):
            return None
        root = operation.selection_set.selections[0]
        if not isinstance(root, FieldNode) or root.directives:
            return None
        return operation, root

    def async_field(
        self, definition: StrawberryObjectDefinition, name: str
    ) -> tuple[StrawberryField, StrawberryResolver[Any]] | None:
        """The root field `name` and its resolver, when that is a coroutine function and the field
        has nothing Strawberry would run around it (no field extensions, no permission classes)."""
        field = self._strawberry_field(definition, name)
        if field is None or field.base_resolver is None or field.extensions or field.permission_classes:
            return None
        if not inspect.iscoroutinefunction(field.base_resolver.wrapped_func):
            return None
        return field, field.base_resolver

    def _strawberry_field(self, definition: StrawberryObjectDefinition, name: str) -> StrawberryField | None:
        names = self._schema.config.name_converter
        return next((f for f in definition.fields if names.get_graphql_name(f) == name), None)

    def _output(self, node: FieldNode, gtype: GraphQLOutputType, parent: str) -> Output | None:
        if node.directives:
            return None
        named: Any = gtype
        while isinstance(named, GraphQLNonNull | GraphQLList):
            named = named.of_type
        key = node.alias.value if node.alias else node.name.value
        if is_leaf_type(named):
            return None if node.selection_set else Output(key, "", gtype, (), parent, node.name.value, node)
        if not isinstance(named, GraphQLObjectType) or node.selection_set is None:
            return None
        definition = self._schema.get_type_by_name(named.name)
        if not isinstance(definition, StrawberryObjectDefinition):
            return None
        fields: list[Output] = []
        for selection in node.selection_set.selections:
            if (
                not isinstance(selection, FieldNode)
                or selection.arguments
                or selection.name.value.startswith("__")
            ):
                return None
            field = self._strawberry_field(definition, selection.name.value)
            if (
                field is None
                or field.base_resolver is not None
                or field.extensions
                or field.permission_classes
            ):
                return None
            sub = self._output(selection, named.fields[selection.name.value].type, named.name)
            if sub is None:
                return None
            fields.append(
                Output(sub.key, field.python_name, sub.type, sub.fields, named.name, sub.name, selection)
            )
        if len({f.key for f in fields}) != len(fields):
            return None  # one key selected twice: graphql-core's field merging, not ours
        return Output(key, "", gtype, tuple(fields), parent, node.name.value, node)

    def prepare(self, plan: Plan, variables: Any) -> Any | None:
        """The resolver's input from the request's variables, or None when they do not coerce
        (Strawberry then answers with its own errors, nothing having run)."""
        if variables is not None and not isinstance(variables, dict):
            return None
        raw = None if plan.coercion is None else plan.coercion.coerce(variables or {})
        if raw is None:
            raw = self.coerced_input(plan, variables or {})
            if raw is None:
                return None
        try:
            return plan.shape.build(raw)
        except Unshaped:
            return None  # a field the shape does not build: Strawberry's path, nothing having run

    def coerced_input(self, plan: Plan, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The root field's input as graphql-core coerces the variables into it (None: they do
        not coerce), for what the planned coercion (api/fastvars.py) leaves to it."""
        coerced = get_variable_values(
            self._schema._schema, plan.operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list):
            return None
        try:
            raw: dict[str, Any] = get_argument_values(plan.root_def, plan.root, coerced)["input"]
        except GraphQLError:
            return None
        return raw

    async def run(self, plan: Plan, argument: Any, context: Context) -> dict[str, Any]:
        """The response body of the plan's resolver called with `argument`."""
        try:
            value = await plan.resolver(None, _Info(context), **{plan.argument: argument})
        except Exception as exc:
            return self._failed([located_error(exc, [plan.root], [plan.key])])
        data, errors = plan.finish.complete(value)
        if errors:
            return self._failed(errors, data)
        return {"data": data}

    def _failed(self, errors: list[GraphQLError], data: dict[str, Any] | None = None) -> dict[str, Any]:
        coded = self._codes._process_errors(errors)
        self._schema.process_errors(coded)
        return {"data": data, "errors": [e.formatted for e in coded]}


def _unwrap(kind: Any) -> Any:
    while isinstance(kind, StrawberryOptional | StrawberryList):
        kind = kind.of_type
    return kind
