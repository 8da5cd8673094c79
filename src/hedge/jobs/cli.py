"""`hedge backup` and `hedge restore`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from hedge.config import ServerSettings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = subparsers.add_parser("backup", help="write a backup of the store to a folder or S3")
    made.add_argument("--database-url", default=None, help="the store (HEDGE_DATABASE_URL)")
    made.add_argument("--to", required=True, help="a folder, file:///folder or s3://bucket/prefix")
    made.add_argument("--keep", type=int, default=None, help="backups kept there (HEDGE_BACKUP_KEEP, 7)")
    made.add_argument("--quiet", action="store_true", help="no progress bar")
    made.set_defaults(func=run_backup)
    back = subparsers.add_parser("restore", help="restore a backup into a store, then migrate it")
    back.add_argument("--from", dest="source", required=True, help="a backup file or s3://bucket/key")
    back.add_argument("--database-url", default=None, help="the store to restore into (HEDGE_DATABASE_URL)")
    back.add_argument("--force", action="store_true", help="replace a store that already holds rows")
    back.add_argument("--quiet", action="store_true", help="no progress bar")
    back.set_defaults(func=run_restore)


def _progress(quiet: bool, what: str) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A tqdm bar on stderr fed (done, total); total 0 counts steps of unknown number."""
    if quiet:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(desc=what, unit="step", file=sys.stderr, leave=False, disable=None)

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def run_backup(args: argparse.Namespace) -> int:
    from hedge.jobs.backup import BackupError, backup
    from hedge.jobs.objectstore import ObjectStoreError

    settings = ServerSettings.from_env(database_url=args.database_url)
    keep = args.keep if args.keep is not None else settings.backup_keep
    update, close = _progress(args.quiet, "backup")
    try:
        result = backup(
            settings.database_url, args.to, keep=keep, endpoint_url=settings.s3_endpoint_url, progress=update
        )
    except (BackupError, ObjectStoreError, OSError) as exc:
        close()
        print(f"hedge backup: {exc}", file=sys.stderr)
        return 2
    close()
    for old in result.deleted:
        print(f"deleted {old} (keeping the newest {keep})", file=sys.stderr)
    print(result.location)
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from hedge.jobs.backup import BackupError, restore
    from hedge.jobs.objectstore import ObjectStoreError

    settings = ServerSettings.from_env(database_url=args.database_url)
    update, close = _progress(args.quiet, "restore")
    try:
        result = restore(
            args.source,
            settings.database_url,
            force=args.force,
            endpoint_url=settings.s3_endpoint_url,
            progress=update,
        )
    except (BackupError, ObjectStoreError, OSError) as exc:
        close()
        print(f"hedge restore: {exc}", file=sys.stderr)
        return 3 if "already holds rows" in str(exc) else 2
    close()
    print(f"restored {result.source} into {result.database_url} (schema {result.revision})")
    return 0
