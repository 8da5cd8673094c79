"""Bring a database to the newest schema (Alembic), on SQLite or PostgreSQL.

Several processes may start at once on a fresh database: the migration runs in one write
transaction that first takes a lock (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite),
so the others wait and then find nothing left to do.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from hedge.store.engine import begin_write

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK_KEY = 7_264_113_002
# Alembic keeps its running context in module globals: one migration per process at a time.
_IN_PROCESS = threading.Lock()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied. Safe to run at every start-up, from many processes."""
    config = alembic_config()
    with _IN_PROCESS, engine.connect() as connection:
        connection.begin()
        begin_write(connection)
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
