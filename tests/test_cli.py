"""The `hedge` command offers every part of the system as a subcommand."""

from __future__ import annotations

import pytest

from hedge.cli import build_parser, main


def test_every_part_has_its_subcommand() -> None:
    parser = build_parser()
    for command in ("server", "schema", "agent", "paper-ea", "ea-conformance", "demo"):
        assert callable(parser.parse_args([command, *_required(command)]).func)


def test_unknown_subcommand_is_refused_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["trade-everything"])
    assert refused.value.code == 2
    assert "invalid choice: 'trade-everything'" in capsys.readouterr().err


def test_agent_without_tokens_exits_2_saying_which(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEDGE_TOKEN", raising=False)
    monkeypatch.delenv("HEDGE_EA_TOKEN", raising=False)
    assert main(["agent", "--server", "http://127.0.0.1:9"]) == 2
    assert "--token and --ea-token" in caplog.text


def _required(command: str) -> list[str]:
    if command == "ea-conformance":
        return ["--listen", "127.0.0.1:0", "--ea-token", "t"]
    if command == "paper-ea":
        return ["--ea-token", "t", "--account-number", "1", "--server-name", "s"]
    return []
