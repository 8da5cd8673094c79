"""Migrations: a fresh database is brought to the newest schema at start-up; running again is a no-op."""

from __future__ import annotations

import threading

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from hedge.store.migrate import alembic_config, upgrade
from hedge.store.repository import Store
from hedge.store.tables import metadata

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_form_one_line_ending_at_the_highest_revision() -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
    assert max(r.revision for r in revisions) == HEAD


def _revisions(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]


def test_fresh_database_is_migrated_at_start_up(store_url: str) -> None:
    store = Store(store_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert set(metadata.tables) <= tables and "alembic_version" in tables
        assert _revisions(store) == [HEAD]
    finally:
        store.close()


def test_migrating_again_is_a_no_op_and_keeps_data(store_url: str) -> None:
    first = Store(store_url)
    user, token = first.create_user("a@example.com", "Alice", "CLIENT")
    first.close()
    second = Store(store_url)  # start-up runs the migrations again
    try:
        upgrade(second.engine)  # and once more by hand
        assert _revisions(second) == [HEAD]
        assert second.user_by_token(token) == user
        assert second.read_changes(0)[-1].entity_id == user.id
    finally:
        second.close()


def test_two_stores_starting_together_on_a_fresh_database_both_come_up(store_url: str) -> None:
    stores: list[Store] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        barrier.wait()
        try:
            stores.append(Store(store_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == [] and len(stores) == 2
        assert _revisions(stores[0]) == [HEAD]
    finally:
        for store in stores:
            store.close()
