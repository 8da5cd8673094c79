"""Entities to table rows and change-feed images, and back, driven by the dataclass fields."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, Union, get_args, get_origin

from hedge.domain.models import Account, Action, Position, User
from hedge.domain.values import iso_ms, parse_iso

Entity = User | Account | Position | Action
T = TypeVar("T", User, Account, Position, Action)

ENTITY_NAMES: dict[type[Any], str] = {
    User: "User",
    Account: "Account",
    Position: "Position",
    Action: "Action",
}
ENTITY_TYPES: dict[str, type[Any]] = {name: cls for cls, name in ENTITY_NAMES.items()}

JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]


def _compute_field_types(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: _unwrap_optional(hints[f.name]) for f in dataclasses.fields(cls)}


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _convert_in(tp: Any, value: Any) -> Any:
    """A stored or JSON value as the field's Python type."""
    if value is None:
        return None
    if isinstance(tp, type):
        if issubclass(tp, StrEnum):
            return tp(value)
        if tp is Decimal:
            return value if isinstance(value, Decimal) else Decimal(str(value))
        if tp is datetime:
            return value if isinstance(value, datetime) else parse_iso(value, "datetime")
    if get_origin(tp) is tuple:
        return tuple(value)
    return value


_FIELD_TYPES: dict[type[Any], dict[str, Any]] = {cls: _compute_field_types(cls) for cls in ENTITY_NAMES}


def from_mapping(cls: type[T], data: typing.Mapping[Any, Any]) -> T:
    """An entity from a row mapping or a change image (extra keys are ignored)."""
    types_ = _FIELD_TYPES[cls]
    kwargs = {name: _convert_in(tp, data[name]) for name, tp in types_.items() if name in data}
    return cls(**kwargs)


def to_row(entity: Entity) -> dict[str, Any]:
    """Column values for an entity (Decimals and datetimes stay typed; the column types convert)."""
    row: dict[str, Any] = {}
    for f in dataclasses.fields(entity):
        value = getattr(entity, f.name)
        if isinstance(value, StrEnum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        row[f.name] = value
    return row


def to_image(entity: Entity) -> dict[str, JsonValue]:
    """A JSON-ready picture of an entity for the change feed (decimals as text, ISO times)."""
    image: dict[str, JsonValue] = {}
    for name, value in to_row(entity).items():
        if isinstance(value, Decimal):
            image[name] = str(value)
        elif isinstance(value, datetime):
            image[name] = iso_ms(value)
        else:
            image[name] = value
    return image


def entity_name(entity: Entity) -> str:
    return ENTITY_NAMES[type(entity)]
