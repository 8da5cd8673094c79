"""Start throw-away PostgreSQL and Redis servers on free loopback ports (tests, benchmarks, demos).

Development support, not run-time code: neither the server nor the agent imports it. It lives in
the package rather than in tests/ because the benchmarks (bench/*.py, run as scripts from a
checkout) need it as much as the tests do, and an installed package is the one place both find.

Both come from the Debian packages (`postgresql`, `redis-server`); `.ci/run` installs them.
PostgreSQL refuses to run as root, so as root initdb and postgres run as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


class ServiceUnavailable(RuntimeError):
    """The server's binaries are not installed, or it did not come up."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceUnavailable(f"{what} exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceUnavailable(f"{what} did not listen on port {port} within {timeout_s} s")


def postgres_bin_dir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ServiceUnavailable("PostgreSQL is not installed (apt-get install postgresql)")


@dataclass
class PostgresServer:
    port: int
    data_dir: Path
    proc: subprocess.Popen[bytes]
    _created: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)

    def restart(self) -> None:
        """Stop the server (fast shutdown: every client connection is terminated) and start it
        again on the same port and data, as an operator's restart would."""
        pg_ctl = str(postgres_bin_dir() / "pg_ctl")
        # through pg_ctl: runuser, the parent process here when running as root, passes no SIGINT on
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(self.data_dir / "data"), "stop", "-m", "fast"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)  # fmt: skip
        self.proc.wait(timeout=30)
        log = open(self.data_dir / "postgres.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(_as_postgres_user(self.argv), stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc, "postgres")
        _wait_accepting(self.port, self.proc)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self.url(name)

    def stop(self) -> None:
        stop_process(self.proc, wait_s=15)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _as_postgres_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def start_postgres(*, fsync: bool = False) -> PostgresServer:
    """initdb into a temporary directory and start postgres on a free port (trust auth)."""
    bin_dir = postgres_bin_dir()
    base = Path(tempfile.mkdtemp(prefix="hedge-pg-"))
    data_dir = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(
        _as_postgres_user(
            [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    port = free_port()
    argv = [
        str(bin_dir / "postgres"),
        "-D", str(data_dir),
        "-p", str(port),
        "-k", str(base),
        "-c", "listen_addresses=127.0.0.1",
        "-c", f"fsync={'on' if fsync else 'off'}",
        "-c", "max_connections=300",
    ]  # fmt: skip
    log = open(base / "postgres.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(_as_postgres_user(argv), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, proc, "postgres")
        _wait_accepting(port, proc)
    except ServiceUnavailable:
        proc.kill()
        raise
    return PostgresServer(port, base, proc, argv=argv)


def _wait_accepting(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Listening is not ready: until recovery ends, connections fail with 'the database system is
    starting up'. Wait until one is accepted."""
    import psycopg

    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.OperationalError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                message = f"postgres on port {port} does not accept connections: {exc}"
                raise ServiceUnavailable(message) from exc
            time.sleep(0.05)


def stop_process(proc: subprocess.Popen[bytes], wait_s: float) -> None:
    """Ask a server process to end (SIGTERM); kill it when it has not ended within `wait_s`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop_process(self.proc, wait_s=10)


def start_redis(port: int | None = None) -> RedisServer:
    """redis-server on a free (or given) loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceUnavailable("Redis is not installed (apt-get install redis-server)")
    port = port or free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_port(port, proc, "redis-server")
    return RedisServer(port, proc)
