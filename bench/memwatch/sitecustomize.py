"""Memory probes for `hedge server`, loaded only when this folder is on PYTHONPATH and
HEDGE_MEMWATCH_DIR names a folder (costs nothing otherwise: no import, no thread).

Run: `PYTHONPATH=bench/memwatch HEDGE_MEMWATCH_DIR=/tmp/mw uv run python bench/scale.py ...`.
Every HEDGE_MEMWATCH_EVERY_S (default 5 s) the server appends one JSON line to
`<dir>/server-<pid>.jsonl`: RSS; glibc's heap (mallinfo2: in use, free, mmapped); the resident
anonymous memory by what made it (glibc's main heap, its per-thread arenas, Python's arenas with
other mmapped blocks, stacks); Python's allocated blocks; the objects the collector tracks by
type; threads. HEDGE_MEMWATCH_ARENA_MAX=N sets glibc's M_ARENA_MAX at start (MALLOC_ARENA_MAX=N
for this process alone). HEDGE_MEMWATCH_TRACE=1 adds tracemalloc (from
HEDGE_MEMWATCH_TRACE_AFTER_S, default 30 s) with a snapshot file every HEDGE_MEMWATCH_SNAPSHOT_S
(default 15 s) for `bench/memwatch/compare.py`; under the full scale run it slowed the server
until the bench's requests timed out, so use it on smaller runs.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import sys
import threading
import time

M_ARENA_MAX = -8


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")
    ]  # fmt: skip


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _threads() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def _anonymous_rss_kb() -> dict[str, int]:
    """Resident kB of the anonymous mappings by what made them: Python's object allocator
    (pymalloc arenas, 1 MiB mappings), glibc's main heap ([heap]) and its per-thread arenas
    (64 MiB-aligned heaps), thread stacks (8 MiB), other (larger mallocs mmapped on their own)."""
    out = {"pymalloc": 0, "glibc_main": 0, "glibc_thread_arenas": 0, "stacks": 0, "other_anon": 0}
    kind = ""
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                fields = line.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                size_kb, path = (end - start) // 1024, fields[5] if len(fields) > 5 else ""
                if path == "[heap]":
                    kind = "glibc_main"
                elif path:
                    kind = ""
                elif size_kb == 1024:
                    kind = "pymalloc"
                elif start % 2**26 == 0:
                    kind = "glibc_thread_arenas"
                elif size_kb == 8192:
                    kind = "stacks"
                else:
                    kind = "other_anon"
            elif first == "Rss:" and kind:
                out[kind] += int(line.split()[1])
    return out


def _arenas(libc: ctypes.CDLL, folder: str) -> int:
    """How many malloc arenas glibc has made (main + per-thread), from malloc_info's XML."""
    path = os.path.join(folder, f".malloc-{os.getpid()}.xml")
    libc.fopen.restype = ctypes.c_void_p
    stream = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    with open(path) as f:
        return f.read().count("<heap nr=")


def _watch(folder: str, every_s: float, snapshot_s: float, trace: bool) -> None:
    import tracemalloc

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    out = os.path.join(folder, f"server-{os.getpid()}.jsonl")
    started = time.monotonic()
    if trace:  # traced from the start, the imports alone take minutes: start once it serves
        time.sleep(float(os.environ.get("HEDGE_MEMWATCH_TRACE_AFTER_S", "30")))
        tracemalloc.start(int(os.environ.get("HEDGE_MEMWATCH_FRAMES", "12")))
    next_snapshot = time.monotonic() + snapshot_s
    n = 0
    while True:
        time.sleep(every_s)
        now = time.monotonic()
        info = libc.mallinfo2()
        types = collections.Counter(type(o).__name__ for o in gc.get_objects())
        line = {
            "t_s": round(now - started, 1),
            "rss_mb": round(_rss_kb() / 1024, 1),
            "malloc_in_use_mb": round(info.uordblks / 2**20, 1),
            "malloc_free_mb": round(info.fordblks / 2**20, 1),
            "malloc_arena_mb": round(info.arena / 2**20, 1),
            "malloc_mmapped_mb": round(info.hblkhd / 2**20, 1),
            "threads": _threads(),
            "malloc_arenas": _arenas(libc, folder),
            "anon_rss_mb": {k: round(v / 1024, 1) for k, v in _anonymous_rss_kb().items()},
            "py_blocks": sys.getallocatedblocks(),
            "gc_objects": sum(types.values()),
            "gc_frozen": gc.get_freeze_count(),
            "types": dict(types.most_common(25)),
        }
        if trace:
            current, peak = tracemalloc.get_traced_memory()
            line["traced_mb"], line["traced_peak_mb"] = round(current / 2**20, 1), round(peak / 2**20, 1)
            if now >= next_snapshot:
                next_snapshot = now + snapshot_s
                n += 1
                path = os.path.join(folder, f"server-{os.getpid()}-{n:02d}-{int(now - started)}s.snap")
                tracemalloc.take_snapshot().dump(path)
                line["snapshot"] = path
        with open(out, "a") as f:
            f.write(json.dumps(line) + "\n")


def _start() -> None:
    folder = os.environ.get("HEDGE_MEMWATCH_DIR")
    argv = getattr(sys, "orig_argv", sys.argv)
    if not folder or "hedge.cli" not in argv or "server" not in argv:
        return
    os.makedirs(folder, exist_ok=True)
    arena_max = os.environ.get("HEDGE_MEMWATCH_ARENA_MAX")
    if arena_max:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, int(arena_max))
    trace = os.environ.get("HEDGE_MEMWATCH_TRACE") == "1"
    every_s = float(os.environ.get("HEDGE_MEMWATCH_EVERY_S", "5"))
    snapshot_s = float(os.environ.get("HEDGE_MEMWATCH_SNAPSHOT_S", "15"))
    threading.Thread(
        target=_watch, args=(folder, every_s, snapshot_s, trace), name="memwatch", daemon=True
    ).start()


_start()
