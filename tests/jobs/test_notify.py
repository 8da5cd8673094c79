"""Alert delivery: channels and filters, the outbox with retries and backoff, webhooks signed,
apprise channels, a dead channel in /metrics, and nothing lost or repeated across a restart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from tests.jobs.procs import ADMIN_TOKEN, start_server
from tests.jobs.receiver import Receiver
from tests.store.conftest import seed

from hedge.domain.alerts import AlertDraft
from hedge.domain.clock import ManualClock
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.jobs.metrics import NotifyMetrics
from hedge.jobs.notifier import Notifier, alert_deliveries
from hedge.jobs.notify_config import Channel, parse_channels
from hedge.jobs.notify_send import signature
from hedge.store import outbox
from hedge.store.feed import ChangeEvent
from hedge.store.repository import Store

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


# ------------------------------------------------------------------ configuration


def test_plain_urls_are_channels_for_every_alert() -> None:
    channels = parse_channels("https://a.example/h  tgram://bot/chat")
    assert [c.url for c in channels] == ["https://a.example/h", "tgram://bot/chat"]
    assert channels[0].webhook and not channels[1].webhook
    assert all(c.wants("RAISED", "STOPPED_OUT", "INFO") for c in channels)
    assert "bot" not in channels[1].name  # names carry no secret from the URL


def test_json_channels_filter_by_kind_severity_and_event() -> None:
    (critical, margin, summary) = parse_channels(json.dumps([
        {"url": "https://a.example/h", "severities": ["CRITICAL"], "name": "ops"},
        {"url": "https://b.example/h", "minSeverity": "WARNING", "kinds": ["MARGIN_LOW"]},
        {"url": "mailtos://u:p@example.com", "events": ["SUMMARY"]},
    ]))  # fmt: skip
    assert critical.name == "ops" and critical.wants("ESCALATED", "MARGIN_LOW", "CRITICAL")
    assert not critical.wants("RAISED", "MARGIN_LOW", "WARNING")
    assert margin.wants("RAISED", "MARGIN_LOW", "WARNING") and margin.wants(
        "RAISED", "MARGIN_LOW", "CRITICAL"
    )
    assert not margin.wants("RAISED", "MARGIN_LOW", "INFO") and not margin.wants(
        "RAISED", "STOPPED_OUT", "CRITICAL"
    )
    assert summary.wants("SUMMARY", None, None) and not summary.wants("RAISED", "STOPPED_OUT", "CRITICAL")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('[{"name": "x"}]', "must be an object with a 'url'"),
        ('[{"url": "https://a/h", "kinds": ["NOPE"]}]', "unknown ['NOPE']"),
        ('[{"url": "https://a/h", "minSeverity": "LOUD"}]', "unknown ['LOUD']"),
        ('[{"url": "https://a/h", "colour": "red"}]', "unknown fields ['colour']"),
        ('[{"url": "https://a/h", "name": "x"}, {"url": "https://b/h", "name": "x"}]', "unique"),
        ("[not json", "URLs or a JSON list"),
        ('{"url": "https://a/h"}', "URLs or a JSON list"),
    ],
)
def test_malformed_notify_setting_is_refused_with_what_was_wrong(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_channels(value)


# ------------------------------------------------------------------ which events become deliveries


def _event(op: str, **image: object) -> ChangeEvent:
    base: dict[str, object] = {"id": "al1", "kind": "STOPPED_OUT", "severity": "CRITICAL", "message": "m",
                               "escalated_at": None, "resolved_at": None}  # fmt: skip
    from datetime import UTC, datetime

    return ChangeEvent(1, "Alert", op, "al1", "u1", 1, {**base, **image}, datetime(2026, 1, 1, tzinfo=UTC))


def test_a_raise_and_each_escalation_become_one_delivery_per_wanting_channel() -> None:
    channels = [
        Channel("all", "https://a/h"),
        Channel("warn", "https://b/h", severities=frozenset({"WARNING"})),
    ]
    rows = alert_deliveries(
        [
            _event("INSERT"),
            _event("UPDATE", count=2),  # raised again while open: no new delivery
            _event("UPDATE", escalated_at="2026-01-01T00:15:00.000Z"),
            _event("UPDATE", escalated_at="2026-01-01T00:15:00.000Z", resolved_at="2026-01-01T00:20:00.000Z"),
        ],
        channels,
    )
    assert [(r["channel"], r["event"]) for r in rows] == [("all", "RAISED"), ("all", "ESCALATED")]
    assert rows[0]["payload"]["title"] == "[CRITICAL] STOPPED_OUT"


# ------------------------------------------------------------------ the outbox against a real receiver


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _raise(
    store: Store, severity: AlertSeverity = AlertSeverity.CRITICAL, kind: AlertKind = AlertKind.STOPPED_OUT
) -> str:
    user = store.list_users()[1]
    return store.raise_alert(AlertDraft(user.id, kind, severity, f"{kind} happened")).id


@contextmanager
def notifying(
    url: str, *channels: Channel, clock: ManualClock | None = None, secret: str = SECRET
) -> Iterator[tuple[Store, Notifier]]:
    """A seeded store and its notifier, whose feed cursor starts at the feed's head; the store is
    closed after."""
    store = Store(url, clock=clock)
    seed(store)
    notifier = Notifier(store, list(channels), secret)
    try:
        notifier.feed()
        yield store, notifier
    finally:
        store.close()


def metrics_text(store: Store, channels: list[str]) -> str:
    """The notify figures of /metrics, read from the store now."""
    registry = CollectorRegistry()
    NotifyMetrics(registry).refresh(store.engine, channels)
    return generate_latest(registry).decode()


def test_failed_deliveries_are_retried_with_backoff_until_taken_once(
    store_url: str, clock: ManualClock, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    with notifying(store_url, Channel("hook", receiver.url + "/hook"), clock=clock) as (store, notifier):
        alert_id = _raise(store)
        sent_first = notifier.round()  # attempt 1: 500
        again_at_once = notifier.round()  # not due yet: the backoff holds it
        clock.advance(0.5)
        sent_second = notifier.round()  # attempt 2: 500
        clock.advance(1)
        sent_third = notifier.round()  # attempt 3: 200
        clock.advance(3600)
        sent_later = notifier.round()
        text = metrics_text(store, ["hook"])
        rows = outbox.deliveries(store.engine)

    assert (sent_first, again_at_once, sent_second, sent_third, sent_later) == (0, 0, 0, 1, 0)
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    (taken,) = receiver.accepted()
    assert taken.json()["alert"]["id"] == alert_id and taken.headers["X-Hedge-Event"] == "RAISED"
    assert taken.headers["X-Hedge-Signature"] == signature(SECRET, taken.body)
    assert len({r.headers["X-Hedge-Delivery"] for r in receiver.requests}) == 1  # one key on every retry
    assert [(r["state"], r["attempts"]) for r in rows] == [("SENT", 3)]
    assert 'hedge_notify_channel_up{channel="hook"} 1.0' in text


def test_a_channel_failing_three_times_is_down_in_metrics_and_critical_goes_first(
    sqlite_url: str, clock: ManualClock, receiver: Receiver
) -> None:
    receiver.fail_first = 100
    with notifying(sqlite_url, Channel("hook", receiver.url), clock=clock) as (store, notifier):
        _raise(store, AlertSeverity.WARNING, AlertKind.MARGIN_LOW)
        _raise(store, AlertSeverity.CRITICAL, AlertKind.STOPPED_OUT)
        for _ in range(3):
            notifier.round()
            clock.advance(10)
        text = metrics_text(store, ["hook"])
        (health,) = outbox.health(store.engine)

    assert receiver.requests[0].json()["alert"]["severity"] == "CRITICAL"
    assert not health.up and health.pending == 2 and health.last_error and "HTTP 500" in health.last_error
    assert (
        'hedge_notify_channel_up{channel="hook"} 0.0' in text
        and 'hedge_notify_pending{channel="hook"} 2.0' in text
    )


def test_an_escalation_is_delivered_again_once_per_channel(
    store_url: str, clock: ManualClock, receiver: Receiver
) -> None:
    two = Channel("a", receiver.url + "/a"), Channel("b", receiver.url + "/b")
    with notifying(store_url, *two, clock=clock, secret="") as (store, notifier):
        _raise(store, AlertSeverity.WARNING, AlertKind.AGENT_OFFLINE)
        notifier.round()
        clock.advance(900)
        store.escalate_due(store.now(), 900)
        notifier.round()
        notifier._cursor = 0  # read the whole feed again, as after a crash before the cursor moved
        notifier.round()

    seen = sorted((r.path, r.headers["X-Hedge-Event"]) for r in receiver.accepted())
    assert seen == [("/a", "ESCALATED"), ("/a", "RAISED"), ("/b", "ESCALATED"), ("/b", "RAISED")]
    assert "X-Hedge-Signature" not in receiver.requests[0].headers  # no secret configured


def test_apprise_channel_delivers_through_apprise(sqlite_url: str, receiver: Receiver) -> None:
    apprise_url = receiver.url.replace("http://", "json://") + "/apprise"
    with notifying(sqlite_url, Channel("apprise", apprise_url), secret="") as (store, notifier):
        _raise(store)
        delivered = notifier.round()

    assert delivered == 1
    (got,) = receiver.accepted()
    assert got.path == "/apprise" and "STOPPED_OUT" in got.json()["title"]


async def test_running_notifier_sends_a_critical_alert_on_the_feed_signal_not_a_poll(
    sqlite_url: str, receiver: Receiver
) -> None:
    store = Store(sqlite_url)
    seed(store)
    notifier = Notifier(store, [Channel("hook", receiver.url)], SECRET, idle_s=600.0, lease_s=1800.0)
    notifier.start()
    try:
        await asyncio.sleep(0.3)  # the loop holds the lease and waits on the signal
        await asyncio.to_thread(_raise, store)
        # with a 600 s idle poll, only the commit's wake-up can deliver within this wait
        assert await asyncio.to_thread(receiver.wait_accepted, 1, 30.0)
    finally:
        await notifier.stop()
        store.close()


async def test_a_stopping_notifier_releases_its_thread_waiting_on_the_feed_signal(
    sqlite_url: str, receiver: Receiver
) -> None:
    # before, the thread kept waiting out the idle poll (600 s here), and the event loop's
    # executor (the server's shutdown, this test's teardown) waited for it
    store = Store(sqlite_url)
    seed(store)
    notifier = Notifier(store, [Channel("hook", receiver.url)], SECRET, idle_s=600.0, lease_s=1800.0)
    notifier.start()
    try:
        assert await _eventually(lambda: store.signal.waiters == 1)
    finally:
        await notifier.stop()
    assert await _eventually(lambda: store.signal.waiters == 0)
    store.close()


async def _eventually(condition: Callable[[], bool], within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# ------------------------------------------------------------------ across a server restart


RAISE = """mutation($u: ID!, $k: AlertKind!) { raiseAlert(input: {userId: $u, kind: $k, severity: CRITICAL,
  message: "stopped out"}) { id } }"""


def test_deliveries_survive_a_server_restart_and_are_sent_once(tmp_path: Path, receiver: Receiver) -> None:
    receiver.fail_first = 3
    url = f"sqlite:///{tmp_path / 'h.db'}"
    env = {"HEDGE_NOTIFY": receiver.url + "/hook", "HEDGE_NOTIFY_SECRET": SECRET}
    server = start_server(url, tmp_path / "first.log", env)
    try:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        me = httpx.post(server.url + "/graphql", json={"query": "{ me { id } }"}, headers=headers).json()
        raised = []
        for kind in ("STOPPED_OUT", "ORPHAN_AT_BROKER"):
            body = {"query": RAISE, "variables": {"u": me["data"]["me"]["id"], "k": kind}}
            raised.append(
                httpx.post(server.url + "/graphql", json=body, headers=headers).json()["data"]["raiseAlert"][
                    "id"
                ]
            )
        with receiver.arrived:  # the first attempts fail; stop the server while it is retrying
            assert receiver.arrived.wait_for(lambda: len(receiver.requests) >= 2, 30)
        server.kill()
        assert receiver.accepted() == []
        metrics_before = None
        server = start_server(url, tmp_path / "second.log", env)
        assert receiver.wait_accepted(2, 60), [r.status for r in receiver.requests]
        metrics_before = httpx.get(server.url + "/metrics").text
    finally:
        server.stop()

    accepted = receiver.accepted()
    assert sorted(r.json()["alert"]["id"] for r in accepted) == sorted(raised)
    assert len({r.headers["X-Hedge-Delivery"] for r in accepted}) == 2
    assert all(r.headers["X-Hedge-Signature"] == signature(SECRET, r.body) for r in accepted)
    assert metrics_before is not None and "hedge_notify_sent{channel=" in metrics_before


def test_server_with_a_malformed_notify_setting_refuses_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hedge.cli", "server", "--port", "0", "--database-url",
         f"sqlite:///{tmp_path / 'h.db'}"],
        env={**os.environ, "HEDGE_NOTIFY": '[{"url": "https://a/h", "kinds": ["NOPE"]}]'},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "HEDGE_NOTIFY[0].kinds: unknown ['NOPE']" in result.stderr
