"""Backups of the store and their restore.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database page by page
while the server keeps writing; the copy is one consistent snapshot. PostgreSQL: `pg_dump` in
its custom format (`-Fc`, compressed, restored with `pg_restore`). A backup is written to a
folder or to S3 (hedge.jobs.objectstore) as `hedge-<UTC time>.sqlite3` or `.pgdump`; after a new
one is written, all but the newest `keep` are deleted.

Restore refuses a target that already holds rows unless forced, and migrates what it restored
to the newest schema (a backup from an older version comes back upgraded).
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hedge.jobs.objectstore import ObjectStore, open_store, split_location
from hedge.store.engine import make_engine, normalize_url
from hedge.store.migrate import upgrade

PREFIX = "hedge-"
SQLITE_SUFFIX = ".sqlite3"
PG_SUFFIX = ".pgdump"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
ROW_TABLES = ("users", "accounts", "positions", "actions")

Progress = Callable[[int, int], None]  # (done, total) in pages or bytes


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    location: str
    size_bytes: int
    deleted: tuple[str, ...]  # older backups removed by the retention


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).drivername.startswith("sqlite")


def sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError(f"a SQLite backup needs a database file, was {database_url!r}")
    return Path(database)


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: the newest /usr/lib/postgresql/*/bin, else the PATH."""
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client)")
    return found


def libpq_dsn(database_url: str) -> str:
    return make_url(normalize_url(database_url)).set(drivername="postgresql").render_as_string(False)


def backup(
    database_url: str,
    destination: str,
    *,
    keep: int = 7,
    endpoint_url: str | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> BackupResult:
    """Write a backup of the store to `destination` (a folder or s3://bucket/prefix)."""
    if keep < 1:
        raise BackupError(f"keep must be at least 1, was {keep}")
    target = open_store(destination, endpoint_url)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    sqlite = is_sqlite(database_url)
    name = f"{PREFIX}{stamp}{SQLITE_SUFFIX if sqlite else PG_SUFFIX}"
    with tempfile.TemporaryDirectory(prefix="hedge-backup-") as work:
        local = Path(work) / name
        if sqlite:
            _sqlite_backup(sqlite_path(database_url), local, progress)
        else:
            _pg_dump(database_url, local, progress)
        size = local.stat().st_size
        location = target.put_file(name, local)
    return BackupResult(location, size, tuple(prune_backups(target, keep)))


def prune_backups(target: ObjectStore, keep: int) -> list[str]:
    """Delete all but the newest `keep` backups (their names sort by time)."""
    ours = [k for k in target.keys(PREFIX) if "/" not in k and k.endswith((SQLITE_SUFFIX, PG_SUFFIX))]
    old = ours[:-keep] if len(ours) > keep else []
    for key in old:
        target.delete(key)
    return [target.location(k) for k in old]


def _sqlite_backup(source: Path, target: Path, progress: Progress | None) -> None:
    if not source.exists():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:

        def report(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        # 256 pages a step: the server's writers get the lock between steps
        src.backup(dst, pages=256, progress=report, sleep=0.005)
    finally:
        dst.close()
        src.close()


def _pg_dump(database_url: str, target: Path, progress: Progress | None) -> None:
    argv = [pg_tool("pg_dump"), "-Fc", "--no-owner", "--verbose", "-f", str(target), libpq_dsn(database_url)]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines: list[str] = []
    for line in process.stderr:  # --verbose names each object as it is dumped
        lines.append(line.rstrip())
        if progress is not None:
            progress(len(lines), 0)
    if process.wait() != 0:
        raise BackupError("pg_dump failed: " + " | ".join(lines[-5:]))


# ------------------------------------------------------------------------------------------ restore


@dataclass(frozen=True, slots=True)
class RestoreResult:
    source: str
    database_url: str
    revision: str


def holds_rows(database_url: str) -> bool:
    """Whether the target store has any user, account, position or action."""
    if is_sqlite(database_url) and not sqlite_path(database_url).exists():
        return False
    engine = make_engine(database_url)
    try:
        try:
            present = set(inspect(engine).get_table_names())
        except OperationalError as exc:
            raise BackupError(f"cannot reach the store at {_shown(database_url)}: {exc.orig}") from None
        with engine.connect() as conn:
            for table in ROW_TABLES:
                if table in present and conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():
                    return True
        return False
    finally:
        engine.dispose()


def restore(
    source: str,
    database_url: str,
    *,
    force: bool = False,
    endpoint_url: str | None = None,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore the backup at `source` (a file or s3://...) into `database_url`, then migrate it."""
    folder, key = split_location(source)
    with tempfile.TemporaryDirectory(prefix="hedge-restore-") as work:
        local = Path(work) / (key or "backup")
        open_store(folder, endpoint_url).get_file(key, local)
        with local.open("rb") as f:
            head = f.read(16)
        if head.startswith(SQLITE_MAGIC) and not is_sqlite(database_url):
            raise BackupError("that file is a SQLite backup; restore it into a sqlite:/// URL")
        if head.startswith(PG_MAGIC) and is_sqlite(database_url):
            raise BackupError("that file is a PostgreSQL dump; restore it into a postgresql:// URL")
        if not head.startswith((SQLITE_MAGIC, PG_MAGIC)):
            raise BackupError(f"{source} is neither a SQLite backup nor a pg_dump custom-format file")
        if holds_rows(database_url) and not force:
            raise BackupError(
                f"the store at {_shown(database_url)} already holds rows; restoring would overwrite them. "
                "Stop the server, and pass --force to replace them."
            )
        if head.startswith(SQLITE_MAGIC):
            _sqlite_restore(local, sqlite_path(database_url), progress)
        else:
            _pg_restore(local, database_url, replace=force)
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            revision = str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        engine.dispose()
    return RestoreResult(source, _shown(database_url), revision)


def _sqlite_restore(backup_file: Path, target: Path, progress: Progress | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:

        def report(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        src.backup(dst, pages=1024, progress=report)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _pg_restore(dump: Path, database_url: str, *, replace: bool) -> None:
    if replace:  # everything of the old store goes, also tables the backup does not know
        engine = make_engine(database_url)
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
    argv = [pg_tool("pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error",
            "-d", libpq_dsn(database_url), str(dump)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError("pg_restore failed: " + done.stderr.strip()[-800:])


def _shown(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)
