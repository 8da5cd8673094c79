"""Where the statistics reports went, and the latest one's body (for `latestStats`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, inspect, select, text

from hedge.jobs.stats import AlertCount
from hedge.store.job_tables import stats_reports
from hedge.store.jobs import writing


def save(
    engine: Engine, generated_at: datetime, location: str, body: dict[str, Any], keep: int = 300
) -> None:
    with writing(engine) as conn:
        conn.execute(insert(stats_reports).values(generated_at=generated_at, location=location, body=body))
        oldest_kept = (
            select(stats_reports.c.id)
            .order_by(stats_reports.c.id.desc())
            .offset(keep)
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(stats_reports.delete().where(stats_reports.c.id <= oldest_kept))


def latest(engine: Engine) -> tuple[datetime, str, dict[str, Any]] | None:
    query = select(stats_reports).order_by(stats_reports.c.id.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else (row["generated_at"], row["location"], row["body"])


def open_alerts(engine: Engine) -> list[AlertCount]:
    """The open (unresolved) alerts, when the store has the alerts table (migration 0003)."""
    if "alerts" not in inspect(engine).get_table_names():
        return []
    query = text(
        "SELECT account_id, user_id, severity, requires_action FROM alerts WHERE resolved_at IS NULL"
    )
    with engine.connect() as conn:
        return [AlertCount(r[0], r[1], r[2], bool(r[3])) for r in conn.execute(query)]
