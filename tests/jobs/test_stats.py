"""The 5-minute statistics: what each figure counts, the report files, and latestStats."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.api.conftest import Api

from hedge.domain import enums
from hedge.domain.enums import ActionStatus, PositionStatus, Side, TriggerReason
from hedge.domain.ids import AccountId, ActionId, PositionId, UserId
from hedge.domain.models import Account, Action, Position, User
from hedge.jobs.objectstore import open_store
from hedge.jobs.stats import AlertCount, compute
from hedge.jobs.stats_job import write_stats
from hedge.store.repository import Store

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
EARLIER_TODAY = NOW - timedelta(hours=3)
EARLIER_THIS_MONTH = NOW - timedelta(days=5)
LAST_MONTH = NOW - timedelta(days=20)

USER = User(UserId("u1"), "u1@x.io", "U", enums.UserRole.CLIENT, enums.PCStatus.ONLINE, True, NOW, NOW)
ACCOUNT = Account(AccountId("a1"), USER.id, enums.BrokerType.MT5, "1", "S", "main", "USD",
                  enums.ConnectionStatus.CONNECTED, NOW, NOW)  # fmt: skip
_ids = iter(range(1000))


def position(status: PositionStatus, side: Side = Side.BUY, volume: str = "0.1", symbol: str = "USDJPY",
             **fields: object) -> Position:  # fmt: skip
    base = Position(PositionId(f"p{next(_ids)}"), USER.id, ACCOUNT.id, symbol, side, Decimal(volume), status,
                    enums.TrailMode.FROM_ENTRY, NOW, NOW)  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def action(status: ActionStatus, when: datetime, trigger: str | None = None) -> Action:
    return Action(ActionId(f"x{next(_ids)}"), USER.id, ACCOUNT.id, PositionId("p0"), enums.ActionType.ENTRY,
                  status, when, when, trigger_position_id=PositionId(trigger) if trigger else None,
                  executed_at=when if status is ActionStatus.EXECUTED else None)  # fmt: skip


def test_open_lots_and_net_exposure_count_open_and_closing_positions_only() -> None:
    positions = [
        position(PositionStatus.OPEN, Side.BUY, "0.3"),
        position(PositionStatus.CLOSING, Side.SELL, "0.1"),
        position(PositionStatus.OPEN, Side.SELL, "1.0", symbol="EURUSD"),
        position(PositionStatus.PENDING, Side.BUY, "5"),
        position(PositionStatus.CLOSED, Side.BUY, "5"),
        position(PositionStatus.OPEN, Side.BUY, "0.2", symbol="XAUUSD"),
        position(PositionStatus.OPEN, Side.SELL, "0.2", symbol="XAUUSD"),  # hedged flat
    ]
    (stats,) = compute(NOW, [USER], [ACCOUNT], positions, []).accounts

    assert stats.open_positions == 5 and stats.open_lots == Decimal("1.8")
    assert stats.exposure == {"EURUSD": Decimal("-1.0"), "USDJPY": Decimal("0.2")}


def test_realized_pl_and_trail_fires_are_counted_today_and_this_month_by_utc_time() -> None:
    positions = [
        position(PositionStatus.CLOSED, exit_time=EARLIER_TODAY, realized_pl=Decimal("12.5")),
        position(PositionStatus.STOPPED, exit_time=EARLIER_THIS_MONTH, realized_pl=Decimal("-40")),
        position(PositionStatus.CLOSED, exit_time=LAST_MONTH, realized_pl=Decimal("1000")),
        position(PositionStatus.OPEN, trail_triggered_at=EARLIER_TODAY, trigger_reason=TriggerReason.TRAIL),
        position(
            PositionStatus.STOPPED, trail_triggered_at=EARLIER_TODAY, trigger_reason=TriggerReason.STOP_OUT
        ),
    ]
    (stats,) = compute(NOW, [USER], [ACCOUNT], positions, []).accounts

    assert (stats.today.realized_pl, stats.month.realized_pl) == (Decimal("12.5"), Decimal("-27.5"))
    assert (stats.today.closed_positions, stats.month.closed_positions) == (1, 2)
    assert (stats.today.trail_fires, stats.month.trail_fires) == (1, 1)


def test_failed_actions_started_by_a_trigger_count_as_hedge_leg_failures() -> None:
    actions = [
        action(ActionStatus.EXECUTED, EARLIER_TODAY),
        action(ActionStatus.EXECUTED, EARLIER_THIS_MONTH),
        action(ActionStatus.FAILED, EARLIER_TODAY),
        action(ActionStatus.FAILED, EARLIER_TODAY, trigger="p9"),
        action(ActionStatus.FAILED, LAST_MONTH, trigger="p9"),
        action(ActionStatus.PENDING, EARLIER_TODAY),
    ]
    (stats,) = compute(NOW, [USER], [ACCOUNT], [], actions).accounts

    assert (stats.today.actions_executed, stats.month.actions_executed) == (1, 2)
    assert (stats.today.actions_failed, stats.today.hedge_leg_failures) == (2, 1)
    assert stats.month.hedge_leg_failures == 1


def test_open_alerts_are_counted_by_severity_with_the_manual_intervention_queue() -> None:
    alerts = [AlertCount("a1", "u1", "CRITICAL", True), AlertCount("a1", "u1", "WARNING", False),
              AlertCount(None, "u1", "INFO", False)]  # fmt: skip
    report = compute(NOW, [USER], [ACCOUNT], [], [], alerts)
    (stats,) = report.accounts
    user = report.to_json()["users"][0]  # type: ignore[index]

    assert stats.alerts_open == {"CRITICAL": 1, "WARNING": 1} and stats.alerts_awaiting_action == 1
    assert user["alertsAwaitingAction"] == 1 and user["email"] == "u1@x.io"


def test_report_json_keeps_money_exact_and_csv_has_a_row_per_account_and_symbol() -> None:
    positions = [
        position(PositionStatus.OPEN, Side.BUY, "0.3"),
        position(PositionStatus.CLOSED, exit_time=EARLIER_TODAY, realized_pl=Decimal("0.10")),
    ]
    report = compute(NOW, [USER], [ACCOUNT], positions, [])

    body = json.loads(json.dumps(report.to_json()))
    accounts = list(csv.DictReader(io.StringIO(report.accounts_csv())))
    exposure = list(csv.DictReader(io.StringIO(report.exposure_csv())))

    assert body["accounts"][0]["today"]["realizedPl"] == "0.10" and body["generatedAt"].startswith(
        "2026-03-15T12"
    )
    assert body["accounts"][0]["exposure"] == {"USDJPY": "0.3"}
    assert accounts[0]["accountId"] == "a1" and accounts[0]["openLots"] == "0.3"
    assert exposure == [{"userId": "u1", "accountId": "a1", "symbol": "USDJPY", "netLots": "0.3"}]


def _seeded(store: Store) -> str:
    user, _ = store.create_user("s@example.com", "S", "CLIENT")
    account = store.create_account(user.id, "MT5", "77", "Demo", "main")
    return account.id


@pytest.mark.parametrize("where", ["file", "s3"])
def test_stats_job_writes_json_and_csv_reports_to_object_storage(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        account = _seeded(store)
        if where == "file":
            objects = open_store((tmp_path / "reports").as_uri())
        else:
            bucket = request.getfixturevalue("s3_bucket")
            objects = open_store(f"s3://{bucket}/hedge", request.getfixturevalue("s3_endpoint"))
        detail = write_stats(store, objects)
        keys = objects.keys("stats/")
    finally:
        store.close()

    (report,) = [k for k in keys if k.endswith(".json")]
    assert sorted(keys) == sorted([report, report.replace(".json", "-accounts.csv"),
                                   report.replace(".json", "-exposure.csv")])  # fmt: skip
    body = json.loads(objects.get(report))
    assert [a["accountId"] for a in body["accounts"]] == [account]
    assert detail.startswith("1 accounts of 1 users")


LATEST = "{ latestStats { generatedAt location accounts { accountId openPositions today { realizedPl } } } }"


async def test_latest_stats_shows_a_client_its_own_accounts_and_an_admin_all(tmp_path: Path) -> None:
    from tests.api.conftest import settings_for, start_api

    url = f"sqlite:///{tmp_path / 'h.db'}"
    settings = settings_for(url, stats_interval_s=3600.0, reports_url=(tmp_path / "r").as_uri())
    async for api in start_api(settings):
        await _check_latest(api, tmp_path)


async def _check_latest(api: Api, tmp_path: Path) -> None:
    alice, bob = await api.trader(), await api.trader()
    before = await alice.client.execute(LATEST)
    store = Store(api.settings.database_url, migrate=False)
    try:
        write_stats(store, open_store((tmp_path / "r").as_uri()))
    finally:
        store.close()
    mine = (await alice.client.execute(LATEST))["latestStats"]
    everyone = (await api.admin.execute(LATEST))["latestStats"]

    assert before["latestStats"] is None or before["latestStats"]["accounts"] == []
    assert [a["accountId"] for a in mine["accounts"]] == [alice.account_id]
    assert {alice.account_id, bob.account_id} <= {a["accountId"] for a in everyone["accounts"]}
    assert mine["location"].startswith("file://") and mine["location"].endswith(".json")
