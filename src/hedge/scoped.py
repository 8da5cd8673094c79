"""A context variable set for the length of a `with` block, then put back as it was.

Used for what travels with a request without being passed along: the correlation id of log lines
(hedge.logs.correlated) and the audit origin of store writes (hedge.store.audit.bound). Asyncio
tasks and worker threads started inside the block see the value (they run in a copy of the context).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def scoped(var: contextvars.ContextVar[T], value: T) -> Iterator[None]:
    """`var` is `value` within the block, and what it was before after it (also on an error)."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)
