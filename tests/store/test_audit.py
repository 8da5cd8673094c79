"""The audit log: `record(unit, ...)` commits with the change it records or not at all, and says
who and from where as the API bound them."""

from __future__ import annotations

import pytest

from hedge.domain.authz import Actor
from hedge.domain.enums import UserRole
from hedge.domain.errors import Forbidden, ValidationError
from hedge.store import audit
from hedge.store import users as user_writes
from hedge.store.repository import Store


def test_record_inside_a_transaction_that_fails_leaves_no_entry(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as unit:
        audit.record(unit, "updateUser", "User", "u1", {"name": ["a", "b"]})
        raise RuntimeError("the change failed after recording")
    assert audit.read(store.engine) == []


def test_record_takes_who_and_where_from_the_bound_origin(store: Store) -> None:
    with audit.bound(audit.Origin("admin-1", "203.0.113.9")), store.transaction() as unit:
        audit.record(unit, "rotateToken", "User", "u1")
    with store.transaction() as unit:
        audit.record(unit, "createUser", "User", "u2")  # nothing bound: the system itself

    newest, oldest = audit.read(store.engine)
    assert (oldest.actor_id, oldest.address, oldest.action) == ("admin-1", "203.0.113.9", "rotateToken")
    assert newest.actor_id is None and newest.address is None and newest.seq > oldest.seq


def test_refused_update_user_records_nothing(store: Store) -> None:
    alice, _ = store.create_user("a@example.com", "Alice", "CLIENT")
    bob, _ = store.create_user("b@example.com", "Bob", "CLIENT")
    before = audit.read(store.engine)
    with pytest.raises(Forbidden):
        user_writes.update_user(store, Actor(bob.id, UserRole.CLIENT), alice.id, {"name": "Mallory"})
    with pytest.raises(ValidationError):
        user_writes.update_user(store, Actor(alice.id, UserRole.CLIENT), alice.id, {"email": "b@example.com"})
    assert audit.read(store.engine) == before


def test_rotate_token_old_token_finds_nobody_and_the_entry_holds_no_token(store: Store) -> None:
    alice, old = store.create_user("a@example.com", "Alice", "CLIENT")
    user, new = user_writes.rotate_token(store, Actor(alice.id, UserRole.CLIENT), alice.id)
    assert store.user_by_token(old) is None and store.user_by_token(new) == user
    assert user.version == alice.version + 1
    assert new not in str(audit.read(store.engine)) and old not in str(audit.read(store.engine))


def test_read_pages_and_filters(store: Store) -> None:
    for i in range(5):
        with audit.bound(audit.Origin(f"a{i % 2}")), store.transaction() as unit:
            audit.record(unit, "x", "User", f"u{i}")
    first = audit.read(store.engine, limit=2)
    assert [e.entity_id for e in first] == ["u4", "u3"]
    assert [e.entity_id for e in audit.read(store.engine, limit=2, before_seq=first[-1].seq)] == ["u2", "u1"]
    assert [e.entity_id for e in audit.read(store.engine, actor_id="a1")] == ["u3", "u1"]
    assert [e.entity_id for e in audit.read(store.engine, entity_id="u0")] == ["u0"]
