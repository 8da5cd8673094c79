"""Sending one delivery: a webhook (JSON POST, HMAC-SHA256 signature) or an apprise channel.

Webhook headers: `X-Hedge-Event` (RAISED, ESCALATED, SUMMARY), `X-Hedge-Delivery` (the outbox
row's key: the same on every retry of one delivery, so a receiver can drop repeats), and
`X-Hedge-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body with HEDGE_NOTIFY_SECRET
(absent when no secret is set). Any status but 2xx, or no answer in 5 s, is a failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from hedge.jobs.notify_config import Channel

TIMEOUT_S = 5.0


class DeliveryFailed(Exception):
    """The channel did not take the delivery; the message says what it answered."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(channel: Channel, event: str, key: str, payload: dict[str, Any], secret: str) -> None:
    if channel.webhook:
        _webhook(channel, event, key, payload, secret)
    else:
        _apprise(channel, payload)


def _webhook(channel: Channel, event: str, key: str, payload: dict[str, Any], secret: str) -> None:
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "X-Hedge-Event": event, "X-Hedge-Delivery": key}
    if secret:
        headers["X-Hedge-Signature"] = signature(secret, body)
    try:
        response = httpx.post(channel.url, content=body, headers=headers, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


def _apprise(channel: Channel, payload: dict[str, Any]) -> None:
    import apprise  # only here: loading its plugins takes a moment

    notifier = apprise.Apprise()
    if not notifier.add(channel.url):
        raise DeliveryFailed(f"apprise does not understand the URL of channel {channel.name}")
    if not notifier.notify(
        title=str(payload.get("title", "Hedge System")), body=str(payload.get("text", ""))
    ):
        raise DeliveryFailed(f"apprise could not deliver to channel {channel.name}")
