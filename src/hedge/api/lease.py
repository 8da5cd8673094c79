"""claimAgent / releaseAgent: one acting agent per user (the agent lease, in the store).

Both act on the caller's own user, whatever its role: there is no userId argument, so nobody
claims or releases another user's lease. An ADMIN that runs an agent for its own accounts is
under the same one-agent rule; an ADMIN that runs none never needs to call these.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from hedge.api.context import Context


@strawberry.input
class ClaimAgentInput:
    agent_id: str = strawberry.field(description="this agent process's own id (stable while it runs)")
    ttl_s: float | None = strawberry.field(
        default=None, name="ttlS", description="seconds the lease lasts unless renewed (default 15)"
    )


@strawberry.type
class AgentClaim:
    granted: bool = strawberry.field(description="true: this agent is the one acting agent of its user")
    holder_id: str = strawberry.field(description="the agentId holding the lease now")
    expires_at: datetime


@strawberry.type
class LeaseMutation:
    @strawberry.mutation
    async def claim_agent(self, info: Info[Context, None], input: ClaimAgentInput) -> AgentClaim:
        c = info.context.rated()
        claim = await c.run(c.services.store.claim_agent, c.actor.user_id, input.agent_id, input.ttl_s)
        return AgentClaim(granted=claim.granted, holder_id=claim.holder_id, expires_at=claim.expires_at)

    @strawberry.mutation
    async def release_agent(self, info: Info[Context, None], agent_id: str) -> bool:
        """True when this agent held the lease and gave it up; false when it did not hold it."""
        c = info.context.rated()
        return await c.run(c.services.store.release_agent, c.actor.user_id, agent_id)
