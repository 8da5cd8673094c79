"""Working the paper terminal by hand through control lines: each verb, and each kind of bad line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hedge.domain.clock import ManualClock
from hedge.domain.enums import Side
from hedge.ea.paper_control import ControlError, apply_line, poll, read_new_lines
from hedge.ea.paper_feed import StaticFeed
from hedge.ea.paper_market import Market
from hedge.ea.paper_terminal import AccountSettings, Terminal
from hedge.ea.protocol import Message, Open, Stopped, StopReason, comment_for

D = Decimal


def terminal_with_p1() -> tuple[Terminal, list[Message], str]:
    sent: list[Message] = []
    terminal = Terminal(Market(), ManualClock(), AccountSettings(D("10000")), emit=sent.append)
    terminal.apply_quotes([(q.symbol, q.bid, q.ask) for q in StaticFeed(["USDJPY"]).initial()])
    terminal.execute(Open("c1", "p1", "USDJPY", Side.BUY, D("0.1"), comment_for("p1")))
    return terminal, sent, terminal.positions()[0].ticket


@pytest.mark.parametrize(("line", "reason"), [("close p1", StopReason.TERMINAL_CLOSE),
                                              ("close {ticket} stop_out", StopReason.STOP_OUT)])  # fmt: skip
def test_close_line_closes_by_ticket_or_position_id_with_its_reason(line: str, reason: StopReason) -> None:
    terminal, sent, ticket = terminal_with_p1()
    apply_line(terminal, line.format(ticket=ticket))
    assert [(m.mt_ticket, m.reason) for m in sent if isinstance(m, Stopped)] == [(ticket, reason)]


def test_sl_line_then_price_line_stops_the_position_with_stop_loss() -> None:
    terminal, sent, _ = terminal_with_p1()
    apply_line(terminal, "sl p1 149.900")
    apply_line(terminal, "price USDJPY 149.800 149.810")
    assert [m.reason for m in sent if isinstance(m, Stopped)] == [StopReason.STOP_LOSS]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("close p9", "no open position"),
        ("close p1 FLY", "reason must be one of"),
        ("sl p1 cheap", "must be a number"),
        ("tp p1 -1", "must be > 0"),
        ("price USDJPY 1", "cannot read"),
        ("open USDJPY UP 1", "UP"),
        ("dance", "cannot read"),
    ],
)
def test_bad_line_is_a_control_error_and_changes_nothing(line: str, says: str) -> None:
    terminal, sent, _ = terminal_with_p1()
    with pytest.raises(ControlError, match=says):
        apply_line(terminal, line)
    assert len(terminal.positions()) == 1 and not [m for m in sent if isinstance(m, Stopped)]


def test_blank_and_comment_lines_do_nothing() -> None:
    terminal, _, _ = terminal_with_p1()
    assert apply_line(terminal, "   ") is None and apply_line(terminal, "# close p1") is None


def test_poll_reads_whole_lines_once_and_waits_for_a_half_written_one(tmp_path: Path) -> None:
    terminal, sent, _ = terminal_with_p1()
    path = tmp_path / "control"
    path.write_text("open USDJPY SELL 0.1\nclose p", encoding="utf-8")
    assert poll(terminal, path) == 1 and len(terminal.positions()) == 2
    with path.open("a", encoding="utf-8") as handle:
        handle.write("1\n")
    assert poll(terminal, path) == 1 and poll(terminal, path) == 0
    assert len([m for m in sent if isinstance(m, Stopped)]) == 1


def test_read_new_lines_of_missing_file_reads_nothing(tmp_path: Path) -> None:
    assert read_new_lines(tmp_path / "none", 0).lines == ()
