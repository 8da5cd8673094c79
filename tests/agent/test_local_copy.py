"""What the agent keeps on its PC (hedge.agent.local_copy): accounts and orders written by an
atomic replace and read back by a fresh core, with the journal's lines (commands sent, triggers
decided) written since; an unreadable file or line is ignored with a warning, not a crash;
without a state folder nothing is written."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.agent.core_rows import ACCOUNT, open_row

from hedge.agent.core import AgentCore
from hedge.agent.intents import TriggerActions
from hedge.agent.local_copy import LocalCopy
from hedge.config import AgentSettings
from hedge.domain.enums import BrokerType, ConnectionStatus
from hedge.domain.ids import AccountId, UserId
from hedge.domain.models import Account
from hedge.domain.orders import OrderTracker, OrderTrigger
from hedge.ea.protocol_messages import Price

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _core() -> AgentCore:
    return AgentCore(AgentSettings(token="t", ea_token="e", state_dir=""))


def _account(account_id: str, number: str) -> Account:
    return Account(
        id=AccountId(account_id), user_id=UserId("u1"), broker_type=BrokerType.MT5, account_number=number,
        server_name="Demo", display_name="main", currency="USD",
        connection_status=ConnectionStatus.DISCONNECTED, created_at=T0, updated_at=T0,
    )  # fmt: skip


def _with_an_open_sent() -> AgentCore:
    core = _core()
    tracker = OrderTracker("pos-A", "acc-1")
    tracker.send(OrderTrigger.SEND_OPEN, "c-1", 1.0)
    core.orders["pos-A"] = tracker
    return core


def test_accounts_saved_are_restored_into_a_fresh_core(tmp_path: Path) -> None:
    saved = _core()
    for account in (_account("acc-1", "1001"), _account("acc-2", "1002")):
        saved.apply_row(account)
    LocalCopy(str(tmp_path)).save_accounts(saved)

    restored = _core()
    LocalCopy(str(tmp_path)).restore_accounts(restored)
    assert restored.state.accounts == saved.state.accounts
    assert sorted(a.account_number for a in restored.state.accounts.values()) == ["1001", "1002"]
    assert [p.name for p in tmp_path.iterdir()] == ["accounts.json"]  # no temporary file left


@pytest.mark.parametrize("text", ["{not json", '[{"id": "acc-1"}]', '"a string"'])
def test_unreadable_accounts_file_is_ignored_with_a_warning(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "accounts.json").write_text(text)
    core = _core()
    with caplog.at_level(logging.WARNING, logger="hedge.agent.runtime"):
        LocalCopy(str(tmp_path)).restore_accounts(core)
    assert core.state.accounts == {}
    assert "ignoring unreadable" in caplog.text and "accounts.json" in caplog.text


def test_orders_in_doubt_saved_are_restored_into_a_fresh_core(tmp_path: Path) -> None:
    LocalCopy(str(tmp_path)).save_orders(_with_an_open_sent())
    restored = _core()
    LocalCopy(str(tmp_path)).restore_orders(restored)
    assert restored.journal == {"pos-A": ("OPEN", "c-1")}


def test_orders_file_is_written_again_only_when_what_it_keeps_changed(tmp_path: Path) -> None:
    copy, core = LocalCopy(str(tmp_path)), _with_an_open_sent()
    copy.save_orders(core)
    orders = tmp_path / "orders.json"
    orders.write_text("{}")  # a stand-in: a second save with the same state must not replace it
    copy.save_orders(core)
    assert orders.read_text() == "{}"
    core.orders.clear()  # the OPEN was answered: nothing in doubt any more
    copy.save_orders(core)
    assert json.loads(orders.read_text()) == core.saved_state()


def test_without_a_state_folder_nothing_is_written_or_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    copy, core = LocalCopy(""), _with_an_open_sent()
    core.apply_row(_account("acc-1", "1001"))
    copy.save_accounts(core)
    copy.save_orders(core)
    copy.restore_accounts(core)
    copy.restore_orders(core)
    assert list(tmp_path.iterdir()) == [] and copy.orders_saved_at > 0
    assert core.journal == {}


def _fired(copy: LocalCopy) -> tuple[AgentCore, TriggerActions]:
    """A core whose trail (entry 150, 0 pips) fires at 150.000, telling `copy` as it decides."""
    core = AgentCore(AgentSettings(token="t", ea_token="e", state_dir=""), on_fired=copy.fired)
    core.apply_row(_account(ACCOUNT, "1001"))
    core.apply_row(open_row(trail_width=Decimal(0)))
    fired = core.on_price(ACCOUNT, Price("USDJPY", Decimal("150.000"), Decimal("150.010"), 5_000))
    assert isinstance(fired[0], TriggerActions)
    return core, fired[0]


def test_trigger_journaled_as_it_fires_is_restored_after_a_crash(tmp_path: Path) -> None:
    _, fired = _fired(LocalCopy(str(tmp_path)))  # the agent dies before orders.json is written

    restored = _core()
    LocalCopy(str(tmp_path)).restore_orders(restored)

    assert restored.triggers == {"pos-A": fired}
    assert restored.triggers["pos-A"].correlation_id == fired.correlation_id == "trg-pos-A-5000"
    assert not (tmp_path / "orders.json").exists()


def test_orders_file_holds_the_fired_trigger_once_the_journal_is_emptied(tmp_path: Path) -> None:
    copy = LocalCopy(str(tmp_path))
    core, fired = _fired(copy)
    copy.save_orders(core)

    assert (tmp_path / "orders.journal").read_text() == ""
    restored = _core()
    LocalCopy(str(tmp_path)).restore_orders(restored)
    assert restored.triggers == {"pos-A": fired}
    assert restored.triggers["pos-A"].correlation_id == fired.correlation_id


def test_unreadable_trigger_line_is_skipped_with_a_warning_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = LocalCopy(str(tmp_path))
    copy.sent("OPEN", "pos-B", "c-1")
    with (tmp_path / "orders.journal").open("a") as journal:
        journal.write('{"positionId": "pos-C", "kind": "TRIGGER", "reason": "TRAIL", "price": "x"}\n')
        journal.write('{"positionId": "pos-D", "kind": "TRIG\n')  # torn by the crash
    _, fired = _fired(copy)

    restored = _core()
    with caplog.at_level(logging.WARNING):
        LocalCopy(str(tmp_path)).restore_orders(restored)

    assert restored.triggers == {"pos-A": fired} and restored.journal == {"pos-B": ("OPEN", "c-1")}
    assert "unreadable saved trigger of position pos-C" in caplog.text
    assert "unreadable line of" in caplog.text and "pos-D" in caplog.text


def test_a_failed_journal_write_is_logged_and_the_trigger_still_goes_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = LocalCopy(str(tmp_path))

    def full_disk(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("hedge.agent.local_copy.os.write", full_disk)
    with caplog.at_level(logging.WARNING, logger="hedge.agent.runtime"):
        core, fired = _fired(copy)

    assert core.triggers == {"pos-A": fired}
    assert "trigger of position pos-A not journaled" in caplog.text


def test_trigger_journaled_after_orders_file_saved_its_best_leaves_no_best_to_trail_from(
    tmp_path: Path,
) -> None:
    (tmp_path / "orders.json").write_text(json.dumps({"sent": {}, "trailBest": {"pos-A": "150.3"}}))
    _, fired = _fired(LocalCopy(str(tmp_path)))  # fired after that save; killed before the next

    restored = _core()
    LocalCopy(str(tmp_path)).restore_orders(restored)

    assert restored.triggers == {"pos-A": fired} and restored.saved_bests == {}
