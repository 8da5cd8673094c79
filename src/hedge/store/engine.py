"""Engines for the two stores: SQLite (a file, WAL) and PostgreSQL (psycopg 3), by URL.

Write transactions on SQLite start with BEGIN IMMEDIATE (`begin_write`) so writers queue on the
lock instead of failing with 'database is locked' when a read transaction tries to upgrade.
SQLite reads run in the driver's autocommit mode: each statement sees one consistent snapshot.
No ConnectionEvents listener is installed: having one makes SQLAlchemy dispatch events on every
statement, which was a fifth of the write path's CPU time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url


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
    # No pool_pre_ping: it costs a round trip per transaction. After a server restart the first
    # call on a dead connection fails and SQLAlchemy then drops the whole pool; callers retry.
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_recycle=3600)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
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
