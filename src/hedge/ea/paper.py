"""The paper EA: a simulated MetaTrader terminal that speaks the EA protocol as a WebSocket client.

`PaperEA(config).run()` connects to the agent, sends AUTH, and then serves commands until `stop()`
(or until another EA replaces it, close 4409). Tasks for the EA's whole life: the tick loop (feed ->
terminal -> PRICE), the command worker (fill delay -> terminal; a PLACED order is followed until it
fills) and the control-file reader. Tasks per connection: reader (decode, route to
`handle_<type>`), writer (outbox -> socket), liveness (PING when idle, drop the connection after
`dead_after_s` of silence) and the ACCOUNT timer. The terminal core is `.terminal`.

With `state_file` the terminal's books and the outbox's unsent events are saved after every change
and loaded at start (`drop_unsent_on_restart` loses the events, as a crashed terminal would).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from decimal import Decimal
from enum import StrEnum
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import backoff, process_exception
from websockets.exceptions import ConnectionClosed

from hedge.domain.clock import Clock, SystemClock
from hedge.domain.errors import ValidationError
from hedge.domain.symbols import SymbolCatalog
from hedge.ea import paper_control
from hedge.ea.errors import AuthRejected, BadMessage, ProtocolError, UnhandledMessage
from hedge.ea.paper_account import CloseRecord
from hedge.ea.paper_config import PaperConfig
from hedge.ea.paper_feed import Feed, build_feed
from hedge.ea.paper_market import Market
from hedge.ea.paper_outbox import Outbox, is_durable
from hedge.ea.paper_shared_market import SharedMarketFeed
from hedge.ea.paper_state import load_state, save_state
from hedge.ea.paper_symbols import symbols_message
from hedge.ea.paper_terminal import AccountSettings, Terminal
from hedge.ea.protocol import (
    AGENT_NOT_READY,
    CLOSE_AUTH_FAILED,
    CLOSE_REPLACED,
    MAX_FRAME_BYTES,
    Auth,
    AuthFailed,
    AuthOk,
    Close,
    Command,
    Error,
    History,
    Message,
    Open,
    Ping,
    Pong,
    Positions,
    Price,
    Subscribe,
    Sync,
    adispatch,
    camel,
    decode,
    encode,
)
from hedge.eventloop import within

log = logging.getLogger("hedge.ea.paper")


class SessionEnd(StrEnum):
    RECONNECT = "RECONNECT"  # the connection dropped: connect again at once (backoff if refused)
    RETRY_AUTH = "RETRY_AUTH"  # the agent was not ready: connect again after auth_retry_delay_s
    REPLACED = "REPLACED"  # another EA took over this account (4409): stop


class PaperEA:
    def __init__(self, config: PaperConfig, *, clock: Clock | None = None, feed: Feed | None = None) -> None:
        self.config = config
        self._clock = clock or SystemClock()
        self._feed = feed or self._build_feed()
        self.market = Market(SymbolCatalog())
        self._outbox = Outbox()
        settings = AccountSettings(
            config.balance, config.currency, config.leverage, config.credit, config.stop_out_level_pct,
            config.margin_mode, config.magic, config.comment_limit, config.costs,
        )  # fmt: skip
        books = load_state(config.state_file) if config.state_file is not None else None
        if books is not None:
            log.info(
                "state file %s: %d open position(s), %d close(s), %d unsent event(s)%s",
                config.state_file, len(books.held), len(books.closes), len(books.unsent),
                " dropped (--drop-unsent-on-restart)" if config.drop_unsent_on_restart else "",
            )  # fmt: skip
            if not config.drop_unsent_on_restart:
                for event in books.unsent:
                    self._outbox.put(event)
            books.unsent = []
        self.terminal = Terminal(
            self.market, self._clock, settings, rejects=config.rejects, faults=config.faults,
            first_ticket=config.first_ticket, seed=config.seed, emit=self._emit, books=books,
        )  # fmt: skip
        self.terminal.apply_quotes([(q.symbol, q.bid, q.ask) for q in self._feed.initial()])
        self._commands: asyncio.Queue[Command | None] = asyncio.Queue()  # None: follow PLACED orders
        self._stop = asyncio.Event()
        self._heard = asyncio.Event()
        self.online = asyncio.Event()  # set between AUTH_OK and the end of that connection
        self.offline = asyncio.Event()
        self.offline.set()
        self.subscribed: tuple[str, ...] = ()
        self.account_id: str | None = None
        self.stop_reason: str | None = None

    def _build_feed(self) -> Feed:
        config = self.config
        if config.market_file is None:
            return build_feed(config.feed, config.symbols, config.seed, config.spread_pips)
        if config.feed not in ("random", "static"):
            raise ValidationError(
                "--market-file", f"works with --feed random or static, not {config.feed[:40]!r}"
            )
        return SharedMarketFeed(
            config.market_file, config.symbols, self._clock, moves=config.feed == "random",
            tick_interval_ms=config.tick_interval_ms, seed=config.seed,
            offset_pips=config.market_offset_pips, spread_pips=config.spread_pips,
        )  # fmt: skip

    def _persist(self) -> None:
        """Save the books and the unsent events (when the EA has a state file)."""
        if self.config.state_file is not None:
            self.terminal.books.unsent = [m for m in self._outbox.pending() if is_durable(m)]
            save_state(self.config.state_file, self.terminal.books)

    # --- life cycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until stop() or a 4409 replacement; raises AuthRejected when the agent refuses AUTH."""
        log.info(
            "paper EA for account %s on %s (%s) connecting to %s",
            self.config.account_number, self.config.server_name, self.config.platform, self.config.agent_url,
        )  # fmt: skip
        tasks = [
            asyncio.create_task(self._connection_loop(), name="paper-ea-connection"),
            asyncio.create_task(self._command_loop(), name="paper-ea-commands"),
            asyncio.create_task(self._stop.wait(), name="paper-ea-stop"),
        ]
        if self.config.tick_interval_ms > 0:
            tasks.append(asyncio.create_task(self._tick_loop(), name="paper-ea-ticks"))
        if self.config.control_file is not None:
            tasks.append(asyncio.create_task(self._control_loop(), name="paper-ea-control"))
        if self.terminal.books.pending:  # orders PLACED before a restart: follow them again
            self._commands.put_nowait(None)
        self._persist()
        try:
            done = await _first_to_end(tasks)
        finally:
            self._went_offline()
        for task in done:
            task.result()  # re-raise AuthRejected or a defect
        log.info("paper EA stopped (%s)", self.stop_reason or "stop requested")

    def stop(self) -> None:
        self._stop.set()

    # --- test and demo controls -----------------------------------------------------------------

    def set_price(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Quote a symbol now (stop-out applies) and stream it at once if subscribed."""
        self.terminal.set_price(symbol, bid, ask)
        self._persist()
        if symbol in self.subscribed:
            self._send_price(symbol)

    def close_externally(self, ticket: str, reason: str = "TERMINAL_CLOSE") -> CloseRecord:
        """A close by hand in the terminal (TERMINAL_CLOSE) or by the broker (another StopReason)."""
        record = self.terminal.close_externally(ticket, reason)
        self._persist()
        return record

    def pending_events(self) -> tuple[Message, ...]:
        """Frames queued for the agent (events kept while offline)."""
        return self._outbox.pending()

    # --- connection -----------------------------------------------------------------------------

    async def _connection_loop(self) -> None:
        delays = functools.partial(
            backoff,
            initial_delay=self.config.reconnect_initial_delay_s,
            min_delay=self.config.reconnect_min_delay_s,
            max_delay=self.config.reconnect_max_delay_s,
        )
        connector = connect(
            self.config.agent_url, proxy=None, compression=None, max_size=MAX_FRAME_BYTES,
            reconnect_delays=delays, logger=logging.getLogger("hedge.ea.paper.ws"),
            process_exception=retry_connect,
        )  # fmt: skip
        async for ws in connector:
            end = await self._session(ws)
            if end is SessionEnd.REPLACED:
                self.stop_reason = "replaced by another EA for this account (close 4409)"
                log.warning("another EA took over account %s; stopping", self.config.account_number)
                return
            if end is SessionEnd.RETRY_AUTH:
                await asyncio.sleep(self.config.auth_retry_delay_s)
            log.info("reconnecting to %s", self.config.agent_url)

    async def _session(self, ws: ClientConnection) -> SessionEnd:
        authenticated = await self._authenticate(ws)
        if isinstance(authenticated, SessionEnd):
            return authenticated
        self.account_id = authenticated
        log.info(
            "authenticated as account %s; %d queued event(s) to send",
            authenticated,
            len(self._outbox.pending()),
        )
        self._went_online()
        tasks = [
            asyncio.create_task(self._read(ws)),
            asyncio.create_task(self._write(ws)),
            asyncio.create_task(self._liveness(ws)),
            asyncio.create_task(self._account_timer()),
        ]
        try:
            done = await _first_to_end(tasks)
        finally:
            self._went_offline()
        for task in done:
            if not isinstance(task.exception(), ConnectionClosed):
                task.result()  # a defect: let run() raise it
        await ws.close()
        log.warning("disconnected from the agent (close code %s %s)", ws.close_code, ws.close_reason or "")
        return SessionEnd.REPLACED if ws.close_code == CLOSE_REPLACED else SessionEnd.RECONNECT

    async def _authenticate(self, ws: ClientConnection) -> str | SessionEnd:
        """The accountId of AUTH_OK, or how to go on when the agent did not accept us."""
        config = self.config
        auth = Auth(
            config.ea_token,
            config.account_number,
            config.server_name,
            config.platform,
            config.ea_version,
            config.margin_mode.value,
        )
        try:
            # inside the try: an agent that dies mid-handshake closes the socket under our AUTH,
            # which is a reason to reconnect, not to stop the terminal
            await ws.send(encode(auth))
            async with asyncio.timeout(config.auth_timeout_s):
                frame = await ws.recv()
        except TimeoutError:
            log.warning("no answer to AUTH within %s s; trying again", config.auth_timeout_s)
            return SessionEnd.RETRY_AUTH
        except ConnectionClosed:
            if ws.close_code == CLOSE_AUTH_FAILED:
                return self._auth_refused(ws.close_reason or "connection closed with 4401")
            if ws.close_code == CLOSE_REPLACED:
                return SessionEnd.REPLACED
            log.warning("the agent closed the connection during AUTH (code %s); reconnecting", ws.close_code)
            return SessionEnd.RECONNECT
        try:
            answer = decode(frame)
        except ProtocolError as exc:
            log.warning("the agent answered AUTH with a bad frame (%s); trying again", exc)
            return SessionEnd.RETRY_AUTH
        if isinstance(answer, AuthOk):
            return answer.account_id
        if isinstance(answer, AuthFailed):
            return self._auth_refused(answer.reason)
        log.warning("expected AUTH_OK or AUTH_FAILED, the agent sent %s; trying again", answer.TYPE)
        return SessionEnd.RETRY_AUTH

    def _auth_refused(self, reason: str) -> SessionEnd:
        if reason.strip().lower() == AGENT_NOT_READY:
            log.info("the agent is not ready yet; AUTH again in %s s", self.config.auth_retry_delay_s)
            return SessionEnd.RETRY_AUTH
        log.error(
            "the agent rejected AUTH for account %s on %s: %s (check --ea-token and the account)",
            self.config.account_number, self.config.server_name, reason,
        )  # fmt: skip
        raise AuthRejected(reason)

    def _went_online(self) -> None:
        self._outbox.go_online()
        self._outbox.put(self.terminal.account_update())  # after the events kept while offline
        self._send_symbols(self.subscribed or self.config.symbols)
        self._heard.set()
        self.offline.clear()
        self.online.set()

    def _went_offline(self) -> None:
        self._outbox.go_offline()
        self.online.clear()
        self.offline.set()

    # --- per-connection tasks -------------------------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        async for frame in ws:
            self._heard.set()
            try:
                msg = decode(frame)
            except BadMessage as exc:
                log.warning("bad frame from the agent: %s", exc.message)
                self._outbox.put(Error.bad_message(exc.message, exc.command_id))
                continue
            try:
                await adispatch(self, msg)
            except UnhandledMessage:
                text = f"the EA does not accept {msg.TYPE} (a {msg.DIRECTION.value} message)"
                log.warning("%s", text)
                self._outbox.put(Error.bad_message(text, getattr(msg, "command_id", None)))

    async def _write(self, ws: ClientConnection) -> None:
        while True:
            msg = await self._outbox.get()
            try:
                await ws.send(encode(msg))
            except (ConnectionClosed, asyncio.CancelledError):
                self._outbox.put_back(msg)  # an event goes out again after the reconnect
                raise
            if is_durable(msg):
                self._persist()

    async def _liveness(self, ws: ClientConnection) -> None:
        ping_id = 0
        while True:
            if await self._heard_within(self.config.idle_ping_s):
                continue
            ping_id += 1
            self._outbox.put(Ping(ping_id))
            if await self._heard_within(self.config.dead_after_s - self.config.idle_ping_s):
                continue
            log.warning("nothing from the agent for %s s; dropping the connection", self.config.dead_after_s)
            await ws.close(1001, "agent silent")
            return

    async def _heard_within(self, seconds: float) -> bool:
        self._heard.clear()
        return await within(seconds, self._heard.wait())

    async def _account_timer(self) -> None:
        while True:
            await asyncio.sleep(self.config.account_interval_s)
            self._outbox.put(self.terminal.account_update())

    # --- EA-lifetime tasks ----------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval_ms / 1000)
            quotes = self._feed.next_quotes()
            if quotes:
                closes = len(self.terminal.books.closes)
                self.terminal.apply_quotes([(q.symbol, q.bid, q.ask) for q in quotes])
                if len(self.terminal.books.closes) != closes:
                    self._persist()
            for symbol in self.subscribed:
                self._send_price(symbol)

    async def _command_loop(self) -> None:
        while True:
            command = await self._commands.get()
            if command is not None:
                if self.config.fill_delay_ms > 0 and not isinstance(command, Sync | History):
                    await asyncio.sleep(self.config.fill_delay_ms / 1000)
                self.terminal.execute(command)
                self._persist()
            if self.terminal.books.pending:  # PLACED: the broker fills it later; answered then
                await asyncio.sleep(self.config.faults.placed_delay_ms / 1000)
                self.terminal.fill_pending()
                self._persist()

    async def _control_loop(self) -> None:
        path = self.config.control_file
        assert path is not None
        while True:
            offset = self.terminal.books.control_offset
            paper_control.poll(self.terminal, path)
            if self.terminal.books.control_offset != offset:
                self._persist()
            await asyncio.sleep(self.config.control_poll_s)

    def _send_symbols(self, symbols: tuple[str, ...]) -> None:
        """SYMBOLS for the quoted ones of `symbols` (a snapshot: dropped while offline)."""
        terminal = self.terminal
        self._outbox.put(symbols_message(symbols, self.market, terminal.currency, terminal.leverage))

    def _send_price(self, symbol: str) -> None:
        quote = self.market.quote(symbol)
        if quote is not None and self.online.is_set():
            self._outbox.put(Price(symbol, quote.bid, quote.ask, self.terminal.now_ms()))

    def _emit(self, msg: Message) -> None:
        if is_durable(msg):
            log.info("event %s", _describe(msg))
        self._outbox.put(msg)

    # --- handlers (routed by protocol.dispatch) -------------------------------------------------

    def handle_ping(self, msg: Ping) -> None:
        self._outbox.put(Pong(msg.id))

    def handle_pong(self, msg: Pong) -> None:
        """Any frame counts as a sign of life; nothing else to do."""

    def handle_error(self, msg: Error) -> None:
        log.warning("the agent reports %s: %s (commandId %s)", msg.code, msg.message, msg.command_id)

    def handle_subscribe(self, msg: Subscribe) -> None:
        unknown = [s for s in msg.symbols if self.market.quote(s) is None]
        if unknown:
            log.warning(
                "SUBSCRIBE names symbols this terminal does not quote, ignored: %s", ", ".join(unknown)
            )
        self.subscribed = tuple(dict.fromkeys(s for s in msg.symbols if s not in unknown))
        log.info("streaming PRICE for: %s", ", ".join(self.subscribed) or "nothing")
        self._send_symbols(self.subscribed)
        for symbol in self.subscribed:
            self._send_price(symbol)

    def handle_open(self, msg: Open) -> None:
        log.info(
            "OPEN %s: %s %s %s for %s", msg.command_id, msg.side, msg.volume, msg.symbol, msg.position_id
        )
        self._commands.put_nowait(msg)

    def handle_close(self, msg: Close) -> None:
        log.info("CLOSE %s: ticket %s of %s", msg.command_id, msg.mt_ticket, msg.position_id)
        self._commands.put_nowait(msg)

    def handle_sync(self, msg: Sync) -> None:
        log.info("SYNC %s", msg.command_id)
        self._commands.put_nowait(msg)

    def handle_history(self, msg: History) -> None:
        log.info("HISTORY %s for %s", msg.command_id, ", ".join(msg.position_ids) or "no positions")
        self._commands.put_nowait(msg)


def _describe(msg: Message) -> str:
    """A log-friendly one-liner: `OPENED commandId=c1 positionId=p1 status=SUCCESS ...`."""
    parts = []
    for field in dataclasses.fields(msg):
        value = getattr(msg, field.name)
        if value is not None and field.name not in ("positions", "results", "symbols"):
            parts.append(f"{camel(field.name)}={value}")
    if isinstance(msg, Positions):
        parts.append(f"positions={len(msg.positions)}")
    return f"{msg.TYPE} " + " ".join(parts)


def retry_connect(exc: Exception) -> Exception | None:
    """Which failed connection attempts are tried again (None) and which end the EA (the error).

    websockets' default retries network errors, and a connection that ends while its answer to
    the handshake is awaited, but not one that ends before the handshake request went out: an
    agent that dies (or a proxy that drops the link) just after accepting the TCP connection
    raises ConnectionClosedError from the opening handshake, which would stop the terminal. A
    terminal keeps trying to reach its agent whatever the link does; an answer that is not a
    WebSocket (a wrong URL, HTTP 404) still ends it."""
    if isinstance(exc, ConnectionClosed):
        return None
    return process_exception(exc)


async def _first_to_end(tasks: list[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Wait until one of `tasks` ends, then cancel the others and wait for them; the ended ones."""
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return done
