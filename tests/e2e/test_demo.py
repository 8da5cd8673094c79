"""`hedge demo --scenario-only`: the README's first command runs the seed's flow and says so."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_scenario_opens_the_hedge_on_user_two_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hedge.cli", "demo", "--scenario-only", "--port", "0", "--timeout-s", "30"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "trail condition met, trigger actions fired" in out
    assert "position B: SELL 0.1 USDJPY OPEN" in out
    assert "action act-001: ENTRY EXECUTED" in out
    assert out.rstrip().endswith("scenario complete: the hedge of position A is open on user 2's account")


def test_demo_scenario_that_cannot_finish_in_time_exits_non_zero_with_the_reason() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hedge.cli", "demo", "--scenario-only", "--port", "0", "--timeout-s", "0"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 1
    assert "scenario FAILED: position A did not open" in done.stdout
