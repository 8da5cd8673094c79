"""Typed ids. Ids are opaque strings (UUID4 text when we mint them)."""

from __future__ import annotations

import uuid
from typing import NewType

UserId = NewType("UserId", str)
AccountId = NewType("AccountId", str)
PositionId = NewType("PositionId", str)
ActionId = NewType("ActionId", str)


def new_id() -> str:
    """A fresh random id (UUID4 text)."""
    return str(uuid.uuid4())
