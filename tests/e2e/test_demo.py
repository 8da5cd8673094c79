"""`hedge demo --scenario-only`: the README's first command runs the seed's flow and says so."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from hedge.client.graphql import GraphQLClient
from hedge.demo import Party, _print_urls, _write_tokens

pytestmark = pytest.mark.e2e


def _scenario(timeout_s: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`hedge demo --scenario-only` on a free port, run to its end."""
    command = [sys.executable, "-m", "hedge.cli", "demo", "--scenario-only", "--port", "0"]
    return subprocess.run(
        [*command, "--timeout-s", str(timeout_s)], capture_output=True, text=True, timeout=90, env=env
    )


def test_demo_scenario_opens_the_hedge_on_user_two_and_exits_zero() -> None:
    done = _scenario(timeout_s=30)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "trail condition met, trigger actions fired" in out
    assert "position B: SELL 0.1 USDJPY OPEN" in out
    assert "action act-001: ENTRY EXECUTED" in out
    assert out.rstrip().endswith("scenario complete: the hedge of position A is open on user 2's account")


def test_demo_scenario_that_cannot_finish_in_time_exits_non_zero_with_the_reason() -> None:
    done = _scenario(timeout_s=0)
    assert done.returncode == 1
    assert "scenario FAILED: position A did not open" in done.stdout


def test_demo_removes_its_folder_and_prints_no_token(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = _scenario(timeout_s=30, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(tmp_path.glob("hedge-demo-*")) == []
    assert "hs_" not in done.stdout + done.stderr
    assert "market moves: USDJPY bid 150.110 at user 1's broker, 150.113 at user 2's" in done.stdout
    # the hedge SELL fills at user 2's bid in the one market both brokers quote: the bid printed last
    # before the fill, or one step either side of it: the market may move again between the trigger
    # and the fill, and the hedge can reach user 2's terminal (a few ms after the trigger) before that
    # terminal has read the move that met the trail (its paper market is polled from a file)
    market = r"USDJPY bid [\d.]+ at user 1's broker, ([\d.]+) at user 2's"
    quoted = re.findall(market + r"|position B: SELL 0\.1 USDJPY OPEN at ([\d.]+)", done.stdout)
    bids = [Decimal(bid) for bid, _ in quoted[: next(i for i, (_, fill) in enumerate(quoted) if fill)]]
    filled = Decimal(next(fill for _, fill in quoted if fill))
    assert bids and abs(filled - bids[-1]) <= Decimal("0.03"), (filled, bids)


def test_demo_keeps_tokens_in_a_file_only_its_user_reads_and_prints_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    party = Party("user 1", "acc", GraphQLClient("http://127.0.0.1:9", "hs_" + "u" * 43))
    path = _write_tokens(tmp_path / "tokens.txt", "hs_" + "a" * 43, [party])
    _print_urls("http://127.0.0.1:8000", path, [])

    shown = capsys.readouterr().out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "hs_" + "a" * 43 in path.read_text() and "hs_" + "u" * 43 in path.read_text()
    assert "hs_" not in shown and str(path) in shown and "http://127.0.0.1:8000/" in shown
