"""Prepared subscriptions: the agents' fixed `onX` documents, each event completed without
graphql-core's executor and Strawberry's per-event extension hooks.

An agent keeps its subscriptions for days and every change of its user passes through each:
per event Strawberry built an executor, ran every extension's hooks, resolved each field through
its wrappers and processed the result, for a payload whose fields only read attributes of the
broker's already converted object. A document that has a plan here (one subscription operation,
one root field of ours, arguments coerced as graphql-core does, output fields that read their own
attributes: the shapes api/fastpath.py plans) runs the same resolver (so authorization and the
scope are checked as before, and the broker's stream is the same) and completes each event with
its plan's compiled completion (api/completion.py); the result, encoded as JSON once, is shared
by every subscriber of the event with the same plan (api/frames.py puts each one's id around it).

What the plan does not cover stays Strawberry's, always before anything was sent: a document
without a plan, variables that do not coerce, and a resolver that refuses at once (FORBIDDEN, a
bad cursor): Strawberry then runs it again and answers with its own error message. An error the
stream raises later (RESYNC_REQUIRED) is answered as Strawberry does: a `next` with the coded
error, then `complete`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, cast

from graphql import GraphQLError, OperationType
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.subscriptions.protocols.graphql_transport_ws.types import NextMessagePayload
from strawberry.types.base import StrawberryObjectDefinition

from hedge.api import frames
from hedge.api.completion import Completion
from hedge.api.fastpath import FastMutations, Prepared, _Info, remembered

_KEPT_PLANS = 64
_KEPT_RESULTS = 64  # (event, plan) results: a fan-out uses its entry within a loop turn or two


@dataclass(frozen=True, slots=True)
class SubscriptionPlan(Prepared):
    """A prepared subscription: its resolver's arguments and what each event answers."""

    arguments: tuple[tuple[str, str], ...]  # graphql name, python name
    finish: Completion  # each event's value into its data, compiled once


@dataclass(frozen=True, slots=True)
class Event:
    """One event's `next` payload, as Strawberry's send_next makes it, and its JSON text."""

    payload: NextMessagePayload
    text: str

    @staticmethod
    def of(body: dict[str, Any]) -> Event:
        """The payload of a response body ({"data": ..., "errors": [...]?})."""
        payload: NextMessagePayload = {"data": body.get("data")}
        if body.get("errors"):
            payload["errors"] = body["errors"]
        return Event(payload, frames.encoded(payload))


class PreparedSubscriptions:
    def __init__(self, fast: FastMutations) -> None:
        self._fast = fast
        self._schema = fast._schema
        self._plans: OrderedDict[str, SubscriptionPlan | None] = OrderedDict()
        self._results: OrderedDict[tuple[int, int], tuple[object, object, Event]] = OrderedDict()
        self._subscription = cast(StrawberryObjectDefinition, self._schema.get_type_by_name("Subscription"))

    def plan(self, text: str) -> SubscriptionPlan | None:
        return remembered(self._plans, text, self._prepare, _KEPT_PLANS)

    def _prepare(self, text: str) -> SubscriptionPlan | None:
        single = self._fast.single_field(text, OperationType.SUBSCRIPTION)
        if single is None:
            return None
        operation, root = single
        root_def = self._schema._schema.subscription_type.fields[root.name.value]
        found = self._fast.async_field(self._subscription, root.name.value)
        if found is None:
            return None
        field, resolver = found
        if resolver.self_parameter is not None or resolver.root_parameter is not None:
            return None  # ours are plain functions of (info, arguments)
        if resolver.info_parameter is None or resolver.info_parameter.name != "info":
            return None
        names = self._schema.config.name_converter
        arguments = tuple((names.get_graphql_name(a), a.python_name) for a in field.arguments)
        output = self._fast._output(root, root_def.type, "Subscription")
        if output is None:
            return None
        key = root.alias.value if root.alias else root.name.value
        call = cast(Callable[..., Any], resolver.wrapped_func)
        return SubscriptionPlan(operation, root, root_def, key, call, arguments, Completion(output))

    def prepare(self, plan: SubscriptionPlan, variables: Any) -> dict[str, Any] | None:
        """The resolver's keyword arguments, or None when the variables do not coerce."""
        if variables is not None and not isinstance(variables, dict):
            return None
        coerced = get_variable_values(
            self._schema._schema, plan.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        try:
            values = get_argument_values(plan.root_def, plan.root, coerced)
        except GraphQLError:
            return None
        return {python: values[name] for name, python in plan.arguments if name in values}

    async def open(self, plan: SubscriptionPlan, kwargs: dict[str, Any], context: Any) -> AsyncIterator[Any]:
        """The resolver's stream of GraphQL objects (it raises when it refuses at once)."""
        stream: AsyncIterator[Any] = await plan.resolver(info=_Info(context), **kwargs)
        return stream

    def event(self, plan: SubscriptionPlan, value: Any) -> Event:
        """The `next` payload of one event, completed and encoded once for every subscriber with
        the same plan (each has had `value` from its own stream, filtered by its own scope)."""
        key = (id(value), id(plan))
        kept = self._results.get(key)
        # the value and the plan are kept with the result: their ids cannot be reused meanwhile
        if kept is not None and kept[0] is value and kept[1] is plan:
            return kept[2]
        data, errors = plan.finish.complete(value)
        event = Event.of(self._fast._failed(errors, data) if errors else {"data": data})
        self._results[key] = (value, plan, event)
        if len(self._results) > _KEPT_RESULTS:
            self._results.popitem(last=False)
        return event

    def failed(self, error: Exception) -> Event:
        """The payload of an error the stream raised (Strawberry's: data null, the coded error)."""
        graphql_error = (
            error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
        )
        return Event.of(self._fast._failed([graphql_error]))
