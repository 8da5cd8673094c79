"""Users and their API tokens: only a hash is stored; the token finds its user, nothing else does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hedge.domain.enums import PCStatus, UserRole
from hedge.domain.errors import ValidationError
from hedge.store.account_store import hash_token
from hedge.store.repository import Store
from hedge.store.tables import changes, users


def test_create_user_stores_token_only_as_hash(store: Store) -> None:
    user, token = store.create_user("a@example.com", "Alice", "CLIENT")
    assert len(token) >= 32
    with store.engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(select(users))]
        feed = [row.image for row in conn.execute(select(changes))]
    assert stored and not any(token in str(value) for row in stored for value in row)
    assert token not in str(feed)
    assert hash_token(token) in {value for row in stored for value in row}
    assert user.role is UserRole.CLIENT and user.pc_status is PCStatus.OFFLINE


def test_user_by_token_finds_its_user_and_a_wrong_token_none(store: Store) -> None:
    alice, alice_token = store.create_user("a@example.com", "Alice", "CLIENT")
    bob, bob_token = store.create_user(
        "b@example.com", "Bob", "ADMIN", token="given-token-for-bob-0123456789"
    )
    assert store.user_by_token(alice_token) == alice
    assert store.user_by_token(bob_token) == bob and bob_token == "given-token-for-bob-0123456789"
    assert store.user_by_token(alice_token + "x") is None
    assert store.user_by_token("") is None
    assert store.user_by_token(hash_token(alice_token)) is None  # the hash itself is no token


def test_create_user_repeated_email_or_token_is_refused(store: Store) -> None:
    store.create_user("a@example.com", "Alice", "CLIENT", token="t" * 40)
    with pytest.raises(ValidationError, match="email is already used"):
        store.create_user("a@example.com", "Alice again", "CLIENT")
    with pytest.raises(ValidationError, match="token is already used"):
        store.create_user("c@example.com", "Carol", "CLIENT", token="t" * 40)
    assert len(store.list_users()) == 1


def test_pc_status_changes_once_and_a_repeated_join_is_a_no_op(store: Store) -> None:
    user, _ = store.create_user("a@example.com", "Alice", "CLIENT")
    online = store.presence_join(user.id, "process-a", 1, timedelta(seconds=30))
    assert online.pc_status is PCStatus.ONLINE and online.version == 2
    head = store.signal.head
    assert store.presence_join(user.id, "process-a", 2, timedelta(seconds=30)) == online
    assert store.read_changes(head) == []
