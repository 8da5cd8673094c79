"""The Strawberry schema with its limits (depth, tokens, aliases) and error codes."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from datetime import datetime

import strawberry
from graphql import GraphQLError, parse, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from hedge.api.access import AccessMutation, AccessQuery, AccessSubscription
from hedge.api.alerts import AlertMutation, AlertQuery
from hedge.api.errors import ErrorCodes
from hedge.api.fanout import SharedEventExecutor
from hedge.api.feed_cursor import FeedQuery
from hedge.api.figures import FiguresMutation
from hedge.api.gqltypes import DATETIME_SCALAR
from hedge.api.jobs import JobsQuery
from hedge.api.lease import LeaseMutation
from hedge.api.mutations import Mutation
from hedge.api.pages import PageQuery
from hedge.api.queries import Query
from hedge.api.record_api import RecordMutation, RecordQuery, RecordSubscription
from hedge.api.stats import StatsQuery
from hedge.api.subscriptions import Subscription
from hedge.domain.errors import DomainError

log = logging.getLogger(__name__)


class HedgeSchema(strawberry.Schema):
    """Logs only unexpected errors; expected ones (coded) are the client's business."""

    # the request limits and the error counter, for the prepared mutations (api/fastpath.py)
    max_tokens: int = 2000
    limit_rules: tuple[type[ASTValidationRule], ...] = ()
    count_error: Callable[[str], None] | None = None

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is None or error.path is None or isinstance(original, DomainError | GraphQLError):
                log.debug("request error: %s", error.message)
            else:
                log.error("unexpected error: %s", error.message, exc_info=original)


_parse_cached = functools.lru_cache(maxsize=1000)(parse)
_validate_cached = functools.lru_cache(maxsize=1000)(validate)


class RequestGate(SchemaExtension):
    """The request limits (tokens, depth, aliases) and a parse and validation cache, as one
    extension: Strawberry runs every extension's hooks again for each subscription event, so
    fewer extensions make every event cheaper.

    Clients send the same few documents over and over, so each is parsed and validated once. A
    document that does not parse is left to Strawberry's own parse, so its error takes the usual
    path (with its code) instead of escaping from the cache.
    """

    def __init__(self, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        super().__init__()
        self._max_tokens = max_tokens
        self._rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self._max_tokens
        context.validation_rules = (*context.validation_rules, *self._rules)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = _parse_cached(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate_cached(
            context.schema._schema, context.graphql_document, tuple(context.validation_rules)
        )
        yield


def build_schema(
    max_depth: int = 10,
    max_tokens: int = 2000,
    max_aliases: int = 30,
    count_error: Callable[[str], None] | None = None,
) -> HedgeSchema:
    # The rule classes are built once here: Strawberry's QueryDepthLimiter and MaxAliasesLimiter
    # build a new class on every request, which cost more than the rest of a mutation.
    rules = (depth_rule(max_depth, None, None), aliases_rule(max_aliases))
    schema = HedgeSchema(
        query=merge_types(
            "Query",
            (Query, AlertQuery, FeedQuery, AccessQuery, JobsQuery, StatsQuery, RecordQuery, PageQuery),
        ),
        mutation=merge_types(
            "Mutation",
            (Mutation, AlertMutation, AccessMutation, LeaseMutation, RecordMutation, FiguresMutation),
        ),
        subscription=merge_types("Subscription", (Subscription, AccessSubscription, RecordSubscription)),
        config=StrawberryConfig(auto_camel_case=True, scalar_map={datetime: DATETIME_SCALAR}),
        extensions=[lambda: RequestGate(max_tokens, rules), lambda: ErrorCodes(count_error)],
        execution_context_class=SharedEventExecutor,
    )
    schema.max_tokens, schema.limit_rules, schema.count_error = max_tokens, rules, count_error
    return schema


def print_sdl() -> str:
    return build_schema().as_str()
