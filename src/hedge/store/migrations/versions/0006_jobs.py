"""The periodic jobs' tables: schedule and runs, account snapshot history, statistics reports,
archive batches, and the alert delivery outbox with its feed cursor.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import DecimalText, UtcDateTime

revision = "0006"
down_revision = "0005"


def _serial() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )


def upgrade() -> None:
    op.create_table(
        "job_schedule",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("next_due_at", UtcDateTime, nullable=False),
        sa.Column("holder", sa.String(128)),
        sa.Column("lease_until", UtcDateTime),
    )
    op.create_table(
        "job_runs",
        _serial(),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("process_id", sa.String(128), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Index("ix_job_runs_job_started", "job", "started_at"),
    )
    op.create_table(
        "job_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "account_snapshots",
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("resolution_s", sa.Integer, primary_key=True),
        sa.Column("bucket_at", UtcDateTime, primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("balance", DecimalText),
        sa.Column("credit", DecimalText),
        sa.Column("equity", DecimalText),
        sa.Column("margin", DecimalText),
        sa.Column("margin_level", DecimalText),
        sa.Index("ix_account_snapshots_resolution_bucket", "resolution_s", "bucket_at"),
    )
    op.create_table(
        "stats_reports",
        _serial(),
        sa.Column("generated_at", UtcDateTime, nullable=False, index=True),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_table(
        "archive_batches",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cutoff", UtcDateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("position_ids", sa.JSON, nullable=False),
        sa.Column("action_ids", sa.JSON, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "notify_outbox",
        _serial(),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("dedupe_key", sa.String(256), nullable=False),
        sa.Column("alert_id", sa.String(64)),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime),
        sa.UniqueConstraint("channel", "dedupe_key", name="ux_notify_outbox_channel_key"),
        sa.Index("ix_notify_outbox_state_due", "state", "next_attempt_at"),
    )


def downgrade() -> None:
    for table in (
        "notify_outbox",
        "archive_batches",
        "stats_reports",
        "account_snapshots",
        "job_cursors",
        "job_runs",
        "job_schedule",
    ):
        op.drop_table(table)
