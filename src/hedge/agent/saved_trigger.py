"""A trigger the agent decided (a trail met) that the server has not recorded yet, as it is saved
on the PC (orders.json's "fired", an orders.journal line) and read back after a restart: the same
reason, price, price time and correlation id, so the order stays traceable to that decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hedge.agent.intents import TriggerActions
from hedge.domain.enums import TriggerReason


def image(intent: TriggerActions) -> dict[str, Any]:
    """The saved form of a fired trigger (JSON values only)."""
    return {
        "reason": intent.reason.value,
        "price": None if intent.price is None else str(intent.price),
        "timeMs": intent.price_time_ms,
        "correlationId": intent.correlation_id,
    }


def from_image(position_id: str, item: Any) -> TriggerActions:
    """The trigger a saved image says; ValueError, KeyError, TypeError or ArithmeticError when
    the image is not one (the caller skips it, saying so)."""
    if not isinstance(item, dict):
        raise TypeError(f"a fired trigger must be an object, was {type(item).__name__}")
    price, time_ms, cid = item["price"], item["timeMs"], item["correlationId"]
    if price is not None and not isinstance(price, str):
        raise TypeError(f"price must be a string or null, was {price!r:.40}")
    if time_ms is not None and (not isinstance(time_ms, int) or isinstance(time_ms, bool)):
        raise TypeError(f"timeMs must be an integer or null, was {time_ms!r:.40}")
    if cid is not None and not isinstance(cid, str):
        raise TypeError(f"correlationId must be a string or null, was {cid!r:.40}")
    value = None if price is None else Decimal(price)
    if value is not None and not (value.is_finite() and value > 0):
        raise ValueError(f"price must be a positive number, was {price!r:.40}")
    return TriggerActions(str(position_id), TriggerReason(item["reason"]), value, time_ms, correlation_id=cid)
