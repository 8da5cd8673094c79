"""GraphQL reads of the periodic jobs: `jobRuns` (ADMIN)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from hedge.api.context import Context
from hedge.domain.authz import require_admin
from hedge.domain.errors import ValidationError
from hedge.store import jobs as rows


@strawberry.type(description="One run of a periodic job, by whichever server process ran it")
class JobRun:
    job: str
    process_id: str
    started_at: datetime
    finished_at: datetime
    duration_s: float
    outcome: str = strawberry.field(description="OK or FAILED")
    detail: str = strawberry.field(description="what the run did, or the error that stopped it")


@strawberry.type
class JobsQuery:
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
        return [
            JobRun(
                job=r.job,
                process_id=r.process_id,
                started_at=r.started_at,
                finished_at=r.finished_at,
                duration_s=r.duration_s,
                outcome=r.outcome,
                detail=r.detail,
            )
            for r in found
        ]
