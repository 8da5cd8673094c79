"""Shared fixtures: real PostgreSQL and Redis servers started by the tests, and stores on both engines.

With CI=true a missing PostgreSQL or Redis fails the tests that need it instead of skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from hedge.localservices import (
    PostgresServer,
    RedisServer,
    ServiceUnavailable,
    start_postgres,
    start_redis,
)
from hedge.store.repository import Store

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
S = TypeVar("S", PostgresServer, RedisServer)
CONTRACT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "contract"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services must run here)")
    pytest.skip(reason)


def _started(start: Callable[[], S]) -> S:
    """A throwaway server from `start`; a machine without the service skips (fails with CI=true)."""
    try:
        return start()
    except ServiceUnavailable as exc:
        _unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = _started(start_postgres)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = _started(start_redis)
    yield server
    server.stop()


def new_database(server: PostgresServer) -> str:
    """The URL of a new, empty database of its own on `server`."""
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return new_database(postgres_server)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hedge.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store, once per engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hedge.db'}"
    return new_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    yield opened
    opened.close()
