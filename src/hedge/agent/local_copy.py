"""What the agent keeps on its PC in HEDGE_STATE_DIR, each file written by an atomic replace:

- `accounts.json`: its user's accounts, so an EA can authenticate while the server is away;
- `orders.json`: the commands that may be at a terminal and the TRAILING_STOP best prices
  (`AgentCore.saved_state`), so a restart neither forgets an order in doubt nor a trail.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from hedge.agent.core import AgentCore
from hedge.domain.models import Account
from hedge.domain.rows import from_mapping, to_image

log = logging.getLogger("hedge.agent.runtime")  # the runtime's log lines, as before the split


class LocalCopy:
    def __init__(self, state_dir: str) -> None:
        folder = Path(state_dir) if state_dir else None
        self.accounts_file = folder / "accounts.json" if folder else None
        self.orders_file = folder / "orders.json" if folder else None
        self.orders_saved_at = 0.0
        self._orders_saved = ""

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
        if text == self._orders_saved:
            return
        _replace(self.orders_file, text)
        self._orders_saved = text

    def restore_orders(self, core: AgentCore) -> None:
        if self.orders_file is None or not self.orders_file.exists():
            return
        try:
            core.restore(json.loads(self.orders_file.read_text()))
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            log.warning("ignoring unreadable %s: %s", self.orders_file, exc)
            return
        log.info(
            "restored %d commands that may be at a terminal and %d trail best prices from %s",
            len(core.journal),
            len(core.saved_bests),
            self.orders_file,
        )


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)
