"""Hop stamps of the hedge path, for `bench/hedge_latency.py --hops` (a debug aid, off by default).

With `HEDGE_TRACE_HOPS=1` each server and agent process appends one line per stamp,
`<monotonic ns> <hop> <key>`, to `HEDGE_TRACE_HOPS_FILE` (default `hedge-hops.log` in the working
directory). CLOCK_MONOTONIC is one clock for every process of the machine, so the bench can subtract
stamps of different processes. Off, a call site costs one global read: every stamp is written as
`if hops.ON: hops.stamp(...)`. The key is the row id the hop concerns (a position or an action).
"""

from __future__ import annotations

import os
import time

ON = os.environ.get("HEDGE_TRACE_HOPS", "") not in ("", "0")
_fd: int | None = None
frame_ns = 0  # when the agent's gateway received the EA frame it is handling now (ON only)


def stamp(hop: str, key: object, at_ns: int | None = None) -> None:
    """Append one stamp; `at_ns` when the moment was taken earlier (default: now)."""
    global _fd
    now = time.monotonic_ns() if at_ns is None else at_ns
    if _fd is None:
        path = os.environ.get("HEDGE_TRACE_HOPS_FILE", "hedge-hops.log")
        _fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(_fd, f"{now} {hop} {key}\n".encode())  # one write per line: lines of processes never mix
