"""Two lanes for the API's HTTP requests (§6-2's priorities): account-figure pushes go behind
everything else.

The agents push each account's figures (balance, credit, equity, margin, margin level) every
30 s; status changes, fills and triggers are immediate. On one event loop both would be handled
first come, first served, so a burst of pushes would put its parsing and execution in front of a
status change. `Lanes` keeps count of the foreground requests under way (every HTTP request
that is not a figures push), and admits figure pushes one per event-loop turn, each only once no
foreground request is under way, or once it has waited `yield_s` (figures are delayed, never
starved). Telling a push apart costs a substring search, for a body that names updateAccount a
JSON decode, and once per distinct document a parse; a wrong guess only changes a request's
lane, never what it does (the resolver decides alone whether a report is coalesced).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
)
from graphql import parse as parse_document
from graphql.error import GraphQLError

FIGURE_INPUTS = frozenset({"id", "balance", "credit", "equity", "margin", "marginLevel"})


class Lanes:
    def __init__(self, yield_s: float = 0.5) -> None:
        self._yield_s = yield_s
        self._foreground = 0
        self._clear = asyncio.Event()
        self._clear.set()
        self._turn = asyncio.Lock()
        self.deferred = 0  # pushes that waited for the foreground (tests and /metrics read it)

    @property
    def foreground_busy(self) -> bool:
        return self._foreground > 0

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        self._foreground += 1
        self._clear.clear()
        try:
            yield
        finally:
            self._foreground -= 1
            if self._foreground == 0:
                self._clear.set()

    async def clear(self, timeout_s: float) -> bool:
        """Wait until no foreground request is under way (at most `timeout_s`); True if none is."""
        if self._foreground:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._clear.wait(), timeout_s)
        return not self._foreground

    async def background_turn(self) -> None:
        """Wait until this push may go: no foreground request under way (or `yield_s` passed
        since it arrived), and the push admitted before it has had an event-loop turn."""
        deadline = time.monotonic() + self._yield_s
        async with self._turn:
            if self._foreground:
                self.deferred += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._clear.wait(), max(deadline - time.monotonic(), 0))
            await asyncio.sleep(0)  # the next push is admitted a turn later at the earliest


def is_figures_push(body: bytes) -> bool:
    """Whether an HTTP GraphQL body is an `updateAccount` carrying only account figures."""
    if b"updateAccount" not in body:  # every other request is told apart without decoding it
        return False
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):  # the view answers bad bodies with its own coded error
        return False
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return False
    shape = _update_account_input(request["query"])
    if shape is None:
        return False
    kind, value = shape
    if kind == "fields":
        return set(value) <= FIGURE_INPUTS
    variables = request.get("variables")
    given = variables.get(value[0]) if isinstance(variables, dict) and value else None
    return isinstance(given, dict) and set(given) <= FIGURE_INPUTS


@lru_cache(maxsize=256)
def _update_account_input(query: str) -> tuple[str, tuple[str, ...]] | None:
    """("fields", names) for an inline input object, ("variable", (name,)) for `input: $name`,
    or None when the document is anything but one mutation with the one field updateAccount."""
    try:
        document: DocumentNode = parse_document(query, no_location=True)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(document.definitions) != 1 or len(operations) != 1:
        return None
    operation = operations[0]
    fields = operation.selection_set.selections
    if operation.operation is not OperationType.MUTATION or len(fields) != 1:
        return None
    field = fields[0]
    if not isinstance(field, FieldNode) or field.name.value != "updateAccount":
        return None
    arguments = field.arguments or ()
    if len(arguments) != 1:
        return None
    value = arguments[0].value
    if isinstance(value, ObjectValueNode):
        return "fields", tuple(f.name.value for f in value.fields)
    if isinstance(value, VariableNode):
        return "variable", (value.name.value,)
    return None
