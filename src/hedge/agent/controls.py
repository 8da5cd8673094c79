"""The kill switch as the agent holds it: the trading controls it read from the server
(`tradingControls` on every (re)connect, `onUpdateTradingControl` live), each account's effective
state by hedge.domain.trading (GLOBAL, USER, ACCOUNT: the most restrictive wins), and REDUCING
when the server has not been heard for HEDGE_AGENT_OFFLINE_REDUCING_S.

"Heard" means the server link is up (its WebSocket's keepalive checks that it answers); the
clock starts when the link goes down, or when the agent starts and has not linked yet.
Pure and synchronous: time is passed in (monotonic seconds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hedge.domain import values as v
from hedge.domain.enums import TradingScope, TradingState
from hedge.domain.errors import ValidationError
from hedge.domain.models import TradingControl
from hedge.domain.trading import RANK, Effective, control_id, effective

log = logging.getLogger(__name__)

CONTROL_FIELDS = "scope targetId state reason updatedAt updatedBy"
TRADING_CONTROLS = f"query {{ tradingControls {{ {CONTROL_FIELDS} }} }}"
ON_UPDATE_TRADING_CONTROL = f"subscription {{ onUpdateTradingControl {{ {CONTROL_FIELDS} }} }}"


@dataclass(frozen=True, slots=True)
class OfflineReducing(Effective):
    """REDUCING because the server has not been heard for a while (no control set it)."""

    offline_s: float = 0.0

    def describe(self) -> str:
        return (
            f"REDUCING: the agent has not heard from the server for {self.offline_s:.0f} s"
            " (HEDGE_AGENT_OFFLINE_REDUCING_S)"
        )


def control_from_gql(data: dict[str, Any]) -> TradingControl:
    """A TradingControl from the API's object; ValueError (with the field) when it is malformed."""
    scope = v.enum_value(TradingScope, data.get("scope"), "scope")
    state = v.enum_value(TradingState, data.get("state"), "state")
    target = data.get("targetId")
    if target is not None and not isinstance(target, str):
        raise ValueError(f"targetId must be a string or null, was {target!r}")
    if (scope is TradingScope.GLOBAL) != (target is None):
        raise ValueError(f"targetId {target!r} does not fit scope {scope.value}")
    at = data.get("updatedAt")
    if not isinstance(at, str):
        raise ValueError(f"updatedAt must be an ISO time, was {at!r}")
    updated_at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    reason, by = data.get("reason"), data.get("updatedBy")
    return TradingControl(
        id=control_id(scope, target),
        user_id="",
        scope=scope,
        target_id=target,
        state=state,
        updated_at=updated_at,
        reason=reason if isinstance(reason, str) else None,
        updated_by=by if isinstance(by, str) else None,  # type: ignore[arg-type]
    )


class ControlBook:
    """The controls the agent has heard of, and whether the server is heard now."""

    def __init__(self, offline_reducing_s: float, now: float = 0.0) -> None:
        self.offline_reducing_s = offline_reducing_s
        self.controls: dict[str, TradingControl] = {}
        self.unheard_since: float | None = now  # None while the server link is up

    def apply(self, control: TradingControl) -> bool:
        """Keep `control` unless a later version of it is held (a subscription and a read can
        deliver one change in either order); True when the held state changed."""
        held = self.controls.get(control.id)
        if held is not None and held.updated_at > control.updated_at:
            return False
        self.controls[control.id] = control
        if held is None or held.state is not control.state:
            log.warning(
                "trading control %s is %s%s",
                control.id,
                control.state.value,
                f" ({control.reason})" if control.reason else "",
            )
            return True
        return False

    def apply_data(self, items: list[dict[str, Any]]) -> bool:
        """Controls as the API sends them; a malformed one is logged and skipped."""
        changed = False
        for item in items:
            try:
                changed = self.apply(control_from_gql(item)) or changed
            except (ValidationError, ValueError, TypeError) as exc:
                log.error("ignored a trading control the agent cannot read (%s): %r", exc, item)
        return changed

    def link_up(self) -> None:
        self.unheard_since = None

    def link_down(self, now: float) -> None:
        if self.unheard_since is None:
            self.unheard_since = now

    def offline_for(self, now: float) -> float:
        """Seconds since the server was last heard (0 while it is)."""
        return 0.0 if self.unheard_since is None else max(0.0, now - self.unheard_since)

    def state_for(self, user_id: str, account_id: str, now: float) -> Effective:
        """The account's effective state: its three controls' most restrictive, and at least
        REDUCING once the server has been unheard for HEDGE_AGENT_OFFLINE_REDUCING_S."""
        ids = (
            control_id(TradingScope.GLOBAL, None),
            control_id(TradingScope.USER, user_id),
            control_id(TradingScope.ACCOUNT, account_id),
        )
        found = effective(c for c in (self.controls.get(i) for i in ids) if c is not None)
        offline = self.offline_for(now)
        if offline >= self.offline_reducing_s and RANK[found.state] < RANK[TradingState.REDUCING]:
            return OfflineReducing(TradingState.REDUCING, None, offline)
        return found

    def restore(self, other: ControlBook) -> None:
        """Carry what `other` knew into this book (a new core for a new lease grant)."""
        self.controls = dict(other.controls)
        self.unheard_since = other.unheard_since

    def view(self, accounts: list[tuple[str, str]], now: float) -> dict[str, object]:
        """For /healthz: the controls held, each (user, account)'s effective state, the silence."""
        return {
            "offlineForS": round(self.offline_for(now), 1),
            "controls": [
                {"id": c.id, "state": c.state.value, "updatedAt": c.updated_at.isoformat()}
                for c in sorted(self.controls.values(), key=lambda c: c.id)
            ],
            "accounts": {
                account: self.state_for(user, account, now).state.value for user, account in accounts
            },
        }
