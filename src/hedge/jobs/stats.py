"""The 5-minute statistics (§7), computed from rows: a pure function, no I/O.

Per account: open positions and lots, net exposure per symbol (BUY +, SELL -), realized P/L
today and this month (UTC, by exit time), trail fires, actions executed and failed, hedge-leg
failures (failed actions that a trigger started), and alert counts when alerts are given.
Per user: the same summed over its accounts.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from hedge.domain.enums import ActionStatus, PositionStatus, Side, TriggerReason
from hedge.domain.models import Account, Action, Position, User
from hedge.domain.values import iso_ms

LIVE = (PositionStatus.OPEN, PositionStatus.CLOSING)


@dataclass
class Period:
    realized_pl: Decimal = Decimal(0)
    closed_positions: int = 0
    trail_fires: int = 0
    triggers_fired: int = 0  # any reason: trail, stop-out, by hand
    actions_executed: int = 0
    actions_failed: int = 0
    hedge_leg_failures: int = 0


@dataclass
class AccountStats:
    account_id: str
    user_id: str
    display_name: str
    open_positions: int = 0
    open_lots: Decimal = Decimal(0)
    exposure: dict[str, Decimal] = field(default_factory=dict)  # symbol -> net lots
    today: Period = field(default_factory=Period)
    month: Period = field(default_factory=Period)
    alerts_open: dict[str, int] = field(default_factory=dict)  # severity -> open alerts
    alerts_awaiting_action: int = 0  # the manual-intervention queue


ACCOUNT_COLUMNS = ("userId", "accountId", "displayName", "openPositions", "openLots", "realizedPlToday",
                   "realizedPlMonth", "trailFiresToday", "actionsExecutedToday", "actionsFailedToday",
                   "hedgeLegFailuresToday", "alertsOpen", "alertsAwaitingAction")  # fmt: skip


@dataclass
class StatsReport:
    generated_at: datetime
    day_start: datetime
    month_start: datetime
    accounts: list[AccountStats]
    users: dict[str, str]  # user id -> email

    def to_json(self) -> dict[str, object]:
        return {
            "generatedAt": iso_ms(self.generated_at),
            "dayStart": iso_ms(self.day_start),
            "monthStart": iso_ms(self.month_start),
            "users": [
                {
                    "userId": uid,
                    "email": email,
                    **camel_dict(_sum(a for a in self.accounts if a.user_id == uid)),
                }
                for uid, email in sorted(self.users.items())
            ],
            "accounts": [camel_dict(asdict(a)) for a in self.accounts],
        }

    def accounts_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(ACCOUNT_COLUMNS)
        for a in self.accounts:
            writer.writerow([a.user_id, a.account_id, a.display_name, a.open_positions, a.open_lots,
                             a.today.realized_pl, a.month.realized_pl, a.today.trail_fires,
                             a.today.actions_executed, a.today.actions_failed, a.today.hedge_leg_failures,
                             sum(a.alerts_open.values()), a.alerts_awaiting_action])  # fmt: skip
        return out.getvalue()

    def exposure_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["userId", "accountId", "symbol", "netLots"])
        for a in self.accounts:
            for symbol, lots in sorted(a.exposure.items()):
                writer.writerow([a.user_id, a.account_id, symbol, lots])
        return out.getvalue()


@dataclass(frozen=True, slots=True)
class AlertCount:
    account_id: str | None
    user_id: str
    severity: str
    requires_action: bool


def compute(
    now: datetime,
    users: Iterable[User],
    accounts: Iterable[Account],
    positions: Iterable[Position],
    actions: Iterable[Action],
    open_alerts: Iterable[AlertCount] = (),
) -> StatsReport:
    now = now.astimezone(UTC)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    by_account: dict[str, AccountStats] = {
        a.id: AccountStats(a.id, a.user_id, a.display_name) for a in accounts
    }
    exposure: defaultdict[str, defaultdict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for p in positions:
        stats = by_account.get(p.account_id)
        if stats is None:
            continue
        if p.status in LIVE:
            stats.open_positions += 1
            stats.open_lots += p.volume
            exposure[p.account_id][p.symbol] += p.volume if p.side is Side.BUY else -p.volume
        for start, period in ((day_start, stats.today), (month_start, stats.month)):
            if p.exit_time is not None and p.exit_time >= start:
                period.closed_positions += 1
                period.realized_pl += p.realized_pl or Decimal(0)
            if p.trail_triggered_at is not None and p.trail_triggered_at >= start:
                period.triggers_fired += 1
                period.trail_fires += 1 if p.trigger_reason is TriggerReason.TRAIL else 0
    for x in actions:
        stats = by_account.get(x.account_id)
        if stats is None:
            continue
        for start, period in ((day_start, stats.today), (month_start, stats.month)):
            if x.status is ActionStatus.EXECUTED and (x.executed_at or x.updated_at) >= start:
                period.actions_executed += 1
            elif x.status is ActionStatus.FAILED and x.updated_at >= start:
                period.actions_failed += 1
                if x.trigger_position_id is not None:
                    period.hedge_leg_failures += 1
    for alert in open_alerts:
        stats = by_account.get(alert.account_id or "")
        if stats is None:
            continue
        stats.alerts_open[alert.severity] = stats.alerts_open.get(alert.severity, 0) + 1
        stats.alerts_awaiting_action += 1 if alert.requires_action else 0
    for account_id, symbols in exposure.items():
        by_account[account_id].exposure = {s: v for s, v in sorted(symbols.items()) if v}
    return StatsReport(now, day_start, month_start, list(by_account.values()), {u.id: u.email for u in users})


def _sum(accounts: Iterable[AccountStats]) -> dict[str, object]:
    total = AccountStats("", "", "")
    exposure: defaultdict[str, Decimal] = defaultdict(Decimal)
    for a in accounts:
        total.open_positions += a.open_positions
        total.open_lots += a.open_lots
        for symbol, lots in a.exposure.items():
            exposure[symbol] += lots
        for mine, theirs in ((total.today, a.today), (total.month, a.month)):
            for name in ("realized_pl", "closed_positions", "trail_fires", "triggers_fired",
                         "actions_executed", "actions_failed", "hedge_leg_failures"):  # fmt: skip
                setattr(mine, name, getattr(mine, name) + getattr(theirs, name))
        for severity, count in a.alerts_open.items():
            total.alerts_open[severity] = total.alerts_open.get(severity, 0) + count
        total.alerts_awaiting_action += a.alerts_awaiting_action
    total.exposure = {s: v for s, v in sorted(exposure.items()) if v}
    summed = asdict(total)
    for name in ("account_id", "user_id", "display_name"):
        summed.pop(name)
    return summed


def camel_dict(value: dict[str, object]) -> dict[str, object]:
    return {str(_camel_key(k)): _camel(v) for k, v in value.items()}


def _camel(value: object) -> object:
    """snake_case keys to camelCase, Decimals to strings (exact), recursively."""
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def _camel_key(key: object) -> object:
    if not isinstance(key, str) or "_" not in key or key != key.lower():  # symbols stay as they are
        return key
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)
