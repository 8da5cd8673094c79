"""The jobs' tables in hedge.store.job_tables are what migration 0006 creates."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hedge.store import job_tables
from hedge.store.repository import Store
from hedge.store.tables import metadata

JOB_TABLES = {
    t.name
    for t in vars(job_tables).values()
    if hasattr(t, "name") and getattr(t, "metadata", None) is metadata
}


def test_migrated_database_matches_the_job_tables_declared_in_code(store: Store) -> None:
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    def about_job_tables(diff: object) -> bool:
        text = repr(diff)
        return any(f"'{name}'" in text or f"table_name='{name}'" in text for name in JOB_TABLES)

    assert len(JOB_TABLES) == 7
    assert [d for d in differences if about_job_tables(d)] == []
