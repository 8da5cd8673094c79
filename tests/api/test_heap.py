"""The server's start-up heap is exempt from garbage collection (hedge.heap)."""

from __future__ import annotations

import gc
import subprocess
import sys


def test_freezing_the_start_up_heap_exempts_the_objects_alive_then() -> None:
    # in a process of its own: freezing this test run's heap would change every later test's GC
    script = (
        "import gc; from hedge import heap; import hedge.api.app\n"
        "frozen = heap.freeze_startup_heap()\n"
        "print(frozen, gc.get_freeze_count())\n"
    )
    argv = [sys.executable, "-c", script]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    frozen, counted = out.stdout.split()
    assert int(frozen) == int(counted) > 50_000  # the modules, the schema: the bulk of the heap
    assert gc.get_freeze_count() == 0  # this process untouched
