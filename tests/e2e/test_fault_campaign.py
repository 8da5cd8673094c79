"""The fault campaign (bench/faults.py) in its short form: 20 seeded trials of OPEN/CLOSE/trigger
work with one fault each (agent or server killed, EA link cut, paper EA restarted with its unsent
events kept or lost); after every trial the order-truth invariants hold: 0 violations."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("faults", ROOT / "bench" / "faults.py")
assert _spec is not None and _spec.loader is not None
faults = importlib.util.module_from_spec(_spec)
sys.modules["faults"] = faults  # its dataclasses look their module up while they are made
_spec.loader.exec_module(faults)

SEED = 5  # a seed whose 20 trials inject every kind of fault


def _run(tmp_path: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "faults.py"), "--trials", "20", "--seed", str(SEED),
         "--max-outage-s", "1.2", "--settle-s", "8", "--quiet", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=560,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    summary: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def test_fault_campaign_20_trials_every_fault_kind_0_violations(tmp_path: Path) -> None:
    summary = _run(tmp_path)

    assert summary["trials"] == 20
    injected = summary["faults"]
    assert isinstance(injected, dict)
    assert set(injected) == set(faults.FAULTS), injected
    assert sum(injected.values()) == 20
    assert summary["violations"] == 0, json.dumps(summary["firstViolations"], indent=1)
