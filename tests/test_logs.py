"""HEDGE_LOG_FORMAT=json: the server's and the agent's logs are JSON lines, one object per line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hedge.localservices import free_port
from hedge.logs import JsonLines, PlainLines, correlated, log_format


def _record(message: str, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("hedge.x", logging.WARNING, __file__, 1, message, ("a",), info)


def test_json_lines_formats_one_object_with_time_level_logger_message() -> None:
    line = json.loads(JsonLines().format(_record("value %s")))
    assert line["level"] == "WARNING" and line["logger"] == "hedge.x" and line["message"] == "value a"
    assert line["time"].endswith("+00:00") and "exc" not in line


def test_json_lines_keeps_a_traceback_inside_the_one_line() -> None:
    text = JsonLines().format(_record("failed %s", exc=True))
    assert "\n" not in text and "ValueError: boom" in json.loads(text)["exc"]


def test_json_lines_carry_the_correlation_id_of_the_block_or_the_line() -> None:
    assert "correlationId" not in json.loads(JsonLines().format(_record("outside %s")))
    with correlated("trg-p1-17"):
        inside = json.loads(JsonLines().format(_record("inside %s")))
        record = _record("own %s")
        record.correlation_id = "stp-p2-18"  # as `extra={"correlation_id": ...}` sets it
        own = json.loads(JsonLines().format(record))
    assert inside["correlationId"] == "trg-p1-17" and own["correlationId"] == "stp-p2-18"
    assert "correlationId" not in json.loads(JsonLines().format(_record("after %s")))


def test_plain_lines_name_the_correlation_id_after_the_message() -> None:
    with correlated("trg-p1-17"):
        text = PlainLines().format(_record("value %s"))
    assert text.endswith("hedge.x: value a [correlationId=trg-p1-17]")
    assert PlainLines().format(_record("value %s")).endswith("hedge.x: value a")


def test_log_format_unknown_value_is_refused_by_name() -> None:
    assert log_format({}) == "text" and log_format({"HEDGE_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="HEDGE_LOG_FORMAT must be text or json, was 'xml'"):
        log_format({"HEDGE_LOG_FORMAT": "xml"})


def test_server_with_json_format_writes_only_json_lines(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "HEDGE_LOG_FORMAT": "json"}
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", str(port),
            "--database-url", f"sqlite:///{tmp_path / 'h.db'}"]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # another process: no readiness event but /healthz
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    messages = " ".join(line["message"] for line in lines)
    assert "store: SQLite file" in messages and "Started server process" in messages


def test_agent_with_json_format_logs_its_refusal_as_json() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEDGE_")} | {"HEDGE_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-m", "hedge.cli", "agent"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert done.returncode == 2 and lines and lines[-1]["level"] == "ERROR"
