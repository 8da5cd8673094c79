"""The tables declared in code (hedge.store.tables and the tables on its metadata) are exactly
what the migrations build, on both engines: columns, types, keys and indexes; nothing more or less."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table

from hedge.store.repository import Store
from hedge.store.tables import metadata


def _differences(store: Store, declared: MetaData) -> list[object]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, declared))


def test_migrated_database_matches_every_table_declared_in_code(store: Store) -> None:
    assert _differences(store, metadata) == []
    assert {"users", "accounts", "positions", "actions", "changes", "row_history"} <= set(metadata.tables)


def test_a_column_declared_without_its_migration_is_a_difference(store: Store) -> None:
    declared = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(declared)
    positions = declared.tables["positions"]
    Table("positions", declared, Column("not_migrated", Integer), extend_existing=True)
    found = _differences(store, declared)
    assert len(found) == 1 and "not_migrated" in repr(found[0]) and positions.name in repr(found[0])
