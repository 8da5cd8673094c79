"""graphql-transport-ws with the prepared documents for the agents: the mutations of
api/fastpath.py and the subscriptions of api/sub_prepared.py.

The agents send their mutations (updatePosition OPENING, triggerActions, ...) over the WebSocket
their subscriptions use, so the plans the HTTP endpoint keeps for these fixed documents are used
here too: a `subscribe` message whose document has a plan and whose variables coerce runs the
plan (the same resolver: authorization, the rate limit, the store's transaction and every error
stay what they are) and answers with the same `next` and `complete` messages Strawberry sends,
written as text frames of their own (api/frames.py: the same JSON text, a subscription event's
payload encoded once).
A subscription document with a plan streams its events the same way. Everything else, including
an operationName or a document without a plan, is Strawberry's as before, with nothing run.
A client that leaves before its answer is sent (an agent restarting, a link cut) ends the
operation with one INFO line, not Strawberry's ERROR with a traceback: what the mutation
committed stays, and the client reads it again on its next connect.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any, cast

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.base import BaseView
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    CompleteMessage,
    Message,
    NextMessage,
    NextMessagePayload,
)
from strawberry.utils.aio import aclosing

from hedge.api import frames
from hedge.api.context import Context
from hedge.api.sub_prepared import Event

if TYPE_CHECKING:
    from hedge.api.fastpath import FastMutations
    from hedge.api.sub_prepared import PreparedSubscriptions


log = logging.getLogger(__name__)


class PreparedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        try:
            if not operation.operation_name and (
                await self._mutation(operation) or await self._subscription(operation)
            ):
                return
        except WebSocketDisconnected:  # the client left: what the operation committed stays
            log.info("operation %s ended: its client left before the answer was sent", operation.id)
            operation.completed = True
            self.operations.pop(operation.id, None)
            return
        except Exception as error:  # as Strawberry's run_operation: logged, completed, forgotten
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
            self.operations.pop(operation.id, None)
            raise
        await super().run_operation(operation)

    async def _mutation(self, operation: Operation[Context, None]) -> bool:
        """Run a prepared mutation; False (nothing run) when it has no plan."""
        fast: FastMutations | None = getattr(self.view, "fast", None)
        plan = None if fast is None else fast.plan(operation.query)
        call = None if plan is None or fast is None else fast.prepare(plan, operation.variables)
        if plan is None or call is None or fast is None:
            return False
        body: dict[str, Any] = await fast.run(plan, call, self.context)
        event = Event.of(body)
        await self._send(operation, event.payload, frames.next_frame(operation.id, event.text))
        await self._complete(operation)
        return True

    async def _subscription(self, operation: Operation[Context, None]) -> bool:
        """Stream a prepared subscription; False (nothing sent) when it has no plan or its
        resolver refuses at once (Strawberry then answers with its own error)."""
        subs: PreparedSubscriptions | None = getattr(self.view, "subscriptions", None)
        plan = None if subs is None else subs.plan(operation.query)
        kwargs = None if plan is None or subs is None else subs.prepare(plan, operation.variables)
        if plan is None or kwargs is None or subs is None:
            return False
        try:
            source = await subs.open(plan, kwargs, self.context)
        except Exception:  # FORBIDDEN, a bad cursor: nothing ran, Strawberry says it its way
            return False
        async with aclosing(cast(Any, source)):
            while True:
                try:
                    value = await anext(source)
                except StopAsyncIteration:
                    break
                except Exception as error:  # raised by the stream (RESYNC_REQUIRED): as Strawberry
                    failed = subs.failed(error)
                    await self._send(operation, failed.payload, frames.next_frame(operation.id, failed.text))
                    break
                event = subs.event(plan, value)
                await self._send(operation, event.payload, frames.next_frame(operation.id, event.text))
        await self._complete(operation)
        return True

    async def _send(
        self, operation: Operation[Context, None], payload: NextMessagePayload, text: str
    ) -> None:
        """A `next` (`text`, its frame) as Operation.send_operation_message sends it: nothing once
        the operation has completed."""
        if operation.completed:
            return
        await self._text(text, NextMessage(id=operation.id, type="next", payload=payload))

    async def _complete(self, operation: Operation[Context, None]) -> None:
        if operation.completed:
            return
        operation.completed = True
        self.forget_id(operation.id)  # as Strawberry: forgotten before the final message is sent
        await self._text(
            frames.complete_frame(operation.id), CompleteMessage(id=operation.id, type="complete")
        )

    async def _text(self, text: str, message: Message) -> None:
        """`text` as one text frame, where the socket is Starlette's and the view encodes as
        Strawberry does (the text is then that encoding); else `message` the view's way."""
        socket = self.websocket
        if isinstance(socket, ASGIWebSocketAdapter) and type(self.view).encode_json is BaseView.encode_json:
            ws = socket.ws
            if WebSocketState.DISCONNECTED in (ws.application_state, ws.client_state):
                raise WebSocketDisconnected  # Starlette would raise a RuntimeError: closed already
            try:
                await ws.send_text(text)
            except WebSocketDisconnect as exc:
                raise WebSocketDisconnected from exc
            return
        await self.send_message(message)
