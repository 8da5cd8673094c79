"""Keep the garbage collector's full passes short in the long-running processes (server, agent),
and the server's C heap from spreading over one glibc arena per worker thread.

A full collection walks every tracked object: in the server that is about 130,000 objects after
start-up (Strawberry's schema, SQLAlchemy, graphql-core), which took 50-280 ms of one thread's
CPU, holding the GIL; under `bench/hedge_latency.py --hops` it was the p99 stall of the hedge
path (a 166 ms generation-2 pass in the middle of a trigger's commit), and under the priorities
bench (100 accounts pushing figures every second) full passes came every few seconds and took a
status change's p99 from ~20 ms to ~200 ms. `settle()` collects once,
then moves every survivor to the permanent generation (`gc.freeze`), which later passes skip, so
they only walk what was made since. Objects freed by their reference count are freed as before;
a cycle among frozen objects would stay, which is why only the start-up heap (imports, schema,
engine) is frozen: once at start, once more when the first connections' lazy state exists.

`limit_malloc_arenas(n)`: glibc gives each new thread its own malloc arena (up to 8 per core),
and memory freed in an arena stays with it. The server's store calls run in up to 40 worker
threads that come and go with the load; under the scale run the per-thread arenas held 1 -> 80 MB
(their free share growing, the Python heap flat) and the server's RSS grew all along; with 2
arenas it levelled off (docs/performance.md, "Session 6 (memory)").
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import threading
import time

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
SETTLE_AGAIN_S = 15.0  # after start: the first connections have built their lazy state by then


def settle() -> int:
    """Collect what is garbage now, then freeze the rest; how many objects are frozen in all."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("heap settled: %d objects frozen (%.1f ms)", frozen, (time.perf_counter() - started) * 1000)
    return frozen


def settle_now_and_later(again_s: float = SETTLE_AGAIN_S) -> threading.Timer:
    """`settle()` now, and once more after `again_s` (on a timer thread; returns the timer)."""
    settle()
    timer = threading.Timer(again_s, settle)
    timer.name = "heap-settle"
    timer.daemon = True
    timer.start()
    return timer


def limit_malloc_arenas(arenas: int) -> bool:
    """Let glibc's malloc use at most `arenas` arenas from now on (threads then share them); True
    when set. Nothing (False) when `arenas` is 0, when MALLOC_ARENA_MAX is in the environment (the
    operator's word, applied by glibc at start), or off glibc (Windows, macOS, musl). Call it
    before threads start: arenas made before it stay."""
    if arenas <= 0 or os.environ.get("MALLOC_ARENA_MAX") or not _glibc():
        return False
    done = bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas) == 1)
    log.debug("malloc arenas limited to %d: %s", arenas, done)
    return done


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):  # no os.confstr (Windows), or not glibc
        return False
