"""Engines for the two stores: SQLite (a file, WAL) and PostgreSQL (psycopg 3), by URL.

Write transactions on SQLite start with BEGIN IMMEDIATE (`begin_write`) so writers queue on the
lock instead of failing with 'database is locked' when a read transaction tries to upgrade.
SQLite reads run in the driver's autocommit mode: each statement sees one consistent snapshot.
No ConnectionEvents listener is installed: having one makes SQLAlchemy dispatch events on every
statement, which was a fifth of the write path's CPU time.
"""

from __future__ import annotations

import select
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError

from hedge.store.inline import WriterBusy

BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for another's file lock


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No pool_pre_ping: it costs a round trip per transaction. A pooled connection that the
    # server dropped (a PostgreSQL restart) is caught at checkout instead, without a round trip.
    engine = create_engine(url, pool_size=pool_size, max_overflow=20, pool_recycle=3600)
    event.listen(engine, "checkout", _drop_if_server_closed)
    return engine


def _drop_if_server_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """At checkout an idle connection has nothing to read, unless the server closed it (PostgreSQL
    sends 'terminating connection' and closes on a restart). Then DisconnectionError makes the pool
    throw it away and hand out a fresh connection in its place (SQLAlchemy retries the checkout),
    so the caller never sees the dead one. One select() of the socket, no round trip."""
    if getattr(dbapi_connection, "closed", False):
        raise DisconnectionError("the connection is closed")
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:  # a socket already gone
        raise DisconnectionError(f"the connection's socket is gone: {exc}") from exc
    if readable:
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # hedge.store.checkpoint does it, off the write path
        cursor.close()

    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def begin_write(conn: Connection) -> None:
    """Call right after `conn.begin()`: on SQLite take the write lock now (BEGIN IMMEDIATE).

    SQLAlchemy's begin() sends nothing to pysqlite in autocommit mode, so this BEGIN starts the
    transaction that SQLAlchemy's commit() or rollback() then ends. PostgreSQL needs nothing here.
    """
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def begin_write_now(conn: Connection) -> None:
    """begin_write on SQLite without waiting for another writer's file lock: WriterBusy when it
    is taken (an inline write, hedge.store.inline, then runs in a worker thread instead)."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    driver.execute("PRAGMA busy_timeout=0")
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise WriterBusy(f"the database file is locked by another writer ({exc})") from None
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
