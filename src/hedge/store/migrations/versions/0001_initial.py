"""The first schema: users, accounts, positions, actions and the change feed."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hedge.store.types import DecimalText, UtcDateTime, serial_key

revision = "0001"
down_revision = None


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(256), nullable=False, unique=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("pc_status", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
        *_stamps(),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("broker_type", sa.String(8), nullable=False),
        sa.Column("account_number", sa.String(64), nullable=False),
        sa.Column("server_name", sa.String(256), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("leverage", sa.Integer),
        *(sa.Column(name, DecimalText) for name in ("balance", "credit", "equity", "margin", "margin_level")),
        sa.Column("connection_status", sa.String(16), nullable=False),
        sa.Column("last_synced_at", UtcDateTime),
        sa.Column("symbol_map", sa.JSON, nullable=False),
        *_stamps(),
    )
    op.create_index("ux_accounts_number_server", "accounts", ["account_number", "server_name"], unique=True)
    op.create_table(
        "positions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("volume", DecimalText, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trail_width", DecimalText),
        sa.Column("trail_mode", sa.String(16), nullable=False),
        sa.Column("trigger_action_ids", sa.JSON, nullable=False),
        sa.Column("trail_triggered_at", UtcDateTime),
        sa.Column("trigger_reason", sa.String(16)),
        sa.Column("trigger_price", DecimalText),
        sa.Column("mt_ticket", sa.String(64)),
        sa.Column("entry_price", DecimalText),
        sa.Column("entry_time", UtcDateTime),
        sa.Column("exit_price", DecimalText),
        sa.Column("exit_time", UtcDateTime),
        sa.Column("exit_reason", sa.String(16)),
        sa.Column("realized_pl", DecimalText),
        sa.Column("memo", sa.Text),
        *_stamps(),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("position_id", sa.String(64), sa.ForeignKey("positions.id"), nullable=False, index=True),
        sa.Column("trigger_position_id", sa.String(64)),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_message", sa.Text),
        sa.Column("retry_count", sa.Integer, nullable=False),
        sa.Column("executed_at", UtcDateTime),
        *_stamps(),
    )
    op.create_table(
        "changes",
        serial_key("seq"),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("image", sa.JSON, nullable=False),
        sa.Column("committed_at", UtcDateTime, nullable=False, index=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ("changes", "actions", "positions", "accounts", "users"):
        op.drop_table(table)
