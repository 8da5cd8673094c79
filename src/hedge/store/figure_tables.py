"""Per-position figures the agents report (migration 0007), on the same metadata as the entities.

Not an entity: no version, no history, nothing in the change feed. One row per position, the
latest report (by the time of the price it was worked out from) wins.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from hedge.store.tables import metadata
from hedge.store.types import DecimalText, UtcDateTime

# No foreign key to positions: the archive job may move a position out while its figures stay
# (they are pruned by the next report of its owner, store/figures.py).
position_figures = Table(
    "position_figures",
    metadata,
    Column("position_id", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("price", DecimalText),
    Column("unrealized_pl", DecimalText),
    Column("currency", String(8)),
    Column("trail_distance_pips", DecimalText),
    Column("at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)
