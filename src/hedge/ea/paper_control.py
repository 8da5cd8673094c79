"""Working a paper terminal by hand, as a trader would in MetaTrader (`--control-file PATH`).

The EA reads lines appended to the control file (polled) and carries out each once; how far it
has read is kept in its state file, so a restart does not repeat a line. Lines (`#` comments and
blank lines are skipped; a bad line is logged and skipped):

    close TICKET|POSITION_ID [TERMINAL_CLOSE|STOP_LOSS|TAKE_PROFIT|STOP_OUT|UNKNOWN]
    sl TICKET|POSITION_ID PRICE        put a stop loss on a position
    tp TICKET|POSITION_ID PRICE        put a take profit on a position
    price SYMBOL BID ASK               quote a symbol (SL/TP and stop-out apply)
    open SYMBOL BUY|SELL VOLUME [COMMENT...]   a position opened by hand (magic 0)

`close` without a reason is TERMINAL_CLOSE (closed by hand); the EA sends STOPPED with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hedge.domain.enums import Side
from hedge.domain.errors import DomainError
from hedge.ea.paper_terminal import Terminal
from hedge.ea.protocol import StopReason

log = logging.getLogger("hedge.ea.paper")


class ControlError(Exception):
    """A control line the terminal cannot carry out; the message says why."""


@dataclass(frozen=True, slots=True)
class ControlRead:
    lines: tuple[str, ...]
    offset: int  # the offset after the last whole line read


def read_new_lines(path: Path, offset: int) -> ControlRead:
    """The whole lines appended to `path` since `offset` (a half-written last line waits)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return ControlRead((), offset)
    end = chunk.rfind(b"\n")
    if end < 0:
        return ControlRead((), offset)
    text = chunk[: end + 1].decode("utf-8", errors="replace")
    return ControlRead(tuple(text.splitlines()), offset + end + 1)


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ControlError(f"{what} must be a number, was {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ControlError(f"{what} must be > 0, was {text!r}")
    return value


def _ticket(terminal: Terminal, name: str) -> str:
    ticket = terminal.ticket_of(name)
    if ticket is None:
        raise ControlError(f"no open position with ticket or positionId {name!r}")
    return ticket


def apply_line(terminal: Terminal, line: str) -> str | None:
    """Carry out one control line on the terminal; what was done, or None for a blank/comment line."""
    words = line.split()
    if not words or words[0].startswith("#"):
        return None
    verb, args = words[0].lower(), words[1:]
    try:
        if verb == "close" and len(args) in (1, 2):
            reason = StopReason.TERMINAL_CLOSE
            if len(args) == 2:
                if args[1].upper() not in {r.value for r in StopReason}:
                    raise ControlError(f"reason must be one of {', '.join(StopReason)}, was {args[1]!r}")
                reason = StopReason(args[1].upper())
            record = terminal.close_externally(_ticket(terminal, args[0]), reason)
            return f"closed ticket {record.ticket} by hand ({reason}) at {record.price}"
        if verb in ("sl", "tp") and len(args) == 2:
            level = _decimal(args[1], verb)
            ticket = _ticket(terminal, args[0])
            terminal.set_stops(ticket, level if verb == "sl" else None, level if verb == "tp" else None)
            return f"{verb} {level} on ticket {ticket}"
        if verb == "price" and len(args) == 3:
            terminal.set_price(args[0].upper(), _decimal(args[1], "bid"), _decimal(args[2], "ask"))
            return f"quoted {args[0].upper()} {args[1]}/{args[2]}"
        if verb == "open" and len(args) >= 3:
            side = Side(args[1].upper())
            held = terminal.open_externally(
                args[0].upper(), side, _decimal(args[2], "volume"), " ".join(args[3:])
            )
            return f"opened ticket {held.ticket} by hand"
    except (DomainError, ValueError) as exc:
        raise ControlError(str(exc)) from None
    raise ControlError(f"cannot read {line.strip()[:80]!r}: see hedge.ea.paper_control for the lines")


def poll(terminal: Terminal, path: Path) -> int:
    """Carry out the new lines of the control file; returns how many were carried out."""
    read = read_new_lines(path, terminal.books.control_offset)
    done = 0
    for line in read.lines:
        try:
            what = apply_line(terminal, line)
        except ControlError as exc:
            log.warning("control file %s: %s", path, exc)
            continue
        if what is not None:
            log.info("control file: %s", what)
            done += 1
    terminal.books.control_offset = read.offset
    return done
