"""Entities to table rows and change-feed images, and back, driven by the dataclass fields.

The per-field converters are worked out once per entity class at import: this code runs for
every row read and written, so it does no type introspection per call.
"""

from __future__ import annotations

import dataclasses
import operator
import types
import typing
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, Union, get_args, get_origin

from hedge.domain.models import Account, Action, Alert, Position, TradingControl, User
from hedge.domain.values import iso_ms, parse_iso

Entity = User | Account | Position | Action | Alert | TradingControl
T = TypeVar("T", User, Account, Position, Action, Alert, TradingControl)

ENTITY_NAMES: dict[type[Any], str] = {
    User: "User",
    Account: "Account",
    Position: "Position",
    Action: "Action",
    TradingControl: "TradingControl",
    Alert: "Alert",
}
ENTITY_TYPES: dict[str, type[Any]] = {name: cls for cls, name in ENTITY_NAMES.items()}

JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]
Converter = Callable[[Any], Any]
_ZERO = timedelta(0)


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _to_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _to_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else parse_iso(value, "datetime")


def _converter(tp: Any) -> Converter | None:
    """How a stored or JSON value becomes the field's Python type (None: taken as it is)."""
    if isinstance(tp, type):
        if issubclass(tp, StrEnum):
            return tp
        if tp is Decimal:
            return _to_decimal
        if tp is datetime:
            return _to_datetime
    if get_origin(tp) is tuple:
        return tuple
    return None


def _field_converters(cls: type[Any]) -> tuple[tuple[str, Converter | None], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _converter(_unwrap_optional(hints[f.name]))) for f in dataclasses.fields(cls))


_CONVERTERS: dict[type[Any], tuple[tuple[str, Converter | None], ...]] = {
    cls: _field_converters(cls) for cls in ENTITY_NAMES
}
# per entity class: (field name, converter from a stored or JSON value, None: taken as it is)
FIELD_CONVERTERS = _CONVERTERS
FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(name for name, _ in converters) for cls, converters in _CONVERTERS.items()
}


def from_mapping(cls: type[T], data: typing.Mapping[Any, Any]) -> T:
    """An entity from a row mapping or a change image (extra keys are ignored)."""
    kwargs: dict[str, Any] = {}
    for name, convert in _CONVERTERS[cls]:
        if name in data:
            value = data[name]
            kwargs[name] = value if value is None or convert is None else convert(value)
    return cls(**kwargs)


def _column_value(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def to_row(entity: Entity) -> dict[str, Any]:
    """Column values for an entity (Decimals and datetimes stay typed; the column types convert)."""
    return {name: _column_value(getattr(entity, name)) for name in FIELD_NAMES[type(entity)]}


def changed_columns(before: Entity, after: Entity) -> dict[str, Any]:
    """Column values of the fields that differ between two values of the same row."""
    changed: dict[str, Any] = {}
    for name in FIELD_NAMES[type(after)]:
        value = getattr(after, name)
        old = getattr(before, name)
        # 150.05 == 150.050 as numbers, but the stored text must follow the new value
        if value is not old and (value != old or (isinstance(value, Decimal) and str(value) != str(old))):
            changed[name] = _column_value(value)
    return changed


def to_image(entity: Entity) -> dict[str, JsonValue]:
    """A JSON-ready picture of an entity for the change feed (decimals as text, ISO times)."""
    image: dict[str, JsonValue] = {}
    for name in FIELD_NAMES[type(entity)]:
        value = getattr(entity, name)
        kind = type(value)
        if kind in _AS_IS:
            image[name] = value
        else:
            convert = _IMAGE_OF.get(kind)
            image[name] = convert(value) if convert is not None else _image_value(value)
    return image


def _image_value(value: Any) -> JsonValue:
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, StrEnum) else value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _iso_ms(value)
    return _column_value(value)  # type: ignore[no-any-return]


def _iso_ms(moment: datetime) -> str:
    """values.iso_ms, faster for the UTC datetimes the store holds (isoformat is C code)."""
    if moment.utcoffset() == _ZERO:
        return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return iso_ms(moment)


# to_image by the value's exact type (a dict lookup instead of a chain of isinstance checks);
# a type not listed takes _image_value, which is the whole rule
_AS_IS: frozenset[type[Any]] = frozenset({str, int, bool, type(None)})
_IMAGE_OF: dict[type[Any], Converter] = {Decimal: str, datetime: _iso_ms, tuple: list, dict: dict}
for _converters in _CONVERTERS.values():
    for _name, _convert in _converters:
        if isinstance(_convert, type) and issubclass(_convert, StrEnum):
            _IMAGE_OF[_convert] = operator.attrgetter("value")


def entity_name(entity: Entity) -> str:
    return ENTITY_NAMES[type(entity)]
