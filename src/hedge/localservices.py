"""Start throw-away PostgreSQL and Redis servers, and `hedge server` processes, on free loopback
ports (tests, benchmarks, demos).

Development support, not run-time code: neither the server nor the agent imports it. It lives in
the package rather than in tests/ because the benchmarks (bench/*.py, run as scripts from a
checkout) need it as much as the tests do, and an installed package is the one place both find.

Both come from the Debian packages (`postgresql`, `redis-server`); `.ci/run` installs them.
PostgreSQL refuses to run as root, so as root initdb and postgres run as the `postgres` user.

Every long-lived process started here (postgres, redis-server, `hedge server`) is started with
`hedge.child_processes.spawn`: it dies with the process that started it, so a test run killed by
a timeout leaves no server behind.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hedge.child_processes import spawn


class ServiceUnavailable(RuntimeError):
    """The server's binaries are not installed, or it did not come up."""


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports. Each is held bound until all are chosen: a port closed right
    after it was chosen can come back from the next bind(0) (100 single calls repeated one about
    a third of the time here), and two listeners given the same port meet the wrong peers."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


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
        self.proc = _start_postmaster(self.argv, log)
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
        """End the server at once (pg_ctl's immediate mode: no checkpoint for data nobody keeps),
        then remove its folder in the background."""
        if self.proc.poll() is None:
            pg_ctl = str(postgres_bin_dir() / "pg_ctl")
            argv = [pg_ctl, "-D", str(self.data_dir / "data"), "stop", "-m", "immediate"]
            subprocess.run(_as_postgres_user(argv), check=False, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        stop_process(self.proc, wait_s=15)
        # a folder of many test databases can take minutes to remove on a busy disk: nothing waits
        subprocess.Popen(["rm", "-rf", str(self.data_dir)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _as_postgres_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _start_postmaster(argv: list[str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """postgres itself as the child (as root: switched to the `postgres` user by Popen, not by
    runuser, whose own process would stand between us and postgres and pass no death signal on).
    SIGQUIT when we die: postgres's immediate shutdown, which ends its backends too."""
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:
        as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    return spawn(argv, death_signal=signal.SIGQUIT, stdout=log, stderr=subprocess.STDOUT, **as_user)


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
    proc = _start_postmaster(argv, log)
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
    proc = spawn(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_port(port, proc, "redis-server")
    return RedisServer(port, proc)


@dataclass
class HedgeServer:
    """A `hedge server` process started by `start_hedge_server`."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    data_dir: Path  # its HEDGE_DATA_DIR: reports and backups land here, never in the user's folder

    def stop(self) -> None:
        """SIGTERM (a clean stop: leases let go, running jobs recorded), then SIGKILL after 10 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


def start_hedge_server(
    database_url: str,
    base_dir: Path,
    *,
    name: str = "server",
    admin_token: str | None = None,
    redis_url: str | None = None,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    wait_s: float = 60.0,
) -> HedgeServer:
    """`hedge server` on a free port, its log in `base_dir/<name>.log` and its data folder
    `base_dir/<name>-data`; returns once /healthz answers 200 (a separate process offers no
    readiness event), or stops it and raises ServiceUnavailable with the log's tail."""
    import httpx  # here: PostgreSQL and Redis alone need none of it

    base_dir.mkdir(parents=True, exist_ok=True)
    log, data_dir = base_dir / f"{name}.log", base_dir / f"{name}-data"
    port = free_port()
    full_env = {**os.environ, "HEDGE_DATA_DIR": str(data_dir), **(env or {})}
    if admin_token is not None:
        full_env["HEDGE_ADMIN_TOKEN"] = admin_token
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", str(port), "--database-url", database_url,
            "--log-level", "warning", *(["--redis-url", redis_url] if redis_url else []), *args]  # fmt: skip
    with log.open("wb") as out:
        proc = spawn(argv, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = HedgeServer(f"http://127.0.0.1:{port}", proc, log, data_dir)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceUnavailable(f"hedge server exited with {proc.returncode}: {_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        time.sleep(0.1)
    server.stop()
    raise ServiceUnavailable(f"hedge server not healthy within {wait_s:g} s: {_tail(log)}")


@contextlib.contextmanager
def hedge_servers(
    database_url: str,
    base_dir: Path,
    names: Sequence[str] = ("a", "b"),
    *,
    admin_token: str | None = None,
    redis_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[list[HedgeServer]]:
    """Several `hedge server` processes on one store (as `start_hedge_server` starts each), all
    stopped on leaving, whatever happened."""
    started: list[HedgeServer] = []
    try:
        for name in names:
            started.append(
                start_hedge_server(
                    database_url, base_dir, name=name, admin_token=admin_token, redis_url=redis_url, env=env
                )
            )
        yield started
    finally:
        for server in started:
            if server.proc.poll() is None:
                server.proc.terminate()
        for server in started:
            server.stop()


def _tail(log: Path, chars: int = 2000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"
