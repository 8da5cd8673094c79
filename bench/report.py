"""What the benches' JSON lines share: the percentile they all take the same way, and a latency's
p50 and p99 against the floor measured in the same run."""

from __future__ import annotations

QUANTILES = {"p50": 0.50, "p99": 0.99}


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at `fraction` of the sorted samples (the nearest rank, no interpolation)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def against_floor(
    samples: list[float], floor_samples: list[float], ratio_digits: int = 2
) -> dict[str, float]:
    """`p50_ms`, `p99_ms`, the floor's (`floor_p50_ms`, `floor_p99_ms`) and each against the
    floor's (`p50_vs_floor`, `p99_vs_floor`), in that order."""
    ours = {name: percentile(samples, q) for name, q in QUANTILES.items()}
    floor = {name: percentile(floor_samples, q) for name, q in QUANTILES.items()}
    return {
        **{f"{name}_ms": round(ours[name], 3) for name in QUANTILES},
        **{f"floor_{name}_ms": round(floor[name], 3) for name in QUANTILES},
        **{f"{name}_vs_floor": round(ours[name] / floor[name], ratio_digits) for name in QUANTILES},
    }
