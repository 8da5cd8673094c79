"""The EA wire protocol: typed messages, JSON codec, comment helpers and handler dispatch.

This is the one import for the agent, the paper EA and the conformance kit; the message classes
live in protocol_messages, the values they carry in protocol_values, the codec in protocol_codec.
Routing follows Strawberry's graphql-transport-ws handlers: a receiver defines `handle_<type>`
(e.g. `handle_open`, `handle_account` for ACCOUNT) and calls `dispatch(receiver, msg)`.
"""

from __future__ import annotations

import inspect
import re

from hedge.ea import protocol_messages, protocol_values
from hedge.ea.errors import BadMessage, FrameTooLarge, ProtocolError, UnhandledMessage
from hedge.ea.protocol_codec import camel, decode, encode
from hedge.ea.protocol_messages import *  # noqa: F403 - this module is the one import for all of them
from hedge.ea.protocol_messages import Message
from hedge.ea.protocol_values import *  # noqa: F403

__all__ = [
    "BadMessage",
    "FrameTooLarge",
    "ProtocolError",
    "UnhandledMessage",
    "adispatch",
    "camel",
    "comment_for",
    "decode",
    "dispatch",
    "encode",
    "handler_name",
    "position_id_from_comment",
]
__all__ += protocol_messages.__all__
__all__ += protocol_values.__all__

COMMENT_PREFIX = "HedgeSystem"
_COMMENT = re.compile(r"^HedgeSystem\[([^\[\]]+)\]$")


def comment_for(position_id: str) -> str:
    """The order comment that marks a position as the system's: `HedgeSystem[<positionId>]`."""
    return f"{COMMENT_PREFIX}[{position_id}]"


def position_id_from_comment(comment: str) -> str | None:
    """The positionId inside a `HedgeSystem[...]` comment, or None for any other comment."""
    found = _COMMENT.match(comment.strip())
    return found.group(1) if found else None


def handler_name(msg: Message) -> str:
    """`handle_` + the wire type in lower case: OPEN -> handle_open, AUTH_OK -> handle_auth_ok."""
    return "handle_" + msg.TYPE.lower()


def dispatch(receiver: object, msg: Message) -> object:
    """Call `receiver.handle_<type>(msg)` and return what it returns (a coroutine for async handlers).

    Raises UnhandledMessage when the receiver has no such method, so a receiver states by its
    methods which directions it accepts.
    """
    name = handler_name(msg)
    handler = getattr(receiver, name, None)
    if handler is None or not callable(handler):
        raise UnhandledMessage(type(receiver).__name__, msg.TYPE, name)
    return handler(msg)


async def adispatch(receiver: object, msg: Message) -> object:
    """`dispatch`, awaiting the handler's result when it is awaitable."""
    result = dispatch(receiver, msg)
    if inspect.isawaitable(result):
        return await result
    return result
