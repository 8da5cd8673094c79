"""Presence shared by every server process: who holds a live connection of which user."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import UtcDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("process_id", sa.String(64), primary_key=True),
        sa.Column("connections", sa.Integer, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("presence")
