"""Correlation ids: one id follows a trigger from agent 1's decision through the server to agent
2's order, so that the three processes' logs can be joined on it.

Agent 1 makes one per trigger decision (`trg-<positionId>-<priceTimeMs>`) and sends it with
triggerActions; the server makes one where no agent decided: a trigger without one
(`trg-...`), a broker's stop-out that fires the chain (`stp-<positionId>-<ms>`), and an action
a person executes by hand (`man-<actionId>-<ms>`). Each action it moves to EXECUTING keeps it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from hedge.domain.enums import ActionStatus
from hedge.domain.errors import ValidationError
from hedge.domain.models import Action

MAX_LENGTH = 128
TRIGGER = "trg"
STOP_OUT = "stp"
MANUAL = "man"
_ALLOWED = re.compile(r"[A-Za-z0-9._:-]+")


def made(kind: str, subject_id: str, at: datetime | int) -> str:
    """The id for `kind` (TRIGGER, STOP_OUT, MANUAL) of `subject_id` at `at` (a time, or epoch ms)."""
    ms = at if isinstance(at, int) else int(at.timestamp() * 1000)
    return f"{kind}-{subject_id}-{ms}"[:MAX_LENGTH]


def checked(value: object) -> str | None:
    """A caller's correlationId: None, or 1-128 characters of letters, digits and . _ : -
    (it goes into log lines as it is, so nothing that could break a line)."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_LENGTH or not _ALLOWED.fullmatch(value):
        shown = repr(value)[:40]
        raise ValidationError(
            "correlationId", f"must be 1-{MAX_LENGTH} characters of A-Z a-z 0-9 . _ : -, was {shown}"
        )
    return value


def correlated(action: Action, kind: str, at: datetime) -> Action:
    """An action that has just moved to EXECUTING keeps its id, or gets one made by the server."""
    if action.status is not ActionStatus.EXECUTING or action.correlation_id is not None:
        return action
    return replace(action, correlation_id=made(kind, action.id, at))
