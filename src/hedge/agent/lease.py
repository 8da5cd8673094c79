"""The agent lease: one acting agent per user (claimAgent / releaseAgent on the server).

The agent claims the lease at start and renews it every ttl/3, counted from when the last claim was
sent (the grant counts from then too, so a slow answer does not push the renewal past the
expiry). While it holds an unexpired grant it
acts; otherwise it stands by: it sends no EA commands and mutates no rows, and claims again every
ttl/3, so it takes over within ttl of the holder going away (released, or expired). A grant is
counted from the moment the claim was sent, so the agent stops acting no later than the server's
expiry. A server without the lease (older than the lease) lets the agent act, with a warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from enum import StrEnum

from hedge.agent.link import LINK_ERRORS
from hedge.client.graphql import GraphQLClient, GraphQLClientError, TokenRefused

log = logging.getLogger(__name__)

CLAIM_AGENT = """
mutation ($input: ClaimAgentInput!) { claimAgent(input: $input) { granted holderId expiresAt } }
"""
RELEASE_AGENT = "mutation ($agentId: String!) { releaseAgent(agentId: $agentId) }"
UNAUTHENTICATED = "UNAUTHENTICATED"
UNREACHABLE_RETRY_S = 1.0  # no answer: ask again soon, so a server that comes back is used at once


def next_claim_in(sent: float, now: float, ttl_s: float, reachable: bool) -> float:
    """Seconds to wait before the next claim: ttl/3 (at most 1 s while the server gave no answer)
    after the last claim was sent, never negative (an answer that took longer claims at once)."""
    interval = ttl_s / 3 if reachable else min(ttl_s / 3, UNREACHABLE_RETRY_S)
    return max(0.0, sent + interval - now)


class LeaseState(StrEnum):
    UNKNOWN = "UNKNOWN"  # no answer yet, or the last grant expired without a renewal
    HELD = "HELD"  # this agent acts
    STANDBY = "STANDBY"  # another agent of the same user holds it
    UNSUPPORTED = "UNSUPPORTED"  # the server has no lease: this agent acts


class AgentLease:
    def __init__(
        self,
        client: GraphQLClient,
        agent_id: str,
        ttl_s: float,
        on_change: Callable[[LeaseState, LeaseState], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.agent_id = agent_id
        self.ttl_s = ttl_s
        self.state = LeaseState.UNKNOWN
        self.holder_id: str | None = None
        self.reachable = False  # the last claim got an answer
        self._on_change = on_change
        self._clock = clock
        self._valid_until = 0.0

    def holds(self) -> bool:
        """True while this agent may act; an expired grant turns into UNKNOWN here and now."""
        if self.state is LeaseState.UNSUPPORTED:
            return True
        if self.state is LeaseState.HELD and self._clock() >= self._valid_until:
            log.warning("the agent lease expired before it could be renewed; standing by")
            self._move(LeaseState.UNKNOWN)
        return self.state is LeaseState.HELD

    async def run(self) -> None:
        """Claim, then renew or claim again every ttl/3, until cancelled (or the server has none)."""
        while self.state is not LeaseState.UNSUPPORTED:
            sent = await self.claim()
            await asyncio.sleep(next_claim_in(sent, self._clock(), self.ttl_s, self.reachable))

    async def claim(self) -> float:
        """Claim (or renew) once; returns the clock reading when the claim was sent."""
        sent = self._clock()
        try:
            data = await self.client.execute(
                CLAIM_AGENT, {"input": {"agentId": self.agent_id, "ttlS": self.ttl_s}}
            )
        except GraphQLClientError as exc:
            if exc.code == UNAUTHENTICATED:
                raise TokenRefused(exc.message) from exc
            if "claimAgent" in exc.message or "ClaimAgentInput" in exc.message:
                self.reachable = True
                log.warning("the server has no agent lease (%s); acting without one", exc.message)
                self._move(LeaseState.UNSUPPORTED)
                return sent
            self.reachable = False
            log.warning("the server refused claimAgent: %s", exc)
        except LINK_ERRORS as exc:
            self.reachable = False
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                log.error(
                    "the server's TLS certificate failed verification (%s): give the CA that signed it "
                    "with HEDGE_CA_FILE or --ca-file",
                    exc,
                )
            else:
                log.info("cannot reach the server to claim the agent lease (%s)", exc or type(exc).__name__)
        else:
            self.reachable = True
            claim = data["claimAgent"]
            self.holder_id = claim["holderId"]
            if claim["granted"]:
                self._valid_until = sent + self.ttl_s
                self._move(LeaseState.HELD)
            else:
                self._move(LeaseState.STANDBY)
        self.holds()  # a grant that ran out while the server was away
        return sent

    async def release(self) -> None:
        """Give the lease up (a clean stop), so another agent can take over at once."""
        if self.state is not LeaseState.HELD:
            return
        self._move(LeaseState.UNKNOWN)
        try:
            await asyncio.wait_for(self.client.execute(RELEASE_AGENT, {"agentId": self.agent_id}), 2.0)
            log.info("agent lease released")
        except LINK_ERRORS as exc:
            log.warning("could not release the agent lease (%s); it expires within %.0f s", exc, self.ttl_s)

    def _move(self, state: LeaseState) -> None:
        old, self.state = self.state, state
        if old is state:
            return
        if state is LeaseState.HELD:
            log.info("agent %s holds the agent lease of its user: acting", self.agent_id)
        elif state is LeaseState.STANDBY:
            log.warning(
                "standing by: agent %s holds the lease of this user; this agent sends no EA commands "
                "and changes no rows until it goes away",
                self.holder_id,
            )
        self._on_change(old, state)
