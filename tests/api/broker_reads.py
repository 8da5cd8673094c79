"""What the change broker's tests of own commits share: the feed reads a store makes."""

from __future__ import annotations

import pytest

from hedge.store.feed import ChangeEvent
from hedge.store.repository import Store


def count_feed_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The `after` of each feed read the store makes from now on (the broker's tail thread reading
    back), with the broker's idle reads put off for the rest of the test."""
    monkeypatch.setattr("hedge.api.broker.IDLE_WAIT_S", 30.0)  # no idle reads during the test
    reads: list[int] = []
    real_read = store.read_changes

    def counted_read(after: int, limit: int = 1000) -> list[ChangeEvent]:
        reads.append(after)
        return real_read(after, limit)

    monkeypatch.setattr(store, "read_changes", counted_read)
    return reads
