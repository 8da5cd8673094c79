"""The server's deadline sweep (hedge.jobs.deadlines): an action it fails is logged with the
correlation id of the trigger that started it, so a trace of that trigger ends at the expiry."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from tests.store.record_helpers import hedge, record_world

from hedge.domain.clock import ManualClock
from hedge.jobs.deadlines import expire_forever


class FirstLine(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.seen.set()  # the sweep logs on the loop's thread


async def test_sweep_logs_the_expired_action_with_its_triggers_correlation_id(tmp_path: Path) -> None:
    clock = ManualClock()
    logger, handler = logging.getLogger("hedge.jobs.deadlines"), FirstLine()
    logger.addHandler(handler)
    with record_world(f"sqlite:///{tmp_path / 'hedge.db'}", clock) as world:
        head, leg_action, _ = hedge(world)
        world.store.trigger_actions(head.id, "TRAIL", "150.2", correlation_id="trg-head-1790000000123")
        clock.advance(31)  # past HEDGE_ACTION_TTL_S: nobody took it up
        sweeping = asyncio.create_task(expire_forever(world.store, 60.0))
        try:
            async with asyncio.timeout(10):
                await handler.seen.wait()
        finally:
            sweeping.cancel()
            logger.removeHandler(handler)
    line = handler.records[0]
    assert line.getMessage().startswith(f"action {leg_action.id} failed at its deadline")
    assert getattr(line, "correlation_id", None) == "trg-head-1790000000123"
