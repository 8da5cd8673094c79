"""The alerts the agent raises for its own user: conditions in, raise/resolve intents out.

Every decision pass states which conditions hold now (`Condition`s keyed by kind, account and
position). A condition that appears is raised (asked again until the server has recorded it and
answered with the alert's id); one that goes away is resolved with `automatic: true` (asked again
until recorded). A condition the pass cannot judge yet (e.g. its account has not been reconciled
since a restart) is `UNDECIDED`: an alert already open for it stays open, none is raised.
Pure and synchronous.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hedge.agent.intents import AlertKey, Intent, RaiseAlert, ResolveAlert

log = logging.getLogger(__name__)

# the kinds this agent raises and therefore also resolves (others are the server's or a person's)
AGENT_KINDS = frozenset(
    {"OUTCOME_UNKNOWN", "EA_UNREACHABLE", "ORPHAN_AT_BROKER", "GHOST_POSITION", "RECONCILIATION_MISMATCH"}
)


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str
    severity: str
    message: str
    account_id: str | None = None
    position_id: str | None = None
    requires_action: bool = False

    @property
    def key(self) -> AlertKey:
        return (self.kind, self.account_id, self.position_id)


@dataclass
class _Open:
    alert_id: str | None  # None until the server answered the raise
    raise_intent: RaiseAlert | None  # re-sent until recorded


class AlertBook:
    def __init__(self) -> None:
        self._open: dict[AlertKey, _Open] = {}
        self._resolving: dict[AlertKey, str] = {}  # key -> alert id, until the resolve is recorded

    def update(self, holding: list[Condition], undecided: set[AlertKey] | None = None) -> list[Intent]:
        """Intents that bring the server's open alerts in line with the conditions holding now."""
        undecided = undecided or set()
        intents: list[Intent] = []
        wanted = {c.key: c for c in holding}
        for key, condition in wanted.items():
            self._resolving.pop(key, None)  # it came back before the resolve was recorded: keep it open
            held = self._open.get(key)
            if held is None:
                log.warning("alert %s: %s", condition.kind, condition.message)
                held = self._open[key] = _Open(
                    None,
                    RaiseAlert(key, condition.severity, condition.message, condition.requires_action),
                )
            if held.raise_intent is not None:
                intents.append(held.raise_intent)
        for key in [k for k in self._open if k not in wanted and k not in undecided]:
            held = self._open[key]
            if held.alert_id is None and held.raise_intent is not None:
                continue  # its raise is not recorded yet: resolve once the id is known
            del self._open[key]
            if held.alert_id is not None:
                log.info("alert %s %s resolved: the condition went away", key[0], held.alert_id)
                self._resolving[key] = held.alert_id
        intents += [ResolveAlert(key, alert_id) for key, alert_id in self._resolving.items()]
        return intents

    def raised(self, key: AlertKey, alert_id: str) -> None:
        """The server recorded the raise of `key` as alert `alert_id`."""
        held = self._open.get(key)
        if held is None:  # gone meanwhile: resolve it
            self._resolving[key] = alert_id
            return
        held.alert_id = alert_id
        held.raise_intent = None

    def resolved(self, key: AlertKey, alert_id: str) -> None:
        if self._resolving.get(key) == alert_id:
            del self._resolving[key]

    def adopt(self, key: AlertKey, alert_id: str) -> None:
        """An alert of the agent's kinds open on the server (raised by an earlier run of the agent)."""
        if key[0] in AGENT_KINDS and key not in self._open and key not in self._resolving:
            self._open[key] = _Open(alert_id, None)

    def is_open(self, key: AlertKey) -> bool:
        return key in self._open

    def open_keys(self) -> set[AlertKey]:
        return set(self._open)
