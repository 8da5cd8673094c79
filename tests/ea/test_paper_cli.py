"""`hedge paper-ea` on the command line: settings checks, exit codes, a replay run against an agent."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hedge.cli import build_parser, main
from hedge.ea.paper_cli import EXIT_AUTH_REJECTED, EXIT_BAD_SETTINGS, config_from_args
from hedge.ea.protocol import CLOSE_AUTH_FAILED, AuthFailed, ErrorCode, Price, Subscribe

if TYPE_CHECKING:
    from tests.ea.conftest import AgentDouble

BASE = ["paper-ea", "--ea-token", "T", "--account-number", "12345", "--server-name", "Paper-Demo 1"]


def test_paper_ea_arguments_make_a_config() -> None:
    args = build_parser().parse_args(
        [*BASE, "--symbols", "usdjpy, XAUUSD", "--balance", "500.50", "--reject-every", "3",
         "--reject-code", "TIMEOUT", "--stop-out-level", "20", "--platform", "MT4"]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.symbols == ("USDJPY", "XAUUSD") and config.balance == Decimal("500.50")
    assert config.rejects.every_nth == 3 and config.rejects.code is ErrorCode.TIMEOUT
    assert config.stop_out_level_pct == Decimal("20") and "T" not in repr(config).split("ea_token")[0][-3:]
    assert "ea_token" not in repr(config)


def test_paper_ea_bad_number_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*BASE, "--balance", "lots"])
    assert "must be a number" in capsys.readouterr().err


def test_paper_ea_missing_replay_file_exits_with_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*BASE, "--feed", f"replay:{tmp_path / 'missing.csv'}"])
    assert code == EXIT_BAD_SETTINGS and "missing.csv" in capsys.readouterr().err


async def test_paper_ea_wrong_token_exits_non_zero_with_clear_message(agent: AgentDouble) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hedge.cli", *BASE, "--agent", agent.url, "--feed", "static",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        ws = await agent.connection(timeout_s=20)
        await agent.recv(ws)
        await agent.send(ws, AuthFailed("invalid EA token"))
        await ws.close(CLOSE_AUTH_FAILED, "invalid EA token")
        async with asyncio.timeout(10):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == EXIT_AUTH_REJECTED
    assert "rejected this EA's AUTH: invalid EA token" in stderr.decode()


async def test_paper_ea_replay_feed_streams_the_file_prices(agent: AgentDouble, tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("1,USDJPY,150.000,150.010\n2,USDJPY,150.100,150.110\n3,USDJPY,150.200,150.210\n")
    from hedge.ea.paper import PaperEA
    from hedge.ea.paper_config import PaperConfig

    ea = PaperEA(PaperConfig("1", "S", "T", agent.url, feed=f"replay:{path}", tick_interval_ms=20))
    task = asyncio.create_task(ea.run())
    try:
        ws, _ = await agent.accept()
        await agent.send(ws, Subscribe(("USDJPY",)))
        seen: list[Decimal] = []
        while len(seen) < 3:
            price = await agent.expect(ws, Price)
            if not seen or seen[-1] != price.bid:
                seen.append(price.bid)
        assert [str(b) for b in seen] == ["150.000", "150.100", "150.200"]
    finally:
        ea.stop()
        await task


def test_paper_ea_fault_and_market_flags_make_a_config(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [*BASE, "--margin-mode", "NETTING", "--partial-fill-ratio", "0.5", "--timeout-after-fill-every", "3",
         "--placed-delay-ms", "200", "--state-file", str(tmp_path / "s.json"), "--drop-unsent-on-restart",
         "--market-file", str(tmp_path / "m.json"), "--market-offset-pips", "0.3", "--comment-limit", "31",
         "--commission-per-lot", "3.5", "--swap-per-lot-day", "-1.2", "--control-file", str(tmp_path / "c")]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.margin_mode == "NETTING" and config.faults.partial_fill_ratio == Decimal("0.5")
    assert (config.faults.timeout_after_fill_every, config.faults.placed_delay_ms) == (3, 200)
    assert config.state_file == tmp_path / "s.json" and config.drop_unsent_on_restart
    assert config.market_file == tmp_path / "m.json" and config.market_offset_pips == Decimal("0.3")
    assert config.costs.commission_per_lot == Decimal("3.5") and config.comment_limit == 31


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--partial-fill-ratio", "0"], "--partial-fill-ratio"),
        (["--partial-fill-ratio", "1.5"], "--partial-fill-ratio"),
        (["--timeout-after-fill-rate", "2"], "--timeout-after-fill-rate"),
        (["--timeout-after-fill-every", "0"], "--timeout-after-fill-every"),
        (["--drop-unsent-on-restart"], "--drop-unsent-on-restart"),
        (["--market-offset-pips", "0.2"], "--market-offset-pips"),
        (["--comment-limit", "0"], "--comment-limit"),
    ],
)
def test_paper_ea_bad_fault_flag_exits_with_bad_settings_naming_it(
    options: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BASE, *options]) == EXIT_BAD_SETTINGS
    assert named in capsys.readouterr().err


def test_paper_ea_broken_state_file_exits_with_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "s.json"
    state.write_text("{not json", encoding="utf-8")
    assert main([*BASE, "--state-file", str(state)]) == EXIT_BAD_SETTINGS
    assert "is not a paper EA state file" in capsys.readouterr().err


def test_paper_ea_market_file_with_replay_feed_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ticks = tmp_path / "t.csv"
    ticks.write_text("1,USDJPY,150.000,150.010\n", encoding="utf-8")
    assert (
        main([*BASE, "--feed", f"replay:{ticks}", "--market-file", str(tmp_path / "m.json")])
        == EXIT_BAD_SETTINGS
    )
    assert "--market-file" in capsys.readouterr().err
