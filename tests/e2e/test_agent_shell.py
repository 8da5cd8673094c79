"""The agent process itself: stop signals, a refused token, a server hidden behind a proxy's 502
page, and tokens read from files, with the server and the agent as real processes."""

from __future__ import annotations

import http.server
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.harness import Agent, Proc, System, User, wait_for

from hedge.localservices import free_port

pytestmark = pytest.mark.e2e

BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _agent_proc(system: System, user: User, *args: str, name: str | None = None) -> tuple[Proc, int]:
    port = free_port()
    label = name or f"agent-shell-{port}"
    proc = Proc(
        label,
        ["agent", "--server", system.url, "--ea-port", str(port),
         "--state-dir", str(system.workdir / f"{label}-state"), *args],
        system.workdir / f"{label}.log",
        {"HEDGE_AGENT_RECONNECT_MAX_S": "0.3"},
    )  # fmt: skip
    system.procs.append(proc)
    return proc.start(), port


def _exit_code(proc: Proc, timeout: float = 10.0) -> int:
    assert proc.popen is not None
    return proc.popen.wait(timeout)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_agent_stop_signal_stops_it_cleanly_with_a_log_line_and_exit_0(
    system: System, signum: signal.Signals
) -> None:
    user = system.user("signals")
    agent = system.agent(user)
    assert agent.proc.popen is not None

    agent.proc.popen.send_signal(signum)

    assert _exit_code(agent.proc) == 0
    log = agent.proc.log()
    assert f"received {signum.name}: stopping the agent" in log
    assert f"agent stopped ({signum.name})" in log
    assert "Traceback" not in log


def test_agent_with_a_wrong_token_exits_2_saying_the_token_is_wrong(system: System, tmp_path: Path) -> None:
    token_file = tmp_path / "wrong-token"
    token_file.write_text("hs_this-token-was-never-issued-by-the-server\n")
    proc, _ = _agent_proc(system, system.user("wrong"), "--token-file", str(token_file), "--ea-token=x")

    assert _exit_code(proc, 15) == 2
    log = proc.log()
    assert "the server refused the agent's token" in log
    assert "the token is wrong" in log
    assert log.count("refused the agent's token") == 1  # said once, then stopped: no retry loop


def test_agent_reads_tokens_from_files_even_one_starting_with_a_dash(system: System, tmp_path: Path) -> None:
    user = system.user("files")
    account = system.account(user)
    (tmp_path / "token").write_text(user.token + "\n")
    (tmp_path / "ea-token").write_text("-starts-with-a-dash\n")
    proc, port = _agent_proc(
        system, user, "--token-file", str(tmp_path / "token"), "--ea-token-file", str(tmp_path / "ea-token")
    )
    agent = Agent(proc, port, "-starts-with-a-dash", user)
    agent.wait_ready()

    system.paper_ea(agent, account)  # AUTH with the dashed EA token (passed as --ea-token=-...)

    assert account.number in agent.ea_numbers()
    assert user.token not in proc.log()
    assert "-starts-with-a-dash" not in proc.log()


class _BadGateway(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(BAD_GATEWAY)))
        self.end_headers()
        self.wfile.write(BAD_GATEWAY)

    do_GET = do_POST = _answer  # noqa: N815 (http.server names its handlers so)

    def log_message(self, *_: object) -> None:
        return


class BadGatewayFront:
    """A proxy's 502 page answering on the server's port while the server is stopped."""

    def __init__(self, system: System) -> None:
        self.system = system
        self._front: http.server.ThreadingHTTPServer | None = None

    def replace_server(self) -> None:
        self.system.server.stop()
        self._front = http.server.ThreadingHTTPServer(("127.0.0.1", self.system.port), _BadGateway)
        threading.Thread(target=self._front.serve_forever, daemon=True).start()

    def bring_server_back(self) -> None:
        if self._front is not None:
            self._front.shutdown()
            self._front.server_close()
            self._front = None
        if not self.system.server.running:
            self.system.start_server()


@pytest.fixture
def bad_gateway(system: System) -> Iterator[BadGatewayFront]:
    front = BadGatewayFront(system)
    try:
        yield front
    finally:
        front.bring_server_back()


def test_agent_behind_a_502_page_keeps_running_and_links_up_when_the_server_is_back(
    system: System, bad_gateway: BadGatewayFront
) -> None:
    user = system.user("gateway")
    bad_gateway.replace_server()
    proc, port = _agent_proc(system, user, f"--token={user.token}", "--ea-token=t")
    agent = Agent(proc, port, "t", user)

    wait_for(lambda: proc.log().count("502") >= 3, 15, "three answers of the 502 page in the agent's log")
    assert proc.running
    bad_gateway.bring_server_back()

    agent.wait_ready(20)
    assert proc.running
    log = proc.log()
    assert "not a GraphQL response" in log or "server refused the link" in log
    assert "Traceback" not in log  # link errors, never a crash
    proc.stop()
    assert _exit_code(proc) == 0


def test_agent_unknown_option_value_is_refused_before_it_starts(system: System) -> None:
    result = subprocess.run(
        ["python", "-m", "hedge.cli", "agent", "--token-file", "/nonexistent/token", "--ea-token=x"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--token-file: cannot read /nonexistent/token" in result.stderr + result.stdout
