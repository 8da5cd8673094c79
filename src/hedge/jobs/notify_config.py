"""HEDGE_NOTIFY: where alerts go, and which ones.

Either a list of URLs separated by spaces (every alert goes to each), or JSON:

    [{"url": "https://ops.example/hook", "severities": ["CRITICAL"]},
     {"url": "tgram://BOT_TOKEN/CHAT_ID", "minSeverity": "WARNING", "kinds": ["STOPPED_OUT"]},
     {"url": "mailtos://user:pass@example.com", "events": ["SUMMARY"], "name": "mail"}]

`http(s)://` URLs are webhooks (a JSON POST signed with HEDGE_NOTIFY_SECRET); every other
scheme is an apprise URL (Telegram tgram://, Slack slack://, Discord discord://, e-mail
mailto(s)://, ...). `events`: RAISED, ESCALATED, SUMMARY (default all). A channel's `name`
(default: its scheme and a hash of its URL) is what /metrics shows, so no secret is printed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import urlparse

from hedge.domain.enums import AlertKind, AlertSeverity

EVENTS = frozenset({"RAISED", "ESCALATED", "SUMMARY"})
_ORDER = [AlertSeverity.INFO, AlertSeverity.WARNING, AlertSeverity.CRITICAL]


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    url: str
    kinds: frozenset[str] | None = None  # None: every kind
    severities: frozenset[str] | None = None  # None: every severity
    events: frozenset[str] = EVENTS

    @property
    def webhook(self) -> bool:
        return urlparse(self.url).scheme in ("http", "https")

    def wants(self, event: str, kind: str | None, severity: str | None) -> bool:
        if event not in self.events:
            return False
        if event == "SUMMARY":
            return True
        return (self.kinds is None or kind in self.kinds) and (
            self.severities is None or severity in self.severities
        )


def default_name(url: str) -> str:
    return f"{urlparse(url).scheme or 'url'}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def parse_channels(value: str) -> list[Channel]:
    text = value.strip()
    if not text:
        return []
    if not text.startswith("["):
        urls = text.split()
        bad = [u for u in urls if not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", u)]
        if bad:
            raise ValueError(f"HEDGE_NOTIFY must be URLs or a JSON list, found {bad[0][:40]!r}")
        return _unique([Channel(default_name(url), url) for url in urls])
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"HEDGE_NOTIFY must be URLs or a JSON list: {exc}") from None
    if not isinstance(entries, list):
        raise ValueError("HEDGE_NOTIFY JSON must be a list of channels")
    return _unique([_channel(entry, index) for index, entry in enumerate(entries)])


def _channel(entry: object, index: int) -> Channel:
    where = f"HEDGE_NOTIFY[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or "://" not in entry["url"]:
        raise ValueError(f"{where} must be an object with a 'url' (scheme://...), was {str(entry)[:60]!r}")
    unknown = set(entry) - {"url", "name", "kinds", "severities", "minSeverity", "events"}
    if unknown:
        raise ValueError(f"{where} has unknown fields {sorted(unknown)}")
    kinds = _names(entry.get("kinds"), {k.value for k in AlertKind}, f"{where}.kinds")
    severities = _names(entry.get("severities"), {s.value for s in AlertSeverity}, f"{where}.severities")
    if "minSeverity" in entry:
        floor = _names([entry["minSeverity"]], {s.value for s in AlertSeverity}, f"{where}.minSeverity")
        assert floor is not None
        (lowest,) = floor
        severities = frozenset(s.value for s in _ORDER[_ORDER.index(AlertSeverity(lowest)) :])
    events = _names(entry.get("events"), set(EVENTS), f"{where}.events") or EVENTS
    name = entry.get("name") or default_name(entry["url"])
    return Channel(str(name), entry["url"], kinds, severities, events)


def _names(value: object, allowed: set[str], where: str) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of names, was {value!r}")
    wrong = sorted(set(value) - allowed)
    if wrong:
        raise ValueError(f"{where}: unknown {wrong}; expected some of {sorted(allowed)}")
    return frozenset(value)


def _unique(channels: list[Channel]) -> list[Channel]:
    names = [c.name for c in channels]
    if len(set(names)) != len(names):
        raise ValueError(f"HEDGE_NOTIFY channel names must be unique, were {names}")
    return channels
