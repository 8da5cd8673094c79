"""Fuzz run: GraphQL operations against a real server and EA frames against the agent's gateway
(hedge.fuzzing makes the inputs, hedge.fuzz_targets checks the answers); prints one JSON line
with the counts of each outcome. Stops at the first broken rule, printing the input.

    uv run python bench/fuzz.py [--inputs 100000]   # half GraphQL, half EA frames
    uv run python bench/fuzz.py --part ea --inputs 50000   # one half only (run both at once on two cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning

from hedge.api.schema import build_schema
from hedge.fuzz_targets import fuzz_gateway, fuzz_server
from hedge.fuzzing import ea_frames, operations


def _run(examples: int, strategy: st.SearchStrategy[object], send: object, name: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    run = settings(
        max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip

    @run
    @given(strategy)
    def one(value: object) -> None:
        counts[send(value)] += 1  # type: ignore[operator]
        done = counts.total()
        if done % 1000 == 0:  # progress on stderr; the figures stay one JSON line on stdout
            rate = done / (time.perf_counter() - started)
            print(f"{name}: {done:,} of {examples:,} inputs, {rate:.0f}/s", file=sys.stderr, flush=True)

    one()
    return counts


def main() -> None:
    # the WebSocket client masks frames with the random module; hypothesis notices and warns
    warnings.filterwarnings("ignore", category=HypothesisDeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=100_000)
    parts = ("all", "graphql", "ea")  # all: half GraphQL, half EA frames; else every input to that one
    parser.add_argument("--part", choices=parts, default="all")
    args = parser.parse_args()
    half = {"all": args.inputs // 2, "graphql": args.inputs, "ea": 0}[args.part]
    result: dict[str, object] = {"bench": "fuzz", "part": args.part, "inputs": 0}
    graphql: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="hedge-fuzz-") as folder:
        if half:
            started = time.perf_counter()
            with fuzz_server(Path(folder)) as server:
                strategy = operations(build_schema()._schema, server.ids, server.tokens)
                graphql = _run(half, strategy, server.target.send, "graphql")
                result["graphql_alive_after"] = server.alive()
            result["graphql"] = dict(sorted(graphql.items()))
            result["graphql_s"] = round(time.perf_counter() - started, 1)
        if args.inputs - half:
            started = time.perf_counter()
            with fuzz_gateway() as gateway:
                frames = _run(args.inputs - half, ea_frames(), gateway.send, "ea")
            result["ea_frames"] = dict(sorted(frames.items()))
            result["ea_s"] = round(time.perf_counter() - started, 1)
    result["inputs"] = sum(graphql.values()) + sum(frames.values())
    result["failures"] = 0  # a broken rule raises FuzzFailure with the input instead
    print(json.dumps(result))


if __name__ == "__main__":
    main()
