"""Conformance rules for the session: the AUTH handshake, PING/PONG and the PRICE stream."""

from __future__ import annotations

from hedge.ea.conformance_model import PASSED, Rule, Run, Skip, Unmet, Verdict, passed, require
from hedge.ea.conformance_peer import Arrival, of_type, wire_type
from hedge.ea.protocol import Auth, AuthOk, Error, Price, Subscribe

KIT_ACCOUNT_ID = "conformance-kit"
_REQUIRED_AUTH_TEXT = ("token", "accountNumber", "serverName")
_OPTIONAL_AUTH_TEXT = ("platform", "eaVersion")
PING_IDS = (7, 2**33 + 1)  # the second does not fit in 32 bits: MetaTrader tickets and ids are 64-bit


async def _first_frame(run: Run) -> Arrival:
    first = await run.peer.first(lambda _a: True, 0, run.config.timeout_s)
    require(first is not None, f"expected AUTH as the first frame, nothing came in {run.config.timeout_s} s")
    assert first is not None
    return first


async def auth_first_frame(run: Run) -> Verdict:
    first = await _first_frame(run)
    require(first.frame_type == "AUTH", f"expected AUTH as the first frame, came {first.describe()}")
    return PASSED


async def auth_fields(run: Run) -> Verdict:
    first = await _first_frame(run)
    if first.frame_type != "AUTH" or first.raw is None:
        raise Skip("the first frame is not AUTH")
    for name in _REQUIRED_AUTH_TEXT:
        value = first.raw.get(name)
        require(
            isinstance(value, str) and bool(value.strip()),
            f"AUTH.{name} must be a non-empty string, was {value!r}",
        )
    for name in _OPTIONAL_AUTH_TEXT:
        value = first.raw.get(name)
        require(value is None or isinstance(value, str), f"AUTH.{name} must be a string, was {value!r}")
    require(first.message is not None, f"the agent's decoder refuses this AUTH: {first.problem}")
    return PASSED


async def auth_credentials(run: Run) -> Verdict:
    first = await _first_frame(run)
    auth = first.message
    if not isinstance(auth, Auth):
        raise Skip("no valid AUTH to check")
    config = run.config
    require(auth.token == config.ea_token, "AUTH.token is not the --ea-token given to the kit")
    for name, expected, came in (
        ("accountNumber", config.account_number, auth.account_number),
        ("serverName", config.server_name, auth.server_name),
    ):
        require(expected is None or came == expected, f"expected AUTH.{name} {expected!r}, came {came!r}")
    run.auth = auth
    given = config.account_number is not None or config.server_name is not None
    return passed(
        f"account {auth.account_number} on {auth.server_name}" + ("" if given else ", not compared")
    )


async def auth_ok_accepted(run: Run) -> Verdict:
    mark = await run.peer.send(AuthOk(KIT_ACCOUNT_ID))
    pong = await run.peer.barrier(run.ping_id(), run.config.timeout_s)
    require(
        pong is not None, "expected the EA to stay connected and answer a PING after AUTH_OK, no PONG came"
    )
    assert pong is not None
    confused = run.peer.all(wire_type("AUTH", "ERROR"), mark, pong.index)
    if confused:
        raise Unmet(f"expected no AUTH or ERROR after AUTH_OK, came {confused[0].describe()}")
    return PASSED


async def ping_answered(run: Run) -> Verdict:
    for ping_id in PING_IDS:
        mark = len(run.peer.arrivals)
        pong = await run.peer.barrier(ping_id, run.config.timeout_s)
        if pong is None:
            pongs = [a.describe() for a in run.peer.all(wire_type("PONG"), mark)]
            raise Unmet(
                f"expected PONG with id {ping_id} within {run.config.timeout_s} s, came {pongs or 'none'}"
            )
    return PASSED


async def subscribe_streams_price(run: Run) -> Verdict:
    symbol = run.config.symbol
    mark = await run.peer.send(Subscribe((symbol,)))
    first = await run.peer.first(wire_type("PRICE"), mark, run.config.timeout_s)
    require(first is not None, f"expected PRICE for {symbol} within {run.config.timeout_s} s, none came")
    await run.peer.watch(run.config.quiet_s)
    prices = run.peer.all(wire_type("PRICE"), mark)
    for arrival in prices:
        price = arrival.message
        require(isinstance(price, Price), f"expected a valid PRICE, came {arrival.describe()}")
        assert isinstance(price, Price)
        require(price.symbol == symbol, f"expected PRICE for {symbol} only, came {arrival.describe()}")
        require(price.bid <= price.ask, f"expected bid <= ask, came {arrival.describe()}")
    return passed(f"{len(prices)} PRICE frame(s)")


async def price_time_is_utc(run: Run) -> Verdict:
    limit_ms = int(run.config.max_clock_skew_s * 1000)
    skews = [
        (a.message.time_ms - a.received_ms, a)
        for a in run.peer.all(of_type(Price))
        if isinstance(a.message, Price)
    ]
    if not skews:
        raise Skip("no valid PRICE came to check")
    ahead, arrival = max(skews, key=lambda s: s[0])
    require(
        ahead <= limit_ms,
        f"expected timeMs within {run.config.max_clock_skew_s:g} s of UTC now, one was {_hours(ahead)} ahead "
        f"(broker server time sent as UTC?): {arrival.describe()}",
    )
    behind, arrival = min(skews, key=lambda s: s[0])
    if -behind > limit_ms:
        raise Skip(
            f"the quote is {_hours(-behind)} old (market closed or symbol idle, or broker time not converted "
            "to UTC); run the kit while the market is open to check"
        )
    return PASSED


async def subscribe_empty_stops_price(run: Run) -> Verdict:
    mark = await run.peer.send(Subscribe(()))
    pong = await run.peer.barrier(run.ping_id(), run.config.timeout_s)
    require(
        pong is not None, "expected PONG after SUBSCRIBE [] (used to mark where PRICE must stop), none came"
    )
    assert pong is not None
    await run.peer.watch(run.config.quiet_s)
    late = run.peer.all(wire_type("PRICE"), pong.index)
    if late:
        raise Unmet(f"expected no PRICE after SUBSCRIBE [], {len(late)} came, e.g. {late[0].describe()}")
    errors = run.peer.all(of_type(Error), mark)
    if errors:
        raise Unmet(f"expected SUBSCRIBE [] to be accepted silently, came {errors[0].describe()}")
    return PASSED


def _hours(ms: int) -> str:
    return f"{ms / 3_600_000:.1f} h" if ms >= 3_600_000 else f"{ms / 1000:.0f} s"


HANDSHAKE_RULES: tuple[Rule, ...] = (
    Rule("auth.first-frame", "the EA's first frame is AUTH", auth_first_frame),
    Rule(
        "auth.fields",
        "AUTH carries token, accountNumber, serverName (platform, eaVersion strings)",
        auth_fields,
    ),
    Rule(
        "auth.credentials",
        "AUTH carries the expected token (and account, server when given)",
        auth_credentials,
    ),
)
SESSION_RULES: tuple[Rule, ...] = (
    Rule(
        "auth-ok.accepted", "after AUTH_OK the EA stays connected, sending no AUTH or ERROR", auth_ok_accepted
    ),
    Rule("ping.answered", "PING from the agent gets PONG with the same id (also a 64-bit id)", ping_answered),
    Rule(
        "subscribe.price",
        "SUBSCRIBE [symbol] streams valid PRICE (bid <= ask) for that symbol only",
        subscribe_streams_price,
    ),
    Rule("price.utc-time", "PRICE timeMs is UTC epoch ms, not broker server time", price_time_is_utc),
    Rule(
        "subscribe.empty-stops", "SUBSCRIBE [] stops PRICE and is not answered", subscribe_empty_stops_price
    ),
)
