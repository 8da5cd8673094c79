"""Reconciliation with the terminal's word (agent/reconcile.py, driven through the core): what the
terminal holds that the server does not (ORPHAN_AT_BROKER), what differs between them
(RECONCILIATION_MISMATCH), the periodic SYNC, and an account whose margin mode cannot hedge."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.agent import core_rows
from tests.agent.core_intents import action_updates, position_updates, raised, record_alerts, resolved, sent
from tests.agent.core_rows import (
    ACCOUNT,
    TICKET_TIME,
    action,
    answer_sync,
    connect_and_sync,
    core,
    opening_with_open_sent,
    position,
    report,
)

from hedge.domain.enums import PositionStatus, Side
from hedge.ea.protocol import Open, Sync
from hedge.ea.protocol_messages import Opened, PositionReport

P = PositionStatus


def test_terminal_holding_a_canceled_position_raises_orphan_at_broker() -> None:
    agent = core()
    agent.state.loaded = True
    agent.apply_row(position(P.CANCELED, version=3))
    intents = agent.ea_connected(ACCOUNT, 0.0)
    answer_sync(agent, intents, report("555"), now=0.1)
    orphan = raised(agent.decide(0.2))["ORPHAN_AT_BROKER"]
    assert orphan.severity == "CRITICAL" and orphan.requires_action and "555" in orphan.message


def test_terminal_holding_a_position_the_server_does_not_know_raises_orphan_then_resolves_when_gone() -> None:
    agent = core()
    agent.state.loaded = True
    intents = agent.ea_connected(ACCOUNT, 0.0)
    answer_sync(agent, intents, report("556", pid="pos-X"), now=0.1)
    alerts = agent.decide(0.2)
    assert raised(alerts)["ORPHAN_AT_BROKER"].key == ("ORPHAN_AT_BROKER", ACCOUNT, "pos-X")
    record_alerts(agent, alerts)
    answer_sync(agent, agent.sync_request(ACCOUNT, 1.0), now=1.1)
    assert resolved(agent.decide(1.2)) == ["ORPHAN_AT_BROKER"]


def test_late_fill_for_a_canceled_position_is_never_ignored() -> None:
    agent = core()
    agent.state.loaded = True
    command = opening_with_open_sent(agent)
    agent.apply_row(position(P.CANCELED, version=3))  # canceled by someone while OPEN was in flight
    agent.on_opened(
        ACCOUNT, Opened.success(command.command_id, "pos-A", "901", Decimal("150"), TICKET_TIME), 1.0
    )
    assert "ORPHAN_AT_BROKER" in raised(agent.decide(1.1))


def test_ticket_differing_between_server_and_terminal_raises_reconciliation_mismatch() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(core_rows.open_row())
    answer_sync(agent, agent.sync_request(ACCOUNT, 1.0), report("999"), now=1.1)
    mismatch = raised(agent.decide(1.2))["RECONCILIATION_MISMATCH"]
    assert "777" in mismatch.message and "999" in mismatch.message


def test_volume_or_side_differing_at_the_terminal_raises_reconciliation_mismatch_and_resolves() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(core_rows.open_row())
    odd = PositionReport("pos-A", "777", "USDJPY", Side.SELL, Decimal("0.2"), Decimal("150"), 1, Decimal(0))
    answer_sync(agent, agent.sync_request(ACCOUNT, 1.0), odd, now=1.1)
    decided = agent.decide(1.2)
    mismatch = raised(decided)["RECONCILIATION_MISMATCH"]
    assert "side BUY" in mismatch.message and "volume 0.1" in mismatch.message
    record_alerts(agent, decided)
    answer_sync(agent, agent.sync_request(ACCOUNT, 2.0), report("777"), now=2.1)
    assert resolved(agent.decide(2.2)) == ["RECONCILIATION_MISMATCH"]


def test_held_position_judged_fine_raises_orphan_once_its_row_closes_without_a_new_sync() -> None:
    agent = core()
    agent.state.loaded = True
    connect_and_sync(agent)
    agent.apply_row(core_rows.open_row())
    answer_sync(agent, agent.sync_request(ACCOUNT, 1.0), report("777"), now=1.1)
    assert "ORPHAN_AT_BROKER" not in raised(agent.decide(1.2))
    assert "ORPHAN_AT_BROKER" not in raised(agent.decide(1.3))  # nothing changed: judged the same

    agent.apply_row(replace(core_rows.open_row(version=4), status=P.CLOSED))  # closed, still held

    assert "ORPHAN_AT_BROKER" in raised(agent.decide(1.4))


def test_orphan_resolves_when_the_terminal_reports_the_position_closed() -> None:
    agent = core()
    agent.state.loaded = True
    intents = agent.ea_connected(ACCOUNT, 0.0)
    answer_sync(agent, intents, report("556", pid="pos-X"), now=0.1)
    alerts = agent.decide(0.2)
    record_alerts(agent, alerts)
    assert "ORPHAN_AT_BROKER" in raised(alerts)

    agent.terminal(ACCOUNT).release("pos-X")  # as a CLOSED or STOPPED frame for it does

    assert resolved(agent.decide(0.3)) == ["ORPHAN_AT_BROKER"]


# ------------------------------------------------------------------ when to SYNC, margin mode


def test_reconciliation_syncs_every_interval_and_after_the_server_link_returns() -> None:
    agent = core(reconcile_s=60.0)
    connect_and_sync(agent)
    assert sent(agent.decide(30.0), Sync) == []
    periodic = agent.decide(61.0)
    assert len(sent(periodic, Sync)) == 1
    answer_sync(agent, periodic, now=61.1)
    agent.server_linked()
    assert len(sent(agent.decide(62.0), Sync)) == 1


def test_netting_account_gets_no_open_and_an_alert_that_says_why() -> None:
    agent = core()
    intents = agent.ea_connected(ACCOUNT, 0.0, margin_mode="NETTING")
    answer_sync(agent, intents, now=0.1)
    agent.apply_row(position(P.OPENING, version=2))
    agent.apply_row(action())
    decided = agent.decide(0.2)
    assert sent(decided, Open) == []
    assert {"status": "CANCELED"} in position_updates(decided)
    message = action_updates(decided)[0]["errorMessage"]
    assert isinstance(message, str) and "NETTING" in message and "HEDGING" in message
    alert = raised(decided)["RECONCILIATION_MISMATCH"]
    assert "NETTING" in alert.message and alert.requires_action
