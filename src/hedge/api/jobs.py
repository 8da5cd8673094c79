"""GraphQL reads of the periodic jobs: `jobRuns` and `notifyChannels` (ADMIN), `accountHistory`."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry
from strawberry.types import Info

from hedge.api.context import Context
from hedge.api.images import image
from hedge.domain.authz import check_owner, require_admin
from hedge.domain.errors import NotFound, ValidationError
from hedge.domain.models import Account
from hedge.jobs.notify_config import parse_channels
from hedge.store import jobs as rows
from hedge.store import outbox, snapshots


@strawberry.type(description="One run of a periodic job, by whichever server process ran it")
class JobRun:
    job: str
    process_id: str
    started_at: datetime
    finished_at: datetime
    duration_s: float
    outcome: str = strawberry.field(description="OK, FAILED or INTERRUPTED (the server stopped mid-run)")
    detail: str = strawberry.field(description="what the run did, or the error that stopped it")


@strawberry.type(
    description="An account's figures at one point of its history (the latest report in its bucket)"
)
class AccountSnapshot:
    account_id: strawberry.ID
    at: datetime = strawberry.field(description="the start of the bucket")
    resolution_s: int = strawberry.field(description="30 (the last day) or 300 (up to 90 days back)")
    balance: float | None
    credit: float | None
    equity: float | None
    margin: float | None
    margin_level: float | None


@strawberry.type(description="An alert delivery channel of HEDGE_NOTIFY and how it is doing")
class NotifyChannel:
    name: str
    up: bool = strawberry.field(description="false when its oldest waiting delivery failed 3 times or more")
    pending: int
    sent: int
    last_error: str | None


@strawberry.type
class JobsQuery:
    @strawberry.field
    async def notify_channels(self, info: Info[Context, None]) -> list[NotifyChannel]:
        """The configured delivery channels (and any with deliveries left in the outbox) (ADMIN)."""
        c = info.context
        require_admin(c.actor, "notifyChannels")
        configured = [ch.name for ch in parse_channels(c.services.settings.notify)]
        health = {h.channel: h for h in await c.run(outbox.health, c.services.store.engine)}
        return [
            NotifyChannel(
                name=name,
                up=health[name].up if name in health else True,
                pending=health[name].pending if name in health else 0,
                sent=health[name].sent if name in health else 0,
                last_error=health[name].last_error if name in health else None,
            )
            for name in sorted(set(configured) | set(health))
        ]

    @strawberry.field
    async def account_history(
        self, info: Info[Context, None], account_id: strawberry.ID, since: datetime | None = None
    ) -> list[AccountSnapshot]:
        """The account's figures since `since` (default: a day ago), oldest first: a point per
        5 minutes up to a day ago, then a point per 30 s. A CLIENT sees its own accounts only."""
        c = info.context
        account = await c.run(c.services.cache.get, Account, str(account_id))
        if account is None:
            raise NotFound("Account", str(account_id))
        check_owner(c.actor, account.user_id, "Account", account.id)
        now = c.services.store.now()
        start = since if since is not None else now - timedelta(days=1)
        found = await c.run(snapshots.history, c.services.store.engine, account.id, start, now)
        return [image(p, AccountSnapshot) for p in found]

    @strawberry.field
    async def job_runs(
        self, info: Info[Context, None], job: str | None = None, limit: int = 50
    ) -> list[JobRun]:
        """The newest runs of the periodic jobs, newest first (ADMIN)."""
        c = info.context
        require_admin(c.actor, "jobRuns")
        if not 1 <= limit <= 1000:
            raise ValidationError("limit", f"must be between 1 and 1000, was {limit}")
        found = await c.run(rows.list_runs, c.services.store.engine, job, limit)
        return [image(r, JobRun) for r in found]
