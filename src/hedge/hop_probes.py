"""What else a process did while a hop was slow, for `bench/hedge_latency.py --hops` (debug only).

Started by the server and the agent when HEDGE_TRACE_HOPS is on (never otherwise), it stamps into
the hops file:

- `p.gc <pid>/<generation>/<µs>` at the start of every garbage collection longer than 1 ms;
- `p.stall <pid>/<µs>/<loop CPU µs>/<process CPU µs>/<where>` at the start of every stretch of
  more than STALL_MS in which the event loop ran no callback. Loop CPU near the stretch's length:
  the loop itself was busy (`where` is the loop thread's innermost frames, sampled while it
  lasted); process CPU near it but loop CPU low: another thread of the process held the GIL;
  both low: the process was not running at all (the machine's other load) or waited in a call.

A watchdog thread samples the loop every POLL_MS; the loop bumps a counter on a POLL_MS timer.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import sys
import threading
import time
from typing import Any

from hedge import hops

POLL_MS = 2.0
STALL_MS = 15.0
GC_MS = 1.0
_started: set[int] = set()  # ids of the loops watched already


def start(loop: asyncio.AbstractEventLoop) -> None:
    """Watch `loop` (the running loop, from its own thread) and the collector; once per loop."""
    if id(loop) in _started:
        return
    _started.add(id(loop))
    if not any(getattr(cb, "__name__", "") == "_on_gc" for cb in gc.callbacks):
        gc.callbacks.append(_on_gc)
    watch = _LoopWatch(loop, threading.get_ident())
    watch.beat()
    threading.Thread(target=watch.run, name="hop-probe", daemon=True).start()


_gc_started = [0]


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    now = time.monotonic_ns()
    if phase == "start":
        _gc_started[0] = now
    elif _gc_started[0] and now - _gc_started[0] > GC_MS * 1e6:
        hops.stamp("p.gc", f"{os.getpid()}/{info.get('generation')}/{(now - _gc_started[0]) // 1000}",
                   _gc_started[0])  # fmt: skip


class _LoopWatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, ident: int) -> None:
        self.loop = loop
        self.ident = ident
        self.clock = time.pthread_getcpuclockid(ident)
        self.ticked_ns = time.monotonic_ns()

    def beat(self) -> None:
        self.ticked_ns = time.monotonic_ns()
        self.loop.call_later(POLL_MS / 1000, self.beat)

    def run(self) -> None:
        stalled_since = 0
        loop_cpu = process_cpu = 0
        where: collections.Counter[str] = collections.Counter()
        while not self.loop.is_closed():
            time.sleep(POLL_MS / 1000)
            now, ticked = time.monotonic_ns(), self.ticked_ns
            if now - ticked > STALL_MS * 1e6:
                if not stalled_since:
                    stalled_since = ticked
                frame = sys._current_frames().get(self.ident)
                where[_where(frame)] += 1
                continue
            if stalled_since:
                cpu = (time.clock_gettime_ns(self.clock) - loop_cpu) // 1000
                proc = (time.process_time_ns() - process_cpu) // 1000
                top = where.most_common(1)[0][0] if where else "?"
                hops.stamp("p.stall", f"{os.getpid()}/{(ticked - stalled_since) // 1000}/{cpu}/{proc}/{top}",
                           stalled_since)  # fmt: skip
                stalled_since = 0
                where.clear()
            loop_cpu, process_cpu = time.clock_gettime_ns(self.clock), time.process_time_ns()


def _where(frame: Any, depth: int = 6) -> str:
    """The innermost `depth` frames as `file:line:function<...` (no spaces: one stamp key)."""
    parts: list[str] = []
    while frame is not None and len(parts) < depth:
        code = frame.f_code
        parts.append(f"{os.path.basename(code.co_filename)}:{frame.f_lineno}:{code.co_name}")
        frame = frame.f_back
    return "<".join(parts).replace(" ", "_") or "?"
