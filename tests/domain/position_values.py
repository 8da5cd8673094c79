"""A value for every position field a write may carry: the who-writes-what tests of the domain
(tests/domain/test_writes.py) and of the store (tests/store/test_write_rules.py) try each one."""

from __future__ import annotations

from typing import Any

WRITE_VALUES: dict[str, Any] = {
    "mt_ticket": "T9",
    "entry_price": "151.25",
    "entry_time": "2026-01-05T08:59:00Z",
    "filled_volume": "0.5",
    "exit_price": "150.5",
    "exit_time": "2026-01-05T08:59:30Z",
    "exit_reason": "MANUAL_CLOSE",
    "realized_pl": "12.5",
    "trail_width": "7",
    "trail_mode": "TRAILING_STOP",
    "trigger_action_ids": ["a-1"],
    "memo": "a note",
}
