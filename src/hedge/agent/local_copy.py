"""What the agent keeps on its PC in HEDGE_STATE_DIR, each file written by an atomic replace:

- `accounts.json`: its user's accounts, so an EA can authenticate while the server is away;
- `orders.json`: the commands that may be at a terminal, the TRAILING_STOP best prices and the
  triggers decided (a trail met) that the server has not recorded yet (`AgentCore.saved_state`),
  so a restart forgets neither an order in doubt, nor a trail, nor a decision to hedge;
- `orders.journal`: one JSON line per OPEN/CLOSE appended just before it goes to the EA (`sent`),
  and one per trigger as the core decides it, before triggerActions goes out (`fired`); read
  after orders.json at start (a restored trigger is asked again with the same price, price time
  and correlation id). Appending a line costs a few µs where rewriting orders.json
  (every trail's best with it) cost ~0.5 ms on the hedge path; each rewrite of orders.json (on the
  agent's 1 s timer) holds everything the journal said and empties it. Both are written without
  fsync: they survive the agent's process dying (what they are for), as the atomic replace did.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from hedge.agent import saved_trigger
from hedge.agent.core import AgentCore
from hedge.agent.intents import TriggerActions
from hedge.domain.models import Account
from hedge.domain.rows import from_mapping, to_image

log = logging.getLogger("hedge.agent.runtime")  # the runtime's log lines, as before the split
TRIGGER = "TRIGGER"  # a journal line's kind for a trigger decided (OPEN/CLOSE: a command sent)


class LocalCopy:
    def __init__(self, state_dir: str) -> None:
        folder = Path(state_dir) if state_dir else None
        self.accounts_file = folder / "accounts.json" if folder else None
        self.orders_file = folder / "orders.json" if folder else None
        self.journal_file = folder / "orders.journal" if folder else None
        self.orders_saved_at = 0.0
        self._orders_saved = ""
        self._journal_fd: int | None = None
        self._journaled = False  # lines since orders.json was last written

    def save_accounts(self, core: AgentCore) -> None:
        if self.accounts_file is None:
            return
        _replace(self.accounts_file, json.dumps([to_image(a) for a in core.state.accounts.values()]))

    def restore_accounts(self, core: AgentCore) -> None:
        if self.accounts_file is None or not self.accounts_file.exists():
            return
        try:
            for image in json.loads(self.accounts_file.read_text()):
                core.state.apply(from_mapping(Account, image))
            log.info("restored %d accounts from %s", len(core.state.accounts), self.accounts_file)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.accounts_file, exc)

    def save_orders(self, core: AgentCore) -> None:
        self.orders_saved_at = time.monotonic()
        if self.orders_file is None:
            return
        text = json.dumps(core.saved_state(), sort_keys=True)
        if text != self._orders_saved:
            _replace(self.orders_file, text)
            self._orders_saved = text
        if self._journaled:  # orders.json now says all the journal said
            os.ftruncate(self._journal(), 0)
            self._journaled = False

    def sent(self, kind: str, position_id: str, command_id: str) -> None:
        """An OPEN/CLOSE is about to go to the EA: on disk first, so that after a crash it counts
        as maybe sent (`restore_orders` reads it back)."""
        if self.journal_file is None:
            return
        line = json.dumps({"positionId": position_id, "kind": kind, "commandId": command_id})
        os.write(self._journal(), (line + "\n").encode())
        self._journaled = True

    def fired(self, intent: TriggerActions) -> None:
        """A trigger was just decided: on disk before the server is asked, so that a restart asks
        it again (`restore_orders`). A failed write is logged, not raised: the decision in memory
        still goes out, and the next orders.json holds it."""
        if self.journal_file is None:
            return
        line = json.dumps({"positionId": intent.position_id, "kind": TRIGGER, **saved_trigger.image(intent)})
        try:
            os.write(self._journal(), (line + "\n").encode())
        except OSError as exc:
            log.warning("trigger of position %s not journaled (%s)", intent.position_id, exc)
            return
        self._journaled = True

    def _journal(self) -> int:
        if self._journal_fd is None:
            assert self.journal_file is not None
            self.journal_file.parent.mkdir(parents=True, exist_ok=True)
            self._journal_fd = os.open(self.journal_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return self._journal_fd

    def restore_orders(self, core: AgentCore) -> None:
        if self.orders_file is not None and self.orders_file.exists():
            try:
                core.restore(json.loads(self.orders_file.read_text()))
            except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
                log.warning("ignoring unreadable %s: %s", self.orders_file, exc)
        self._restore_journal(core)
        if core.journal or core.saved_bests or core.triggers:
            log.info(
                "restored %d commands that may be at a terminal, %d trail best prices and %d"
                " triggers not recorded yet from %s",
                len(core.journal),
                len(core.saved_bests),
                len(core.triggers),
                self.orders_file,
            )

    def _restore_journal(self, core: AgentCore) -> None:
        """The OPEN/CLOSEs sent and the triggers decided after orders.json was last written (a
        later line wins)."""
        if self.journal_file is None or not self.journal_file.exists():
            return
        for line in self.journal_file.read_text().splitlines():
            self._journaled = True  # emptied by the next save of orders.json, which then holds it
            try:
                item = json.loads(line)
                if item["kind"] == TRIGGER:
                    core.trigger_restored(str(item["positionId"]), item)
                    continue
                core.journal[str(item["positionId"])] = (str(item["kind"]), str(item["commandId"]))
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring an unreadable line of %s: %.80s", self.journal_file, line)


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)
