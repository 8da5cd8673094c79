"""What a paper terminal keeps across a restart of its process: the books, and the state file.

`Books` is everything the terminal itself holds (balance, open positions, the deal history, the
EA's journal positionId -> fill, answered commandIds, accepted orders not filled yet) plus the
unsent events of the EA's outbox. `save_state` writes it as JSON with an atomic replace, so a
reader (a test, bench/faults.py) always sees a whole file; `read_state` is that reader's way in.

The JSON (version 1): `{"version", "balance", "nextTicket", "controlOffset", "held": [position],
"closes": [close], "journal": {positionId: position}, "pending": [order], "answers": {commandId:
frame}, "unsent": [frame]}`, where a position is `{ticket, positionId, symbol, side, volume,
openPrice, openTimeMs, comment, magic, stopLoss, takeProfit}`, a close `{ticket, positionId,
price, timeMs, profit, reason, swap, commission}` (reason "CLOSE" for the agent's CLOSE), an
order `{positionId, symbol, side, volume, comment, commandIds}` and a frame is an EA protocol
message as sent on the wire. Decimals are written as text.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from hedge.domain.enums import Side
from hedge.domain.errors import ValidationError
from hedge.ea.errors import ProtocolError
from hedge.ea.paper_account import CloseRecord, HeldPosition
from hedge.ea.protocol import Message, decode, encode

STATE_VERSION = 1


@dataclass(slots=True)
class PendingOrder:
    """An order the broker accepted (PLACED) and has not filled yet; answered when it fills."""

    position_id: str
    symbol: str
    side: Side
    volume: Decimal
    comment: str
    command_ids: list[str]


@dataclass(slots=True)
class Books:
    balance: Decimal
    next_ticket: int
    held: dict[str, HeldPosition] = field(default_factory=dict)  # ticket -> open position
    closes: dict[str, CloseRecord] = field(default_factory=dict)  # ticket -> how it closed
    journal: dict[str, HeldPosition] = field(default_factory=dict)  # positionId -> its fill
    pending: dict[str, PendingOrder] = field(default_factory=dict)  # positionId -> accepted order
    answers: dict[str, Message] = field(default_factory=dict)  # commandId -> the answer sent
    unsent: list[Message] = field(default_factory=list)  # the outbox's events when saved
    control_offset: int = 0  # bytes of the control file already carried out


# --- JSON -----------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Side):
        return value.value
    return value


def _record(item: object) -> dict[str, object]:
    return {f.name: _plain(getattr(item, f.name)) for f in fields(item)}  # type: ignore[arg-type]


def _decimal_or_none(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _position(data: dict[str, Any]) -> HeldPosition:
    return HeldPosition(
        str(data["ticket"]), data["position_id"], data["symbol"], Side(data["side"]),
        Decimal(data["volume"]), Decimal(data["open_price"]), int(data["open_time_ms"]), data["comment"],
        int(data.get("magic", 0)), _decimal_or_none(data.get("stop_loss")),
        _decimal_or_none(data.get("take_profit")),
    )  # fmt: skip


def _close(data: dict[str, Any]) -> CloseRecord:
    return CloseRecord(
        str(data["ticket"]), data["position_id"], Decimal(data["price"]), int(data["time_ms"]),
        Decimal(data["profit"]), data["reason"], Decimal(data.get("swap", "0")),
        Decimal(data.get("commission", "0")),
    )  # fmt: skip


def _order(data: dict[str, Any]) -> PendingOrder:
    return PendingOrder(
        data["position_id"], data["symbol"], Side(data["side"]), Decimal(data["volume"]), data["comment"],
        [str(c) for c in data["command_ids"]],
    )  # fmt: skip


def books_to_json(books: Books) -> str:
    return json.dumps(
        {
            "version": STATE_VERSION,
            "balance": str(books.balance),
            "nextTicket": books.next_ticket,
            "controlOffset": books.control_offset,
            "held": [_record(p) for p in books.held.values()],
            "closes": [_record(c) for c in books.closes.values()],
            "journal": {pid: _record(p) for pid, p in books.journal.items()},
            "pending": [_record(o) for o in books.pending.values()],
            "answers": {cid: encode(m) for cid, m in books.answers.items()},
            "unsent": [encode(m) for m in books.unsent],
        },
        indent=1,
    )


def books_from_json(text: str, where: str = "state file") -> Books:
    """The books in a state file's text; ValidationError naming the file when it is not one."""
    try:
        data = json.loads(text)
        if data.get("version") != STATE_VERSION:
            raise ValidationError(where, f"has version {data.get('version')!r}, expected {STATE_VERSION}")
        held = [_position(p) for p in data["held"]]
        closes = [_close(c) for c in data["closes"]]
        return Books(
            balance=Decimal(data["balance"]),
            next_ticket=int(data["nextTicket"]),
            held={p.ticket: p for p in held},
            closes={c.ticket: c for c in closes},
            journal={pid: _position(p) for pid, p in data["journal"].items()},
            pending={o.position_id: o for o in (_order(o) for o in data["pending"])},
            answers={cid: decode(frame) for cid, frame in data["answers"].items()},
            unsent=[decode(frame) for frame in data["unsent"]],
            control_offset=int(data.get("controlOffset", 0)),
        )
    except ValidationError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, ProtocolError) as exc:
        raise ValidationError(where, f"is not a paper EA state file ({type(exc).__name__}: {exc})") from None


# --- the file -------------------------------------------------------------------------------------


def save_state(path: Path, books: Books) -> None:
    """Write the books to `path` atomically (a reader never sees half a file)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(books_to_json(books), encoding="utf-8")
    os.replace(temporary, path)


def load_state(path: Path) -> Books | None:
    """The books saved at `path`, or None when there is no file yet (a fresh terminal)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return books_from_json(text, str(path))


def read_state(path: Path) -> Books:
    """Read-only view of a running (or stopped) paper EA's terminal, for tests and the fault bench."""
    books = load_state(path)
    if books is None:
        raise ValidationError(str(path), "does not exist: was the paper EA started with --state-file?")
    return books
