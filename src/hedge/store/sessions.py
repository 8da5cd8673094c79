"""What the console's session cookies are checked against: a user and its stored token hash."""

from __future__ import annotations

from sqlalchemy import select

from hedge.domain.models import User
from hedge.domain.rows import from_mapping
from hedge.store.repository import Store
from hedge.store.tables import users


def user_with_token_hash(store: Store, user_id: str) -> tuple[User, str] | None:
    """The user and the hash of its current token, or None when there is no such user."""
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        return None
    return from_mapping(User, row), str(row["token_hash"])
