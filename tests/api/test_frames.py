"""The text frames of hedge.api.frames are the text Strawberry sends for the same messages
(`BaseView.encode_json` of the message dict), whatever the id and the payload hold."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.http.base import BaseView

from hedge.api import frames

PAYLOADS: dict[str, dict[str, Any]] = {
    "data": {"data": {"onUpdatePosition": {"id": "p-1", "memo": 'Zürich "q" \\ €', "volume": "0.10"}}},
    "data null": {"data": None},
    "errors": {
        "data": None,
        "errors": [
            {
                "message": "no",
                "locations": [{"line": 1, "column": 3}],
                "path": ["x", 0],
                "extensions": {"code": "RESYNC_REQUIRED"},
            }
        ],
    },
    "numbers and lists": {"data": {"x": [1, 2.5, True, None, []]}},
}
IDS = ["1", "op-7", 'quote"d', "ü"]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("operation_id", IDS)
def test_next_frame_is_strawberrys_encoding_of_the_next_message(
    payload: dict[str, Any], operation_id: str
) -> None:
    message = {"id": operation_id, "type": "next", "payload": payload}
    assert frames.next_frame(operation_id, frames.encoded(payload)) == BaseView.encode_json(None, message)  # type: ignore[arg-type]


@pytest.mark.parametrize("operation_id", IDS)
def test_complete_frame_is_strawberrys_encoding_of_the_complete_message(operation_id: str) -> None:
    message = {"id": operation_id, "type": "complete"}
    assert frames.complete_frame(operation_id) == BaseView.encode_json(None, message)  # type: ignore[arg-type]


def test_our_view_encodes_as_strawberry_does_so_prepared_frames_go_out_as_this_text() -> None:
    # api/ws_prepared.py writes these frames itself only for a view with Strawberry's encode_json
    from hedge.api.view import HedgeGraphQL

    assert HedgeGraphQL.encode_json is BaseView.encode_json
