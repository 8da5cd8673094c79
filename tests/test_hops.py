"""The hop stamps of bench/hedge_latency.py: off unless HEDGE_TRACE_HOPS asks for them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = "from hedge import hops; print(hops.ON)\nif hops.ON: hops.stamp('a1.decided', 'p1', 42)"


def _run(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEDGE_TRACE_HOPS")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_hops_without_setting_are_off_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "hops.log"
    assert _run({"HEDGE_TRACE_HOPS_FILE": str(out)}) == "False"
    assert not out.exists()


def test_hops_set_to_zero_are_off(tmp_path: Path) -> None:
    assert _run({"HEDGE_TRACE_HOPS": "0", "HEDGE_TRACE_HOPS_FILE": str(tmp_path / "h")}) == "False"


def test_hops_on_append_one_line_per_stamp(tmp_path: Path) -> None:
    out = tmp_path / "hops.log"
    out.write_text("1 s.received p0\n")
    assert _run({"HEDGE_TRACE_HOPS": "1", "HEDGE_TRACE_HOPS_FILE": str(out)}) == "True"
    assert out.read_text().splitlines() == ["1 s.received p0", "42 a1.decided p1"]


STALL = """
import asyncio, time
from hedge import hop_probes

async def main():
    hop_probes.start(asyncio.get_running_loop())
    await asyncio.sleep(0.02)
    time.sleep(0.08)           # the loop runs no callback for 80 ms
    await asyncio.sleep(0.05)  # the watchdog sees it ticking again

asyncio.run(main())
"""


def test_probes_stamp_a_blocked_event_loop_with_its_length_and_where_it_was(tmp_path: Path) -> None:
    out = tmp_path / "hops.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEDGE_TRACE_HOPS")}
    env = {**clean, "HEDGE_TRACE_HOPS": "1", "HEDGE_TRACE_HOPS_FILE": str(out)}
    subprocess.run([sys.executable, "-c", STALL], env=env, check=True, timeout=60)
    stalls = [line.split()[2] for line in out.read_text().splitlines() if line.split()[1] == "p.stall"]
    assert stalls  # the longest is the sleep (a loaded machine may add short ones of its own)
    pid, micros, loop_cpu, _, where = max((s.split("/", 4) for s in stalls), key=lambda f: int(f[1]))
    assert int(pid) > 0 and 70_000 <= int(micros) < 1_000_000
    assert int(loop_cpu) < int(micros)  # asleep, not busy: the loop's CPU tells the two apart
    assert "main" in where
