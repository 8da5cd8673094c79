"""`hedge server` start-up: the store's path resolved and printed, created only when the server is
about to serve, and one server per SQLite file (a second one refuses with a clear message)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import ADMIN_TOKEN

from hedge.api.cli import plain_http_warning
from hedge.config import ServerSettings
from hedge.localservices import free_port
from hedge.store.sqlite_file import StoreInUse, StoreLock


def _server(database_url: str, port: int, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HEDGE_ADMIN_TOKEN": ADMIN_TOKEN}
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", str(port), "--database-url", database_url]
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # another process: no readiness event but /healthz
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server not healthy: {log.read_text()[-2000:]}")


@pytest.fixture
def first(tmp_path: Path) -> Iterator[tuple[Path, int, Path]]:
    """A running server on a relative SQLite URL, started in tmp_path."""
    port, log = free_port(), tmp_path / "first.log"
    proc = _server("sqlite:///data/hedge.db", port, tmp_path, log)
    try:
        _healthy(proc, port, log)
        yield tmp_path / "data" / "hedge.db", port, log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_relative_database_url_is_resolved_and_printed_at_start(first: tuple[Path, int, Path]) -> None:
    database, _, log = first
    assert f"store: SQLite file {database} (new: creating it)" in log.read_text()
    assert database.exists()


def test_second_server_on_the_same_sqlite_file_refuses_to_start(
    first: tuple[Path, int, Path], tmp_path: Path
) -> None:
    database, port, _ = first
    log = tmp_path / "second.log"
    second = _server(f"sqlite:///{database}", free_port(), tmp_path, log)
    assert second.wait(timeout=30) == 2
    assert f"another hedge server is already using the SQLite store {database}" in log.read_text()
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200  # the first goes on


def test_server_on_a_port_in_use_exits_and_creates_no_database(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        log = tmp_path / "server.log"
        proc = _server(f"sqlite:///{tmp_path / 'hedge.db'}", port, tmp_path, log)
        assert proc.wait(timeout=30) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in log.read_text()
    assert not (tmp_path / "hedge.db").exists() and not (tmp_path / "hedge.db.lock").exists()


def test_store_lock_in_one_process_second_acquire_refused_and_free_after_release(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'hedge.db'}"
    held = StoreLock.acquire(url)
    assert held is not None and (tmp_path / "sub").is_dir()
    with pytest.raises(StoreInUse, match="run one server per SQLite file"):
        StoreLock.acquire(url)
    held.release()
    again = StoreLock.acquire(url)
    assert again is not None
    again.release()


def test_store_lock_for_postgresql_or_memory_is_none() -> None:
    assert StoreLock.acquire("postgresql://hedge@db/hedge") is None
    assert StoreLock.acquire("sqlite://") is None


def test_default_database_is_hedge_db_in_the_data_folder(tmp_path: Path) -> None:
    settings = ServerSettings.from_env({"HEDGE_DATA_DIR": str(tmp_path / "d")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'd' / 'hedge.db'}"
    default = ServerSettings.from_env({})
    assert Path(default.data_dir).is_absolute() and default.database_url.endswith("/hedge/hedge.db")


@pytest.mark.parametrize(
    ("host", "tls", "warned"),
    [("0.0.0.0", False, True), ("192.168.1.5", False, True), ("server.lan", False, True),
     ("127.0.0.1", False, False), ("::1", False, False), ("localhost", False, False),
     ("0.0.0.0", True, False)],
)  # fmt: skip
def test_plain_http_beyond_loopback_is_warned_about(host: str, tls: bool, warned: bool) -> None:
    settings = ServerSettings(host=host, tls_cert="c.pem" if tls else "", tls_key="k.pem" if tls else "")
    message = plain_http_warning(settings)
    assert (message is not None) is warned
    assert message is None or "tokens cross the network in clear" in message
