"""JSON text <-> typed EA messages. Decimals travel as JSON numbers written from their decimal text.

`decode` reads numbers as Decimal (150.050 stays 150.050) and raises BadMessage with a message that
names the frame type, the field, what was expected and what came.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, get_type_hints

from hedge.ea.errors import BadMessage, FrameTooLarge
from hedge.ea.protocol_messages import MESSAGE_TYPES, Message
from hedge.ea.protocol_values import MAX_FRAME_BYTES

_KNOWN_TYPES = ", ".join(MESSAGE_TYPES)
_CONSTANTS = {"NaN": Decimal("NaN"), "Infinity": Decimal("Infinity"), "-Infinity": Decimal("-Infinity")}


def camel(name: str) -> str:
    """The wire name of an attribute: `mt_ticket` -> `mtTicket`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# --- encode ---------------------------------------------------------------------------------------


def encode(msg: Message) -> str:
    """One JSON object with `type` first; None fields are left out; Decimals keep their text."""
    parts = [f'"type":{json.dumps(msg.TYPE)}', *_members(msg)]
    return "{" + ",".join(parts) + "}"


def _members(item: object) -> list[str]:
    parts = []
    for f in dataclasses.fields(item):  # type: ignore[arg-type]
        value = getattr(item, f.name)
        if value is not None:
            parts.append(f"{json.dumps(camel(f.name))}:{_value(value, f.name)}")
    return parts


def _value(value: object, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return json.dumps(value.value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{camel(name)} must be a finite number to be sent, was {value}")
        return str(value)  # the decimal text itself: a valid JSON number, never a float round trip
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return "[" + ",".join(_value(v, name) for v in value) + "]"
    if dataclasses.is_dataclass(value):
        return "{" + ",".join(_members(value)) + "}"
    raise TypeError(f"cannot encode {camel(name)} of type {type(value).__name__}")


# --- decode ---------------------------------------------------------------------------------------


def decode(text: str | bytes) -> Message:
    """The typed message in one text frame; BadMessage (or FrameTooLarge) when it breaks the contract."""
    if isinstance(text, bytes):
        if len(text) > MAX_FRAME_BYTES:
            raise FrameTooLarge(len(text), MAX_FRAME_BYTES)
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadMessage("frame is not UTF-8 text") from None
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_FRAME_BYTES:
        raise FrameTooLarge(size, MAX_FRAME_BYTES)
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_CONSTANTS.__getitem__)
    except RecursionError:
        raise BadMessage("frame is not usable JSON: nested too deeply") from None
    except ValueError as exc:
        raise BadMessage(f"frame is not JSON ({exc}); send one JSON object per text frame") from None
    if not isinstance(data, dict):
        raise BadMessage(f'frame must be a JSON object with a "type", was a JSON {_json_kind(data)}')
    command_id = data.get("commandId") if isinstance(data.get("commandId"), str) else None
    if "type" not in data:
        raise BadMessage(f'frame has no "type" field; expected one of {_KNOWN_TYPES}', command_id=command_id)
    frame_type = data["type"]
    if not isinstance(frame_type, str):
        raise BadMessage(
            f'"type" must be a string, was a JSON {_json_kind(frame_type)}',
            field="type",
            command_id=command_id,
        )
    cls = MESSAGE_TYPES.get(frame_type)
    if cls is None:
        raise BadMessage(
            f"unknown type {frame_type[:40]!r}; expected one of {_KNOWN_TYPES}",
            frame_type=frame_type[:40],
            command_id=command_id,
        )
    try:
        return typing.cast(Message, _build(cls, data, frame_type))
    except BadMessage as exc:
        exc.frame_type, exc.command_id = frame_type, command_id
        raise


def _build(cls: type[Any], data: Mapping[str, object], path: str) -> object:
    values: dict[str, object] = {}
    for f, hint in _field_types(cls):
        key = camel(f.name)
        where = f"{path}.{key}"
        raw = data.get(key)
        optional, inner = _unwrap_optional(hint)
        if raw is None:
            if not optional and key not in data:
                raise BadMessage(f"{path} is missing required field {key!r}", field=where)
            if not optional:
                raise BadMessage(f"{where} must not be null", field=where)
            values[f.name] = None
            continue
        values[f.name] = _convert(inner, raw, where, f.metadata.get("rule"))
    required_when = getattr(cls, "REQUIRED_WHEN", None)
    if required_when is not None:
        state_field = getattr(cls, "STATE_FIELD", "status")
        state = values[state_field]
        for name in required_when[state]:
            if values[name] is None:
                raise BadMessage(
                    f"{path} with {state_field} {state} is missing required field {camel(name)!r}",
                    field=f"{path}.{camel(name)}",
                )
    return cls(**values)


_FIELD_TYPES: dict[type[Any], tuple[tuple[dataclasses.Field[Any], object], ...]] = {}


def _field_types(cls: type[Any]) -> tuple[tuple[dataclasses.Field[Any], object], ...]:
    """Each field of a message class with its resolved type hint (computed once per class)."""
    found = _FIELD_TYPES.get(cls)
    if found is None:
        hints = get_type_hints(cls)
        found = _FIELD_TYPES[cls] = tuple((f, hints[f.name]) for f in dataclasses.fields(cls))
    return found


def _unwrap_optional(hint: object) -> tuple[bool, object]:
    if isinstance(hint, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return True, args[0]
    return False, hint


def _convert(hint: object, raw: object, where: str, rule: str | None) -> object:
    if hint is Decimal:
        return _decimal(raw, where, rule)
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise BadMessage(f"{where} must be an integer, was {_shown(raw)}", field=where)
        if rule == "non_negative" and raw < 0:
            raise BadMessage(f"{where} must be >= 0, was {raw}", field=where)
        return raw
    if hint is str:
        if not isinstance(raw, str):
            raise BadMessage(f"{where} must be a string, was {_shown(raw)}", field=where)
        if rule != "may_be_empty" and not raw.strip():
            raise BadMessage(f"{where} must not be empty", field=where)
        return raw
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        try:
            return hint(raw) if isinstance(raw, str) else _no_member(hint, raw, where)
        except ValueError:
            return _no_member(hint, raw, where)
    if typing.get_origin(hint) is tuple:
        item_hint = typing.get_args(hint)[0]
        if not isinstance(raw, list):
            raise BadMessage(f"{where} must be a list, was {_shown(raw)}", field=where)
        return tuple(_item(item_hint, item, f"{where}[{i}]") for i, item in enumerate(raw))
    raise TypeError(f"no decoder for {hint!r} at {where}")  # a defect in the message classes


def _item(hint: object, raw: object, where: str) -> object:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):  # PositionReport, HistoryEntry, SymbolInfo
        if not isinstance(raw, dict):
            raise BadMessage(f"{where} must be an object, was {_shown(raw)}", field=where)
        return _build(hint, raw, where)
    return _convert(hint, raw, where, None)


def _decimal(raw: object, where: str, rule: str | None) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise BadMessage(f"{where} must be a JSON number, was {_shown(raw)}", field=where)
    value = Decimal(raw)
    if not value.is_finite():
        raise BadMessage(f"{where} must be a finite number, was {value}", field=where)
    if rule == "positive" and value <= 0:
        raise BadMessage(f"{where} must be > 0, was {value}", field=where)
    if rule == "non_negative" and value < 0:
        raise BadMessage(f"{where} must be >= 0, was {value}", field=where)
    return value


def _no_member(enum: type[StrEnum], raw: object, where: str) -> typing.NoReturn:
    allowed = ", ".join(m.value for m in enum)
    raise BadMessage(f"{where} must be one of {allowed}, was {_shown(raw)}", field=where)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shown(value: object) -> str:
    """What came, for an error message: the JSON kind and a short excerpt."""
    kind = _json_kind(value)
    if kind in ("array", "object"):
        return f"a JSON {kind}"
    excerpt = json.dumps(value) if isinstance(value, str) else str(value).lower()
    return f"{kind} {excerpt[:40]}"
