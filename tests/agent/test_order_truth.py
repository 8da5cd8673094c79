"""Order truth at the core: after a command may have reached the terminal, only the terminal's word
settles it (POSITIONS, a replayed OPENED/CLOSED/STOPPED, HISTORY_RESULT); meanwhile alerts say so."""

from __future__ import annotations

from decimal import Decimal

from tests.agent.core_intents import action_updates, position_updates, raised, record_alerts, resolved, sent
from tests.agent.core_rows import (
    ACCOUNT,
    TICKET_TIME,
    action,
    answer_sync,
    closing_with_close_sent,
    connect_and_sync,
    core,
    open_row,
    opening_with_open_sent,
    position,
    report,
)

from hedge.agent.core import AgentCore
from hedge.agent.intents import Intent, UpdateAccount
from hedge.domain.enums import ExitReason, PositionStatus, Side, TrailMode
from hedge.domain.orders import OrderState
from hedge.ea.protocol import History, Open, Sync
from hedge.ea.protocol_messages import (
    Closed,
    Error,
    ErrorCode,
    HistoryEntry,
    HistoryResult,
    HistoryState,
    Opened,
    PositionReport,
    Stopped,
    StopReason,
)

P = PositionStatus
S = OrderState


def back_without_it(agent: AgentCore, away_at: float) -> None:
    """The EA went away at `away_at` with the command unanswered, came back at 2.0, and its SYNC
    answer does not hold the position."""
    agent.ea_disconnected(ACCOUNT, away_at)
    back = agent.ea_connected(ACCOUNT, 2.0)
    answer_sync(agent, back, now=2.1)


# ------------------------------------------------------------------ problem 1: OPEN, link lost


def test_open_sent_then_ea_away_past_the_wait_stays_opening_with_alerts() -> None:
    agent = core(ea_wait_s=5.0)
    opening_with_open_sent(agent)
    agent.ea_disconnected(ACCOUNT, 1.0)
    assert agent.orders["pos-A"].state is S.OPEN_UNKNOWN
    intents: list[Intent] = []
    for now in (2.0, 6.5, 60.0, 600.0):
        intents += agent.decide(now)
    assert position_updates(intents) == []  # never CANCELED, never guessed OPEN
    assert action_updates(intents) == []
    alerts = raised(intents)
    assert alerts["OUTCOME_UNKNOWN"].key == ("OUTCOME_UNKNOWN", ACCOUNT, "pos-A")
    assert alerts["EA_UNREACHABLE"].key == ("EA_UNREACHABLE", ACCOUNT, None)
    assert "1001" in alerts["EA_UNREACHABLE"].message


def test_open_outcome_unknown_ea_back_holding_it_opens_with_ticket_price_and_volume() -> None:
    agent = core(ea_wait_s=5.0)
    opening_with_open_sent(agent)
    agent.ea_disconnected(ACCOUNT, 1.0)
    record_alerts(agent, agent.decide(10.0))
    back = agent.ea_connected(ACCOUNT, 20.0)
    assert sent(agent.decide(20.1), Open) == []  # not sent again before the terminal's word
    answer_sync(agent, back, report("777", "0.07"), now=20.2)
    intents = agent.decide(20.3)
    update = position_updates(intents)[0]
    assert update["status"] == "OPEN" and update["mtTicket"] == "777"
    assert update["entryPrice"] == Decimal("150.02")
    assert agent.orders["pos-A"].fill is not None and agent.orders["pos-A"].fill.volume == Decimal("0.07")
    assert sorted(resolved(intents)) == ["EA_UNREACHABLE", "OUTCOME_UNKNOWN"]


def test_open_outcome_unknown_replayed_opened_settles_it() -> None:
    agent = core()
    command = opening_with_open_sent(agent)
    agent.ea_disconnected(ACCOUNT, 1.0)
    agent.ea_connected(ACCOUNT, 2.0)
    agent.on_opened(
        ACCOUNT, Opened.success(command.command_id, "pos-A", "778", Decimal("150.1"), TICKET_TIME), 2.1
    )
    assert position_updates(agent.decide(2.2))[0]["mtTicket"] == "778"


def test_open_not_held_after_unknown_asks_history_before_any_resend() -> None:
    agent = core()
    first = opening_with_open_sent(agent)
    back_without_it(agent, away_at=1.0)
    intents = agent.decide(2.2)
    assert sent(intents, Open) == []
    history = sent(intents, History)[0]
    assert history.position_ids == ("pos-A",)
    agent.on_history(
        ACCOUNT, HistoryResult(history.command_id, (HistoryEntry("pos-A", None, HistoryState.UNKNOWN),)), 2.3
    )
    again = sent(agent.decide(2.4), Open)
    assert len(again) == 1 and again[0].command_id != first.command_id  # never placed: sent again


def test_open_history_closed_with_known_fill_records_open_then_stopped() -> None:
    agent = core()
    command = opening_with_open_sent(agent)
    agent.on_opened(
        ACCOUNT, Opened.success(command.command_id, "pos-A", "777", Decimal("150"), TICKET_TIME), 0.5
    )
    agent.apply_row(open_row())
    back_sync = agent.sync_request(ACCOUNT, 1.0)
    answer_sync(agent, back_sync, now=1.1)
    history = sent(agent.decide(1.2), History)[0]
    entry = HistoryEntry("pos-A", "777", HistoryState.CLOSED, Decimal("149.5"), TICKET_TIME + 1000,
                         Decimal("-50"), StopReason.STOP_OUT)  # fmt: skip
    agent.on_history(ACCOUNT, HistoryResult(history.command_id, (entry,)), 1.3)
    update = position_updates(agent.decide(1.4))[0]
    assert update["status"] == "STOPPED" and update["exitReason"] == "STOP_OUT"
    assert update["exitPrice"] == Decimal("149.5") and update["realizedPL"] == Decimal("-50")


def test_ea_timeout_answer_is_an_unknown_outcome_settled_by_sync_not_retried() -> None:
    agent = core()
    command = opening_with_open_sent(agent)
    intents = agent.on_opened(
        ACCOUNT, Opened.failed(command.command_id, "pos-A", ErrorCode.TIMEOUT, "slow"), 0.5
    )
    assert action_updates(intents) == []  # not counted as a retry
    assert agent.orders["pos-A"].state is S.OPEN_UNKNOWN
    after = agent.decide(0.6)
    assert sent(after, Open) == [] and len(sent(after, Sync)) == 1
    assert position_updates(after) == []


# ------------------------------------------------------------------ problem 2: CLOSE, link lost


def test_close_sent_then_link_lost_stays_closing_past_every_wait() -> None:
    agent = core(ea_wait_s=5.0, command_timeout_s=10.0)
    closing_with_close_sent(agent)
    agent.ea_disconnected(ACCOUNT, 1.5)
    intents: list[Intent] = []
    for now in (2.0, 7.0, 30.0, 300.0):
        intents += agent.decide(now)
    assert position_updates(intents) == [] and action_updates(intents) == []
    assert {"OUTCOME_UNKNOWN", "EA_UNREACHABLE"} <= set(raised(intents))


def test_close_outcome_unknown_replayed_closed_makes_it_closed_with_price_time_and_pl() -> None:
    agent = core(ea_wait_s=5.0)
    command = closing_with_close_sent(agent)
    agent.ea_disconnected(ACCOUNT, 1.5)
    agent.decide(10.0)
    agent.ea_connected(ACCOUNT, 11.0)
    closed = Closed.success(
        command.command_id, "pos-A", "777", Decimal("150.3"), TICKET_TIME, Decimal("21.5")
    )
    agent.on_closed(ACCOUNT, closed, 11.1)
    intents = agent.decide(11.2)
    update = position_updates(intents)[0]
    assert update == {
        "status": "CLOSED",
        "exitPrice": Decimal("150.3"),
        "exitTime": "2023-11-14T22:13:20.000Z",
        "realizedPL": Decimal("21.5"),
        "exitReason": "ACTION_CLOSE",
    }


def test_close_outcome_unknown_and_not_held_is_settled_from_history() -> None:
    agent = core()
    closing_with_close_sent(agent)
    back_without_it(agent, away_at=1.5)
    history = sent(agent.decide(2.2), History)[0]
    entry = HistoryEntry(
        "pos-A", "777", HistoryState.CLOSED, Decimal("150.4"), TICKET_TIME, Decimal("30"), None
    )
    agent.on_history(ACCOUNT, HistoryResult(history.command_id, (entry,)), 2.3)
    update = position_updates(agent.decide(2.4))[0]
    assert update["status"] == "CLOSED" and update["exitReason"] == "ACTION_CLOSE"


def test_close_outcome_unknown_but_still_held_goes_back_to_open_and_fails_the_close() -> None:
    agent = core(command_timeout_s=5.0)
    closing_with_close_sent(agent)
    at_timeout = agent.decide(7.0)
    answer_sync(agent, at_timeout + agent.decide(7.1), report("777"), now=7.2)
    intents = agent.decide(7.3)
    assert {"status": "OPEN"} in position_updates(intents)
    message = action_updates(intents)[0]["errorMessage"]
    assert isinstance(message, str) and "still holds" in message


def test_close_of_an_exited_position_in_the_trail_book_is_not_watched_any_more() -> None:
    agent = core()
    agent.apply_row(open_row(trail_width=Decimal(5)))
    assert "pos-A" in agent.book
    agent.on_stopped(
        ACCOUNT,
        Stopped("pos-A", "777", Decimal("149"), TICKET_TIME, Decimal("-10"), StopReason.STOP_OUT),
        1.0,
    )
    agent.apply_row(position(P.STOPPED, version=4, entry_price=Decimal("150"), mt_ticket="777"))
    assert "pos-A" not in agent.book


# ------------------------------------------------------------------ OPEN, no longer held


def open_and_not_held(agent: AgentCore) -> History:
    connect_and_sync(agent)
    agent.apply_row(open_row())
    intents = agent.sync_request(ACCOUNT, 1.0)
    answer_sync(agent, intents, now=1.1)
    history: History = sent(agent.decide(1.2), History)[0]
    return history


def test_open_not_held_stop_out_in_history_is_stopped_with_stop_out() -> None:
    agent = core()
    history = open_and_not_held(agent)
    entry = HistoryEntry(
        "pos-A", "777", HistoryState.CLOSED, Decimal("149"), TICKET_TIME, Decimal("-99"), StopReason.STOP_OUT
    )
    agent.on_history(ACCOUNT, HistoryResult(history.command_id, (entry,)), 1.3)
    update = position_updates(agent.decide(1.4))[0]
    assert update["status"] == "STOPPED" and update["exitReason"] == ExitReason.STOP_OUT.value


def test_open_not_held_other_close_in_history_is_stopped_with_that_reason() -> None:
    agent = core()
    history = open_and_not_held(agent)
    entry = HistoryEntry(
        "pos-A",
        "777",
        HistoryState.CLOSED,
        Decimal("150.5"),
        TICKET_TIME,
        Decimal("40"),
        StopReason.TAKE_PROFIT,
    )
    agent.on_history(ACCOUNT, HistoryResult(history.command_id, (entry,)), 1.3)
    update = position_updates(agent.decide(1.4))[0]
    assert update["status"] == "STOPPED"
    assert update["exitReason"] != "STOP_OUT"  # fires nothing
    assert update["exitReason"] == ExitReason.__members__.get("TAKE_PROFIT", ExitReason.MANUAL_CLOSE).value


def test_open_not_held_and_not_in_history_raises_ghost_position_requiring_action() -> None:
    agent = core()
    history = open_and_not_held(agent)
    agent.on_history(
        ACCOUNT, HistoryResult(history.command_id, (HistoryEntry("pos-A", None, HistoryState.UNKNOWN),)), 1.3
    )
    intents = agent.decide(1.4)
    assert position_updates(intents) == []  # nothing guessed
    ghost = raised(intents)["GHOST_POSITION"]
    assert ghost.requires_action and ghost.severity == "CRITICAL" and ghost.key[2] == "pos-A"


def test_ghost_alert_stays_open_while_the_history_is_asked_again_and_resolves_when_held() -> None:
    agent = core(reconcile_s=10.0)
    history = open_and_not_held(agent)
    agent.on_history(
        ACCOUNT, HistoryResult(history.command_id, (HistoryEntry("pos-A", None, HistoryState.UNKNOWN),)), 1.3
    )
    record_alerts(agent, agent.decide(1.4))
    periodic = agent.decide(12.0)  # reconciliation: SYNC again
    answer_sync(agent, periodic, now=12.1)
    assert resolved(agent.decide(12.2)) == []  # MISSING again, history asked: not judged yet
    sync = agent.sync_request(ACCOUNT, 13.0)
    answer_sync(agent, sync, report("777"), now=13.1)
    assert resolved(agent.decide(13.2)) == ["GHOST_POSITION"]


def test_ea_that_cannot_answer_history_is_not_asked_again() -> None:
    agent = core()
    history = open_and_not_held(agent)
    agent.on_error(ACCOUNT, Error.bad_message("unknown type 'HISTORY'", history.command_id))
    assert sent(agent.decide(100.0), History) == []


# ------------------------------------------------------------------ account status, alerts


def test_account_changes_are_asked_again_until_recorded() -> None:
    agent = core()
    connect_and_sync(agent)
    first = [i for i in agent.decide(0.1) if isinstance(i, UpdateAccount)]
    assert first == [UpdateAccount(ACCOUNT, {"connectionStatus": "CONNECTED"})]
    # the row was busy: the shell dropped it; the next pass asks again
    again = [i for i in agent.decide(0.2) if isinstance(i, UpdateAccount)]
    assert again == first
    agent.account_recorded(ACCOUNT, {"connectionStatus": "CONNECTED"})
    assert [i for i in agent.decide(0.3) if isinstance(i, UpdateAccount)] == []


def test_disconnect_after_connect_sends_the_latest_status() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.ea_disconnected(ACCOUNT, 1.0)
    changes = [i.changes for i in agent.decide(1.1) if isinstance(i, UpdateAccount)]
    assert changes == [{"connectionStatus": "DISCONNECTED"}]


def test_alert_is_raised_once_asked_again_until_recorded_and_resolved_once() -> None:
    agent = core(ea_wait_s=1.0)
    agent.journal["pos-A"] = ("OPEN", "old-1")  # an earlier run sent it: in doubt, not given up
    agent.apply_row(position(P.OPENING, version=2))
    agent.apply_row(action())
    first = raised(agent.decide(0.0))
    second = raised(agent.decide(2.0))
    assert "OUTCOME_UNKNOWN" in first and "EA_UNREACHABLE" in second
    record_alerts(agent, agent.decide(2.1))
    assert raised(agent.decide(2.2)) == {}  # recorded: not raised again
    back = agent.ea_connected(ACCOUNT, 3.0)
    answer_sync(agent, back, report(), now=3.1)
    gone = agent.decide(3.2)
    assert sorted(resolved(gone)) == ["EA_UNREACHABLE", "OUTCOME_UNKNOWN"]
    record_alerts(agent, gone)
    assert resolved(agent.decide(3.3)) == []


# ------------------------------------------------------------------ restarts: the saved state


def test_saved_state_lists_commands_that_may_be_at_the_terminal() -> None:
    agent = core()
    command = opening_with_open_sent(agent)
    assert agent.saved_state()["sent"] == {"pos-A": {"kind": "OPEN", "commandId": command.command_id}}


def test_restarted_agent_with_an_open_sent_before_never_cancels_it_while_the_ea_is_away() -> None:
    before = core()
    opening_with_open_sent(before)
    after = core(ea_wait_s=1.0)
    after.restore(before.saved_state())
    after.apply_row(position(P.OPENING, version=2))
    after.apply_row(action())
    intents = after.decide(0.0) + after.decide(5.0) + after.decide(50.0)
    assert position_updates(intents) == [] and action_updates(intents) == []
    assert after.orders["pos-A"].state is S.OPEN_UNKNOWN


def test_trailing_stop_best_price_survives_an_agent_restart() -> None:
    before = core()
    connect_and_sync(before)
    row = open_row(trail_width=Decimal(10), trail_mode=TrailMode.TRAILING_STOP)
    before.apply_row(row)
    from hedge.ea.protocol_messages import Price

    before.on_price(ACCOUNT, Price("USDJPY", Decimal("150.500"), Decimal("150.510"), 1))
    saved = before.saved_state()
    assert saved["trailBest"] == {"pos-A": "150.500"}
    after = core()
    after.restore(saved)
    after.apply_row(row)
    assert after.on_price(ACCOUNT, Price("USDJPY", Decimal("150.450"), Decimal("150.460"), 2)) == []
    fired = after.on_price(ACCOUNT, Price("USDJPY", Decimal("150.400"), Decimal("150.410"), 3))
    assert [f.position_id for f in fired if hasattr(f, "position_id")] == ["pos-A"]  # 10 pips from 150.500


def test_trailing_stop_best_price_survives_a_server_reload() -> None:
    agent = core()
    row = open_row(trail_width=Decimal(10), trail_mode=TrailMode.TRAILING_STOP)
    agent.apply_row(row)
    from hedge.ea.protocol_messages import Price

    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.500"), Decimal("150.510"), 1))
    agent.server_linked()
    agent.apply_row(row)  # the reload after the server came back: same version
    assert agent.book.best_price(row.id) == Decimal("150.500")


def test_open_searching_history_asks_no_further_sync_while_history_is_pending() -> None:
    agent = core()
    opening_with_open_sent(agent)
    back_without_it(agent, away_at=1.0)
    intents: list[Intent] = []
    for step in range(20):
        intents += agent.decide(2.2 + step * 0.1)
    assert sent(intents, Sync) == []
    assert len(sent(intents, History)) == 1


def test_trailing_stop_best_price_starts_from_the_bid_at_the_fill() -> None:
    from hedge.ea.protocol_messages import Price

    agent = core()
    connect_and_sync(agent)
    agent.apply_row(
        position(P.OPENING, version=2, trail_width=Decimal(10), trail_mode=TrailMode.TRAILING_STOP)
    )
    command = sent(agent.decide(0.0), Open)[0]
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.000"), Decimal("150.010"), 1))
    agent.on_opened(ACCOUNT, Opened.success(command.command_id, "pos-A", "777", Decimal("150.010"), 1), 0.1)
    row = position(P.OPEN, version=3, entry_price=Decimal("150.010"), mt_ticket="777",
                   trail_width=Decimal(10), trail_mode=TrailMode.TRAILING_STOP)  # fmt: skip
    agent.apply_row(row)
    assert agent.book.best_price(row.id) == Decimal("150.000")  # the bid, not the entry (the ask)
    assert agent.on_price(ACCOUNT, Price("USDJPY", Decimal("149.905"), Decimal("149.915"), 2)) == []
    fired = agent.on_price(ACCOUNT, Price("USDJPY", Decimal("149.900"), Decimal("149.910"), 3))
    assert len(fired) == 1  # 10 pips under the bid at the fill (11 under the entry)


def test_unrealized_pl_is_in_the_account_currency_when_the_terminal_gave_the_tick_value() -> None:
    from hedge.ea.protocol_messages import Price, SymbolInfo, Symbols

    agent = core()
    connect_and_sync(agent)
    agent.apply_row(open_row())  # entry 150
    info = SymbolInfo("USDJPY", 3, Decimal("0.001"), Decimal(100000), Decimal("0.01"), Decimal("0.01"),
                      Decimal(100), None, Decimal("0.67"))  # fmt: skip
    agent.on_symbols(ACCOUNT, Symbols((info,)))
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.250"), Decimal("150.260"), 1))
    shown = agent.open_positions()[0]
    # 250 points x 0.67 USD per point and lot x 0.1 lot
    assert Decimal(str(shown["unrealizedPL"])) == Decimal("16.75") and shown["plCurrency"] == "USD"


def test_unrealized_pl_falls_back_to_the_terminals_profit_from_positions() -> None:
    from hedge.ea.protocol_messages import Price

    agent = core()
    connect_and_sync(agent)
    agent.apply_row(open_row())  # entry 150
    held = PositionReport(
        "pos-A", "777", "USDJPY", Side.BUY, Decimal("0.1"), Decimal("150"), 1, Decimal("16.6")
    )
    answer_sync(agent, agent.sync_request(ACCOUNT, 1.0), held, now=1.1)
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.250"), Decimal("150.260"), 1))
    shown = agent.open_positions()[0]
    assert shown["unrealizedPL"] == "16.6" and shown["plCurrency"] == "USD"
