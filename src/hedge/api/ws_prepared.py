"""graphql-transport-ws with the prepared mutations of api/fastpath.py for the agents' documents.

The agents send their mutations (updatePosition OPENING, triggerActions, ...) over the WebSocket
their subscriptions use, so the prepared plans the HTTP endpoint keeps for these fixed documents
are used here too: a `subscribe` message whose document has a plan and whose variables coerce runs
the plan (the same resolver: authorization, the rate limit, the store's transaction and every
error stay what they are) and answers with the same `next` and `complete` messages Strawberry
sends. Everything else, including an operationName or a document without a plan, is Strawberry's
as before, with nothing run.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    CompleteMessage,
    NextMessage,
    NextMessagePayload,
)

from hedge.api.context import Context

if TYPE_CHECKING:
    from hedge.api.fastpath import FastMutations


class PreparedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        fast: FastMutations | None = getattr(self.view, "fast", None)
        plan = None if fast is None or operation.operation_name else fast.plan(operation.query)
        call = None if plan is None or fast is None else fast.prepare(plan, operation.variables)
        if plan is None or call is None or fast is None:
            await super().run_operation(operation)
            return
        try:
            body: dict[str, Any] = await fast.run(plan, call, self.context)
            payload: NextMessagePayload = {"data": body.get("data")}
            if body.get("errors"):
                payload["errors"] = body["errors"]
            await operation.send_operation_message(NextMessage(id=operation.id, type="next", payload=payload))
            await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
        except Exception as error:  # as Strawberry's run_operation: logged, completed, forgotten
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
            self.operations.pop(operation.id, None)
            raise
