"""The EA wire protocol: every message type round-trips; every kind of bad frame is a named BadMessage."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hedge.domain.enums import BrokerType, Side
from hedge.ea import protocol as wire
from hedge.ea.errors import BadMessage, FrameTooLarge, ProtocolError, UnhandledMessage
from hedge.ea.protocol import adispatch, comment_for, decode, dispatch, encode, position_id_from_comment

D = Decimal
ONE_OF_EACH: list[wire.Message] = [
    wire.Auth("tok", "12345", "Broker-Live 3", BrokerType.MT5, "1.0.0"),
    wire.AuthOk("acc-1"),
    wire.AuthFailed("agent not ready"),
    wire.Ping(7),
    wire.Pong(7),
    wire.Open("c1", "p1", "USDJPY", Side.BUY, D("0.10"), "HedgeSystem[p1]"),
    wire.Close("c2", "p1", "18446744073709551615"),
    wire.Sync("c3"),
    wire.Subscribe(("USDJPY", "EURUSD")),
    wire.Opened.success("c1", "p1", "1001", D("150.050"), 1_767_600_000_000),
    wire.Opened.failed("c1", "p1", wire.ErrorCode.REQUOTE, "price moved"),
    wire.Closed.success("c2", "p1", "1001", D("150.120"), 1_767_600_000_500, D("-4.67")),
    wire.Closed.failed("c2", "p1", "1001", wire.ErrorCode.UNKNOWN, "no such ticket"),
    wire.Stopped("p1", "1001", D("149.000"), 1_767_600_001_000, D("-670.00"), "STOP_OUT"),
    wire.Price("EURUSD", D("1.08000"), D("1.08010"), 1_767_600_000_000),
    wire.AccountUpdate(
        D("10000.00"), D("0"), D("9995.33"), D("1000.00"), D("999.53"), "USD", 1_767_600_000_000
    ),
    wire.Positions(
        "c3", (wire.PositionReport("p1", "1001", "USDJPY", Side.SELL, D("1.5"), D("150.050"), 5, D("12.30")),)
    ),
    wire.Positions("c4", ()),
    wire.Error.bad_message("volume must be > 0", "c9"),
    wire.Error("BAD_MESSAGE", "not JSON"),
    wire.History("c5", ("p1", "p2")),
    wire.HistoryResult(
        "c5",
        (
            wire.HistoryEntry(
                "p1",
                "1001",
                wire.HistoryState.CLOSED,
                D("149.000"),
                9,
                D("-670.00"),
                wire.StopReason.STOP_OUT,
            ),
            wire.HistoryEntry("p2", None, wire.HistoryState.UNKNOWN),
        ),
    ),
    wire.Symbols(
        (
            wire.SymbolInfo(
                "USDJPY", 3, D("0.001"), D("100000"), D("0.01"), D("0.01"), D("100"), D("1000"), None
            ),
        )
    ),
]


def frame(**fields: object) -> str:
    return json.dumps(fields)


def bad(text: str) -> BadMessage:
    with pytest.raises(BadMessage) as caught:
        decode(text)
    return caught.value


@pytest.mark.parametrize("msg", ONE_OF_EACH, ids=lambda m: f"{m.TYPE}")
def test_decode_of_encode_any_message_gives_it_back(msg: wire.Message) -> None:
    assert decode(encode(msg)) == msg


def test_round_trip_list_covers_every_message_type() -> None:
    assert {type(m) for m in ONE_OF_EACH} == set(wire.MESSAGE_CLASSES)


def test_every_message_class_states_its_direction_in_docstring() -> None:
    for cls in wire.MESSAGE_CLASSES:
        assert cls.__doc__ and cls.DIRECTION in (
            wire.Direction.EA_TO_AGENT,
            wire.Direction.AGENT_TO_EA,
            wire.Direction.BOTH,
        )
        assert ("EA→agent" in cls.__doc__) or ("agent→EA" in cls.__doc__) or ("Either way" in cls.__doc__)


def test_encode_open_uses_contract_camel_case_names_and_type() -> None:
    data = json.loads(encode(ONE_OF_EACH[5]))
    assert data == {
        "type": "OPEN",
        "commandId": "c1",
        "positionId": "p1",
        "symbol": "USDJPY",
        "side": "BUY",
        "volume": 0.1,
        "comment": "HedgeSystem[p1]",
    }


def test_encode_decimal_writes_its_text_not_a_float() -> None:
    text = encode(wire.Price("USDJPY", D("150.050"), D("150.060"), 1))
    assert '"bid":150.050' in text and '"ask":150.060' in text


def test_decode_price_keeps_decimal_text() -> None:
    msg = decode('{"type":"PRICE","symbol":"USDJPY","bid":150.050,"ask":150.1,"timeMs":1}')
    assert isinstance(msg, wire.Price)
    assert str(msg.bid) == "150.050" and str(msg.ask) == "150.1"


def test_decode_integer_volume_gives_decimal() -> None:
    msg = decode(
        frame(type="OPEN", commandId="c", positionId="p", symbol="X", side="SELL", volume=2, comment="x")
    )
    assert isinstance(msg, wire.Open) and msg.volume == D(2) and isinstance(msg.volume, Decimal)


def test_encode_failed_opened_leaves_out_success_fields() -> None:
    data = json.loads(encode(wire.Opened.failed("c", "p", wire.ErrorCode.TIMEOUT, "slow")))
    assert "mtTicket" not in data and "price" not in data and data["errorCode"] == "TIMEOUT"


def test_encode_non_finite_decimal_is_refused() -> None:
    with pytest.raises(ValueError, match="bid must be a finite number"):
        encode(wire.Price("X", D("NaN"), D(1), 1))


def test_decode_extra_fields_are_ignored() -> None:
    assert decode(frame(type="SYNC", commandId="c", futureField=1)) == wire.Sync("c")


def test_decode_auth_without_platform_and_version_is_accepted() -> None:
    msg = decode(frame(type="AUTH", token="t", accountNumber="1", serverName="S"))
    assert msg == wire.Auth("t", "1", "S")


# --- bad input ----------------------------------------------------------------------------------


def test_decode_not_json_raises_bad_message() -> None:
    assert "not JSON" in bad("{type: OPEN").message


def test_decode_json_array_raises_bad_message_naming_object() -> None:
    assert "must be a JSON object" in bad("[1, 2]").message


def test_decode_missing_type_lists_known_types() -> None:
    error = bad(frame(commandId="c7"))
    assert 'no "type"' in error.message and "OPEN" in error.message and error.command_id == "c7"


def test_decode_non_string_type_raises_bad_message() -> None:
    assert '"type" must be a string, was a JSON number' in bad(frame(type=5)).message


def test_decode_unknown_type_names_it_and_keeps_command_id() -> None:
    error = bad(frame(type="OPEN_ALL", commandId="c8"))
    assert "unknown type 'OPEN_ALL'" in error.message and error.command_id == "c8"


def test_decode_missing_required_field_names_field() -> None:
    error = bad(frame(type="OPEN", commandId="c", positionId="p", symbol="X", side="BUY", comment="x"))
    assert error.message == "OPEN is missing required field 'volume'" and error.field == "OPEN.volume"


def test_decode_null_required_field_raises_bad_message() -> None:
    assert bad(frame(type="SYNC", commandId=None)).message == "SYNC.commandId must not be null"


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        ('"0.1"', 'OPEN.volume must be a JSON number, was string "0.1"'),
        ("true", "OPEN.volume must be a JSON number, was boolean true"),
        ("-1", "OPEN.volume must be > 0, was -1"),
        ("0", "OPEN.volume must be > 0, was 0"),
        ("NaN", "OPEN.volume must be a finite number, was NaN"),
        ("[1]", "OPEN.volume must be a JSON number, was a JSON array"),
    ],
)
def test_decode_open_with_bad_volume_says_what_was_expected(volume: str, expected: str) -> None:
    head = '{"type":"OPEN","commandId":"c1","positionId":"p","symbol":"X","side":"BUY","comment":"x"'
    error = bad(head + ',"volume":' + volume + "}")
    assert error.message == expected and error.command_id == "c1" and error.frame_type == "OPEN"


BAD_BID = [
    ("NaN", "PRICE.bid must be a finite number, was NaN"),
    ("Infinity", "PRICE.bid must be a finite number, was Infinity"),
    ("-Infinity", "PRICE.bid must be a finite number, was -Infinity"),
    ("0", "PRICE.bid must be > 0, was 0"),
    ("-150.1", "PRICE.bid must be > 0, was -150.1"),
    ('"150.1"', 'PRICE.bid must be a JSON number, was string "150.1"'),
    ("false", "PRICE.bid must be a JSON number, was boolean false"),
]
BAD_TIME_MS = [
    ("-1", "PRICE.timeMs must be >= 0, was -1"),
    ("1.5", "PRICE.timeMs must be an integer, was number 1.5"),
    ('"1"', 'PRICE.timeMs must be an integer, was string "1"'),
    ("true", "PRICE.timeMs must be an integer, was boolean true"),
]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("bid", *case) for case in BAD_BID] + [("timeMs", *case) for case in BAD_TIME_MS],
)
def test_decode_price_with_a_bad_bid_or_time_says_what_was_expected(
    field: str, value: str, expected: str
) -> None:
    # the field under test goes last, after valid values for the others
    others = "".join(f'"{name}":1,' for name in ("bid", "ask", "timeMs") if name != field)
    assert bad('{"type":"PRICE","symbol":"X",' + others + f'"{field}":' + value + "}").message == expected


def test_decode_unknown_side_lists_allowed_values() -> None:
    error = bad(
        frame(type="OPEN", commandId="c", positionId="p", symbol="X", side="LONG", volume=1, comment="x")
    )
    assert error.message == 'OPEN.side must be one of BUY, SELL, was string "LONG"'


def test_decode_unknown_status_lists_allowed_values() -> None:
    error = bad(frame(type="OPENED", commandId="c", positionId="p", status="DONE"))
    assert error.message == 'OPENED.status must be one of SUCCESS, FAILED, was string "DONE"'


def test_decode_unknown_error_code_lists_allowed_values() -> None:
    error = bad(
        frame(type="OPENED", commandId="c", positionId="p", status="FAILED", errorCode="OOPS", message="")
    )
    assert "OPENED.errorCode must be one of INVALID_VOLUME" in error.message and "OOPS" in error.message


def test_decode_success_opened_without_ticket_names_the_missing_field() -> None:
    error = bad(frame(type="OPENED", commandId="c", positionId="p", status="SUCCESS", price=1, timeMs=1))
    assert error.message == "OPENED with status SUCCESS is missing required field 'mtTicket'"


def test_decode_numeric_ticket_is_refused_because_tickets_are_strings() -> None:
    error = bad(frame(type="CLOSE", commandId="c", positionId="p", mtTicket=1001))
    assert error.message == "CLOSE.mtTicket must be a string, was number 1001"


def test_decode_empty_command_id_is_refused() -> None:
    assert bad(frame(type="SYNC", commandId="  ")).message == "SYNC.commandId must not be empty"


def test_decode_bad_nested_position_names_its_path() -> None:
    item = {"positionId": "p", "mtTicket": "1", "symbol": "X", "side": "BUY", "volume": -1}
    item |= {"openPrice": 1, "openTimeMs": 1, "profit": 0}
    error = bad(frame(type="POSITIONS", commandId="c", positions=[item]))
    assert error.message == "POSITIONS.positions[0].volume must be > 0, was -1"


def test_decode_subscribe_with_non_list_symbols_is_refused() -> None:
    assert bad(frame(type="SUBSCRIBE", symbols="USDJPY")).message.startswith(
        "SUBSCRIBE.symbols must be a list"
    )


def test_decode_deeply_nested_json_raises_bad_message() -> None:
    assert "nested too deeply" in bad("[" * 30000 + "]" * 30000).message


def test_decode_frame_over_64_kib_raises_frame_too_large() -> None:
    text = frame(type="ERROR", code="BAD_MESSAGE", message="x" * wire.MAX_FRAME_BYTES)
    with pytest.raises(FrameTooLarge) as caught:
        decode(text)
    assert isinstance(caught.value, ProtocolError) and caught.value.limit_bytes == 65536


def test_bad_message_is_a_protocol_error() -> None:
    assert issubclass(BadMessage, ProtocolError)


# --- constants and helpers ----------------------------------------------------------------------


def test_close_codes_match_the_contract() -> None:
    assert (wire.CLOSE_AUTH_FAILED, wire.CLOSE_REPLACED, wire.CLOSE_TOO_BIG, wire.MAX_FRAME_BYTES) == (
        4401,
        4409,
        1009,
        65536,
    )


def test_error_code_retryable_only_for_requote() -> None:
    assert {c for c in wire.ErrorCode if c.retryable} == {wire.ErrorCode.REQUOTE}


def test_comment_round_trip_gives_position_id() -> None:
    assert comment_for("pos-42") == "HedgeSystem[pos-42]"
    assert position_id_from_comment(comment_for("pos-42")) == "pos-42"


@pytest.mark.parametrize(
    "comment", ["", "manual trade", "HedgeSystem[]", "HedgeSystem[a]x", "hedgesystem[a]"]
)
def test_position_id_from_foreign_comment_is_none(comment: str) -> None:
    assert position_id_from_comment(comment) is None


class Receiver:
    def __init__(self) -> None:
        self.seen: list[wire.Message] = []

    def handle_open(self, msg: wire.Open) -> str:
        self.seen.append(msg)
        return "opened"

    async def handle_account(self, msg: wire.AccountUpdate) -> str:
        self.seen.append(msg)
        return "account"


def test_dispatch_routes_to_handle_type_method() -> None:
    receiver = Receiver()
    assert dispatch(receiver, ONE_OF_EACH[5]) == "opened" and receiver.seen == [ONE_OF_EACH[5]]


async def test_adispatch_awaits_async_handler_named_after_wire_type() -> None:
    receiver = Receiver()
    account = ONE_OF_EACH[15]
    assert await adispatch(receiver, account) == "account" and receiver.seen == [account]


def test_dispatch_without_handler_raises_unhandled_message() -> None:
    with pytest.raises(UnhandledMessage, match=r"Receiver does not accept SYNC .*handle_sync"):
        dispatch(Receiver(), wire.Sync("c"))


def test_command_status_values_match_contract() -> None:
    assert [s.value for s in wire.CommandStatus] == ["SUCCESS", "FAILED"]
