"""An action keeps the price that met its trigger (Action.triggerPrice): the agent checks an
ENTRY's maxSlippagePips against it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import DecimalText

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("trigger_price", DecimalText))


def downgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("trigger_price")
