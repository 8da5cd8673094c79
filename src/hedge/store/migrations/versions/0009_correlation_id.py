"""The correlation id of an action: the trigger that moved it to EXECUTING, for the logs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("correlation_id", sa.String(128)))


def downgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("correlation_id")
