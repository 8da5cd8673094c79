"""deploy/: the systemd units, their environment files and the Windows log-on task name only
settings and flags that exist, run the `hedge` command, and keep tokens off command lines."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from hedge.config import ServerSettings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SOURCES = "\n".join(p.read_text() for p in (ROOT / "src" / "hedge").rglob("*.py"))
VARIABLE = re.compile(r"\bHEDGE_[A-Z0-9_]+\b")


def _known(variable: str) -> bool:
    server = {f"HEDGE_{f.name.upper()}" for f in fields(ServerSettings)}
    return (
        variable in server or f'"{variable}"' in SOURCES or f'"{variable.removesuffix("_FILE")}"' in SOURCES
    )


@pytest.mark.parametrize("path", sorted(p for p in DEPLOY.rglob("*") if p.is_file()), ids=lambda p: p.name)
def test_deploy_file_names_only_settings_that_exist(path: Path) -> None:
    unknown = sorted({v for v in VARIABLE.findall(path.read_text()) if not _known(v)})
    assert unknown == []


@pytest.mark.parametrize("unit", ["hedge-server.service", "hedge-server@.service", "hedge-agent.service"])
def test_systemd_unit_runs_the_hedge_command_without_a_token_on_its_command_line(unit: str) -> None:
    text = (DEPLOY / "systemd" / unit).read_text()
    exec_start = re.search(r"^ExecStart=(.*)$", text, re.MULTILINE)
    assert exec_start is not None
    assert re.match(r"\S+/hedge (server|agent)$", exec_start.group(1))
    assert "--token" not in exec_start.group(1) and "HEDGE_TOKEN=" not in text


def test_several_servers_example_uses_postgresql_and_redis() -> None:
    cluster = (DEPLOY / "systemd" / "hedge-cluster.env").read_text()
    assert "HEDGE_DATABASE_URL=postgresql://" in cluster and "HEDGE_REDIS_URL=redis://" in cluster
    assert "Environment=HEDGE_PORT=%i" in (DEPLOY / "systemd" / "hedge-server@.service").read_text()


def test_windows_task_uses_only_flags_the_agent_has_and_token_files() -> None:
    script = (DEPLOY / "windows" / "install-agent-at-logon.ps1").read_text()
    help_text = subprocess.run(
        [sys.executable, "-m", "hedge.cli", "agent", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flags = set(re.findall(r"--[a-z][a-z-]+", script.split("$arguments =", 1)[1].split("$action", 1)[0]))
    assert flags and all(flag in help_text for flag in flags)
    assert {"--token-file", "--ea-token-file"} <= flags and "--token " not in script
