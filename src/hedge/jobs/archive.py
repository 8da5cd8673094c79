"""The daily archive (§7): final positions and actions older than HEDGE_ARCHIVE_AFTER_DAYS leave the
hot tables for object storage, in one resumable sequence per batch:

    PLANNED  (the batch's ids recorded)  ->  WRITTEN  (the file stored)
             ->  VERIFIED (read back, equal to the rows)  ->  DELETED (rows gone, same transaction)

A batch carries its positions, their actions and the row history of both (every version, with
who or what made it): the history is in the file, compared on read-back, and deleted from the hot
`row_history` table in the transaction that deletes its rows, and only if the rows and history
are still the ones read back (else the batch is verified again, and dropped if it differs).

Each step is recorded before the next begins, and a run first finishes the batches an earlier
run left unfinished, so a crash at any point loses nothing (rows are deleted only after their
file was read back) and duplicates nothing (a batch always writes the same key, and rows in an
unfinished batch are never planned again).

Format: gzip-compressed JSON lines (`archive/YYYY/MM/DD/archive-<batch>.jsonl.gz`), one line per
row: {"entity": "Position"|"Action", "row": <the row's image, as the change feed carries it>},
then one line per history row: {"entity": "History", "row": {"seq", "entity", "entity_id",
"version", "at", "by_user", "source", "fields", "reason", "image"}} (oldest first).
Chosen over Parquet because it needs no new dependency (pyarrow is large), it streams, the
images are the feed's own JSON (exact decimals as text), and `zcat | jq` reads it anywhere; the
archive is written once and read rarely, so a columnar layout would buy little.
"""

from __future__ import annotations

import gzip
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hedge.domain.models import Action, Position
from hedge.domain.rows import to_image
from hedge.jobs.objectstore import ObjectStore, ObjectStoreError
from hedge.store import archive_rows as rows
from hedge.store.archive_rows import Batch, BatchRows
from hedge.store.repository import Store

log = logging.getLogger(__name__)

Step = Callable[[str, Batch], None]  # called after each recorded step (tests interrupt here)


HISTORY = "History"  # the `entity` of a history line


def encode(
    positions: list[Position], actions: list[Action], history: Sequence[Mapping[str, Any]] = ()
) -> bytes:
    lines = [{"entity": "Position", "row": to_image(p)} for p in positions]
    lines += [{"entity": "Action", "row": to_image(a)} for a in actions]
    lines += [{"entity": HISTORY, "row": history_line(h)} for h in history]
    text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)
    return gzip.compress(text.encode(), mtime=0)


def history_line(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row_history row as JSON: its columns, `at` as ISO 8601 UTC."""
    at: datetime = row["at"]
    return {
        "seq": int(row["seq"]), "entity": row["entity"], "entity_id": row["entity_id"],
        "version": int(row["version"]), "at": at.astimezone(UTC).isoformat(),
        "by_user": row["by_user"], "source": row["source"], "fields": list(row["fields"]),
        "reason": row["reason"], "image": row["image"],
    }  # fmt: skip


def _encoded(found: BatchRows) -> bytes:
    return encode(found.positions, found.actions, found.history)


def decode(data: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines() if line]


def archive(
    store: Store, objects: ObjectStore, after_days: float, *, batch_size: int = 500,
    on_step: Step | None = None,
) -> str:  # fmt: skip
    """Archive what is due; returns a one-line account of what was done."""
    step = on_step or (lambda _state, _batch: None)
    resumed = rows.unfinished(store.engine)
    archived = sum(_finish(store, objects, batch, step) for batch in resumed)
    cutoff = store.now() - timedelta(days=after_days)
    while True:
        positions, actions = rows.candidates(store.engine, cutoff, batch_size)
        if not positions:
            break
        batch = _plan(store, cutoff, positions, actions)
        step(rows.PLANNED, batch)
        archived += _finish(store, objects, batch, step)
    return f"{archived} rows archived ({len(resumed)} unfinished batches resumed), cutoff {cutoff:%Y-%m-%d}"


def _plan(store: Store, cutoff: datetime, positions: list[Position], actions: list[Action]) -> Batch:
    now = store.now()
    batch_id = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    key = f"archive/{now:%Y/%m/%d}/archive-{batch_id}.jsonl.gz"
    batch = Batch(
        batch_id, cutoff, rows.PLANNED, key, tuple(p.id for p in positions), tuple(a.id for a in actions)
    )
    rows.plan(store.engine, batch, now)
    return batch


def _finish(store: Store, objects: ObjectStore, batch: Batch, step: Step) -> int:
    """Carry one batch from its recorded state to DELETED; returns the rows it removed (history
    rows included)."""
    found = rows.rows_of(store.engine, batch)
    state = batch.state
    if state == rows.PLANNED:
        if not found.complete_for(batch):
            rows.move(store.engine, batch.id, rows.ABANDONED, store.now())  # someone else's hands
            return 0
        objects.put(batch.location, _encoded(found))
        rows.move(store.engine, batch.id, state := rows.WRITTEN, store.now())
        step(state, batch)
    elif state == rows.VERIFIED and not _file_holds(objects, batch, found):
        # resumed after a stop: the rows changed since the read-back (or the file is gone)
        state = rows.WRITTEN
    if state == rows.WRITTEN:
        try:
            stored = decode(objects.get(batch.location))
        except (ObjectStoreError, OSError, ValueError) as exc:
            log.warning("archive batch %s: reading back failed (%s); writing it again", batch.id, exc)
            rows.move(store.engine, batch.id, rows.PLANNED, store.now())
            return _finish(store, objects, _with_state(batch, rows.PLANNED), step)
        if stored != decode(_encoded(found)):  # a row changed after planning: drop it, plan afresh
            log.warning("archive batch %s: file differs from the rows; the batch is dropped", batch.id)
            objects.delete(batch.location)
            rows.move(store.engine, batch.id, rows.ABANDONED, store.now())
            return 0
        rows.move(store.engine, batch.id, state := rows.VERIFIED, store.now())
        step(state, batch)
    if state == rows.VERIFIED:
        gone = rows.delete_rows(store.engine, batch, found, store.now())
        if gone is None:  # changed between the read-back and the delete: verify the batch again
            log.warning("archive batch %s: rows changed before the delete; verifying again", batch.id)
            rows.move(store.engine, batch.id, rows.WRITTEN, store.now())
            return _finish(store, objects, _with_state(batch, rows.WRITTEN), step)
        step(rows.DELETED, batch)
        return gone
    return 0


def _file_holds(objects: ObjectStore, batch: Batch, found: BatchRows) -> bool:
    try:
        return decode(objects.get(batch.location)) == decode(_encoded(found))
    except (ObjectStoreError, OSError, ValueError):
        return False


def _with_state(batch: Batch, state: str) -> Batch:
    return Batch(batch.id, batch.cutoff, state, batch.location, batch.position_ids, batch.action_ids)


def daily(
    store: Store, objects: ObjectStore, after_days: float, make_backup: Callable[[], str] | None
) -> str:
    """The daily job: the archive, then a backup of what remains."""
    done = archive(store, objects, after_days)
    if make_backup is None:
        return done + "; no backup (HEDGE_BACKUP_URL=off)"
    return f"{done}; backup {make_backup()}"
