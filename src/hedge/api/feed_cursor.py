"""`feedCursor`: the head of the change feed, for a client to resume its subscriptions from.

The cursor is opaque to clients; today it is the feed's sequence number as decimal text. It is
read from the store (not from this process's fan-out), so it is valid on every server process.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from hedge.api.context import Context
from hedge.domain.errors import ValidationError
from hedge.store.feed import head_seq

MAX_CURSOR_DIGITS = 19  # a signed 64-bit sequence number


def parse_cursor(text: str) -> int:
    """A cursor given back by a client; ValidationError names `after` when it is not one of ours."""
    value = text.strip()
    if not value.isdecimal() or not value.isascii() or len(value) > MAX_CURSOR_DIGITS:
        raise ValidationError("after", f"must be a cursor returned by feedCursor, was {text[:40]!r}")
    return int(value)


def format_cursor(seq: int) -> str:
    return str(seq)


@strawberry.type
class FeedQuery:
    @strawberry.field
    async def feed_cursor(self, info: Info[Context, None]) -> str:
        """The head of the change feed now; subscribe with `after:` this cursor."""
        c = info.context
        _ = c.actor  # UNAUTHENTICATED without a token
        return format_cursor(await c.run(head_seq, c.services.store.engine))
