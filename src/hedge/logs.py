"""Logging for the `hedge` commands: plain lines, or JSON lines with HEDGE_LOG_FORMAT=json (one
object per line: time, level, logger, message, and the traceback as `exc` when there is one), so a
log collector can parse them. Fifteen lines of stdlib; a JSON-logging package would add a
dependency for the same.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
_HANDLER_NAME = "hedge"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(env: dict[str, str] | None = None) -> str:
    value = (os.environ if env is None else env).get("HEDGE_LOG_FORMAT", "text").strip().lower() or "text"
    if value not in FORMATS:
        raise ValueError(f"HEDGE_LOG_FORMAT must be text or json, was {value[:20]!r}")
    return value


def configure(level: str, fmt: str | None = None) -> None:
    """Set up the root logger once for a `hedge` process (uvicorn's loggers propagate to it)."""
    handler = logging.StreamHandler()
    chosen = fmt or log_format()
    handler.setFormatter(JsonLines() if chosen == "json" else logging.Formatter(PLAIN))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # replace only a handler of ours (a second call); others (a test's log capture) stay
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
