"""Children started for tests and benchmarks die with their parent, however the parent ends."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hedge.child_processes import spawn

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")

# The parent: starts its child from a worker thread that ends before the parent is killed (the
# kernel's "parent" of a child is the thread that forked it), prints the child's pid, then waits.
PARENT = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from hedge import localservices
    from hedge.child_processes import spawn

    def start():
        if sys.argv[1] == "server":
            base = Path(sys.argv[2])
            return localservices.start_hedge_server(f"sqlite:///{base / 'h.db'}", base).proc
        if sys.argv[1] == "redis":
            return localservices.start_redis().proc
        if sys.argv[1] == "postgres":
            server = localservices.start_postgres()
            Path(sys.argv[2], "pg-dir").write_text(str(server.data_dir))
            return server.proc
        return spawn(["sleep", "300"])

    child = asyncio.run(asyncio.to_thread(start))  # the thread pool is shut down on leaving
    print(child.pid, flush=True)
    time.sleep(300)
    """
)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that never comes counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _parent_then_kill(kind: str, tmp_path: Path) -> int:
    """Start the parent, read its child's pid, check the child outlived the starting thread,
    SIGKILL the parent; return the child's pid."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, kind, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(0.3)  # the thread that started it has ended by now: the child must live on
        assert _alive(child), "the child died with the thread that started it, not with its parent"
    finally:
        parent.kill()
        parent.wait(timeout=10)
    return child


@pytest.mark.parametrize("kind", ["plain", "redis", "postgres", "server"])
def test_child_of_a_parent_killed_with_sigkill_is_gone_within_seconds(kind: str, tmp_path: Path) -> None:
    needs = {"redis": shutil.which("redis-server"), "postgres": glob.glob("/usr/lib/postgresql/*/bin/initdb")}
    if kind in needs and not needs[kind] and os.environ.get("CI") != "true":
        pytest.skip(f"{kind} is not installed")
    child = _parent_then_kill(kind, tmp_path)
    gone = _wait_gone(child, timeout_s=10)
    if not gone:  # do not leave it behind for the next test run
        os.kill(child, signal.SIGKILL)
    if (tmp_path / "pg-dir").exists():
        shutil.rmtree((tmp_path / "pg-dir").read_text(), ignore_errors=True)
    assert gone, f"{kind} child {child} outlived its parent"


def test_spawned_child_of_a_living_parent_keeps_running_and_stops_on_request() -> None:
    child = spawn(["sleep", "300"])
    try:
        time.sleep(0.2)
        assert child.poll() is None
    finally:
        child.terminate()
    assert child.wait(timeout=10) == -signal.SIGTERM


def test_spawn_refuses_a_preexec_fn_of_its_own() -> None:
    with pytest.raises(TypeError, match="preexec_fn"):
        spawn(["true"], preexec_fn=lambda: None)
