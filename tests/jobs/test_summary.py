"""The daily summary: P/L per account, hedges fired and failed, open alerts and the
manual-intervention queue (who resolved what, when, with which note), delivered once per day."""

from __future__ import annotations

from pathlib import Path

from tests.jobs.receiver import Receiver
from tests.store.conftest import seed

from hedge.domain.alerts import AlertDraft
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.jobs.notifier import Notifier
from hedge.jobs.notify_config import Channel
from hedge.jobs.summary import enqueue_summary
from hedge.store import outbox
from hedge.store.repository import Store


def test_daily_summary_lists_the_queue_and_goes_once_to_the_channels_that_want_it(tmp_path: Path) -> None:
    receiver = Receiver().start()
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    world = seed(store)
    channels = [Channel("daily", receiver.url + "/daily", events=frozenset({"SUMMARY"})),
                Channel("pager", receiver.url + "/pager", events=frozenset({"RAISED"}))]  # fmt: skip
    try:
        user = world.client.user_id
        orphan = store.raise_alert(AlertDraft(user, AlertKind.ORPHAN_AT_BROKER, AlertSeverity.CRITICAL,
                                              "ticket 9 at the broker", requires_action=True))  # fmt: skip
        ghost = store.raise_alert(AlertDraft(user, AlertKind.GHOST_POSITION, AlertSeverity.WARNING,
                                             "position gone", requires_action=True))  # fmt: skip
        store.resolve_alert(world.admin, ghost.id, note="closed by hand in the terminal")
        first = enqueue_summary(store, channels)
        again = enqueue_summary(store, channels)  # the same day: no second delivery
        notifier = Notifier(store, channels, "")
        notifier.send_due()
        rows = outbox.deliveries(store.engine)
    finally:
        store.close()
        receiver.stop()

    assert first.endswith("queued for 1 channels") and again == first
    assert [(r["channel"], r["event"]) for r in rows] == [("daily", "SUMMARY")]
    (got,) = receiver.accepted()
    body = got.json()
    summary, text = body["summary"], body["text"]
    assert got.path == "/daily" and body["title"].startswith("Hedge System daily summary ")
    assert [a["id"] for a in summary["awaitingAction"]] == [orphan.id]
    (resolved,) = summary["resolvedToday"]
    assert resolved["id"] == ghost.id and resolved["resolvedBy"] == world.admin.user_id
    assert resolved["note"] == "closed by hand in the terminal"
    assert summary["openAlerts"] == 1 and len(summary["accounts"]) == 3
    assert "Waiting for a person: 1" in text and "closed by hand in the terminal" in text
