"""Named failures of the EA wire protocol and the paper EA.

ProtocolError
├── BadMessage          a frame that breaks the contract -> ERROR BAD_MESSAGE, connection stays open
├── FrameTooLarge       a frame over MAX_FRAME_BYTES      -> close 1009
└── UnhandledMessage    a receiver has no handle_<type> for a decoded message
PaperEAError
└── AuthRejected        the agent refused the EA's AUTH for good (wrong token, unknown account)
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every expected failure on the EA wire."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadMessage(ProtocolError):
    """A frame that is not a valid message of the contract.

    `field` names the offending field as on the wire (`OPEN.volume`, `POSITIONS.positions[0].side`),
    `frame_type` the `type` and `command_id` the `commandId` when they could be read, so the ERROR
    answer can carry them.
    """

    def __init__(
        self,
        message: str,
        *,
        frame_type: str | None = None,
        field: str | None = None,
        command_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.frame_type = frame_type
        self.field = field
        self.command_id = command_id


class FrameTooLarge(ProtocolError):
    """A frame longer than the contract allows; the receiver closes with 1009."""

    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(f"frame is {size_bytes} bytes, the limit is {limit_bytes} bytes")
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes


class UnhandledMessage(ProtocolError):
    """`dispatch` found no `handle_<type>` method on the receiver."""

    def __init__(self, receiver: str, frame_type: str, method: str) -> None:
        super().__init__(f"{receiver} does not accept {frame_type} (it has no {method} method)")
        self.frame_type = frame_type
        self.method = method


class PaperEAError(Exception):
    """Base of the paper EA's own failures."""


class AuthRejected(PaperEAError):
    """The agent answered AUTH_FAILED (or closed 4401) for a reason a retry will not fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the agent rejected this EA's AUTH: {reason}")
        self.reason = reason
