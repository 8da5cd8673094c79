"""The agent runs on Windows, where MetaTrader runs: nothing on its path (every hedge module the
`hedge agent` command loads) uses a POSIX-only module or call. Checked on the source, so it holds
on the Linux CI too; tests/test_windows_lock.py checks that its dependencies resolve there."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

POSIX_ONLY_MODULES = {"fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "posix", "syslog"}
POSIX_ONLY_CALLS = {
    "os": {"fork", "forkpty", "setsid", "getpgid", "killpg", "getuid", "geteuid", "getgid", "chown",
           "getloadavg", "uname", "mkfifo", "nice", "sync", "wait3", "wait4"},
    "signal": {"SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE", "SIGQUIT", "alarm",
               "pause", "setitimer", "pthread_kill", "siginterrupt"},
}  # fmt: skip
# the one place that may call add_signal_handler: it falls back to signal.signal where it is missing
SIGNAL_HANDLER_HOME = "hedge.agent.signals"


def agent_modules() -> list[str]:
    """The hedge modules a started agent has loaded (its command, runtime and signal handling)."""
    code = (
        "import json, sys\n"
        "import hedge.agent.cli, hedge.agent.runtime, hedge.agent.signals\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'hedge' or m.startswith('hedge.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names: list[str] = json.loads(out)
    return names


def posix_only_uses(module: str) -> list[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(), spec.origin)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in POSIX_ONLY_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in POSIX_ONLY_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.attr in POSIX_ONLY_CALLS.get(node.value.id, ()):
                found.append(f"{node.value.id}.{node.attr}")
            elif node.attr == "add_signal_handler" and module != SIGNAL_HANDLER_HOME:
                found.append(f"{node.value.id}.add_signal_handler")
    return [f"{module}:{use}" for use in found]


def test_agent_path_loads_its_runtime_and_signal_handling() -> None:
    loaded = agent_modules()
    assert {"hedge.agent.runtime", "hedge.agent.gateway", "hedge.agent.link", "hedge.agent.signals"} <= set(
        loaded
    )


def test_agent_path_uses_no_posix_only_module_or_call() -> None:
    uses = [use for module in agent_modules() for use in posix_only_uses(module)]
    assert uses == []


def test_the_scan_finds_a_posix_only_call_where_there_is_one() -> None:
    # the paper EA (a test tool, not on the agent's path) stops on signals with add_signal_handler
    assert any(use.endswith("add_signal_handler") for use in posix_only_uses("hedge.ea.paper_cli"))
