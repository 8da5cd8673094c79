"""Object storage: the same behaviour from a folder and from a real S3-compatible server."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.jobs.objectstore import ObjectStore, ObjectStoreError, beside_database, open_store, split_location


@pytest.fixture(params=["file", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "file":
        return open_store((tmp_path / "objects").as_uri())
    bucket = request.getfixturevalue("s3_bucket")
    return open_store(f"s3://{bucket}/reports", request.getfixturevalue("s3_endpoint"))


def test_object_written_is_read_back_listed_and_deleted(objects: ObjectStore, tmp_path: Path) -> None:
    where = objects.put("stats/2026/a.json", b'{"a": 1}')
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 3_000_000)
    seen: list[int] = []
    objects.put_file("backups/b.bin", big, progress=seen.append)

    assert where == objects.location("stats/2026/a.json") and where.endswith("stats/2026/a.json")
    assert objects.get("stats/2026/a.json") == b'{"a": 1}'
    assert objects.keys() == ["backups/b.bin", "stats/2026/a.json"]
    assert objects.keys("stats/") == ["stats/2026/a.json"]
    assert sum(seen) == 3_000_000
    objects.delete("stats/2026/a.json")
    assert objects.keys() == ["backups/b.bin"]


def test_reading_a_missing_object_is_an_object_store_error(objects: ObjectStore) -> None:
    with pytest.raises(ObjectStoreError, match=r"missing\.json"):
        objects.get("missing.json")


def test_folder_key_that_climbs_out_of_the_root_is_refused(tmp_path: Path) -> None:
    objects = open_store(str(tmp_path / "root"))
    with pytest.raises(ObjectStoreError, match="inside"):
        objects.put("../escape.txt", b"x")


@pytest.mark.parametrize("url", ["ftp://host/x", "s3:///no-bucket", ""])
def test_unsupported_url_is_refused(url: str) -> None:
    with pytest.raises(ObjectStoreError):
        open_store(url)


def test_default_folder_sits_beside_a_sqlite_database_or_in_the_data_dir(tmp_path: Path) -> None:
    assert beside_database(f"sqlite:///{tmp_path / 'h.db'}", "reports") == (tmp_path / "reports").as_uri()
    pg = "postgresql://h@127.0.0.1/hedge"
    assert beside_database(pg, "backups", str(tmp_path)) == (tmp_path / "backups").as_uri()


def test_location_splits_into_its_folder_and_key() -> None:
    assert split_location("s3://b/p/q/hedge-1.pgdump") == ("s3://b/p/q", "hedge-1.pgdump")
    assert split_location("s3://b/hedge-1.pgdump") == ("s3://b", "hedge-1.pgdump")
    assert split_location("file:///tmp/x/hedge-1.sqlite3") == ("file:///tmp/x", "hedge-1.sqlite3")
