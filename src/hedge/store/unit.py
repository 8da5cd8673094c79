"""One write transaction: typed row access with version checks, and the change events it adds.

The statements are built once at import with bind parameters, so each call only binds values:
building and cache-keying a fresh SQLAlchemy statement per call cost more than the SQL itself.
With `raw` set (the Store's default) the same statements, compiled once, run on the driver's
own connection in the same transaction (hedge.store.raw); without it they go through SQLAlchemy.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, Select, Table, TextClause, bindparam, insert, select, text, update
from sqlalchemy.sql.elements import BindParameter

from hedge.domain.errors import Conflict, NotFound
from hedge.domain.models import Account, Action, Alert, Position, TradingControl, User
from hedge.domain.rows import Entity, changed_columns, entity_name, from_mapping, to_image, to_row
from hedge.store.feed import FEED_LOCK_KEY, NOTIFY_CHANNEL, ChangeEvent
from hedge.store.history import HISTORY_TYPES, SERVER_RULE, Cause, history_rows, insert_history
from hedge.store.raw import MAX_ROWS_PER_INSERT, Compiled, RawStatements, dump_json
from hedge.store.tables import (
    accounts,
    actions,
    alerts,
    changes,
    positions,
    row_history,
    trading_controls,
    users,
)
from hedge.store.types import UtcDateTime

T = TypeVar("T", User, Account, Position, Action, Alert, TradingControl)

TABLES: dict[type[Any], Table] = {
    User: users,
    Account: accounts,
    Position: positions,
    Action: actions,
    Alert: alerts,
    TradingControl: trading_controls,
}

_BY_ID: dict[type[Any], Select[Any]] = {
    cls: select(table).where(table.c.id == bindparam("by_id")) for cls, table in TABLES.items()
}
_BY_ID_FOR_UPDATE: dict[type[Any], Select[Any]] = {
    cls: query.with_for_update() for cls, query in _BY_ID.items()
}
# The SET clause comes from the keys of the parameters given at execution (the changed columns).
_UPDATE_IF_VERSION = {
    cls: update(table).where(
        table.c.id == bindparam("where_id"), table.c.version == bindparam("where_version")
    )
    for cls, table in TABLES.items()
}
_INSERT = {cls: insert(table) for cls, table in TABLES.items()}
_VERSION_OF = {
    cls: select(table.c.version).where(table.c.id == bindparam("by_id")) for cls, table in TABLES.items()
}
_APPEND = insert(changes).returning(changes.c.seq)


@functools.cache
def _with_own_symbol(count: int, lock: bool) -> Select[Any]:
    """`count` actions by id (binds `id_<i>`), in id order, each with its own position's symbol
    (`own_symbol`, the last column); `lock`: the actions FOR UPDATE (not the positions)."""
    binds: list[BindParameter[Any]] = [bindparam(f"id_{i}") for i in range(count)]
    query = (
        select(actions, positions.c.symbol.label("own_symbol"))
        .select_from(actions.outerjoin(positions, positions.c.id == actions.c.position_id))
        .where(actions.c.id.in_(binds))
        .order_by(actions.c.id)
    )
    return query.with_for_update(of=actions) if lock else query


def select_by_id(cls: type[Any]) -> Select[Any]:
    """The prebuilt `SELECT * FROM <table> WHERE id = :by_id` of an entity class."""
    return _BY_ID[cls]


@dataclass
class Unit:
    """The work of one transaction. Entities read here are locked FOR UPDATE on PostgreSQL."""

    conn: Connection
    now: datetime
    postgres: bool
    events: list[tuple[Entity, str]] = field(default_factory=list)
    last_seq: int = 0
    appended: list[ChangeEvent] = field(default_factory=list)  # this transaction's feed events
    cause: Cause = SERVER_RULE  # who or what makes this transaction's changes (the row history)
    # per event of a history-kept entity: (index in events, fields changed, cause)
    history: list[tuple[int, tuple[str, ...], Cause]] = field(default_factory=list)
    raw: RawStatements | None = None  # the hot statements on the driver's connection (store.raw)
    driver: Any = None  # the DBAPI connection under `conn` (the same transaction)

    def _raw(self, statement: Compiled, values: Mapping[str, Any]) -> Any:
        assert self.raw is not None
        return self.raw.execute(self.conn, self.driver, statement, values)

    def get(self, cls: type[T], entity_id: str, *, lock: bool = True) -> T | None:
        if self.raw is not None:
            reader = self.raw.by_id(TABLES[cls], lock and self.postgres)
            found = self._raw(reader.compiled, {"by_id": entity_id}).fetchone()
            return None if found is None else reader.entity(cls, found)
        query = _BY_ID_FOR_UPDATE[cls] if lock and self.postgres else _BY_ID[cls]
        row = self.conn.execute(query, {"by_id": entity_id}).mappings().first()
        return None if row is None else from_mapping(cls, row)

    def require(self, cls: type[T], entity_id: str, *, lock: bool = True) -> T:
        found = self.get(cls, entity_id, lock=lock)
        if found is None:
            raise NotFound(cls.__name__, entity_id)
        return found

    def get_many(self, cls: type[T], ids: Sequence[str]) -> dict[str, T]:
        """Rows by id, locked in id order (a fixed order, so two writers cannot deadlock)."""
        if not ids:
            return {}
        table = TABLES[cls]
        if self.raw is not None:
            wanted = sorted(set(ids))
            reader = self.raw.by_ids(table, len(wanted), self.postgres)
            params = {f"id_{i}": entity_id for i, entity_id in enumerate(wanted)}
            rows = self._raw(reader.compiled, params).fetchall()
            return {row[0]: reader.entity(cls, row) for row in rows}
        query = select(table).where(table.c.id.in_(sorted(set(ids)))).order_by(table.c.id)
        if self.postgres:
            query = query.with_for_update()
        return {row["id"]: from_mapping(cls, row) for row in self.conn.execute(query).mappings()}

    def actions_with_own_symbol(self, ids: Sequence[str]) -> dict[str, tuple[Action, str | None]]:
        """Actions by id, locked in id order as get_many locks them, each with the symbol of its
        own position (not locked; None when that position is gone): one statement, not one
        more per action."""
        if not ids:
            return {}
        wanted = sorted(set(ids))
        query = _with_own_symbol(len(wanted), self.postgres)
        params = {f"id_{i}": entity_id for i, entity_id in enumerate(wanted)}
        if self.raw is not None:
            reader = self.raw.reader(actions, query)
            rows = self._raw(reader.compiled, params).fetchall()
            return {row[0]: (reader.entity(Action, row), row[-1]) for row in rows}
        return {
            row["id"]: (from_mapping(Action, row), row["own_symbol"])
            for row in self.conn.execute(query, params).mappings()
        }

    def actions_of(self, position_id: str) -> list[Action]:
        """The actions whose positionId is `position_id`, locked in id order."""
        if self.raw is not None:
            reader = self.raw.by_column(actions, "position_id", self.postgres)
            rows = self._raw(reader.compiled, {"by_value": position_id}).fetchall()
            return [reader.entity(Action, row) for row in rows]
        query = select(actions).where(actions.c.position_id == position_id).order_by(actions.c.id)
        if self.postgres:
            query = query.with_for_update()
        return [from_mapping(Action, row) for row in self.conn.execute(query).mappings()]

    def insert(self, entity: Entity, *, cause: Cause | None = None, **extra: Any) -> None:
        row = to_row(entity)
        if self.raw is not None:
            values = {**row, **extra}
            self._raw(self.raw.insert(TABLES[type(entity)], tuple(values)), values)
        else:
            self.conn.execute(_INSERT[type(entity)], {**row, **extra})
        if type(entity) in HISTORY_TYPES:
            given = tuple(name for name, value in row.items() if value is not None and value != [])
            self.history.append((len(self.events), given, cause or self.cause))
        self.events.append((entity, "INSERT"))

    def insert_row(self, table: Table, values: Mapping[str, Any]) -> None:
        """One row of a table that holds no entity (the audit log), on the raw path when it is on."""
        if self.raw is not None:
            self._raw(self.raw.insert(table, tuple(values)), values)
        else:
            self.conn.execute(insert(table).values(**values))

    def update(self, before: T, after: T, *, cause: Cause | None = None) -> T:
        """Write `after` if the row is still at `before.version`; Conflict otherwise. `cause`
        (default: the transaction's) is kept in the row history."""
        if after is before:
            return after
        cls = type(after)
        values = changed_columns(before, after)
        values.pop("id", None)
        values["where_id"] = before.id
        values["where_version"] = before.version
        if self.raw is not None:
            statement = self.raw.update_if_version(TABLES[cls], tuple(values))
            rowcount = self._raw(statement, values).rowcount
        else:
            rowcount = self.conn.execute(_UPDATE_IF_VERSION[cls], values).rowcount
        if rowcount != 1:
            current = self._version_of(cls, before.id)
            raise Conflict(entity_name(before), before.id, before.version, current)
        if cls in HISTORY_TYPES:
            self.history.append((len(self.events), tuple(values)[:-2], cause or self.cause))
        self.events.append((after, "UPDATE"))
        return after

    def _version_of(self, cls: type[Any], entity_id: str) -> int | None:
        if self.raw is None:
            return self.conn.execute(_VERSION_OF[cls], {"by_id": entity_id}).scalar()
        found = self._raw(self.raw.version_of(TABLES[cls]), {"by_id": entity_id}).fetchone()
        return None if found is None else int(found[0])

    def flush_events(self) -> None:
        """Append this transaction's changes to the feed, in the same transaction."""
        if not self.events:
            return
        if self.raw is not None:
            self._flush_raw(self.raw)
            return
        events = [ChangeEvent(0, *_feed_fields(entity, op), self.now) for entity, op in self.events]
        rows = [{name: getattr(event, name) for name in _FEED_COLUMNS} for event in events]
        if self.postgres:
            params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
            seqs = self.conn.execute(_pg_append(len(rows)), params).scalars()
        else:
            seqs = self.conn.execute(_APPEND, rows[0] if len(rows) == 1 else rows).scalars()
        # one transaction's events get consecutive numbers (appends are serialised), in row order
        numbers = sorted(int(seq) for seq in seqs)
        self.last_seq = numbers[-1]
        self.appended = [replace(event, seq=seq) for seq, event in zip(numbers, events, strict=True)]
        if self.history:
            insert_history(self.conn, history_rows(self.history, events))

    def _flush_raw(self, raw: RawStatements) -> None:
        """flush_events on the driver's connection: each image is serialised to JSON once, for
        the feed row and the history row alike (the same text the JSON type would write)."""
        feed = [_feed_fields(entity, op) for entity, op in self.events]
        texts = [dump_json(item[5]) for item in feed]
        if self.postgres and self.history and len(feed) <= MAX_ROWS_PER_INSERT:
            self._flush_pg_together(raw, feed, texts)
            return
        numbers: list[int] = []
        for start in range(0, len(feed), MAX_ROWS_PER_INSERT):
            chunk = feed[start : start + MAX_ROWS_PER_INSERT]
            params: dict[str, Any] = {}
            for i, (name, op, entity_id, user_id, version, _) in enumerate(chunk):
                params[f"entity_{i}"] = name
                params[f"op_{i}"] = op
                params[f"entity_id_{i}"] = entity_id
                params[f"user_id_{i}"] = user_id
                params[f"version_{i}"] = version
                params[f"image_{i}"] = texts[start + i]
                params[f"committed_at_{i}"] = self.now
            statement = (
                raw.statement(_pg_append(len(chunk)), _pg_raw_json(len(chunk)))
                if self.postgres
                else raw.insert_rows(changes, _FEED_COLUMNS, len(chunk), "seq")
            )
            # one transaction's events get consecutive numbers (appends are serialised), in row order
            numbers += sorted(int(row[0]) for row in self._raw(statement, params).fetchall())
        self.last_seq = numbers[-1]
        self.appended = [
            ChangeEvent(seq, name, op, entity_id, user_id, version, image, self.now)
            for seq, (name, op, entity_id, user_id, version, image) in zip(numbers, feed, strict=True)
        ]
        if self.history:
            rows = history_rows(self.history, self.appended)
            for row, (index, _, _) in zip(rows, self.history, strict=True):
                row["image"] = texts[index]
                row["fields"] = dump_json(row["fields"])
            for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
                chunk_rows = rows[start : start + MAX_ROWS_PER_INSERT]
                statement = raw.insert_rows(row_history, _HISTORY_COLUMNS, len(chunk_rows), None)
                params = {
                    f"{name}_{i}": row[name] for i, row in enumerate(chunk_rows) for name in _HISTORY_COLUMNS
                }
                self._raw(statement, params)

    def _flush_pg_together(
        self, raw: RawStatements, feed: list[tuple[str, str, str, str, int, dict[str, Any]]], texts: list[str]
    ) -> None:
        """_flush_raw's feed and history rows in one statement on PostgreSQL (one round trip,
        not two): the history rows take nothing from the feed's answer (not its sequence
        numbers), so both can be sent at once, and both come after the feed lock."""
        events = [
            ChangeEvent(0, name, op, entity_id, user_id, version, image, self.now)
            for name, op, entity_id, user_id, version, image in feed
        ]
        params: dict[str, Any] = {}
        for i, (name, op, entity_id, user_id, version, _) in enumerate(feed):
            params[f"entity_{i}"] = name
            params[f"op_{i}"] = op
            params[f"entity_id_{i}"] = entity_id
            params[f"user_id_{i}"] = user_id
            params[f"version_{i}"] = version
            params[f"image_{i}"] = texts[i]
            params[f"committed_at_{i}"] = self.now
        rows = history_rows(self.history, events)
        for i, (row, (index, _, _)) in enumerate(zip(rows, self.history, strict=True)):
            row["image"] = texts[index]
            row["fields"] = dump_json(row["fields"])
            for name in _HISTORY_COLUMNS:
                params[f"h_{name}_{i}"] = row[name]
        statement = raw.statement(
            _pg_append(len(feed), len(rows)), _pg_raw_json(len(feed)) | _pg_history_raw_json(len(rows))
        )
        # one transaction's events get consecutive numbers (appends are serialised), in row order
        numbers = sorted(int(row[0]) for row in self._raw(statement, params).fetchall())
        self.last_seq = numbers[-1]
        self.appended = [replace(event, seq=seq) for seq, event in zip(numbers, events, strict=True)]


def _feed_fields(entity: Entity, op: str) -> tuple[str, str, str, str, int, dict[str, Any]]:
    """A feed row's fields that come from the entity: name, op, id, owner, version, image."""
    owner = entity.id if isinstance(entity, User) else entity.user_id
    return entity_name(entity), op, entity.id, owner, entity.version, to_image(entity)


_HISTORY_COLUMNS = ("entity", "entity_id", "version", "at", "by_user", "source", "fields", "reason", "image")
_FEED_COLUMNS = ("entity", "op", "entity_id", "user_id", "version", "image", "committed_at")
_PG_TYPES = ("varchar", "varchar", "varchar", "varchar", "integer", "json", "timestamptz")
_PG_HISTORY_TYPES = (
    "varchar",
    "varchar",
    "integer",
    "timestamptz",
    "varchar",
    "varchar",
    "json",
    "text",
    "json",
)


@functools.cache
def _pg_raw_json(count: int) -> frozenset[str]:
    return frozenset(f"image_{i}" for i in range(count))


@functools.cache
def _pg_history_raw_json(count: int) -> frozenset[str]:
    return frozenset(f"h_{name}_{i}" for name in ("fields", "image") for i in range(count))


def _pg_values(columns: Sequence[tuple[str, str]], count: int, prefix: str = "") -> str:
    return ", ".join(
        "(" + ", ".join(f"CAST(:{prefix}{name}_{i} AS {kind})" for name, kind in columns) + ")"
        for i in range(count)
    )


@functools.cache
def _pg_append(count: int, history: int = 0) -> TextClause:
    """Lock the feed, insert `count` events and notify listeners, and insert `history` row
    history rows (binds `h_<column>_<i>`): one round trip on PostgreSQL.

    The advisory lock is held until commit, and PostgreSQL makes a commit visible before it lets
    go, so sequence numbers are taken in commit order: a reader never sees N+1 before N. The lock
    comes from a MATERIALIZED CTE joined to the rows, so it is taken before the first row (and
    its nextval) is produced; the history rows are joined to it too, so their own sequence
    numbers are taken in commit order as well (as when they were a statement after the feed's).
    A data-modifying CTE runs to completion whether or not its rows are read.
    """
    values = _pg_values(list(zip(_FEED_COLUMNS, _PG_TYPES, strict=True)), count)
    columns = ", ".join(_FEED_COLUMNS)
    typed = [bindparam(f"image_{i}", type_=JSON) for i in range(count)]
    typed += [bindparam(f"committed_at_{i}", type_=UtcDateTime) for i in range(count)]
    lock = f"WITH feed_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock({FEED_LOCK_KEY})) "
    append = (
        f"INSERT INTO changes ({columns}) SELECT v.* "
        f"FROM feed_lock CROSS JOIN (VALUES {values}) AS v({columns}) "
        f"RETURNING seq, pg_notify('{NOTIFY_CHANNEL}', seq::text)"
    )
    if not history:
        return text(lock + append).bindparams(*typed)
    kept = list(zip(_HISTORY_COLUMNS, _PG_HISTORY_TYPES, strict=True))
    history_columns = ", ".join(_HISTORY_COLUMNS)
    sql = (
        f"{lock}, feed AS ({append} AS notified), "
        f"kept AS (INSERT INTO {row_history.name} ({history_columns}) SELECT h.* "
        f"FROM feed_lock CROSS JOIN (VALUES {_pg_values(kept, history, 'h_')}) AS h({history_columns})) "
        "SELECT seq, notified FROM feed"
    )
    typed += [bindparam(f"h_at_{i}", type_=UtcDateTime) for i in range(history)]
    return text(sql).bindparams(*typed)
