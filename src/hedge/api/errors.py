"""Errors at the API edge: every error a client sees carries `extensions.code`.

Domain errors map once, here, to their code. GraphQL syntax and validation errors (malformed
queries, wrong argument types, limits) get VALIDATION. Anything unexpected is logged with its
traceback and shown to the client only as `internal error` with code INTERNAL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from hedge.domain.errors import DomainError

log = logging.getLogger(__name__)

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
VALIDATION = "VALIDATION"
INVALID_TRANSITION = "INVALID_TRANSITION"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
RESYNC_REQUIRED = "RESYNC_REQUIRED"  # the client would miss changes: reload its rows, resubscribe
INTERNAL = "INTERNAL"


def coded(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def from_domain(exc: DomainError) -> GraphQLError:
    code = exc.code if exc.code != "FEED_GAP" else INTERNAL
    return GraphQLError(exc.message, extensions={"code": code})


def _with_code(error: GraphQLError) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    original = error.original_error
    if isinstance(original, GraphQLError) and original.extensions and "code" in original.extensions:
        code, message = original.extensions["code"], original.message
    elif isinstance(original, DomainError):
        code, message = original.code, original.message
    elif original is None or error.path is None:
        # raised before execution (syntax, validation, variable coercion): about the request itself
        code, message = VALIDATION, error.message
    else:
        code, message = INTERNAL, "internal error"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


class ErrorCodes(MaskErrors):
    """A schema extension that gives every error of a result its `extensions.code`, and counts it."""

    def __init__(self, count: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self._count = count

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        coded_errors = [_with_code(error) for error in errors]
        if self._count is not None:
            for error in coded_errors:
                self._count(str((error.extensions or {}).get("code")))
        return coded_errors

    def _process_result(self, result: object) -> None:
        # MaskErrors checks a runtime Protocol with isinstance, which costs more than the rest of
        # a subscription event; a plain attribute read says the same
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
