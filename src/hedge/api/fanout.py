"""Subscription events are executed once per event and document, not once per subscriber.

The broker hands every subscriber of a change the same GraphQL object, and subscribers that sent
the same document (parsed once, so the same operation node) with the same variables would get
the same result: graphql-core's per-event execution is the costliest part of a fan-out, so its
result is kept for the next subscribers of that event. Our payload types resolve only their own
attributes (nothing depends on who is asking), which is what makes the result shareable.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from hedge.api import alert_types
from hedge.api import gqltypes as g

SHAREABLE = (g.Position, g.Action, g.Account, g.User, alert_types.Alert)
_KEPT = 512  # events x documents kept; a fan-out uses its entry within one event-loop turn or two

_Key = tuple[int, int, str]
_results: OrderedDict[_Key, tuple[object, object, Any]] = OrderedDict()


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        """graphql-core's copy for one event, with a memo of collected sub-fields of its own.

        graphql-core 3.3 shares the subscription executor's memo with every event's copy, keyed
        by the identity of field lists that each event makes anew: one subscription's memo grew
        by an entry per event for as long as it lived (an agent's: for days), and every garbage
        collection pass walked all of it (docs/performance.md, "Session 4")."""
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self.operation.operation is not OperationType.SUBSCRIPTION or not isinstance(
            self.root_value, SHAREABLE
        ):
            return super().execute_operation(serially)
        key = (id(self.root_value), id(self.operation), repr(sorted(self.variable_values.coerced.items())))
        kept = _results.get(key)
        # the payload and operation are kept with the result: their ids cannot be reused meanwhile
        if kept is not None and kept[0] is self.root_value and kept[1] is self.operation:
            return _share(kept[2])
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            result = asyncio.ensure_future(result)  # a Task: every subscriber may await it
        _results[key] = (self.root_value, self.operation, result)
        if len(_results) > _KEPT:
            _results.popitem(last=False)
        return _share(result)


def _share(result: Any) -> Any:
    if isinstance(result, asyncio.Future):
        return _await(result)
    return result


async def _await(task: Awaitable[ExecutionResult]) -> ExecutionResult:
    return await task
