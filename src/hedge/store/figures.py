"""Per-position figures from the agents: recorded latest-wins, read for the console.

A position's figures come from its owner's credential only (its agent holds the quote); a report
older than what is stored for a position changes nothing. Nothing here touches the position row,
its history or the change feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Engine, Insert, and_, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hedge.domain.authz import Actor
from hedge.domain.errors import Forbidden, NotFound
from hedge.domain.figures import PositionFigures, check_report
from hedge.store.figure_tables import position_figures as figs
from hedge.store.jobs import writing
from hedge.store.tables import positions


def record(engine: Engine, actor: Actor, report: Sequence[PositionFigures], now: datetime) -> int:
    """Store a report in one transaction; how many positions took it (the others held newer).

    NotFound for an unknown position, Forbidden for one the caller does not own (nothing is
    written then); figures of the caller's positions that no longer exist are dropped."""
    check_report(report, now)
    ids = [f.position_id for f in report]
    with writing(engine) as conn:
        owners = dict(
            conn.execute(select(positions.c.id, positions.c.user_id).where(positions.c.id.in_(ids))).all()
        )
        for position_id in ids:
            if position_id not in owners:
                raise NotFound("Position", position_id)
            if owners[position_id] != actor.user_id:
                raise Forbidden(
                    f"position {position_id!r} is not yours: its figures come from its owner's agent"
                )
        rows = [
            {
                "position_id": f.position_id,
                "user_id": actor.user_id,
                "price": f.price,
                "unrealized_pl": f.unrealized_pl,
                "currency": f.currency,
                "trail_distance_pips": f.trail_distance_pips,
                "at": f.at,
                "received_at": now,
            }
            for f in report
        ]
        # all rows in one statement (SQLAlchemy's "insertmanyvalues"); it returns the rows
        # inserted or replaced, not those that held newer figures (an executemany's rowcount
        # would say the same on SQLite, -1 on psycopg)
        taken = len(conn.execute(_upsert(engine.dialect.name), rows).all())
        mine = select(positions.c.id).where(positions.c.user_id == actor.user_id)
        conn.execute(
            delete(figs).where(and_(figs.c.user_id == actor.user_id, figs.c.position_id.not_in(mine)))
        )
    return taken


_COLUMNS = ("user_id", "price", "unrealized_pl", "currency", "trail_distance_pips", "at", "received_at")


@cache
def _upsert(dialect: str) -> Insert:
    """Insert a position's figures, or replace them when the stored ones are older: built once
    per dialect (building it per row, its `excluded` columns with it, cost ~0.45 ms a row)."""
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(figs)
    return statement.on_conflict_do_update(
        index_elements=[figs.c.position_id],
        set_={k: statement.excluded[k] for k in _COLUMNS},
        where=figs.c.at < statement.excluded.at,
    ).returning(figs.c.position_id)


def read(engine: Engine, position_ids: Iterable[str]) -> dict[str, PositionFigures]:
    """The stored figures of these positions (those with none are left out)."""
    wanted = list(dict.fromkeys(position_ids))
    found: dict[str, PositionFigures] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), 500):  # bounded IN lists
            chunk = wanted[start : start + 500]
            for r in conn.execute(select(figs).where(figs.c.position_id.in_(chunk))).mappings():
                found[r["position_id"]] = PositionFigures(
                    r["position_id"],
                    r["price"],
                    r["unrealized_pl"],
                    r["currency"],
                    r["trail_distance_pips"],
                    r["at"],
                )
    return found
