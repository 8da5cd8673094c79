"""The agent's decision core: rows, EA events and time in, intents out (no sockets, no server)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.agent import core_rows
from tests.agent.core_intents import action_updates, position_updates, sent
from tests.agent.core_rows import (
    ACCOUNT,
    OTHER_ACCOUNT,
    T0,
    account,
    action,
    closing_with_close_sent,
    connect_and_sync,
    core,
    position,
)

from hedge.agent.core import AgentCore
from hedge.agent.intents import TriggerActions, UpdateAccount
from hedge.config import AgentSettings
from hedge.domain.enums import ActionType, PositionStatus, Side, TriggerReason
from hedge.domain.ids import PositionId
from hedge.domain.orders import OrderState
from hedge.ea.protocol import Close, Open, Subscribe, Sync
from hedge.ea.protocol_messages import (
    AccountUpdate,
    Closed,
    ErrorCode,
    Opened,
    PositionReport,
    Positions,
    Price,
    Stopped,
)


def test_connecting_ea_asks_for_sync_and_marks_account_connected() -> None:
    agent = core()
    intents = agent.ea_connected(ACCOUNT, 0.0)
    assert len(sent(intents, Sync)) == 1
    assert UpdateAccount(ACCOUNT, {"connectionStatus": "CONNECTED"}) in intents


def test_executing_entry_with_pending_position_moves_to_opening_and_sends_no_open_yet() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position())
    agent.apply_row(action())
    intents = agent.decide(1.0)
    assert sent(intents, Open) == []  # OPEN only once the move to OPENING has committed
    assert {"status": "OPENING"} in position_updates(intents)


def test_opening_committed_sends_open_once_with_the_system_comment() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position())
    agent.apply_row(action())
    agent.decide(1.0)
    agent.apply_row(position(PositionStatus.OPENING, version=2))  # the mutation's answer
    opens = sent(agent.decide(1.1), Open)
    assert len(opens) == 1
    assert opens[0].position_id == "pos-A" and opens[0].comment == "HedgeSystem[pos-A]"
    assert sent(agent.decide(2.0), Open) == []  # in flight: not again


def test_cancel_that_wins_the_race_with_opening_means_no_open_is_ever_sent() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position())
    agent.apply_row(action())
    assert {"status": "OPENING"} in position_updates(agent.decide(1.0))
    agent.apply_row(position(PositionStatus.CANCELED, version=2))  # the server refused OPENING: canceled
    for now in (1.1, 5.0, 100.0):
        assert sent(agent.decide(now), Open) == []


def test_fill_records_open_with_price_ticket_and_time() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    command = sent(agent.decide(1.0), Open)[0]
    agent.on_opened(
        ACCOUNT,
        Opened.success(command.command_id, "pos-A", "777", Decimal("150.010"), 1_700_000_000_000),
        1.1,
    )
    updates = position_updates(agent.decide(1.2))
    assert updates == [
        {
            "status": "OPEN",
            "entryPrice": Decimal("150.010"),
            "entryTime": "2023-11-14T22:13:20.000Z",
            "mtTicket": "777",
        }
    ]


def test_fill_is_kept_while_newer_opening_rows_arrive() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    command = sent(agent.decide(1.0), Open)[0]
    agent.on_opened(ACCOUNT, Opened.success(command.command_id, "pos-A", "777", Decimal("150.01"), 1000), 1.1)
    agent.apply_row(position(PositionStatus.OPENING, version=3, memo="edited"))
    assert [u["status"] for u in position_updates(agent.decide(1.2))] == ["OPEN"]


def test_open_position_finishes_its_executing_entry_action() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7"))
    agent.apply_row(action())
    assert action_updates(agent.decide(1.0)) == [{"status": "EXECUTED"}]


def test_non_retryable_open_failure_cancels_position_and_fails_action_with_ea_message() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    agent.apply_row(action())
    command = sent(agent.decide(1.0), Open)[0]
    failed = Opened.failed(command.command_id, "pos-A", ErrorCode.NOT_ENOUGH_MONEY, "margin 5000 > free 10")
    agent.on_opened(ACCOUNT, failed, 1.1)
    intents = agent.decide(1.2)
    assert {"status": "CANCELED"} in position_updates(intents)
    assert action_updates(intents) == [
        {"status": "FAILED", "errorMessage": "OPEN failed: NOT_ENOUGH_MONEY: margin 5000 > free 10"}
    ]


def test_requote_is_retried_with_backoff_and_counted() -> None:
    agent = core(retry_backoff_s=1.0, max_retries=3)
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    agent.apply_row(action())
    first = sent(agent.decide(0.0), Open)[0]
    intents = agent.on_opened(
        ACCOUNT, Opened.failed(first.command_id, "pos-A", ErrorCode.REQUOTE, "requote"), 0.1
    )
    assert action_updates(intents) == [{"retryCount": 1}]
    assert sent(agent.decide(0.5), Open) == []  # still backing off
    second = sent(agent.decide(1.2), Open)
    assert len(second) == 1 and second[0].command_id != first.command_id


def test_requote_after_the_last_retry_fails_the_action_and_says_so() -> None:
    agent = core(retry_backoff_s=0.0, max_retries=2)
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    agent.apply_row(action())
    now = 0.0
    for _ in range(3):
        command = sent(agent.decide(now), Open)[0]
        agent.on_opened(
            ACCOUNT, Opened.failed(command.command_id, "pos-A", ErrorCode.REQUOTE, "requote"), now
        )
        now += 1
    intents = agent.decide(now)
    assert {"status": "CANCELED"} in position_updates(intents)
    message = action_updates(intents)[0]["errorMessage"]
    assert isinstance(message, str) and "REQUOTE" in message and "after 2 retries" in message


def test_repeated_failure_for_an_old_command_is_ignored() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    agent.decide(0.0)
    stale = Opened.failed("not-ours", "pos-A", ErrorCode.NOT_ENOUGH_MONEY, "old")
    assert agent.on_opened(ACCOUNT, stale, 0.1) == []
    assert agent.orders["pos-A"].state is OrderState.OPEN_SENT
    assert position_updates(agent.decide(0.2)) == []


def test_action_fails_when_its_ea_is_not_connected_in_time_and_nothing_was_sent() -> None:
    agent = core(ea_wait_s=30.0)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    agent.apply_row(action())
    assert position_updates(agent.decide(0.0)) == []
    assert position_updates(agent.decide(29.0)) == []
    intents = agent.decide(30.5)
    assert {"status": "CANCELED"} in position_updates(intents)
    assert (
        action_updates(intents)[0]["errorMessage"] == "the EA of account 1001 was not connected within 30 s"
    )


def test_unanswered_open_is_settled_by_sync_not_by_a_guess() -> None:
    agent = core(command_timeout_s=60.0)
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    sent(agent.decide(0.0), Open)
    at_timeout = agent.decide(61.0)
    assert position_updates(at_timeout) == []  # no guess: neither OPEN nor CANCELED
    assert agent.orders["pos-A"].state is OrderState.OPEN_UNKNOWN
    syncs = sent(at_timeout, Sync) + sent(agent.decide(61.1), Sync)
    assert len(syncs) == 1
    report = PositionReport(
        "pos-A", "888", "USDJPY", Side.BUY, Decimal("0.1"), Decimal("150.02"), 5000, Decimal(0)
    )
    agent.on_positions(ACCOUNT, Positions(syncs[0].command_id, (report,)))
    assert position_updates(agent.decide(61.2))[0]["mtTicket"] == "888"


def test_nothing_is_sent_to_a_connected_ea_before_its_positions_are_known() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    intents = agent.ea_connected(ACCOUNT, 0.0)
    sync = sent(intents, Sync)[0]
    assert sent(agent.decide(0.1), Open) == []
    agent.on_positions(ACCOUNT, Positions(sync.command_id, ()))
    assert len(sent(agent.decide(0.2), Open)) == 1


def test_close_action_moves_open_position_to_closing_and_sends_close_once_committed() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7"))
    agent.apply_row(action(type_=ActionType.CLOSE))
    intents = agent.decide(1.0)
    assert sent(intents, Close) == []
    assert {"status": "CLOSING"} in position_updates(intents)
    agent.apply_row(position(PositionStatus.CLOSING, version=4, entry_price=Decimal("150"), mt_ticket="7"))
    assert sent(agent.decide(1.1), Close)[0].mt_ticket == "7"


def test_close_fill_records_closed_with_action_close_reason() -> None:
    agent = core()
    command = closing_with_close_sent(agent, mt_ticket="7")
    agent.on_closed(
        ACCOUNT,
        Closed.success(command.command_id, "pos-A", "7", Decimal("150.2"), 2000, Decimal("13.3")),
        1.1,
    )
    update = position_updates(agent.decide(1.2))[0]
    assert update["status"] == "CLOSED" and update["exitReason"] == "ACTION_CLOSE"
    assert update["realizedPL"] == Decimal("13.3") and update["exitPrice"] == Decimal("150.2")


def test_failed_close_returns_position_to_open_and_fails_close_action() -> None:
    agent = core()
    command = closing_with_close_sent(agent, mt_ticket="7")
    agent.on_closed(
        ACCOUNT, Closed.failed(command.command_id, "pos-A", "7", ErrorCode.MARKET_CLOSED, "closed"), 1.1
    )
    intents = agent.decide(1.2)
    assert {"status": "OPEN"} in position_updates(intents)
    assert action_updates(intents)[0]["status"] == "FAILED"


def test_stopped_event_records_stop_out() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7"))
    agent.on_stopped(ACCOUNT, Stopped("pos-A", "7", Decimal("149.1"), 3000, Decimal("-60"), "STOP_OUT"))
    update = position_updates(agent.decide(1.0))[0]
    assert update["status"] == "STOPPED" and update["exitReason"] == "STOP_OUT"


def test_trail_fires_once_on_the_price_that_meets_it() -> None:
    agent = core()
    opened = position(PositionStatus.OPEN, version=3, entry_price=Decimal("150.000"), mt_ticket="7",
                      trail_width=Decimal("10"))  # fmt: skip
    assert agent.apply_row(opened) == []
    assert agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.099"), Decimal("150.109"), 1)) == []
    fired = agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.100"), Decimal("150.110"), 2))
    assert fired == [TriggerActions("pos-A", TriggerReason.TRAIL, Decimal("150.100"), 2)]
    assert agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.200"), Decimal("150.210"), 3)) == []


def test_trail_reads_only_its_own_accounts_prices() -> None:
    agent = core()
    agent.apply_row(account(OTHER_ACCOUNT, "2002"))
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150.000"), mt_ticket="7",
                             trail_width=Decimal("10")))  # fmt: skip
    assert agent.on_price(OTHER_ACCOUNT, Price("USDJPY", Decimal("151"), Decimal("151.01"), 1)) == []


def test_triggered_position_is_not_watched_again() -> None:
    agent = core()
    opened = position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7",
                      trail_width=Decimal("0"))  # fmt: skip
    agent.apply_row(opened)
    assert len(agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150"), Decimal("150.01"), 1))) == 1
    agent.trigger_settled("pos-A")
    agent.apply_row(replace(opened, version=4, trail_triggered_at=T0))
    assert agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.5"), Decimal("150.51"), 2)) == []


def test_unrecorded_trigger_is_asked_again_until_settled() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7",
                             trail_width=Decimal("0")))  # fmt: skip
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150"), Decimal("150.01"), 1))
    assert any(isinstance(i, TriggerActions) for i in agent.decide(1.0))
    agent.trigger_settled("pos-A")
    assert not any(isinstance(i, TriggerActions) for i in agent.decide(2.0))


def test_ea_streams_prices_of_live_positions_after_sync() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7"))
    connect_and_sync(agent)
    subscribes = sent(agent.decide(1.0), Subscribe)
    assert subscribes == [Subscribe(("USDJPY",))]
    assert sent(agent.decide(1.1), Subscribe) == []  # unchanged: not sent again


def test_first_account_snapshot_is_pushed_at_once_and_unchanged_ones_are_not() -> None:
    agent = core()
    connect_and_sync(agent)
    snapshot = AccountUpdate(Decimal(1000), Decimal(0), Decimal(990), Decimal(50), Decimal(1980), "USD", 1)
    pushed = agent.on_account(ACCOUNT, snapshot)
    assert [i.changes["balance"] for i in pushed if isinstance(i, UpdateAccount)] == [Decimal(1000)]
    for intent in pushed:
        assert isinstance(intent, UpdateAccount)
        agent.account_recorded(intent.account_id, intent.changes)  # the server's answer came back
    agent.on_account(ACCOUNT, snapshot)
    assert agent.push_accounts() == []


def test_older_row_version_is_ignored() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    agent.apply_row(position(PositionStatus.PENDING, version=1))
    assert agent.state.positions["pos-A"].status is PositionStatus.OPENING


def test_trail_uses_the_configured_pip_size_of_the_symbol() -> None:
    from hedge.config import load_symbol_specs

    agent = AgentCore(
        AgentSettings(token="t", ea_token="e", state_dir=""),
        load_symbol_specs('{"USDJPY": {"pipSize": "0.1"}}'),
    )
    agent.apply_row(account())
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150.000"), mt_ticket="7",
                             trail_width=Decimal("1")))  # fmt: skip
    assert agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.099"), Decimal("150.109"), 1)) == []
    assert len(agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.100"), Decimal("150.110"), 2))) == 1


def test_broker_symbol_names_are_used_towards_the_ea_and_mapped_back_from_it() -> None:
    agent = AgentCore(AgentSettings(token="t", ea_token="e", state_dir=""))
    agent.apply_row(replace(account(), symbol_map={"USDJPY.m": "USDJPY"}))
    agent.apply_row(position(PositionStatus.OPENING, version=2, trail_width=Decimal("10")))
    connect_and_sync(agent)
    intents = agent.decide(1.0)
    assert sent(intents, Open)[0].symbol == "USDJPY.m"
    assert sent(intents, Subscribe) == [Subscribe(("USDJPY.m",))]
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150.000"), mt_ticket="7",
                             trail_width=Decimal("10")))  # fmt: skip
    fired = agent.on_price(ACCOUNT, Price("USDJPY.m", Decimal("150.100"), Decimal("150.110"), 1))
    assert fired == [TriggerActions("pos-A", TriggerReason.TRAIL, Decimal("150.100"), 1)]


def test_open_positions_show_current_price_and_unrealized_pl_from_the_last_quote() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150.000"), mt_ticket="7"))
    assert agent.open_positions()[0]["currentPrice"] is None  # no quote yet
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.250"), Decimal("150.260"), 1))
    shown = agent.open_positions()[0]
    assert shown["currentPrice"] == "150.250"
    assert Decimal(str(shown["unrealizedPL"])) == Decimal("2500")  # 0.250 x 0.1 lot x 100,000, in JPY
    assert shown["quoteCurrency"] == "JPY"


def test_unsettled_lists_the_trackers_not_held_in_the_order_they_were_made() -> None:
    agent = core_rows.core()
    agent.apply_row(core_rows.position(PositionStatus.OPENING, version=2, id=PositionId("b")))
    agent.apply_row(core_rows.open_row(id=PositionId("held")))
    agent.apply_row(core_rows.position(PositionStatus.OPENING, version=2, id=PositionId("a")))

    assert [t.position_id for t in agent.unsettled()] == ["b", "a"]
    agent.apply_row(core_rows.position(PositionStatus.CANCELED, version=3, id=PositionId("b")))
    assert [t.position_id for t in agent.unsettled()] == ["a"]
