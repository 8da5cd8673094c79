"""One server per SQLite file: the file's path as the server will use it, and a lock that makes a
second server on the same file refuse to start (several servers need PostgreSQL).

The lock is an OS file lock on `<database>.lock` (filelock: fcntl on POSIX, msvcrt on Windows), so
it goes with the process that holds it, however that process ends.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy.engine import make_url


class StoreInUse(RuntimeError):
    """Another server process holds the SQLite file."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"another hedge server is already using the SQLite store {path} (its lock {path}.lock is held); "
            "run one server per SQLite file, or PostgreSQL (HEDGE_DATABASE_URL=postgresql://...) for several"
        )
        self.path = path


def sqlite_path(url: str) -> Path | None:
    """The absolute path of a SQLite URL's file; None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()


def absolute_url(url: str) -> str:
    """The URL with a relative SQLite path made absolute (against the working directory now)."""
    path = sqlite_path(url)
    if path is None:
        return url
    return make_url(url).set(database=str(path)).render_as_string(hide_password=False)


class StoreLock:
    """Held from just before the store is opened until the server stops."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock", timeout=0, is_singleton=False)

    @classmethod
    def acquire(cls, url: str) -> StoreLock | None:
        """Lock the SQLite file of `url` (creating its folder); None when the store is not a file.

        Raises StoreInUse when another process holds it."""
        path = sqlite_path(url)
        if path is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        held = cls(path)
        try:
            held._lock.acquire()
        except Timeout:
            raise StoreInUse(path) from None
        return held

    def release(self) -> None:
        self._lock.release()
