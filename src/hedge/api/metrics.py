"""Prometheus metrics of one server process (a registry of its own, so tests can run many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hedge_requests", "GraphQL operations served", ["kind"], registry=self.registry
        )
        self.errors = Counter("hedge_errors", "GraphQL errors returned", ["code"], registry=self.registry)
        self.subscriptions_open = Gauge(
            "hedge_subscriptions_open", "subscriptions open now", registry=self.registry
        )
        self.feed_lag_events = Gauge(
            "hedge_change_feed_lag_events",
            "committed changes not yet delivered to this process's subscribers",
            registry=self.registry,
        )
        self.feed_lag_seconds = Gauge(
            "hedge_change_feed_lag_seconds",
            "age of the newest change at the time this process delivered it",
            registry=self.registry,
        )
        self.cache_hits = Counter("hedge_cache_hits", "cache hits", ["level"], registry=self.registry)
        self.cache_misses = Counter(
            "hedge_cache_misses", "reads that went to the store", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
