"""Keep the garbage collector's full passes short in the long-running processes (server, agent).

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
"""

from __future__ import annotations

import gc
import logging
import threading
import time

log = logging.getLogger(__name__)

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
