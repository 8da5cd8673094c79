"""The audit log: who changed users, tokens, accounts, trading controls and cross-user links."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import UtcDateTime, serial_key

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        serial_key("seq"),
        sa.Column("at", UtcDateTime, nullable=False, index=True),
        sa.Column("actor_id", sa.String(64)),
        sa.Column("address", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False, index=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("audit_log")
