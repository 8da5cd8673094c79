"""graphql-transport-ws `next` and `complete` frames as JSON text, with a payload encoded once.

A subscription event goes to every subscriber of its plan with the same payload and only the
operation id differs, so the payload is encoded once (api/sub_prepared.py) and each frame is that
text with its id put around it. The text is what Strawberry sends for the same message
(`BaseView.encode_json`: `json.dumps` with compact separators, keys in the message's order):
tests/api/test_frames.py compares them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

_encoder = json.JSONEncoder(separators=(",", ":"))


def encoded(payload: Mapping[str, object]) -> str:
    """A `next` payload as the JSON text a frame embeds."""
    return _encoder.encode(payload)


def next_frame(operation_id: str, payload: str) -> str:
    """The `next` message of operation `operation_id` with an `encoded` payload."""
    return f'{{"id":{_encoder.encode(operation_id)},"type":"next","payload":{payload}}}'


def complete_frame(operation_id: str) -> str:
    return f'{{"id":{_encoder.encode(operation_id)},"type":"complete"}}'
