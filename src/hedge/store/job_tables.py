"""The periodic jobs' tables (migration 0006), on the same metadata as the entity tables.

None of these rows is an entity: they carry no version and add nothing to the change feed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hedge.store.tables import metadata
from hedge.store.types import DecimalText, UtcDateTime, serial_key

# One row per job: when it is next due, and which process holds its lease while it runs.
job_schedule = Table(
    "job_schedule",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("next_due_at", UtcDateTime, nullable=False),
    Column("holder", String(128)),
    Column("lease_until", UtcDateTime),
)

job_runs = Table(
    "job_runs",
    metadata,
    serial_key("id"),
    Column("job", String(64), nullable=False),
    Column("process_id", String(128), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_job_runs_job_started", "job", "started_at"),
)

# How far a job that follows the change feed has read (the alert outbox's feeder).
job_cursors = Table(
    "job_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# An account's figures over time: the latest report in each bucket of `resolution_s` seconds.
account_snapshots = Table(
    "account_snapshots",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), primary_key=True),
    Column("resolution_s", Integer, primary_key=True),
    Column("bucket_at", UtcDateTime, primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("balance", DecimalText),
    Column("credit", DecimalText),
    Column("equity", DecimalText),
    Column("margin", DecimalText),
    Column("margin_level", DecimalText),
    Index("ix_account_snapshots_resolution_bucket", "resolution_s", "bucket_at"),
)

stats_reports = Table(
    "stats_reports",
    metadata,
    serial_key("id"),
    Column("generated_at", UtcDateTime, nullable=False, index=True),
    Column("location", Text, nullable=False),
    Column("body", JSON, nullable=False),
)

# One archive run's batch: WRITTEN (file stored) -> VERIFIED (read back) -> DELETED (hot rows gone).
archive_batches = Table(
    "archive_batches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("cutoff", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("location", Text, nullable=False),
    Column("position_ids", JSON, nullable=False),
    Column("action_ids", JSON, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Alert deliveries: one row per (channel, raise or escalation), sent once, retried with backoff.
notify_outbox = Table(
    "notify_outbox",
    metadata,
    serial_key("id"),
    Column("channel", String(128), nullable=False),
    Column("dedupe_key", String(256), nullable=False),
    Column("alert_id", String(64)),
    Column("event", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    UniqueConstraint("channel", "dedupe_key", name="ux_notify_outbox_channel_key"),
    Index("ix_notify_outbox_state_due", "state", "next_attempt_at"),
)
