"""GraphQL JSON (camelCase, floats) to domain values and back, for the agent's side of the API."""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any, TypeVar

from hedge.domain.models import Account, Action, Position, User
from hedge.domain.rows import from_mapping
from hedge.domain.values import iso_ms

T = TypeVar("T", User, Account, Position, Action)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_RENAMES = {"realizedPL": "realized_pl"}


@functools.lru_cache(maxsize=512)  # a handful of field names, converted for every row of every event
def snake(name: str) -> str:
    return _RENAMES.get(name) or _CAMEL.sub("_", name).lower()


def from_gql(cls: type[T], data: dict[str, Any]) -> T:
    """A domain value from a GraphQL object; floats become Decimals through their shortest text."""
    converted: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, float):
            value = Decimal(repr(value))
        elif key == "symbolMap" and isinstance(value, list):
            value = {item["brokerSymbol"]: item["symbol"] for item in value}
        converted[snake(key)] = value
    return from_mapping(cls, converted)


def gql_value(value: object) -> object:
    """A Python value as GraphQL variables want it (Decimal -> float, datetime -> ISO text)."""
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return iso_ms(value)  # type: ignore[arg-type]
    return value
