"""The scale run (bench/scale.py) in its short form: 4 users with their agents (in 2 shared host
processes) and paper EAs, 40 OPEN positions with trails opened through the system, ticks on
every EA, and hedges fired across users for a few seconds: every triggered hedge opened exactly
once at its terminal, and the server's OPEN positions are the terminals' (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

ROOT = Path(__file__).resolve().parents[2]


def _run(engine: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--engines", engine, "--users", "4",
         "--positions", "40", "--seconds", "4", "--trigger-rate", "4", "--rates", "400",
         "--floor-triggers", "10"],
        capture_output=True, text=True, timeout=380,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_short_scale_run_opens_every_triggered_hedge_once_and_books_agree(engine: str) -> None:
    lines = _run(engine)

    if any("skipped" in line for line in lines) and not os.environ.get("CI"):
        pytest.skip(f"{engine} not available here: {lines}")
    setup, step, books = lines
    assert setup["positions"] == 40
    assert step["hedges"] and step["late"] == 0
    processes = step["processes"]
    assert isinstance(processes, dict) and set(processes) == {"server", "agents", "bench_eas"}
    saturation = step["saturates_first"]
    assert isinstance(saturation, dict) and isinstance(saturation["first"], str)
    assert set(saturation["cpu_pct_of_one_core_per_process"]) == set(processes)
    assert 0 < float(str(step["machine_cpu_busy_pct"])) <= 100  # the cores' share over the step
    assert books["hedges"] == step["hedges"]
    assert books["not_held"] == 0, books["missing"]
    assert books["doubled"] == 0
    assert books["open_frames_repeated"] == 0
    assert books["trigger_positions_stalled"] == 0
    expected = 40 + 2 * int(str(books["hedges"]))  # each hedge: its trigger position and the hedge
    assert books["server_open"] == books["held_at_terminals"] == books["expected_open"] == expected
