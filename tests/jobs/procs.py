"""Real `hedge server` processes for the jobs' tests (leader rule, backups while writing, restarts)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from hedge.localservices import free_port

ADMIN_TOKEN = "admin-token-for-the-jobs-tests"


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
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


def start_server(database_url: str, log: Path, env: dict[str, str] | None = None) -> ServerProcess:
    """Start `hedge server` on a free port and wait until /healthz answers 200."""
    port = free_port()
    full_env = {**os.environ, "HEDGE_ADMIN_TOKEN": ADMIN_TOKEN, **(env or {})}
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", str(port), "--database-url", database_url,
            "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(argv, env=full_env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = ServerProcess(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hedge server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # a separate process offers no readiness event
    server.stop()
    raise AssertionError(f"hedge server not healthy within 30 s: {log.read_text()[-2000:]}")
