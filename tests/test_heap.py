"""hedge.heap: the start-up heap frozen out of the collector's passes, nothing else kept alive."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hedge import heap

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


ARENAS = """
import ctypes, os, sys, tempfile, threading
from hedge import heap

limit = int(sys.argv[1])
print(heap.limit_malloc_arenas(limit) if limit else "default")
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
all_allocated = threading.Barrier(9)
done = threading.Event()

def allocate():
    libc.malloc(1000)  # a thread's first malloc picks its arena
    all_allocated.wait()
    done.wait()

threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
all_allocated.wait()
path = os.path.join(tempfile.mkdtemp(), "malloc.xml")
libc.fopen.restype = ctypes.c_void_p
stream = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
done.set()
print(open(path).read().count("<heap nr="))
"""


def _arenas(limit: int, **env: str) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    command = [sys.executable, "-c", ARENAS, str(limit)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60, env=environment)
    said, heaps = done.stdout.split()
    return said, int(heaps)


glibc_only = pytest.mark.skipif(not heap._glibc(), reason="malloc arenas are glibc's")


@glibc_only
def test_limit_malloc_arenas_makes_eight_threads_share_two_arenas() -> None:
    assert _arenas(2) == ("True", 2)


@glibc_only
def test_eight_threads_without_the_limit_take_an_arena_each() -> None:
    said, heaps = _arenas(0)
    assert said == "default" and heaps == min(9, 8 * (os.cpu_count() or 1))  # main + one per thread


@glibc_only
def test_limit_malloc_arenas_leaves_an_operators_malloc_arena_max_alone() -> None:
    assert _arenas(2, MALLOC_ARENA_MAX="4") == ("False", 4)
