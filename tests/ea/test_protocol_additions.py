"""This round's EA protocol additions: marginMode, HISTORY, SYMBOLS, OPENED volume, STOPPED reasons,
HEDGING_PROHIBITED and TIMEOUT as an unknown outcome. Older EAs that omit the new fields still decode."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

import pytest

from hedge.ea.errors import BadMessage
from hedge.ea.protocol import (
    Auth,
    Command,
    ErrorCode,
    History,
    HistoryResult,
    HistoryState,
    MarginMode,
    Opened,
    Stopped,
    StopReason,
    Symbols,
    decode,
    dispatch,
    encode,
)

D = Decimal
AUTH = {"type": "AUTH", "token": "t", "accountNumber": "1", "serverName": "S"}
OPENED = {"type": "OPENED", "commandId": "c1", "positionId": "p1", "status": "SUCCESS", "mtTicket": "7",
          "price": 150.05, "timeMs": 5}  # fmt: skip
STOPPED = {"type": "STOPPED", "positionId": "p1", "mtTicket": "7", "price": 149, "timeMs": 5, "profit": -1.5}
SYMBOL = {"symbol": "USDJPY", "digits": 3, "point": 0.001, "contractSize": 100000, "volumeMin": 0.01,
          "volumeStep": 0.01, "volumeMax": 100, "marginPerLot": 1000.5, "tickValue": 0.67}  # fmt: skip


def frame(base: Mapping[str, object], **changes: object) -> str:
    return json.dumps({**base, **changes})


def bad(text: str) -> BadMessage:
    with pytest.raises(BadMessage) as caught:
        decode(text)
    return caught.value


# --- AUTH marginMode ----------------------------------------------------------------------------


def test_decode_auth_with_margin_mode_keeps_it() -> None:
    auth = decode(frame(AUTH, marginMode="NETTING"))
    assert isinstance(auth, Auth) and auth.margin_mode == MarginMode.NETTING


def test_decode_auth_of_older_ea_without_margin_mode_gives_none() -> None:
    auth = decode(frame(AUTH))
    assert isinstance(auth, Auth) and auth.margin_mode is None


def test_decode_auth_with_numeric_margin_mode_is_refused() -> None:
    assert bad(frame(AUTH, marginMode=2)).field == "AUTH.marginMode"


# --- OPENED volume ------------------------------------------------------------------------------


def test_decode_opened_with_volume_gives_filled_lots_as_decimal() -> None:
    opened = decode(frame(OPENED, volume=0.07))
    assert isinstance(opened, Opened) and opened.volume == D("0.07")


def test_decode_opened_of_older_ea_without_volume_gives_none() -> None:
    opened = decode(frame(OPENED))
    assert isinstance(opened, Opened) and opened.volume is None


@pytest.mark.parametrize("volume", [0, -0.1, "0.1", True])
def test_decode_opened_with_bad_volume_is_refused(volume: object) -> None:
    assert bad(frame(OPENED, volume=volume)).field == "OPENED.volume"


def test_encode_opened_success_with_volume_writes_it() -> None:
    text = encode(Opened.success("c1", "p1", "7", D("150.050"), 5, D("0.07")))
    assert json.loads(text, parse_float=D)["volume"] == D("0.07")


# --- STOPPED reasons ----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [r.value for r in StopReason])
def test_decode_stopped_reason_of_contract_gives_its_member(reason: str) -> None:
    stopped = decode(frame(STOPPED, reason=reason))
    assert isinstance(stopped, Stopped) and stopped.stop_reason is StopReason(reason)


def test_decode_stopped_legacy_manual_is_terminal_close() -> None:
    stopped = decode(frame(STOPPED, reason="MANUAL"))
    assert isinstance(stopped, Stopped) and stopped.reason is StopReason.TERMINAL_CLOSE


@pytest.mark.parametrize("reason", ["EXPERT", "OTHER", "stop out", ""])
def test_decode_stopped_unknown_reason_text_is_unknown_never_stop_out(reason: str) -> None:
    stopped = decode(frame(STOPPED, reason=reason))
    assert isinstance(stopped, Stopped) and stopped.reason is StopReason.UNKNOWN


def test_decode_stopped_with_numeric_reason_is_refused() -> None:
    assert bad(frame(STOPPED, reason=1)).field == "STOPPED.reason"


def test_stopped_built_from_text_holds_a_stop_reason() -> None:
    stopped = Stopped("p1", "7", D("1"), 1, D("0"), "STOP_OUT")
    assert stopped.reason is StopReason.STOP_OUT and stopped.reason == "STOP_OUT"


# --- error codes --------------------------------------------------------------------------------


def test_decode_opened_failed_hedging_prohibited_is_known() -> None:
    opened = decode(frame(OPENED, status="FAILED", errorCode="HEDGING_PROHIBITED", message="FIFO"))
    assert isinstance(opened, Opened) and opened.error_code is ErrorCode.HEDGING_PROHIBITED


def test_decode_placed_error_code_is_refused_since_placed_is_not_an_answer() -> None:
    assert bad(frame(OPENED, status="FAILED", errorCode="PLACED", message="")).field == "OPENED.errorCode"


def test_error_code_timeout_and_unknown_leave_the_outcome_open() -> None:
    assert {c for c in ErrorCode if not c.placed_nothing} == {ErrorCode.TIMEOUT, ErrorCode.UNKNOWN}


def test_error_code_retryable_codes_certainly_placed_nothing() -> None:
    assert all(c.placed_nothing for c in ErrorCode if c.retryable)


# --- HISTORY / HISTORY_RESULT -------------------------------------------------------------------


def test_history_is_a_command_answered_once() -> None:
    history = decode(json.dumps({"type": "HISTORY", "commandId": "h1", "positionIds": ["p1", "p2"]}))
    assert isinstance(history, History) and history.position_ids == ("p1", "p2")
    assert isinstance(history, Command)


@pytest.mark.parametrize(
    ("ids", "where"),
    [("p1", "HISTORY.positionIds"), ([1], "HISTORY.positionIds[0]"), ([""], "HISTORY.positionIds[0]")],
)
def test_decode_history_with_bad_position_ids_is_refused(ids: object, where: str) -> None:
    error = bad(json.dumps({"type": "HISTORY", "commandId": "h1", "positionIds": ids}))
    assert error.field == where and error.command_id == "h1"


def result(*entries: dict[str, object]) -> str:
    return json.dumps({"type": "HISTORY_RESULT", "commandId": "h1", "results": list(entries)})


def test_decode_history_result_closed_by_stop_out() -> None:
    msg = decode(result({"positionId": "p1", "mtTicket": "7", "state": "CLOSED", "price": 149.1,
                         "timeMs": 9, "profit": -60.25, "reason": "STOP_OUT"}))  # fmt: skip
    assert isinstance(msg, HistoryResult)
    entry = msg.results[0]
    assert (entry.state, entry.price, entry.profit, entry.reason) == (
        HistoryState.CLOSED, D("149.1"), D("-60.25"), StopReason.STOP_OUT,
    )  # fmt: skip


def test_decode_history_result_closed_without_price_names_the_missing_field() -> None:
    error = bad(result({"positionId": "p1", "mtTicket": "7", "state": "CLOSED", "timeMs": 9, "profit": 1}))
    assert error.field == "HISTORY_RESULT.results[0].price"


def test_decode_history_result_open_without_ticket_is_refused() -> None:
    assert bad(result({"positionId": "p1", "state": "OPEN"})).field == "HISTORY_RESULT.results[0].mtTicket"


def test_decode_history_result_unknown_needs_only_position_id() -> None:
    msg = decode(result({"positionId": "p1", "state": "UNKNOWN"}))
    assert isinstance(msg, HistoryResult) and msg.results[0].mt_ticket is None


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ({"positionId": "p1", "state": "GONE"}, "HISTORY_RESULT.results[0].state"),
        ({"positionId": "p1", "mtTicket": 7, "state": "OPEN"}, "HISTORY_RESULT.results[0].mtTicket"),
        ("p1", "HISTORY_RESULT.results[0]"),
        ({"positionId": "p1", "mtTicket": "7", "state": "CLOSED", "price": -1, "timeMs": 9, "profit": 0},
         "HISTORY_RESULT.results[0].price"),
    ],
)  # fmt: skip
def test_decode_history_result_with_bad_entry_names_its_path(entry: object, where: str) -> None:
    assert bad(result(entry)).field == where  # type: ignore[arg-type]


# --- SYMBOLS ------------------------------------------------------------------------------------


def test_decode_symbols_keeps_terminal_figures_as_decimals() -> None:
    msg = decode(json.dumps({"type": "SYMBOLS", "symbols": [SYMBOL]}))
    assert isinstance(msg, Symbols)
    info = msg.symbols[0]
    assert (info.digits, info.point, info.contract_size, info.margin_per_lot, info.tick_value) == (
        3, D("0.001"), D("100000"), D("1000.5"), D("0.67"),
    )  # fmt: skip


def test_decode_symbols_without_margin_and_tick_value_is_accepted() -> None:
    bare = {k: v for k, v in SYMBOL.items() if k not in ("marginPerLot", "tickValue")}
    msg = decode(json.dumps({"type": "SYMBOLS", "symbols": [bare]}))
    assert isinstance(msg, Symbols) and msg.symbols[0].margin_per_lot is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("digits", -1), ("digits", 2.5), ("point", 0), ("contractSize", "100000"), ("volumeStep", 0),
     ("volumeMax", None), ("marginPerLot", -1)],
)  # fmt: skip
def test_decode_symbols_with_bad_figure_names_it(key: str, value: object) -> None:
    error = bad(json.dumps({"type": "SYMBOLS", "symbols": [{**SYMBOL, key: value}]}))
    assert error.field == f"SYMBOLS.symbols[0].{key}"


def test_dispatch_routes_history_result_and_symbols_to_their_handlers() -> None:
    class Receiver:
        def handle_history_result(self, msg: HistoryResult) -> str:
            return "history"

        def handle_symbols(self, msg: Symbols) -> str:
            return "symbols"

    assert dispatch(Receiver(), HistoryResult("h", ())) == "history"
    assert dispatch(Receiver(), Symbols(())) == "symbols"
