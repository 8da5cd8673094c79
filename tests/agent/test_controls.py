"""The kill switch in the agent: its ControlBook (GLOBAL, USER, ACCOUNT; the most restrictive
wins; REDUCING when the server is unheard too long) and what the core refuses locally for each
state and each kind of move: the move to OPENING, the OPEN, the move to CLOSING, the CLOSE."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.agent.core_intents import action_updates, position_updates, sent
from tests.agent.core_rows import ACCOUNT, T0, USER, action, connect_and_sync, core, position

from hedge.agent.controls import ControlBook, OfflineReducing, control_from_gql
from hedge.agent.core import AgentCore
from hedge.agent.runtime import AgentRuntime
from hedge.config import AgentSettings
from hedge.domain.enums import ActionType, PositionStatus, Side, TradingState
from hedge.domain.errors import ValidationError
from hedge.domain.ids import PositionId, UserId
from hedge.ea.protocol import Close, Open

P = PositionStatus
OTHER_USER = UserId("u2")


def control(
    scope: str, state: str, target: str | None = None, at_s: int = 0, reason: str = "test"
) -> dict[str, Any]:
    return {"scope": scope, "targetId": target, "state": state, "reason": reason,
            "updatedAt": (T0 + timedelta(seconds=at_s)).isoformat(), "updatedBy": "admin"}  # fmt: skip


def linked_core(*controls: dict[str, Any], **settings: object) -> AgentCore:
    agent = core(**settings)
    agent.controls.link_up()
    agent.controls.apply_data(list(controls))
    connect_and_sync(agent)
    return agent


def server_lost_at(when: float, offline_reducing_s: float) -> AgentCore:
    """A core whose EA is connected and synced, its server link up, then lost at `when`."""
    agent = core(offline_reducing_s=offline_reducing_s)
    agent.controls.link_up()
    connect_and_sync(agent)
    agent.controls.link_down(when)
    return agent


def opening(agent: AgentCore, **fields: object) -> None:
    """An ENTRY whose move to OPENING has committed (the OPEN is the next step)."""
    agent.apply_row(position(P.OPENING, version=2, **fields))
    agent.apply_row(action())


def open_with_close(agent: AgentCore, status: PositionStatus = P.OPEN) -> None:
    agent.apply_row(position(status, version=3, entry_price=Decimal("150"), mt_ticket="7"))
    agent.apply_row(action(type_=ActionType.CLOSE))


def hedge_leg(agent: AgentCore, head_side: Side | None, status: PositionStatus = P.PENDING) -> None:
    """pos-A, a SELL leg triggered by pos-H; `head_side` None: pos-H is not in the agent's rows
    (another user's), else pos-H is the agent's own OPEN position on that side."""
    if head_side is not None:
        agent.apply_row(replace(position(P.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="1"),
                                id=PositionId("pos-H"), side=head_side))  # fmt: skip
    agent.apply_row(position(status, version=2 if status is P.OPENING else 1, side=Side.SELL))
    agent.apply_row(replace(action(), trigger_position_id=PositionId("pos-H")))


# ---------------------------------------------------------------------------------- the ControlBook


def test_book_without_controls_is_active() -> None:
    book = ControlBook(60)
    book.link_up()
    assert book.state_for(USER, ACCOUNT, 0).state is TradingState.ACTIVE


@pytest.mark.parametrize(("scope", "target"), [("GLOBAL", None), ("USER", USER), ("ACCOUNT", ACCOUNT)])
def test_book_control_of_each_scope_governs_the_account(scope: str, target: str | None) -> None:
    book = ControlBook(60)
    book.link_up()
    book.apply_data([control(scope, "HALTED", target)])
    assert book.state_for(USER, ACCOUNT, 0).state is TradingState.HALTED


def test_book_controls_of_another_user_or_account_do_not_govern_it() -> None:
    book = ControlBook(60)
    book.link_up()
    book.apply_data([control("USER", "HALTED", OTHER_USER), control("ACCOUNT", "HALTED", "acc-9")])
    assert book.state_for(USER, ACCOUNT, 0).state is TradingState.ACTIVE


def test_book_most_restrictive_of_the_three_wins() -> None:
    book = ControlBook(60)
    book.link_up()
    book.apply_data([control("GLOBAL", "REDUCING"), control("USER", "ACTIVE", USER),
                     control("ACCOUNT", "HALTED", ACCOUNT)])  # fmt: skip
    found = book.state_for(USER, ACCOUNT, 0)
    assert found.state is TradingState.HALTED and "ACCOUNT" in found.describe()
    book.apply_data([control("ACCOUNT", "ACTIVE", ACCOUNT, at_s=1)])
    assert book.state_for(USER, ACCOUNT, 0).state is TradingState.REDUCING


def test_book_keeps_the_later_version_whichever_arrives_last() -> None:
    book = ControlBook(60)
    book.link_up()
    book.apply_data([control("GLOBAL", "HALTED", at_s=5)])
    assert book.apply_data([control("GLOBAL", "ACTIVE", at_s=4)]) is False  # an older read
    assert book.state_for(USER, ACCOUNT, 0).state is TradingState.HALTED


@pytest.mark.parametrize(
    "bad",
    [
        {**control("GLOBAL", "HALTED"), "scope": "PLANET"},
        {**control("GLOBAL", "STOP")},
        control("GLOBAL", "HALTED", target="acc-1"),
        control("ACCOUNT", "HALTED", target=None),
        {**control("USER", "HALTED", USER), "targetId": 7},
        {**control("GLOBAL", "HALTED"), "updatedAt": None},
        {**control("GLOBAL", "HALTED"), "updatedAt": "yesterday"},
    ],
)
def test_book_malformed_control_is_skipped_and_the_rest_applied(bad: dict[str, Any]) -> None:
    book = ControlBook(60)
    book.link_up()
    book.apply_data([bad, control("USER", "REDUCING", USER)])
    assert book.state_for(USER, ACCOUNT, 0).state is TradingState.REDUCING
    assert set(book.controls) == {f"USER:{USER}"}


def test_control_from_gql_rejects_an_unknown_state_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="state must be one of ACTIVE, REDUCING, HALTED"):
        control_from_gql(control("GLOBAL", "OFF"))


def test_book_unheard_for_the_offline_limit_acts_as_reducing() -> None:
    book = ControlBook(60, now=0)
    book.link_up()
    book.link_down(100)
    assert book.state_for(USER, ACCOUNT, 159.9).state is TradingState.ACTIVE
    found = book.state_for(USER, ACCOUNT, 160)
    assert isinstance(found, OfflineReducing) and "not heard from the server for 60 s" in found.describe()
    book.link_up()
    assert book.state_for(USER, ACCOUNT, 500).state is TradingState.ACTIVE


def test_book_never_linked_counts_from_its_start() -> None:
    book = ControlBook(60, now=10)
    assert book.state_for(USER, ACCOUNT, 69).state is TradingState.ACTIVE
    assert book.state_for(USER, ACCOUNT, 70).state is TradingState.REDUCING


def test_book_offline_does_not_lower_a_halt() -> None:
    book = ControlBook(60, now=0)
    book.apply_data([control("GLOBAL", "HALTED")])
    assert book.state_for(USER, ACCOUNT, 1000).state is TradingState.HALTED


# ------------------------------------------------------------------ the move to OPENING (ENTRY)


def test_halted_entry_is_not_moved_to_opening_and_fails_saying_why() -> None:
    agent = linked_core(control("GLOBAL", "HALTED", reason="broker incident"))
    agent.apply_row(position())
    agent.apply_row(action())
    intents = agent.decide(1.0)
    assert position_updates(intents) == [{"status": "CANCELED"}]
    [failed] = action_updates(intents)
    assert failed["status"] == "FAILED" and "HALTED" in str(failed["errorMessage"])
    assert "broker incident" in str(failed["errorMessage"])


def test_reducing_new_entry_is_not_moved_to_opening() -> None:
    agent = linked_core(control("USER", "REDUCING", USER))
    agent.apply_row(position())
    agent.apply_row(action())
    intents = agent.decide(1.0)
    assert position_updates(intents) == [{"status": "CANCELED"}]
    assert "would not reduce exposure" in str(action_updates(intents)[0]["errorMessage"])


@pytest.mark.parametrize(
    ("state", "head_side", "moved_to"),
    [
        pytest.param("REDUCING", Side.BUY, "OPENING", id="reducing-pairing-an-open-position-opens"),
        pytest.param("REDUCING", Side.SELL, "CANCELED", id="reducing-on-its-triggers-side-is-refused"),
        pytest.param("REDUCING", None, "OPENING", id="reducing-of-another-users-position-left-to-the-server"),
        pytest.param("HALTED", Side.BUY, "CANCELED", id="halted-is-refused-even-when-it-pairs"),
    ],
)
def test_hedge_leg_under_a_global_control_opens_only_where_the_state_allows_it(
    state: str, head_side: Side | None, moved_to: str
) -> None:
    agent = linked_core(control("GLOBAL", state))
    hedge_leg(agent, head_side=head_side)
    assert position_updates(agent.decide(1.0)) == [{"status": moved_to}]


def test_unheard_server_is_no_reason_to_fail_a_pending_entry() -> None:
    agent = core(offline_reducing_s=60)
    connect_and_sync(agent)
    agent.controls.link_down(0)  # the move to OPENING needs the server: it judges when back
    agent.apply_row(position())
    agent.apply_row(action())
    assert position_updates(agent.decide(100.0)) == [{"status": "OPENING"}]


def test_entry_opens_again_once_the_halt_is_lifted() -> None:
    agent = linked_core(control("GLOBAL", "HALTED"))
    agent.controls.apply_data([control("GLOBAL", "ACTIVE", at_s=1)])
    agent.apply_row(position())
    agent.apply_row(action())
    assert position_updates(agent.decide(1.0)) == [{"status": "OPENING"}]


# ------------------------------------------------------------------------------------ the OPEN


def test_halt_that_came_after_the_opening_committed_sends_no_open() -> None:
    agent = linked_core()
    opening(agent)
    agent.controls.apply_data([control("ACCOUNT", "HALTED", ACCOUNT)])
    intents = agent.decide(1.0)
    assert sent(intents, Open) == []
    assert position_updates(intents) == [{"status": "CANCELED"}]
    assert "HALTED" in str(action_updates(intents)[0]["errorMessage"])


def test_reducing_sends_no_open_for_a_new_entry() -> None:
    agent = linked_core(control("GLOBAL", "REDUCING"))
    opening(agent)
    intents = agent.decide(1.0)
    assert sent(intents, Open) == [] and position_updates(intents) == [{"status": "CANCELED"}]


def test_reducing_sends_the_open_of_a_pairing_hedge_leg() -> None:
    agent = linked_core(control("GLOBAL", "REDUCING"))
    hedge_leg(agent, head_side=Side.BUY, status=P.OPENING)
    assert len(sent(agent.decide(1.0), Open)) == 1


def test_active_sends_the_open() -> None:
    agent = linked_core(control("GLOBAL", "ACTIVE"))
    opening(agent)
    assert len(sent(agent.decide(1.0), Open)) == 1


def test_server_unheard_past_the_offline_limit_sends_no_open_for_a_new_entry() -> None:
    agent = server_lost_at(10.0, offline_reducing_s=60)
    opening(agent)
    intents = agent.decide(70.0)
    assert sent(intents, Open) == []
    assert "not heard from the server for 60 s" in str(action_updates(intents)[0]["errorMessage"])


def test_server_unheard_for_less_than_the_offline_limit_still_opens() -> None:
    agent = server_lost_at(10.0, offline_reducing_s=60)
    opening(agent)
    assert len(sent(agent.decide(69.0), Open)) == 1


# ----------------------------------------------------------------------- the move to CLOSING, CLOSE


def test_halted_close_action_fails_and_the_position_stays_open() -> None:
    agent = linked_core(control("GLOBAL", "HALTED"))
    open_with_close(agent)
    intents = agent.decide(1.0)
    assert position_updates(intents) == []
    [failed] = action_updates(intents)
    assert failed["status"] == "FAILED" and "closes included" in str(failed["errorMessage"])


def test_reducing_close_action_moves_to_closing() -> None:
    agent = linked_core(control("GLOBAL", "REDUCING"))
    open_with_close(agent)
    assert position_updates(agent.decide(1.0)) == [{"status": "CLOSING"}]


def test_halt_that_came_after_the_closing_committed_sends_no_close_and_returns_to_open() -> None:
    agent = linked_core()
    open_with_close(agent, P.CLOSING)
    agent.controls.apply_data([control("USER", "HALTED", USER)])
    intents = agent.decide(1.0)
    assert sent(intents, Close) == []
    assert position_updates(intents) == [{"status": "OPEN"}]
    assert "HALTED" in str(action_updates(intents)[0]["errorMessage"])


@pytest.mark.parametrize("state", ["ACTIVE", "REDUCING"])
def test_close_is_sent_when_active_or_reducing(state: str) -> None:
    agent = linked_core(control("GLOBAL", state))
    open_with_close(agent, P.CLOSING)
    assert len(sent(agent.decide(1.0), Close)) == 1


def test_server_unheard_past_the_offline_limit_still_sends_a_close() -> None:
    agent = core(offline_reducing_s=60)
    connect_and_sync(agent)
    agent.controls.link_down(0.0)
    open_with_close(agent, P.CLOSING)
    assert len(sent(agent.decide(500.0), Close)) == 1


def test_new_lease_grant_keeps_the_halt_the_old_core_heard(tmp_path: Path) -> None:
    runtime = AgentRuntime(AgentSettings(server_url="http://127.0.0.1:9", token="t", ea_token="e",
                                         state_dir=str(tmp_path)))  # fmt: skip
    runtime.core.controls.apply_data([control("GLOBAL", "HALTED")])
    old = runtime.core
    runtime._fresh_core()
    assert runtime.core is not old
    assert runtime.core.controls.state_for(USER, ACCOUNT, 0).state is TradingState.HALTED


def test_new_core_counts_the_servers_silence_from_its_own_start() -> None:
    started = time.monotonic()
    agent = core(offline_reducing_s=60)
    assert agent.controls.state_for(USER, ACCOUNT, started + 59).state is TradingState.ACTIVE
    assert agent.controls.state_for(USER, ACCOUNT, time.monotonic() + 61).state is TradingState.REDUCING


def test_controls_heard_before_the_rows_let_a_restarted_agent_open_what_waits(tmp_path: Path) -> None:
    runtime = AgentRuntime(AgentSettings(server_url="http://127.0.0.1:9", token="t", ea_token="e",
                                         state_dir=str(tmp_path), offline_reducing_s=60))  # fmt: skip
    runtime.core.controls.unheard_since = time.monotonic() - 3600  # a long way to the server
    runtime._on_controls([])  # the link read the controls, then reloads the rows
    connect_and_sync(runtime.core)
    opening(runtime.core)
    assert len(sent(runtime.core.decide(time.monotonic()), Open)) == 1
