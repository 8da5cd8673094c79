"""One converter from a domain row to its GraphQL object: the fields of the same name, copied.

A Strawberry type here names its fields as the domain dataclass does (`entry_price` on both), so
each row's image is built the same way: Decimal becomes Float at the edge, a tuple becomes a list,
ids stay text (`strawberry.ID` is text). What a type shows that the row does not hold (e.g. an
account's symbol list) the caller passes in by name; a field neither gives, and that has no
default, fails at once as a missing argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T")

_FIELDS: dict[tuple[type, object], tuple[str, ...]] = {}


def image(row: object, cls: Callable[..., T], **given: object) -> T:
    """`cls` (a Strawberry type) filled from `row`'s attributes of the same names; `given` wins."""
    key = (type(row), cls)
    names = _FIELDS.get(key)
    if names is None:  # the names both have, once per pair of types (rows are dataclasses)
        init = (f.name for f in dataclasses.fields(cls) if f.init)  # type: ignore[arg-type]
        names = _FIELDS[key] = tuple(name for name in init if hasattr(row, name))
    values = {name: plain(getattr(row, name)) for name in names if name not in given}
    values.update(given)
    return cls(**values)


def plain(value: object) -> object:
    """A row's value as GraphQL shows it: Decimal as float, a tuple as a list, the rest as it is."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    return value
