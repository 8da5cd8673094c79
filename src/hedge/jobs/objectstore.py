"""Object storage for reports, archives and backups: a folder (`file:///path`) or S3 (`s3://bucket/prefix`).

Keys are relative paths ("stats/2026/03/02/stats-20260302T100000Z.json"). A folder write goes to
a temporary file first and is renamed into place, so a reader never sees half a file. S3 is
reached with boto3; `endpoint_url` points it at any S3-compatible store (MinIO, Ceph, moto).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from sqlalchemy.engine import make_url


class ObjectStoreError(Exception):
    """An object could not be written, read or found; the message says which and why."""


class ObjectStore(Protocol):
    url: str

    def put(self, key: str, data: bytes) -> str:
        """Store `data` under `key`; returns the object's location (a URL)."""
        ...

    def put_file(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> str: ...

    def get(self, key: str) -> bytes: ...

    def get_file(self, key: str, path: Path) -> None: ...

    def keys(self, prefix: str = "") -> list[str]:
        """The keys under `prefix`, sorted."""
        ...

    def delete(self, key: str) -> None: ...

    def location(self, key: str) -> str: ...


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ObjectStoreError(f"key must stay inside {self.root}, was {key!r}")
        return path

    def put(self, key: str, data: bytes) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        return self.location(key)

    def put_file(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> str:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as out, path.open("rb") as source:
            while chunk := source.read(1 << 20):
                out.write(chunk)
                if progress is not None:
                    progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        return self.location(key)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectStoreError(f"no object {key!r} in {self.url}") from None

    def get_file(self, key: str, path: Path) -> None:
        path.write_bytes(self.get(key))

    def keys(self, prefix: str = "") -> list[str]:
        if not self.root.exists():
            return []
        found = (
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".part-")
        )
        return sorted(k for k in found if k.startswith(prefix))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def location(self, key: str) -> str:
        return (self.root / key).as_uri()


class S3Store:
    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None = None) -> None:
        import boto3  # only here: the folder store needs none of it

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self._client: Any = boto3.client("s3", endpoint_url=endpoint_url or None)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> str:
        self._call("write", key, self._client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data)
        return self.location(key)

    def put_file(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> str:
        self._call(
            "write", key, self._client.upload_file, str(path), self.bucket, self._key(key), Callback=progress
        )
        return self.location(key)

    def get(self, key: str) -> bytes:
        response = self._call("read", key, self._client.get_object, Bucket=self.bucket, Key=self._key(key))
        body: bytes = response["Body"].read()
        return body

    def get_file(self, key: str, path: Path) -> None:
        self._call("read", key, self._client.download_file, self.bucket, self._key(key), str(path))

    def keys(self, prefix: str = "") -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        start = self._key(prefix)
        found: list[str] = []
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                found.extend(item["Key"][strip:] for item in page.get("Contents", []))
        except Exception as exc:
            raise ObjectStoreError(f"cannot list {self.url}: {exc}") from exc
        return sorted(found)

    def delete(self, key: str) -> None:
        self._call("delete", key, self._client.delete_object, Bucket=self.bucket, Key=self._key(key))

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _call(self, what: str, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # botocore's errors share no base worth importing here
            raise ObjectStoreError(f"cannot {what} {self.location(key)}: {exc}") from exc


def open_store(url: str, endpoint_url: str | None = None) -> ObjectStore:
    """A store for `file:///path`, a plain folder path, or `s3://bucket/prefix`."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ObjectStoreError(f"an S3 URL needs a bucket, as s3://bucket/prefix, was {url!r}")
        return S3Store(parsed.netloc, parsed.path, endpoint_url)
    if parsed.scheme == "file":
        return FileStore(Path(unquote(parsed.path)))
    if parsed.scheme == "" and url:
        return FileStore(Path(url).resolve())
    raise ObjectStoreError(f"object storage must be file:///path or s3://bucket/prefix, was {url!r}")


def beside_database(database_url: str, folder: str, data_dir: str = "") -> str:
    """`folder` next to a SQLite database file; for PostgreSQL in `data_dir` (else the working directory)."""
    parsed = make_url(database_url)
    if parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        return (Path(parsed.database).resolve().parent / folder).as_uri()
    return ((Path(data_dir) if data_dir else Path.cwd()).resolve() / folder).as_uri()


def split_location(location: str) -> tuple[str, str]:
    """`s3://bucket/a/b/file` or `file:///a/b/file` or a path -> (store URL of the folder, key)."""
    parsed = urlparse(location)
    if parsed.scheme == "s3":
        head, _, key = parsed.path.strip("/").rpartition("/")
        return (f"s3://{parsed.netloc}/{head}" if head else f"s3://{parsed.netloc}"), key
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(location).resolve()
    return path.parent.as_uri(), path.name
