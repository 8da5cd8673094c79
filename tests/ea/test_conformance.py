"""The EA conformance kit: all rules pass against the paper EA, and the right ones fail against broken EAs."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.ea.fake_ea import FakeEA, Flaws
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hedge.cli import build_parser, main
from hedge.ea.conformance import RULES, Listener
from hedge.ea.conformance_cli import EXIT_BAD_SETTINGS, EXIT_FAILED, EXIT_NO_EA, config_from_args
from hedge.ea.conformance_model import KitConfig, Report, Status
from hedge.ea.errors import AuthRejected
from hedge.ea.paper import PaperEA
from hedge.ea.paper_config import PaperConfig
from hedge.ea.protocol import (
    CLOSE_AUTH_FAILED,
    Ping,
    encode,
)

D = Decimal
FAST = KitConfig("T", timeout_s=3.0, quiet_s=0.3)
FAKE = KitConfig("T", timeout_s=1.0, quiet_s=0.15)  # the fakes answer at once or never
QUICK = KitConfig("T", timeout_s=0.1, quiet_s=0.1)  # for fakes that leave many waits unanswered


def paper_config(url: str, **overrides: Any) -> PaperConfig:
    settings: dict[str, Any] = {
        "account_number": "12345",
        "server_name": "Paper-Demo 1",
        "ea_token": "T",
        "agent_url": url,
        "feed": "static",
        "tick_interval_ms": 20,
        "idle_ping_s": 0.1,  # so the EA's own PINGs show up within the run
        "account_interval_s": 0.5,
        "reconnect_initial_delay_s": 0.05,
        "reconnect_min_delay_s": 0.05,
        "reconnect_max_delay_s": 0.2,
    }
    settings.update(overrides)
    return PaperConfig(**settings)


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    async with Listener("127.0.0.1", 0) as kit:
        yield kit


async def check_paper_ea(
    listener: Listener, config: KitConfig
) -> tuple[Report, PaperEA, BaseException | None]:
    """The kit's report on a paper EA, the EA, and what its run() raised (AuthRejected when refused)."""
    ea = PaperEA(paper_config(listener.url))
    task = asyncio.create_task(ea.run())
    try:
        report = await listener.check(config, wait_s=5)
    finally:
        ea.stop()
        await asyncio.wait([task], timeout=5)
    return report, ea, task.exception()


def statuses(report: Report) -> dict[str, Status]:
    return {r.rule.id: r.verdict.status for r in report.results}


def failed(report: Report) -> set[str]:
    return {r.rule.id for r in report.results if r.verdict.status is Status.FAIL}


# --- the paper EA conforms ------------------------------------------------------------------------


async def test_kit_against_paper_ea_every_rule_passes(listener: Listener) -> None:
    report, ea, raised = await check_paper_ea(listener, FAST)
    not_passed = [r.line() for r in report.results if r.verdict.status is not Status.PASS]
    assert not_passed == []
    assert len(report.results) == len(RULES) and report.summary() == f"{len(RULES)} passed, 0 failed"
    assert report.ok and raised is None and ea.terminal.positions() == ()  # its one position was closed
    closes = [ea.terminal.close_record(str(t)) for t in range(50_000_000_001, 50_000_000_003)]
    assert [c is not None for c in closes] == [True, False]  # exactly one position was ever opened


async def test_kit_with_expected_account_that_differs_fails_auth_and_skips_the_rest(
    listener: Listener,
) -> None:
    config = KitConfig("T", timeout_s=3.0, quiet_s=0.3, account_number="99999")
    report, ea, raised = await check_paper_ea(listener, config)
    assert failed(report) == {"auth.credentials"}
    assert "expected AUTH.accountNumber '99999', came '12345'" in report.by_id("auth.credentials").line()
    assert [r.verdict.status for r in report.results[3:]] == [Status.SKIP] * (len(RULES) - 3)
    assert isinstance(raised, AuthRejected)  # the kit answered AUTH_FAILED, as an agent would
    assert not report.ok and ea.terminal.positions() == ()


async def test_kit_turns_away_a_second_ea_while_checking_the_first(listener: Listener) -> None:
    ea = PaperEA(paper_config(listener.url))
    task = asyncio.create_task(ea.run())
    check = asyncio.create_task(listener.check(FAST, wait_s=5))
    try:
        await asyncio.wait_for(ea.online.wait(), 5)
        async with connect(listener.url) as second:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(second.recv(), 5)
            assert second.close_code == 1013
        assert (await check).ok
    finally:
        ea.stop()
        await asyncio.wait([task], timeout=5)


# --- broken EAs fail the rules they break ---------------------------------------------------------


async def check_fake(listener: Listener, flaws: Flaws, config: KitConfig = FAKE) -> tuple[Report, FakeEA]:
    fake = FakeEA(listener.url, flaws)
    task = asyncio.create_task(fake.run())
    try:
        return await listener.check(config, wait_s=5), fake
    finally:
        await asyncio.wait([task], timeout=5)


async def test_kit_against_faithful_fake_ea_fails_nothing(listener: Listener) -> None:
    report, fake = await check_fake(listener, Flaws())
    assert failed(report) == set() and fake.held == {}
    assert statuses(report)["ea-ping.valid"] is Status.SKIP  # this fake never pings


@pytest.mark.parametrize(
    ("flaws", "expected", "says"),
    [
        (Flaws(new_ticket_per_open=True), {"open.repeat-new-command"},
         "expected ticket 701 again, the EA opened a second one 702 (the kit closed ticket 702)"),
        (Flaws(answers_twice=True), {"answers.once", "open.repeat-same-command"},
         "answered once or twice identically, came 4 answer(s)"),
        (Flaws(price_in_broker_time=True), {"price.utc-time"}, "one was 3.0 h ahead (broker server time"),
        (Flaws(keeps_streaming=True), {"subscribe.empty-stops"}, "expected no PRICE after SUBSCRIBE []"),
        (Flaws(bad_error_code=True), {"answers.error-codes", "frames.valid", "open.volume-below-min",
                                      "open.volume-above-max", "open.unknown-symbol"},
         "came 'NO_SUCH_CODE'"),
        (Flaws(no_margin_mode=True), {"auth.margin-mode"}, "came None (an EA older than protocol round 2?)"),
        (Flaws(no_symbols=True), {"symbols.after-auth", "symbols.on-subscribe"},
         "expected SYMBOLS after AUTH_OK within 1 s, none came"),
        (Flaws(no_volume=True), {"open.volume"}, "expected OPENED SUCCESS to carry volume"),
        (Flaws(history_forgets=True), {"history.open", "history.closed"},
         "expected (state, mtTicket) (OPEN, 701) for the held position, came (UNKNOWN, None)"),
        (Flaws(legacy_reason=True), {"history.closed", "reasons.listed"}, "came ['MANUAL']"),
    ],
    ids=["new-ticket-per-open", "answers-twice", "broker-time", "keeps-streaming", "bad-error-code",
         "no-margin-mode", "no-symbols", "no-volume", "history-forgets", "legacy-reason"],
)  # fmt: skip
async def test_kit_against_flawed_fake_ea_fails_exactly_the_broken_rules(
    listener: Listener, flaws: Flaws, expected: set[str], says: str
) -> None:
    report, fake = await check_fake(listener, flaws)
    assert failed(report) == expected
    assert says in "\n".join(r.line() for r in report.results)
    assert fake.held == {}  # the kit closed whatever it opened, the stray second ticket included


async def test_kit_against_ea_silent_on_bad_frames_fails_every_bad_frame_rule(listener: Listener) -> None:
    report, _ = await check_fake(listener, Flaws(silent_on_bad_frames=True), QUICK)
    bad_frame_rules = {r.id for r in RULES if r.id.startswith("bad-frame.")}
    assert failed(report) == {*bad_frame_rules, "answers.once"} and len(bad_frame_rules) >= 10
    assert "expected ERROR BAD_MESSAGE within 0.1 s, none came" in report.by_id("bad-frame.not-json").line()
    assert "expected exactly one answer to BAD cfm-bad-" in report.by_id("answers.once").line()


async def test_kit_against_ea_that_ignores_ping_fails_liveness_rules(listener: Listener) -> None:
    report, _ = await check_fake(listener, Flaws(ignores_ping=True), QUICK)
    assert {"auth-ok.accepted", "ping.answered", "subscribe.empty-stops"} <= failed(report)
    assert "expected PONG with id 7" in report.by_id("ping.answered").line()
    assert statuses(report)["open.success"] is Status.PASS


async def test_kit_against_ea_whose_first_frame_is_not_auth_refuses_it_with_4401(listener: Listener) -> None:
    report, fake = await check_fake(listener, Flaws(first_frame=encode(Ping(1))))
    assert failed(report) == {"auth.first-frame"}
    assert 'came {"type":"PING","id":1}' in report.by_id("auth.first-frame").line()
    assert statuses(report)["open.success"] is Status.SKIP and fake.close_code == CLOSE_AUTH_FAILED


# --- the command line -----------------------------------------------------------------------------


async def run_cli(*args: str, **paper: Any) -> tuple[int, list[str], str]:
    """`hedge ea-conformance` as a real process, with an in-process paper EA connecting to it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hedge.cli", "ea-conformance", "--listen", "127.0.0.1:0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    ea: PaperEA | None = None
    task: asyncio.Task[None] | None = None
    try:
        banner = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
        found = re.search(r"listening on (ws://127\.0\.0\.1:\d+/)", banner)
        assert found, banner
        ea = PaperEA(paper_config(found.group(1), **paper))
        task = asyncio.create_task(ea.run())
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
        if ea is not None and task is not None:
            ea.stop()
            await asyncio.wait([task], timeout=5)
    assert process.returncode is not None
    return process.returncode, stdout.decode().splitlines(), banner + stderr.decode()


async def test_cli_against_paper_ea_prints_a_pass_line_per_rule_and_exits_zero() -> None:
    code, lines, banner = await run_cli(
        "--ea-token", "T", "--timeout-s", "3", "--quiet-s", "0.3",
        "--account-number", "12345", "--server-name", "Paper-Demo 1",
    )  # fmt: skip
    assert code == 0, lines
    assert "it will trade 0.01 USDJPY" in banner
    assert [line.split(" ")[:2] for line in lines[:-1]] == [["PASS", r.id] for r in RULES]
    assert lines[-1] == f"{len(RULES)} passed, 0 failed"


async def test_cli_with_wrong_token_prints_fail_and_skips_and_exits_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:  # a free port; the paper EA retries until the kit listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ea = PaperEA(paper_config(f"ws://127.0.0.1:{port}/"))
    task = asyncio.create_task(ea.run())
    argv = ["ea-conformance", "--listen", f"127.0.0.1:{port}", "--ea-token", "other", "--wait-s", "10"]
    try:
        code = await asyncio.to_thread(main, argv)  # the kit's own event loop, in a thread
    finally:
        ea.stop()
        await asyncio.wait([task], timeout=5)
    lines = capsys.readouterr().out.splitlines()
    assert code == EXIT_FAILED and isinstance(task.exception(), AuthRejected)
    assert (
        lines[2] == "FAIL auth.credentials AUTH carries the expected token (and account, server when given): "
        "AUTH.token is not the --ea-token given to the kit"
    )
    assert lines[-2:] == [f"{len(RULES) - 3} skipped: those rules did not check this EA (see the SKIP lines)",
                          "2 passed, 1 failed"]  # fmt: skip


def test_cli_without_an_ea_exits_with_no_ea(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ea-conformance", "--listen", "127.0.0.1:0", "--ea-token", "T", "--wait-s", "0.2"])
    assert code == EXIT_NO_EA and "no EA connected within 0.2 s" in capsys.readouterr().err


def test_cli_on_a_taken_port_exits_with_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["ea-conformance", "--listen", f"127.0.0.1:{port}", "--ea-token", "T", "--wait-s", "0.2"])
    assert code == EXIT_BAD_SETTINGS and f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value", "complaint"),
    [
        ("--listen", "8080", "must be HOST:PORT"),
        ("--volume", "-1", "must be > 0"),
        ("--timeout-s", "x", "seconds"),
    ],
)
def test_cli_bad_settings_are_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, complaint: str
) -> None:
    args = ["ea-conformance", "--listen", "127.0.0.1:1", "--ea-token", "T", flag, value]
    with pytest.raises(SystemExit):
        main(args)
    assert complaint in capsys.readouterr().err


def test_cli_reads_the_ea_token_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "ea-token"
    token.write_text("-made-up-ea-token-starting-with-a-dash\n")
    args = config_from_args(
        build_parser().parse_args(
            ["ea-conformance", "--listen", "127.0.0.1:1", "--ea-token-file", str(token)]
        )
    )
    assert args.ea_token == "-made-up-ea-token-starting-with-a-dash"
    code = main(
        ["ea-conformance", "--listen", "127.0.0.1:0", "--ea-token-file", str(token), "--wait-s", "0.2"]
    )
    assert code == EXIT_NO_EA  # the token was taken; no EA came


def test_cli_with_an_empty_token_file_exits_with_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    code = main(["ea-conformance", "--listen", "127.0.0.1:0", "--ea-token-file", str(empty)])
    assert code == EXIT_BAD_SETTINGS and "--ea-token-file:" in capsys.readouterr().err


@pytest.mark.parametrize("tokens", [[], ["--ea-token", "T", "--ea-token-file", "f"]])
def test_cli_needs_exactly_one_of_token_and_token_file(
    capsys: pytest.CaptureFixture[str], tokens: list[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["ea-conformance", "--listen", "127.0.0.1:1", *tokens])
    assert "--ea-token" in capsys.readouterr().err
