"""Checked conversions of raw input into domain values: decimals, prices, names, enums.

Floats are read through their shortest decimal text (`repr`), so 150.05 is Decimal("150.05"),
never the binary expansion. Every check raises ValidationError naming the field.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from hedge.domain.errors import ValidationError

MAX_TEXT = 256  # names, emails, server names, tickets
MAX_MEMO = 2000
MAX_ERROR_MESSAGE = 2000
MAX_TRAIL_PIPS = Decimal("100000")

E = TypeVar("E", bound=StrEnum)


def to_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from an int, float, Decimal or numeric text."""
    if isinstance(value, bool):
        raise ValidationError(field, f"must be a number, was {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(field, f"must be a finite number, was {value!r}")
        return Decimal(repr(value))
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(field, f"must be a number, was {value[:40]!r}") from None
    else:
        raise ValidationError(field, f"must be a number, was {type(value).__name__}")
    if not result.is_finite():
        raise ValidationError(field, f"must be a finite number, was {value!r}")
    return result


def number_or_none(value: object) -> Decimal | None:
    """A finite Decimal from a config value (JSON number or numeric text); None for anything else,
    so that the caller words the error with the range it expects."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def price(value: object, field: str = "price") -> Decimal:
    """A finite, strictly positive price."""
    result = to_decimal(value, field)
    if result <= 0:
        raise ValidationError(field, f"must be > 0, was {result}")
    return result


def positive(value: object, field: str) -> Decimal:
    """A finite, strictly positive decimal (volumes, sizes)."""
    result = to_decimal(value, field)
    if result <= 0:
        raise ValidationError(field, f"must be > 0, was {result}")
    return result


def non_negative(value: object, field: str) -> Decimal:
    result = to_decimal(value, field)
    if result < 0:
        raise ValidationError(field, f"must be >= 0, was {result}")
    return result


def trail_width(value: object, field: str = "trailWidth") -> Decimal:
    """A trail width in pips: 0 or more, at most MAX_TRAIL_PIPS."""
    result = non_negative(value, field)
    if result > MAX_TRAIL_PIPS:
        raise ValidationError(field, f"must be <= {MAX_TRAIL_PIPS} pips, was {result}")
    return result


def text(value: object, field: str, *, max_length: int = MAX_TEXT, allow_empty: bool = False) -> str:
    """A string of at most `max_length` characters (and not blank unless allowed)."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, was {type(value).__name__}")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters, was {len(value)}")
    if not allow_empty and not value.strip():
        raise ValidationError(field, "must not be empty")
    return value


def email(value: object, field: str = "email") -> str:
    result = text(value, field).strip()
    local, _, domain = result.partition("@")
    if not local or "." not in domain or " " in result:
        raise ValidationError(field, f"must be an email address, was {result[:40]!r}")
    return result


def enum_value(enum: type[E], value: object, field: str) -> E:
    """The member of `enum` named by `value`; the message lists the allowed names."""
    if isinstance(value, enum):
        return value
    try:
        return enum(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationError(field, f"must be one of {allowed}, was {str(value)[:40]!r}") from None


def utc_from_ms(time_ms: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC)


def iso_ms(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, as the contract's DateTime."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(value: object, field: str) -> datetime:
    """An aware UTC datetime from ISO-8601 text; naive text is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(field, f"must be ISO-8601 date-time, was {value[:40]!r}") from None
    else:
        raise ValidationError(field, f"must be a date-time, was {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
