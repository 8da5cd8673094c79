"""Logging for the `hedge` commands: plain lines, or JSON lines with HEDGE_LOG_FORMAT=json (one
object per line: time, level, logger, message, the traceback as `exc` when there is one, and
`correlationId` when the line is about a trigger), so a log collector can parse them. A few lines
of stdlib; a JSON-logging package would add a dependency for the same.

`correlation_id` is the trigger a line belongs to (hedge.domain.correlation): set it around the
work with `correlated(...)` (asyncio tasks and worker threads started inside inherit it), or pass
`extra={"correlation_id": ...}` for one line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from hedge.scoped import scoped

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
_HANDLER_NAME = "hedge"

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hedge_correlation_id", default=None
)


def correlated(value: str | None) -> AbstractContextManager[None]:
    """Within this block, log lines carry `value` as their correlationId (None: none)."""
    return scoped(correlation_id, value)


def correlation_of(record: logging.LogRecord) -> str | None:
    given = getattr(record, "correlation_id", None)
    return str(given) if given else correlation_id.get()


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        correlation = correlation_of(record)
        if correlation:
            line["correlationId"] = correlation
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainLines(logging.Formatter):
    """The plain format, with ` [correlationId=...]` after the message when there is one."""

    def __init__(self) -> None:
        super().__init__(PLAIN)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        text = super().formatMessage(record)
        correlation = correlation_of(record)
        return f"{text} [correlationId={correlation}]" if correlation else text


def log_format(env: dict[str, str] | None = None) -> str:
    value = (os.environ if env is None else env).get("HEDGE_LOG_FORMAT", "text").strip().lower() or "text"
    if value not in FORMATS:
        raise ValueError(f"HEDGE_LOG_FORMAT must be text or json, was {value[:20]!r}")
    return value


def configure(level: str, fmt: str | None = None) -> None:
    """Set up the root logger once for a `hedge` process (uvicorn's loggers propagate to it)."""
    handler = logging.StreamHandler()
    chosen = fmt or log_format()
    handler.setFormatter(JsonLines() if chosen == "json" else PlainLines())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # replace only a handler of ours (a second call); others (a test's log capture) stay
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
