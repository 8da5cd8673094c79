"""The tables. Every entity row has a `version` (+1 on every change); `changes` is the feed."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from hedge.store.types import DecimalText, UtcDateTime, serial_key

metadata = MetaData()


def entity_table(name: str, *columns: Column[object] | Index) -> Table:
    """An entity's table: its `id`, the given columns, then the `version` (+1 on every change) and
    the two stamps every entity row carries."""
    return Table(
        name,
        metadata,
        Column("id", String(64), primary_key=True),
        *columns,
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


users = entity_table(
    "users",
    Column("email", String(256), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("pc_status", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
)

accounts = entity_table(
    "accounts",
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False, index=True),
    Column("broker_type", String(8), nullable=False),
    Column("account_number", String(64), nullable=False),
    Column("server_name", String(256), nullable=False),
    Column("display_name", String(256), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("leverage", Integer),
    Column("balance", DecimalText),
    Column("credit", DecimalText),
    Column("equity", DecimalText),
    Column("margin", DecimalText),
    Column("margin_level", DecimalText),
    Column("connection_status", String(16), nullable=False),
    Column("last_synced_at", UtcDateTime),
    Column("symbol_map", JSON, nullable=False),
    Column("symbol_specs", JSON, nullable=False),
    Column("margin_mode", String(16)),
    Index("ux_accounts_number_server", "account_number", "server_name", unique=True),
)

positions = entity_table(
    "positions",
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False, index=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("symbol", String(16), nullable=False),
    Column("side", String(8), nullable=False),
    Column("volume", DecimalText, nullable=False),
    Column("status", String(16), nullable=False),
    Column("trail_width", DecimalText),
    Column("trail_mode", String(16), nullable=False),
    Column("trigger_action_ids", JSON, nullable=False),
    Column("trail_triggered_at", UtcDateTime),
    Column("trigger_reason", String(16)),
    Column("trigger_price", DecimalText),
    Column("mt_ticket", String(64)),
    Column("entry_price", DecimalText),
    Column("entry_time", UtcDateTime),
    Column("exit_price", DecimalText),
    Column("exit_time", UtcDateTime),
    Column("exit_reason", String(16)),
    Column("realized_pl", DecimalText),
    Column("memo", Text),
    Column("filled_volume", DecimalText),
    Column("retried_as_position_id", String(64)),
)

actions = entity_table(
    "actions",
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False, index=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("position_id", String(64), ForeignKey("positions.id"), nullable=False, index=True),
    Column("trigger_position_id", String(64)),
    Column("type", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_message", Text),
    Column("retry_count", Integer, nullable=False),
    Column("executed_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("max_slippage_pips", DecimalText),
    Column("client_request_id", String(128)),
    Column("requested_by", String(64)),  # the caller whose clientRequestId this is
    Column("trigger_price", DecimalText),  # the price that met its trigger (maxSlippagePips)
    Column("correlation_id", String(128)),  # hedge.domain.correlation
    Index("ix_actions_status_expires", "status", "expires_at"),
    Index("ux_actions_request", "requested_by", "client_request_id", unique=True),
)

# The change feed: one row per committed change of an entity row, in commit order.
changes = Table(
    "changes",
    metadata,
    serial_key("seq"),
    Column("entity", String(16), nullable=False),
    Column("op", String(8), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("image", JSON, nullable=False),
    Column("committed_at", UtcDateTime, nullable=False, index=True),
    sqlite_autoincrement=True,  # never reuse a sequence number, even after pruning
)

# Live agent connections per server process (pcStatus across processes); a row expires unless its
# process refreshes it, so a process that dies takes its users OFFLINE with it.
presence = Table(
    "presence",
    metadata,
    Column("user_id", String(64), ForeignKey("users.id"), primary_key=True),
    Column("process_id", String(64), primary_key=True),
    Column("connections", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# Every version of every position, action and trading control, with who or what made it. Written
# in the transaction that writes the row; never pruned with the feed (archived with its row).
row_history = Table(
    "row_history",
    metadata,
    serial_key("seq"),
    Column("entity", String(16), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("by_user", String(64)),
    Column("source", String(8), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("reason", Text),
    Column("image", JSON, nullable=False),
    Index("ix_row_history_entity", "entity", "entity_id", "version"),
)

# The kill switch: one row per scope and target (GLOBAL has target_id NULL); no row = ACTIVE.
trading_controls = Table(
    "trading_controls",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("scope", String(8), nullable=False),
    Column("target_id", String(64)),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(64)),
    Column("version", Integer, nullable=False),
)
# Alerts (hedge.domain.alerts): never deleted; at most one open (resolved_at NULL) per condition.
alerts = Table(
    "alerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False),
    Column("account_id", String(64)),
    Column("position_id", String(64)),
    Column("action_id", String(64)),
    Column("related_position_ids", JSON, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("requires_action", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(64)),
    Column("resolved_at", UtcDateTime),
    Column("resolved_by", String(64)),
    Column("note", Text),
    Column("escalated_at", UtcDateTime),
    Column("version", Integer, nullable=False),
    Index("ix_alerts_user_kind", "user_id", "kind"),
    Index("ix_alerts_resolved_created", "resolved_at", "created_at"),
)

# One acting agent per user (the agent lease): who holds it and until when; shared by every
# server process through the store.
agent_leases = Table(
    "agent_leases",
    metadata,
    Column("user_id", String(64), ForeignKey("users.id"), primary_key=True),
    Column("holder_id", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
)

# Who changed what, when, from where: every admin change (users, tokens, accounts, trading controls,
# links across users). Written in the transaction of the change itself; never updated.
audit_log = Table(
    "audit_log",
    metadata,
    serial_key("seq"),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor_id", String(64)),  # None: the system itself (bootstrap, a server rule)
    Column("address", String(64)),
    Column("action", String(64), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False, index=True),
    Column("detail", JSON, nullable=False),
    sqlite_autoincrement=True,
)

# The periodic jobs' tables live in their own module, on this metadata.
from hedge.store import figure_tables as _figure_tables  # noqa: E402, F401
from hedge.store import job_tables as _job_tables  # noqa: E402, F401
