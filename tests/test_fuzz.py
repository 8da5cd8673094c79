"""Fuzzing the two edges that take outside input, 1,000 inputs each (bench/fuzz.py runs 100,000):
GraphQL operations of the served schema with generated arguments and tokens against a real server,
and EA frames against the agent's gateway. No crash, no HTTP 500, every error coded, and no row
changed by a refused input (the change feed and the audit log stay where they were)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hedge.api.schema import build_schema
from hedge.fuzz_targets import EATarget, FuzzServer, fuzz_gateway, fuzz_server
from hedge.fuzzing import ea_frames, operations

EXAMPLES = 1_000
RUN = settings(
    max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip


# the WebSocket client masks frames with the random module; hypothesis notices and warns
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    with fuzz_server(tmp_path_factory.mktemp("fuzz")) as started:
        yield started


@pytest.fixture(scope="module")
def gateway() -> Iterator[EATarget]:
    with fuzz_gateway() as target:
        yield target


def test_graphql_operations_fuzzed_no_500_all_coded_and_refusals_change_nothing(server: FuzzServer) -> None:
    outcomes: Counter[str] = Counter()
    strategy = operations(build_schema()._schema, server.ids, server.tokens)

    @RUN
    @given(st.data())
    def one(data: st.DataObject) -> None:
        outcomes[server.target.send(data.draw(strategy))] += 1

    one()
    print(dict(sorted(outcomes.items())))
    assert sum(outcomes.values()) >= EXAMPLES and server.alive()
    assert any(k.endswith(":ok") for k in outcomes) and any(not k.endswith(":ok") for k in outcomes)


def test_ea_frames_fuzzed_no_crash_and_refused_frames_never_handed_on(gateway: EATarget) -> None:
    outcomes: Counter[str] = Counter()

    @RUN
    @given(ea_frames())
    def one(frame: str | bytes) -> None:
        outcomes[gateway.send(frame)] += 1

    one()
    print(dict(sorted(outcomes.items())))
    assert sum(outcomes.values()) >= EXAMPLES and outcomes["refused"] > 0
    assert gateway.send('{"type": "PING", "id": 1}') == "delivered"  # still serving
