"""The conformance kit's vocabulary: settings, verdicts, rules and the state a run carries between rules.

A rule is a small named check (`Rule(id, description, check)`); `check(run)` returns a Verdict or
raises `Unmet` (FAIL with what was expected and what came) or `Skip` (the rule cannot run here).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from hedge.domain.enums import Side
from hedge.ea.conformance_peer import Peer
from hedge.ea.protocol import Auth, Closed, Open, Opened


@dataclass(frozen=True, slots=True)
class KitConfig:
    ea_token: str = field(repr=False)
    symbol: str = "USDJPY"
    side: Side = Side.BUY
    volume: Decimal = Decimal("0.01")
    timeout_s: float = 10.0  # how long an answer may take
    quiet_s: float = 2.0  # how long the kit watches to see that nothing (more) comes
    max_clock_skew_s: float = 300.0  # |now - timeMs| allowed for PRICE and ACCOUNT (MT4 lags)
    account_number: str | None = None  # expected AUTH values, when given
    server_name: str | None = None


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    detail: str = ""  # why, for FAIL and SKIP; a note for PASS


PASSED = Verdict(Status.PASS)


def passed(note: str = "") -> Verdict:
    return Verdict(Status.PASS, note)


class Unmet(Exception):
    """A rule failed: the message says what was expected and what came."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Skip(Exception):
    """A rule cannot run against this EA now (market closed, an earlier rule it needs failed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def require(condition: bool, detail: str) -> None:
    if not condition:
        raise Unmet(detail)


@dataclass(slots=True)
class Run:
    """What one kit run against one EA has learned so far; rules read and extend it in order."""

    config: KitConfig
    peer: Peer
    auth: Auth | None = None
    sent: dict[str, str] = field(default_factory=dict)  # commandId -> type, for answer counting
    answer_optional: set[str] = field(default_factory=set)  # inside bad frames the EA cannot read
    repeated_command_id: str | None = None  # sent twice on purpose by open.repeat-same-command
    position_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # the kit's one real position
    open_command: Open | None = None
    opened: Opened | None = None
    closed: Closed | None = None
    stray_tickets: list[str] = field(default_factory=list)  # opened when they should not have been
    untouchable_position_ids: list[str] = field(default_factory=list)  # refused or bad OPENs
    _ping_id: int = 1000

    def command_id(self, kind: str, *, answer_optional: bool = False) -> str:
        """A fresh commandId, recorded so `answers.once` can count its answers."""
        command_id = f"cfm-{kind.lower()}-{uuid.uuid4().hex[:12]}"
        self.sent[command_id] = kind
        if answer_optional:
            self.answer_optional.add(command_id)
        return command_id

    def ping_id(self) -> int:
        self._ping_id += 1
        return self._ping_id

    def needs_position(self) -> Opened:
        if self.opened is None or self.opened.mt_ticket is None:
            raise Skip("needs the position of open.success, which did not open")
        return self.opened


Check = Callable[[Run], Awaitable[Verdict]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    check: Check
    needs_connection: bool = True  # False for rules that only look back at what came


@dataclass(frozen=True, slots=True)
class Result:
    rule: Rule
    verdict: Verdict

    def line(self) -> str:
        """`PASS <id> <description>`, `FAIL <id> <description>: <detail>`, `SKIP ...: <reason>`."""
        head = f"{self.verdict.status.value} {self.rule.id} {self.rule.description}"
        if not self.verdict.detail:
            return head
        if self.verdict.status is Status.PASS:
            return f"{head} ({self.verdict.detail})"
        return f"{head}: {self.verdict.detail}"

    def as_json(self) -> dict[str, str]:
        return {
            "rule": self.rule.id,
            "status": self.verdict.status.value,
            "description": self.rule.description,
            "detail": self.verdict.detail,
        }


@dataclass(frozen=True, slots=True)
class Report:
    results: tuple[Result, ...]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.verdict.status is status)

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.count(Status.FAIL) == 0

    def summary(self) -> str:
        return f"{self.count(Status.PASS)} passed, {self.count(Status.FAIL)} failed"

    def by_id(self, rule_id: str) -> Result:
        for result in self.results:
            if result.rule.id == rule_id:
                return result
        raise KeyError(rule_id)
