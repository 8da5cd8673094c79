"""The trade record: row history, trading controls, deadlines, idempotency keys, symbol specs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import DecimalText, UtcDateTime, serial_key

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("symbol_specs", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("margin_mode", sa.String(16)))
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("filled_volume", DecimalText))
        batch.add_column(sa.Column("retried_as_position_id", sa.String(64)))
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("expires_at", UtcDateTime))
        batch.add_column(sa.Column("max_slippage_pips", DecimalText))
        batch.add_column(sa.Column("client_request_id", sa.String(128)))
        batch.add_column(sa.Column("requested_by", sa.String(64)))
        batch.create_index("ix_actions_status_expires", ["status", "expires_at"])
        batch.create_index("ux_actions_request", ["requested_by", "client_request_id"], unique=True)
    op.create_table(
        "row_history",
        serial_key("seq"),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("by_user", sa.String(64)),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("image", sa.JSON, nullable=False),
    )
    op.create_index("ix_row_history_entity", "row_history", ["entity", "entity_id", "version"])
    op.create_table(
        "trading_controls",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False, index=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("target_id", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(64)),
        sa.Column("version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trading_controls")
    op.drop_index("ix_row_history_entity", "row_history")
    op.drop_table("row_history")
    with op.batch_alter_table("actions") as batch:
        batch.drop_index("ux_actions_request")
        batch.drop_index("ix_actions_status_expires")
        for name in ("requested_by", "client_request_id", "max_slippage_pips", "expires_at"):
            batch.drop_column(name)
    with op.batch_alter_table("positions") as batch:
        batch.drop_column("retried_as_position_id")
        batch.drop_column("filled_volume")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("margin_mode")
        batch.drop_column("symbol_specs")
