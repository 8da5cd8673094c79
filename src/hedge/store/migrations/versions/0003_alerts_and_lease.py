"""Alerts (the operator's queue of what the system could not settle) and the agent lease."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import UtcDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("account_id", sa.String(64)),
        sa.Column("position_id", sa.String(64)),
        sa.Column("action_id", sa.String(64)),
        sa.Column("related_position_ids", sa.JSON, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("requires_action", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Column("acknowledged_at", UtcDateTime),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("resolved_at", UtcDateTime),
        sa.Column("resolved_by", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("escalated_at", UtcDateTime),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_alerts_user_kind", "alerts", ["user_id", "kind"])
    op.create_index("ix_alerts_resolved_created", "alerts", ["resolved_at", "created_at"])
    op.create_table(
        "agent_leases",
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("holder_id", sa.String(128), nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("claimed_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_leases")
    op.drop_table("alerts")
