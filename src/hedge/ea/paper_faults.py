"""The paper terminal's dice: which OPENs it refuses (`RejectPolicy`), how much of an order fills and
which fills it answers with TIMEOUT (`FillFaults`), by configuration, seeded chance, or a test's say."""

from __future__ import annotations

import random
from collections import deque
from decimal import ROUND_DOWN, Decimal

from hedge.domain.symbols import SymbolSpec
from hedge.ea.paper_config import FillFaults, RejectPolicy
from hedge.ea.protocol import ErrorCode


class FaultDice:
    def __init__(self, rejects: RejectPolicy, faults: FillFaults, seed: int | None) -> None:
        self.rejects = rejects
        self.faults = faults
        self._random = random.Random(seed)
        self._forced_rejects: deque[ErrorCode] = deque()
        self._forced_timeouts = 0
        self._open_attempts = 0
        self._fills = 0

    def reject(self, position_id: str) -> ErrorCode | None:
        """The code to refuse this new OPEN with, or None to go on (counts the attempt)."""
        self._open_attempts += 1
        if self._forced_rejects:
            return self._forced_rejects.popleft()
        policy = self.rejects
        if policy.every_nth and self._open_attempts % policy.every_nth == 0:
            return policy.code
        if position_id in policy.position_ids:
            return policy.code
        if policy.rate and self._random.random() < policy.rate:
            return policy.code
        return None

    def filled_volume(self, spec: SymbolSpec, volume: Decimal) -> Decimal:
        """The lots that fill: all, or `partial_fill_ratio` of them rounded down to the step (>= min)."""
        ratio = self.faults.partial_fill_ratio
        if ratio >= 1:
            return volume
        steps = (volume * ratio / spec.volume_step).to_integral_value(rounding=ROUND_DOWN)
        return max(spec.volume_min, steps * spec.volume_step)

    def timeout_after_fill(self) -> bool:
        """Whether the fill just made is answered TIMEOUT (counts the fill)."""
        self._fills += 1
        if self._forced_timeouts:
            self._forced_timeouts -= 1
            return True
        every = self.faults.timeout_after_fill_every
        if every and self._fills % every == 0:
            return True
        rate = self.faults.timeout_after_fill_rate
        return bool(rate) and self._random.random() < rate

    def force_rejects(self, code: ErrorCode, count: int) -> None:
        self._forced_rejects.extend([code] * count)

    def force_timeouts(self, count: int) -> None:
        self._forced_timeouts += count
