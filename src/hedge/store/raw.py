"""The hot statements of a write transaction, run on the driver's own connection (sqlite3 or
psycopg) instead of through SQLAlchemy's execution machinery.

Each statement is compiled by SQLAlchemy once per dialect (the same SQL text the ordinary path
sends), with the bind and result processors of its column types taken from the same dialect, so a
value is stored and read back exactly as the ordinary path would store and read it. Only the
per-call work goes: the compile-cache lookup, parameter construction, the execution context and
the result wrapper, which together cost several times the SQL itself (docs/performance.md).

The statements run on the DBAPI connection under the SQLAlchemy Connection of the same `Unit`, so
they are inside the same transaction as everything else the Unit does (BEGIN IMMEDIATE on
SQLite; psycopg's implicit transaction on PostgreSQL), and commit or roll back with it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, Table, bindparam, insert, select, update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement

from hedge.domain.rows import FIELD_CONVERTERS
from hedge.store.types import UtcDateTime

T = TypeVar("T")
# (SQL, parameters) of every statement the raw path sends, for benchmarks that replay them
Listener = Callable[[str, Any], None]
Processor = Callable[[Any], Any]
# the most rows one multi-row INSERT carries (a transaction with more sends several)
MAX_ROWS_PER_INSERT = 64


class Compiled:
    """One statement as the dialect renders it, and how to turn values into its parameters."""

    __slots__ = ("names", "positional", "processed", "processors", "sql")

    def __init__(
        self, sql: str, names: tuple[str, ...], processors: tuple[Processor | None, ...], positional: bool
    ) -> None:
        self.sql = sql
        self.names = names  # the bind names, in the order a positional paramstyle takes them
        self.processors = processors  # per name: the column type's bind processor (None: as it is)
        self.positional = positional
        self.processed = tuple((i, p) for i, p in enumerate(processors) if p is not None)

    def params(self, values: Mapping[str, Any]) -> Any:
        bound = [values[name] for name in self.names]
        for i, process in self.processed:
            if bound[i] is not None:
                bound[i] = process(bound[i])
        return bound if self.positional else dict(zip(self.names, bound, strict=True))


def compile_statement(
    statement: ClauseElement,
    dialect: Dialect,
    *,
    keys: Sequence[str] | None = None,
    raw_json: frozenset[str] = frozenset(),
) -> Compiled:
    """`statement` compiled for `dialect`; for an INSERT or UPDATE, `keys` are the columns it
    writes (the SET clause or the inserted columns). Binds named in `raw_json` take JSON text
    already serialised by the caller (the same `json.dumps` the JSON type applies), so that one
    image can be serialised once for the feed and the history."""
    compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else list(keys))
    assert isinstance(compiled, SQLCompiler)
    positional = compiled.positiontup is not None
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
    processors = tuple(
        None if name in raw_json else _bind_processor(compiled.binds[name].type, dialect) for name in names
    )
    return Compiled(compiled.string, names, processors, positional)


def _bind_processor(kind: Any, dialect: Dialect) -> Processor | None:
    if isinstance(kind, UtcDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_text
    return kind.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


_ZERO = timedelta(0)


def _sqlite_utc_text(value: datetime) -> str:
    """UtcDateTime's bind processor on SQLite in one step: the same text (naive UTC in
    SQLAlchemy's SQLite DATETIME format, which isoformat with a space and microseconds is) for
    a fraction of the CPU; a naive datetime is refused as UtcDateTime refuses it."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; pass aware UTC datetimes")
    if value.utcoffset() != _ZERO:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class RowReader:
    """A SELECT of whole rows of one table, with each column's result processor, and how its
    rows become entities (the result processors and from_mapping's converters in one pass)."""

    __slots__ = ("_plans", "columns", "compiled", "processors")

    def __init__(
        self, compiled: Compiled, columns: tuple[str, ...], processors: tuple[Processor | None, ...]
    ):
        self.compiled = compiled
        self.columns = columns
        self.processors = processors
        self._plans: dict[type[Any], tuple[tuple[int, str, Processor | None, Processor | None], ...]] = {}

    def entity(self, cls: type[T], row: Sequence[Any]) -> T:
        """from_mapping(cls, row as a mapping with each column's result processor applied), in
        one pass."""
        plan = self._plans.get(cls)
        if plan is None:
            index = {name: i for i, name in enumerate(self.columns)}
            plan = self._plans[cls] = tuple(
                (index[name], name, self.processors[index[name]], convert)
                for name, convert in FIELD_CONVERTERS[cls]
                if name in index
            )
        kwargs: dict[str, Any] = {}
        for i, name, process, convert in plan:
            value = row[i]
            if value is not None:
                if process is not None:
                    value = process(value)
                if convert is not None and value is not None:
                    value = convert(value)
            kwargs[name] = value
        return cls(**kwargs)


def row_reader(table: Table, statement: Any, dialect: Dialect) -> RowReader:
    compiled = compile_statement(statement, dialect)
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in table.c
    )
    return RowReader(compiled, tuple(column.name for column in table.c), processors)


class JoinedReader:
    """A SELECT whose rows hold several tables' whole rows side by side (an outer join), each
    read by its own RowReader over its slice of the row; a part whose id is NULL found no row."""

    __slots__ = ("compiled", "parts")

    def __init__(self, compiled: Compiled, parts: tuple[tuple[int, RowReader], ...]) -> None:
        self.compiled = compiled
        self.parts = parts  # per table: where its columns start in the row, and their reader

    def part(self, index: int, cls: type[T], row: Sequence[Any]) -> T | None:
        start, reader = self.parts[index]
        piece = row[start : start + len(reader.columns)]
        return None if piece[0] is None else reader.entity(cls, piece)


def joined_reader(tables: Sequence[Table], statement: Any, dialect: Dialect) -> JoinedReader:
    compiled = compile_statement(statement, dialect)
    parts: list[tuple[int, RowReader]] = []
    start = 0
    for table in tables:
        assert table.c[0].name == "id", table.name  # the part's first column tells a row from none
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in table.c
        )
        parts.append((start, RowReader(compiled, tuple(column.name for column in table.c), processors)))
        start += len(table.c)
    return JoinedReader(compiled, tuple(parts))


class RawStatements:
    """The prepared hot statements of one dialect (one per Store), built lazily and kept."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.postgres = dialect.name == "postgresql"
        self.listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call `listener(sql, parameters)` before each statement the raw path sends."""
        self.listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        self.listeners.remove(listener)

    def execute(self, conn: Connection, driver: Any, compiled: Compiled, values: Mapping[str, Any]) -> Any:
        """Run `compiled` on `driver` (the DBAPI connection under `conn`). A driver error takes
        SQLAlchemy's own handling, so callers see what the ordinary path raises (IntegrityError,
        OperationalError, ...), and a lost connection is invalidated as it would be."""
        params = compiled.params(values)
        if self.listeners:
            for listener in self.listeners:
                listener(compiled.sql, params)
        try:
            return driver.execute(compiled.sql, params)
        except Exception as exc:
            # what Connection.execute does with a DBAPI error (wrap it, invalidate on a
            # disconnect); a private method, pinned with SQLAlchemy in uv.lock and covered by
            # tests/store/test_raw_writes.py
            conn._handle_dbapi_exception(exc, compiled.sql, params, None, None)
            raise  # not reached: the handler always raises

    @functools.cache  # noqa: B019 - one instance per Store, kept for the Store's life
    def by_id(self, table: Table, lock: bool) -> RowReader:
        query = select(table).where(table.c.id == bindparam("by_id"))
        return row_reader(table, query.with_for_update() if lock else query, self.dialect)

    @functools.cache  # noqa: B019
    def by_ids(self, table: Table, count: int, lock: bool) -> RowReader:
        binds: list[BindParameter[Any]] = [bindparam(f"id_{i}") for i in range(count)]
        query = select(table).where(table.c.id.in_(binds)).order_by(table.c.id)
        return row_reader(table, query.with_for_update() if lock else query, self.dialect)

    @functools.cache  # noqa: B019
    def reader(self, table: Table, statement: Any) -> RowReader:
        """A prebuilt SELECT whose first columns are `table`'s (extra ones follow, unprocessed);
        `statement` must be built once and kept by the caller (it is cached by identity)."""
        return row_reader(table, statement, self.dialect)

    @functools.cache  # noqa: B019
    def joined(self, tables: tuple[Table, ...], statement: Any) -> JoinedReader:
        """A prebuilt SELECT of `tables`' whole rows side by side, in that order; `statement`
        must be built once and kept by the caller (it is cached by identity)."""
        return joined_reader(tables, statement, self.dialect)

    @functools.cache  # noqa: B019
    def by_column(self, table: Table, column: str, lock: bool) -> RowReader:
        query = select(table).where(table.c[column] == bindparam("by_value")).order_by(table.c.id)
        return row_reader(table, query.with_for_update() if lock else query, self.dialect)

    @functools.cache  # noqa: B019
    def version_of(self, table: Table) -> Compiled:
        return compile_statement(
            select(table.c.version).where(table.c.id == bindparam("by_id")), self.dialect
        )

    @functools.cache  # noqa: B019
    def update_if_version(self, table: Table, keys: tuple[str, ...]) -> Compiled:
        statement = update(table).where(
            table.c.id == bindparam("where_id"), table.c.version == bindparam("where_version")
        )
        return compile_statement(statement, self.dialect, keys=keys)

    @functools.cache  # noqa: B019
    def insert(self, table: Table, keys: tuple[str, ...]) -> Compiled:
        return compile_statement(insert(table), self.dialect, keys=keys)

    @functools.cache  # noqa: B019
    def insert_rows(
        self, table: Table, columns: tuple[str, ...], count: int, returning: str | None
    ) -> Compiled:
        """INSERT of `count` rows in one statement (binds `<column>_<i>`); `columns` named in
        `JSON_TEXT` take text serialised by the caller."""
        rows = [
            {name: bindparam(f"{name}_{i}", type_=table.c[name].type) for name in columns}
            for i in range(count)
        ]
        statement: Any = insert(table).values(rows)
        if returning is not None:
            statement = statement.returning(table.c[returning])
        raw_json = frozenset(f"{name}_{i}" for name in columns if name in JSON_TEXT for i in range(count))
        return compile_statement(statement, self.dialect, raw_json=raw_json)

    @functools.cache  # noqa: B019
    def statement(self, statement: ClauseElement, raw_json: frozenset[str] = frozenset()) -> Compiled:
        return compile_statement(statement, self.dialect, raw_json=raw_json)


# columns whose JSON the caller serialises itself (once per image, for the feed and the history)
JSON_TEXT = frozenset({"image", "fields"})
dump_json = json.dumps  # what SQLAlchemy's JSON type applies on both dialects (no custom serializer)
