"""Bring a database to the newest schema (Alembic), on SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied. Safe to run at every start-up."""
    config = alembic_config()
    with engine.connect().execution_options(hedge_write=True) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
