"""The socket guard when the store cannot answer: it retries, then closes the user's sockets
(a revoked token must not stay open for want of an answer); a valid one it leaves open."""

from __future__ import annotations

from typing import Any

import pytest

from hedge.api import socket_guard as guard_module
from hedge.api.socket_guard import SocketGuard


class FakeSocket:
    def __init__(self) -> None:
        self.closed_with: int | None = None

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = code


def _guard(monkeypatch: pytest.MonkeyPatch, answer: Any) -> SocketGuard:
    monkeypatch.setattr(guard_module, "RETRY_S", 0.0)
    monkeypatch.setattr(guard_module, "user_with_token_hash", answer)
    return SocketGuard(store=None, broker=None)  # type: ignore[arg-type]


async def test_check_user_store_failing_closes_after_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def failing(_store: object, user_id: str) -> None:
        calls.append(user_id)
        raise OSError("connection refused")

    guard = _guard(monkeypatch, failing)
    socket = FakeSocket()
    guard.opened("u1", "hash", socket)  # type: ignore[arg-type]

    await guard._check_user("u1")

    assert socket.closed_with == 4403 and len(calls) == guard_module.CHECK_ATTEMPTS


async def test_check_user_valid_token_stays_open_and_others_untouched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class User:
        is_active = True

    guard = _guard(monkeypatch, lambda _store, _user_id: (User(), "hash"))
    mine, other = FakeSocket(), FakeSocket()
    guard.opened("u1", "hash", mine)  # type: ignore[arg-type]
    guard.opened("u2", "old-hash", other)  # type: ignore[arg-type]

    await guard._check_user("u1")

    assert mine.closed_with is None and other.closed_with is None
