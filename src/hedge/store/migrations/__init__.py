"""Alembic migrations of the store (run at start-up by `hedge.store.migrate.upgrade`)."""
