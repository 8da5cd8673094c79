"""hedge.heap: the start-up heap frozen out of the collector's passes, nothing else kept alive."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc, weakref
from hedge import heap

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)

before = cycle()                      # garbage made before the settle
frozen = heap.settle()
print(before() is None, frozen == gc.get_freeze_count() > 0)
after = cycle()                       # garbage made after it: still collected
gc.collect()
print(after() is None)
kept = Node()
print(gc.is_tracked(kept), len(gc.get_objects(2)) < frozen)
"""


def _run(code: str) -> list[str]:
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.split("\n")


def test_settle_collects_garbage_made_before_and_freezes_the_survivors() -> None:
    first, _, _ = _run(PROBE)[:3]
    assert first == "True True"


def test_settle_leaves_garbage_made_afterwards_to_the_collector() -> None:
    lines = _run(PROBE)
    assert lines[1] == "True"
    assert lines[2] == "True True"  # new objects are tracked; the frozen ones are no longer walked


def test_settle_now_and_later_settles_again_on_its_timer() -> None:
    code = (
        "import gc, time\nfrom hedge import heap\n"
        "timer = heap.settle_now_and_later(0.05)\nfirst = gc.get_freeze_count()\n"
        "junk = [[i] for i in range(1000)]\ntimer.join(10)\n"
        "print(timer.daemon, gc.get_freeze_count() >= first + 1000)"
    )
    assert _run(code)[0] == "True True"


def test_the_servers_start_up_heap_is_the_bulk_of_what_settle_freezes() -> None:
    # in a process of its own: freezing this test run's heap would change every later test's GC
    script = (
        "import gc; from hedge import heap; import hedge.api.app\nprint(heap.settle(), gc.get_freeze_count())"
    )
    frozen, counted = _run(script)[0].split()
    assert int(frozen) == int(counted) > 50_000  # the modules, the schema, SQLAlchemy: the bulk of the heap
