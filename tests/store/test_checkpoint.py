"""SQLite's WAL is checkpointed by the store's own thread, not inside a writer's commit."""

from __future__ import annotations

import time
from pathlib import Path

from hedge.store.repository import Store


def test_writes_reach_the_database_file_without_a_writer_checkpointing(tmp_path: Path) -> None:
    database = tmp_path / "hedge.db"
    store = Store(f"sqlite:///{database}")
    try:
        before = database.stat().st_size
        for index in range(200):  # far below the 1,000 pages at which a commit would checkpoint
            store.create_user(f"u{index}@x.io", "U", "CLIENT")
        deadline = time.monotonic() + 5
        while database.stat().st_size <= before and time.monotonic() < deadline:
            time.sleep(0.05)  # the checkpointer signals nothing: watch the file it writes
        assert database.stat().st_size > before
    finally:
        store.close()
    wal = Path(f"{database}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # closing checkpoints the rest of the WAL
