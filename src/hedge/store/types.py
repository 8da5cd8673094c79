"""Column types that keep domain values exact on every engine (Decimal as text, UTC datetimes), and
the serial key every appended-to table has. The migrations use them too: change one and every
migration using it builds another schema, so add a new one instead."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Dialect, Integer, String
from sqlalchemy.types import TypeDecorator


def serial_key(name: str) -> Column[int]:
    """A 64-bit auto-incremented primary key (INTEGER on SQLite, where only INTEGER PRIMARY KEY
    is the rowid that autoincrement needs)."""
    return Column(name, BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its text, so 150.050 comes back as 150.050 on SQLite and PostgreSQL."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime; SQLite's naive text is read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass aware UTC datetimes")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
