"""Child processes that die with their parent (tests, benchmarks, demos): `spawn`.

A test run killed by a timeout (SIGKILL) runs no fixture finalizer, no atexit handler: every
server, agent and EA it started would live on, holding ports and CPU. `spawn` starts a process
as `subprocess.Popen` does, and on Linux asks the kernel to send it `death_signal` (SIGKILL by
default) the moment its parent goes, whatever way it goes (prctl PR_SET_PDEATHSIG).

The kernel's "parent" is the thread that forked, not the process: a child started from a worker
thread (`asyncio.to_thread`, a thread pool) would be killed when that thread ends, long before the
parent process. So every child is forked from one daemon thread that lives as long as the
process. A parent that has already gone by the time the child sets the signal (a race) is noticed
by comparing the child's parent pid with the one expected; the child then ends at once.

Elsewhere than on Linux `spawn` is plain `subprocess.Popen`. Development support, like
hedge.localservices: the server and the agent never import it.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_Job = tuple[Callable[[], subprocess.Popen[bytes]], "concurrent.futures.Future[subprocess.Popen[bytes]]"]
_jobs: queue.SimpleQueue[_Job] | None = None
_owner_pid = -1  # the process whose thread serves `_jobs` (a forked child needs its own)
_lock = threading.Lock()


def _serve(jobs: queue.SimpleQueue[_Job]) -> None:
    while True:
        start, future = jobs.get()
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(start())
            except BaseException as exc:  # handed to the caller, who raises it
                future.set_exception(exc)


def _spawner() -> queue.SimpleQueue[_Job]:
    global _jobs, _owner_pid
    with _lock:
        if _jobs is None or _owner_pid != os.getpid():
            _jobs, _owner_pid = queue.SimpleQueue(), os.getpid()
            threading.Thread(target=_serve, args=(_jobs,), name="hedge-spawner", daemon=True).start()
        return _jobs


def _die_with(parent_pid: int, death_signal: int) -> Callable[[], None]:
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl

    def in_child() -> None:  # between fork and exec: no allocation-heavy work, no locks
        if prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent_pid:  # the parent went before the signal was set
            os.kill(os.getpid(), death_signal)

    return in_child


def spawn(
    argv: Sequence[str], *, death_signal: int = signal.SIGKILL, **popen: Any
) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(argv, **popen)` whose process gets `death_signal` when this one ends."""
    if not sys.platform.startswith("linux"):
        return subprocess.Popen(argv, **popen)
    if "preexec_fn" in popen:
        raise TypeError("spawn sets preexec_fn itself")
    in_child = _die_with(os.getpid(), death_signal)
    future: concurrent.futures.Future[subprocess.Popen[bytes]] = concurrent.futures.Future()
    _spawner().put((lambda: subprocess.Popen(argv, preexec_fn=in_child, **popen), future))
    return future.result()
