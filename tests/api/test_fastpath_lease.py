"""The agents' lease claims and renewals (claimAgent, every 5 s per agent over HTTP) on the
prepared path (hedge.api.fastpath) answer as Strawberry does, good and bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.agent.lease import CLAIM_AGENT

from .prepared import Run, count_prepared, error_codes, fast_and_ordinary, two_people


async def scenario(run: Run) -> list[tuple[int, str, str]]:
    first, second = await two_people(run, "lease", "60", entry=False)
    alice, bob = first.token, second.token
    return [
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": "pc-1"}}),  # granted
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": "pc-1", "ttlS": 30}}),  # renewed
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": "pc-2"}}),  # another holds it
        await run.post(bob, CLAIM_AGENT, {"input": {"agentId": "pc-1"}}),  # bob's own lease
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": "pc-1", "ttlS": -5}}),
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": "pc-1", "ttlS": 1e9}}),
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": ""}}),
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": "x" * 500}}),
        await run.post(alice, CLAIM_AGENT, {"input": {"agentId": 7}}),  # does not coerce
        await run.post(alice, CLAIM_AGENT, {"input": {}}),  # agentId missing
        await run.post(None, CLAIM_AGENT, {"input": {"agentId": "pc-1"}}),  # UNAUTHENTICATED
    ]


async def test_lease_claims_on_the_prepared_path_answer_as_strawberry_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = count_prepared(monkeypatch)
    ordinary = await fast_and_ordinary(tmp_path, scenario, ran)
    assert error_codes(body for _, _, body in ordinary) >= {"UNAUTHENTICATED", "VALIDATION"}
    assert '"granted":true' in ordinary[0][2] and '"granted":false' in ordinary[2][2]
    assert set(ran) == {"claimAgent"}
    assert len(ran) >= 8  # all but those whose variables do not coerce
