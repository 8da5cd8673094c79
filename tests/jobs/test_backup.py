"""hedge backup / hedge restore: round trips on both engines while a server writes, and refusals."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from tests.conftest import new_database
from tests.jobs.procs import ADMIN_TOKEN, ServerProcess, start_server

from hedge.jobs.backup import BackupError, backup, restore
from hedge.localservices import PostgresServer
from hedge.store.engine import make_engine
from hedge.store.migrate import alembic_config
from hedge.store.repository import Store

CREATE_USER = (
    'mutation($e: String!) { createUser(input: {email: $e, name: "W", role: CLIENT}) { user { id } } }'
)


def hedge(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedge.cli", *argv], capture_output=True, text=True, env=env, timeout=120
    )


def emails(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(text("SELECT email FROM users"))}
    finally:
        engine.dispose()


def revision(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        engine.dispose()


@contextmanager
def writing(server: ServerProcess) -> Iterator[list[str]]:
    """Create users through the server's API, one after the other, until the block ends."""
    written: list[str] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            while not stop.is_set():
                email = f"{uuid.uuid4().hex[:10]}@example.com"
                body = http.post("/graphql", json={"query": CREATE_USER, "variables": {"e": email}}).json()
                assert not body.get("errors"), body
                written.append(email)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 20:  # the writer is well under way before the backup starts
            stop.wait(0.02)
        yield written
    finally:
        stop.set()
        thread.join(timeout=30)


def round_trip(source_url: str, target_url: str, tmp_path: Path) -> None:
    server = start_server(source_url, tmp_path / "server.log")
    try:
        with writing(server) as written:
            made = hedge("backup", "--database-url", source_url, "--to", str(tmp_path / "backups"), "--quiet")
            during = len(written)
        assert made.returncode == 0, made.stderr
        location = made.stdout.strip()
        backup_file = Path(location.removeprefix("file://"))
        assert backup_file.exists() and backup_file.parent == tmp_path / "backups"

        back = hedge("restore", "--from", location, "--database-url", target_url, "--quiet")
        assert back.returncode == 0, back.stderr
        assert "restored" in back.stdout
    finally:
        server.stop()
    restored, source = emails(target_url), emails(source_url)
    assert restored <= source  # a consistent snapshot: nothing the source never had
    assert len(restored) >= 21 and len(source) > len(restored) - 1
    assert during >= 20 and revision(target_url) == revision(source_url)
    # the restored store opens and serves like any other
    store = Store(target_url)
    try:
        assert {u.email for u in store.list_users()} == restored
    finally:
        store.close()


def test_sqlite_round_trip_while_the_server_writes_keeps_a_consistent_copy(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'live.db'}"
    target = f"sqlite:///{tmp_path / 'restored' / 'hedge.db'}"
    round_trip(source, target, tmp_path)
    with sqlite3.connect(tmp_path / "restored" / "hedge.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.postgres
def test_postgres_round_trip_while_the_server_writes_keeps_a_consistent_copy(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    source, target = new_database(postgres_server), new_database(postgres_server)
    round_trip(source, target, tmp_path)


def _filled(url: str) -> None:
    store = Store(url)
    try:
        store.create_user("kept@example.com", "Kept", "CLIENT")
    finally:
        store.close()


def test_restore_into_a_store_that_holds_rows_is_refused_without_force(tmp_path: Path) -> None:
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _filled(source)
    store = Store(target)
    store.create_user("precious@example.com", "Precious", "CLIENT")
    store.close()
    location = backup(source, str(tmp_path / "backups")).location

    refused = hedge("restore", "--from", location, "--database-url", target, "--quiet")
    forced = None
    assert refused.returncode == 3 and "already holds rows" in refused.stderr and "--force" in refused.stderr
    assert emails(target) == {"precious@example.com"}
    forced = hedge("restore", "--from", location, "--database-url", target, "--force", "--quiet")
    assert forced.returncode == 0, forced.stderr
    assert emails(target) == {"kept@example.com"}


@pytest.mark.postgres
def test_postgres_restore_with_force_replaces_a_newer_schema(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    old, target = new_database(postgres_server), new_database(postgres_server)
    _at_revision(old, "0002")
    location = backup(old, str(tmp_path / "backups")).location
    _filled(target)  # at the newest schema, with rows

    with pytest.raises(BackupError, match="already holds rows"):
        restore(location, target)
    done = restore(location, target, force=True)

    assert done.revision == revision(target) != "0002"
    assert emails(target) == {"seed@example.com"}


def _at_revision(url: str, rev: str) -> None:
    """A store left at an older schema, as an older version of the server would have it."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, rev)
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, role, pc_status, is_active, token_hash, version, "
                    "created_at, updated_at) VALUES ('u1', 'seed@example.com', 'Seed', 'CLIENT', 'OFFLINE', "
                    "true, 'h', 1, '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00')"
                )
            )
    finally:
        engine.dispose()


def test_restore_of_a_backup_from_an_older_schema_migrates_it(tmp_path: Path) -> None:
    old, target = f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'new.db'}"
    _at_revision(old, "0002")
    location = backup(old, str(tmp_path / "backups")).location

    done = restore(location, target)

    assert revision(old) == "0002" and done.revision == revision(target) != "0002"
    assert emails(target) == {"seed@example.com"}


def test_backup_keeps_only_the_newest_backups_of_the_retention(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _filled(url)
    made = [backup(url, str(tmp_path / "b"), keep=2) for _ in range(3)]

    kept = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert kept == sorted(Path(r.location.removeprefix("file://")).name for r in made[1:])
    assert made[2].deleted == (made[0].location,)


def test_restore_of_a_sqlite_backup_into_postgres_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _filled(url)
    location = backup(url, str(tmp_path / "b")).location
    with pytest.raises(BackupError, match="SQLite backup"):
        restore(location, "postgresql://nobody@127.0.0.1:1/none")


def test_restore_of_a_file_that_is_no_backup_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all")
    result = hedge(
        "restore", "--from", str(junk), "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--quiet"
    )
    assert result.returncode == 2 and "neither a SQLite backup nor" in result.stderr


def test_restore_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = hedge("restore", "--from", str(tmp_path / "nope.sqlite3"), "--database-url",
                   f"sqlite:///{tmp_path / 'x.db'}", "--quiet")  # fmt: skip
    assert result.returncode == 2 and "no object" in result.stderr


def test_backup_with_keep_below_one_is_refused(tmp_path: Path) -> None:
    result = hedge(
        "backup", "--database-url", f"sqlite:///{tmp_path / 'h.db'}", "--to", str(tmp_path), "--keep", "0"
    )
    assert result.returncode == 2 and "keep must be at least 1" in result.stderr


def test_backup_to_s3_and_restore_from_it_round_trips(
    tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    url, target = f"sqlite:///{tmp_path / 'h.db'}", f"sqlite:///{tmp_path / 'r.db'}"
    _filled(url)
    env = {**os.environ, "HEDGE_S3_ENDPOINT_URL": s3_endpoint}

    made = hedge("backup", "--database-url", url, "--to", f"s3://{s3_bucket}/nightly", "--quiet", env=env)
    assert made.returncode == 0, made.stderr
    location = made.stdout.strip()
    back = hedge("restore", "--from", location, "--database-url", target, "--quiet", env=env)

    assert location.startswith(f"s3://{s3_bucket}/nightly/hedge-") and location.endswith(".sqlite3")
    assert back.returncode == 0, back.stderr
    assert emails(target) == {"kept@example.com"}


class Terminal(io.StringIO):
    """stderr as a terminal: tqdm draws its bar only there."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_backup_and_restore_on_a_terminal_show_a_progress_bar_unless_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet: bool
) -> None:
    from hedge.cli import main

    url = f"sqlite:///{tmp_path / 'h.db'}"
    _filled(url)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    flags = ["--quiet"] if quiet else []
    made = main(["backup", "--database-url", url, "--to", str(tmp_path / "b"), *flags])
    (written,) = (tmp_path / "b").iterdir()
    backup_bar = terminal.getvalue()
    restored = main(
        ["restore", "--from", str(written), "--database-url", f"sqlite:///{tmp_path / 'r.db'}", *flags]
    )
    restore_bar = terminal.getvalue()[len(backup_bar) :]

    assert made == 0 and restored == 0
    assert ("backup:" in backup_bar and "restore:" in restore_bar) is not quiet
    assert (backup_bar == "" and restore_bar == "") is quiet
