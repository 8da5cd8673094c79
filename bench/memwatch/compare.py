"""Compare two tracemalloc snapshots of `bench/memwatch/sitecustomize.py`: what grew, by
allocation site and by traceback. Run: `uv run python bench/memwatch/compare.py OLD.snap NEW.snap [N]`.
"""

from __future__ import annotations

import sys
import tracemalloc


def main() -> None:
    old, new = tracemalloc.Snapshot.load(sys.argv[1]), tracemalloc.Snapshot.load(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    drop = tracemalloc.Filter(False, tracemalloc.__file__)
    old, new = old.filter_traces([drop]), new.filter_traces([drop])
    total_old = sum(s.size for s in old.statistics("filename"))
    total_new = sum(s.size for s in new.statistics("filename"))
    print(f"traced: {total_old / 2**20:.1f} -> {total_new / 2**20:.1f} MB")
    print("== by line")
    for stat in new.compare_to(old, "lineno")[:top]:
        print(f"{stat.size_diff / 1024:+9.1f} kB {stat.count_diff:+7d} blocks  {stat.traceback[0]}")
    print("== by traceback")
    for stat in new.compare_to(old, "traceback")[: top // 2]:
        print(f"{stat.size_diff / 1024:+9.1f} kB {stat.count_diff:+7d} blocks")
        for frame in stat.traceback.format()[-16:]:
            print("    " + frame)


if __name__ == "__main__":
    main()
