"""Per-position figures from the agents (price, unrealized P/L, distance to the trail's trigger),
latest per position; not an entity (no version, no history, no change feed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import DecimalText, UtcDateTime

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "position_figures",
        sa.Column("position_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False, index=True),
        sa.Column("price", DecimalText),
        sa.Column("unrealized_pl", DecimalText),
        sa.Column("currency", sa.String(8)),
        sa.Column("trail_distance_pips", DecimalText),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("position_figures")
