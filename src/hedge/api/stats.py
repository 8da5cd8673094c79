"""`latestStats`: the newest 5-minute statistics report, as the console shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from hedge.api.context import Context
from hedge.store import stats_reports


@strawberry.type
class SymbolExposure:
    symbol: str
    net_lots: float = strawberry.field(description="BUY lots minus SELL lots, open positions only")


@strawberry.type(description="Counts over a period (UTC day or month so far)")
class StatsPeriod:
    realized_pl: float
    closed_positions: int
    trail_fires: int
    actions_executed: int
    actions_failed: int
    hedge_leg_failures: int = strawberry.field(description="failed actions that a trigger started")


@strawberry.type
class AccountStats:
    account_id: strawberry.ID
    user_id: strawberry.ID
    display_name: str
    open_positions: int
    open_lots: float
    exposure: list[SymbolExposure]
    today: StatsPeriod
    month: StatsPeriod
    alerts_open: int
    alerts_critical: int
    alerts_awaiting_action: int = strawberry.field(description="open alerts with requiresAction")


@strawberry.type(description="One statistics report (written every HEDGE_STATS_INTERVAL_S)")
class StatsReport:
    generated_at: datetime
    location: str = strawberry.field(description="where the report's JSON went (file:// or s3://)")
    accounts: list[AccountStats] = strawberry.field(description="a CLIENT sees its own accounts only")


def _period(raw: dict[str, Any]) -> StatsPeriod:
    return StatsPeriod(
        realized_pl=float(raw["realizedPl"]),
        closed_positions=raw["closedPositions"],
        trail_fires=raw["trailFires"],
        actions_executed=raw["actionsExecuted"],
        actions_failed=raw["actionsFailed"],
        hedge_leg_failures=raw["hedgeLegFailures"],
    )


def _account(raw: dict[str, Any]) -> AccountStats:
    alerts: dict[str, int] = raw["alertsOpen"]
    return AccountStats(
        account_id=strawberry.ID(raw["accountId"]),
        user_id=strawberry.ID(raw["userId"]),
        display_name=raw["displayName"],
        open_positions=raw["openPositions"],
        open_lots=float(raw["openLots"]),
        exposure=[SymbolExposure(symbol=s, net_lots=float(v)) for s, v in raw["exposure"].items()],
        today=_period(raw["today"]),
        month=_period(raw["month"]),
        alerts_open=sum(alerts.values()),
        alerts_critical=alerts.get("CRITICAL", 0),
        alerts_awaiting_action=raw["alertsAwaitingAction"],
    )


@strawberry.type
class StatsQuery:
    @strawberry.field
    async def latest_stats(self, info: Info[Context, None]) -> StatsReport | None:
        """The newest statistics report; null before the first one is written."""
        c = info.context
        actor = c.actor
        found = await c.run(stats_reports.latest, c.services.store.engine)
        if found is None:
            return None
        generated_at, location, body = found
        accounts = [_account(a) for a in body["accounts"] if actor.is_admin or a["userId"] == actor.user_id]
        return StatsReport(
            generated_at=generated_at,
            location=location,
            accounts=accounts,
        )
