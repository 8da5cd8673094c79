"""The --hops report of bench/hedge_latency.py (and bench/scale.py): p50/p99 per hop of the hedge
path from the stamps the processes write (HEDGE_TRACE_HOPS), and the slowest samples with the
probes of what ran meanwhile."""

from __future__ import annotations

import contextlib
from typing import Any

from bench.report import percentile

# --hops: per trigger (sent at EA 1, arrived at EA 2, position A, hedge action, position B)
traced: list[tuple[int, int, str, str, str]] = []
PROCESS_NAMES: dict[str, str] = {}  # pid -> "server<port>", "agent1", "agent2" (for the probes)
SLOWEST = 5  # --hops: the slowest samples shown one by one, with what else ran meanwhile
# the path in order: (hop, the stamps that mark it: (name, key: A, the hedge action H, or B));
# a hop is the earliest of its stamps after EA 1 sent the PRICE (a negative gap: the two ran in
# the other order, e.g. the feed tailer delivered before the commit hook ran)
HOPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("a1.ea_rx", [("a1.ea_rx", "A")]),  # agent 1's gateway received EA 1's PRICE frame
    ("a1.decided", [("a1.decided", "A")]),  # the trail rule decided: trigger
    ("a1.mutation_sent", [("a1.mutation_sent", "A")]),  # triggerActions handed to the link
    ("s.received", [("s.received", "A")]),  # the resolver started (Strawberry parsed, validated)
    ("s.committed", [("s.committed", "H")]),  # the trigger committed (commit hook, worker thread)
    ("s.locked", [("s.locked", "H")]),  # the commit hook holds the apply lock
    ("s.applied", [("s.applied", "H")]),  # the commit hook applied it (memory copies, Redis)
    ("s.dispatched", [("s.dispatched", "H")]),  # on the subscribers' queues (event loop)
    ("s.sub_yield", [("s.sub_yield", "H")]),  # the first subscription generator yielded it
    ("a2.rx", [("a2.rx", "H")]),  # agent 2's link read the subscription message
    ("a2.opening_sent", [("a2.opening_sent", "B")]),  # agent 2 sent updatePosition OPENING
    ("s.opening_received", [("s.received", "B")]),  # the resolver started on it
    ("s.opening_committed", [("s.committed", "B")]),  # its commit (commit hook)
    # committed: the mutation's answer, or the OPENING row's event, whichever came first
    ("a2.opening_committed", [("a2.opening_committed", "B"), ("a2.rx", "B")]),
    ("a2.open_sent", [("a2.open_sent", "B")]),  # OPEN handed to EA 2's WebSocket
]


def hop_report(path: str) -> dict[str, Any]:
    """p50/p99 in ms of each hop, from EA 1's send through the stamps to EA 2's arrival; and
    the SLOWEST samples one by one: their slowest hops, and the probes (hedge/hop_probes.py: gc,
    event-loop stalls, the agents' periodic tasks) of any process that fell within them."""
    stamps: dict[tuple[str, str], list[int]] = {}
    probes: list[tuple[int, str, str]] = []  # (ns, kind, key)
    with contextlib.suppress(FileNotFoundError), open(path) as lines:
        for line in lines:
            ns, hop, key = line.split(maxsplit=2)
            if hop.startswith("p."):
                probes.append((int(ns), hop, key.strip()))
            else:
                stamps.setdefault((hop, key.strip()), []).append(int(ns))
    gaps: dict[str, list[float]] = {}
    samples: list[tuple[float, int, int, dict[str, float]]] = []
    for sent, arrived, a_id, action_id, b_id in traced:
        keys = {"A": a_id, "H": action_id, "B": b_id}
        previous, previous_name = sent, "ea1.sent"
        mine: dict[str, float] = {}
        for name, marks in [*HOPS, ("ea2.arrived", [])]:
            found = [t for m, k in marks for t in stamps.get((m, keys[k]), []) if t >= sent]
            at = arrived if name == "ea2.arrived" else min(found, default=None)
            if at is None:
                continue
            hop = f"{previous_name} -> {name}"
            gaps.setdefault(hop, []).append((at - previous) / 1e6)
            mine[hop] = round((at - previous) / 1e6, 3)
            previous, previous_name = at, name
        samples.append(((arrived - sent) / 1e6, sent, arrived, mine))
    report: dict[str, Any] = {
        hop: {"p50_ms": round(percentile(v, 0.5), 3), "p99_ms": round(percentile(v, 0.99), 3), "n": len(v)}
        for hop, v in gaps.items()
    }
    report["slowest"] = [
        {
            "ms": round(total, 3),
            "hops": dict(sorted(mine.items(), key=lambda kv: -kv[1])[:3]),
            "meanwhile": [
                _probe(ns - sent, kind, key) for ns, kind, key in probes if sent - 20e6 <= ns <= arrived
            ],
        }
        for total, sent, arrived, mine in sorted(samples, reverse=True)[:SLOWEST]
    ]
    report["probes"] = _probe_summary(probes)
    return report


def _probe(offset_ns: int, kind: str, key: str) -> str:
    """One probe as `+12.3ms agent2 p.stall 45000/.../where` (offset from EA 1's send)."""
    pid, _, rest = key.partition("/")
    return f"{offset_ns / 1e6:+.1f}ms {PROCESS_NAMES.get(pid, pid)} {kind} {rest}"


def _probe_summary(probes: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Per process and kind: how many probes, and for gc and stalls the longest (ms)."""
    summary: dict[str, Any] = {}
    for _, kind, key in probes:
        pid, _, rest = key.partition("/")
        entry = summary.setdefault(f"{PROCESS_NAMES.get(pid, pid)} {kind}", {"n": 0, "max_ms": 0.0})
        entry["n"] += 1
        fields = rest.split("/")
        if kind in ("p.gc", "p.stall"):
            us = fields[1] if kind == "p.gc" else fields[0]
            entry["max_ms"] = max(entry["max_ms"], int(us) / 1000)
    return summary
