"""Typed ids. Ids are opaque strings; the ones we mint are 16 URL-safe characters (96 random bits).

Sixteen characters, because MetaTrader keeps only 31 characters of an order comment and every
order carries `HedgeSystem[<positionId>]` (13 + 16 = 29): the whole id then stands in the
broker's records, so each order can be traced to its position without a lookup table.
"""

from __future__ import annotations

import secrets
from typing import NewType

UserId = NewType("UserId", str)
AccountId = NewType("AccountId", str)
PositionId = NewType("PositionId", str)
ActionId = NewType("ActionId", str)

ID_LENGTH = 16
MT_COMMENT_MAX = 31


def new_id() -> str:
    """A fresh random id: 16 characters of [A-Za-z0-9_-], never starting with "-" (a command line
    such as `hedge actions --position ID` would take one for an option; one draw in 64 did)."""
    while True:
        made = secrets.token_urlsafe(12)
        if not made.startswith("-"):
            return made
