"""The operator's commands: `hedge positions|actions|alerts|close|cancel` against a real server."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
import trustme
from tests.api.conftest import ADMIN_TOKEN, Api

from hedge.cli import build_parser
from hedge.client import ops_cli
from hedge.client.ops_cli import REFUSED, UNREACHABLE, USAGE
from hedge.localservices import free_port


async def run(url: str, token: str | None, *argv: str) -> tuple[int, str, str]:
    """One command as an operator types it, with HEDGE_SERVER_URL (and HEDGE_TOKEN) set:
    (exit code, stdout, stderr)."""
    return await run_env({"HEDGE_SERVER_URL": url, **({"HEDGE_TOKEN": token} if token else {})}, *argv)


async def run_env(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    """One command with exactly `env` as its environment: (exit code, stdout, stderr)."""
    args = build_parser().parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(ops_cli.main, args, env, out, err)
    return code, out.getvalue(), err.getvalue()


async def ops(env: dict[str, str], *argv: str) -> tuple[int, list[str]]:
    """(exit code, ids of the rows) of one `--json` list command run with `env`."""
    code, out, err = await run_env(env, *argv)
    return code, [row["id"] for row in json.loads(out)] if code == 0 else [err]


async def hedge(api: Api, token: str | None, *argv: str) -> tuple[int, str]:
    """(exit code, stdout) of one command against `api`; stderr must stay empty on success."""
    code, out, err = await run(api.url, token, *argv)
    assert (code == 0) == (err == ""), err
    return code, out


async def refusal(api: Api, token: str | None, *argv: str) -> tuple[int, str]:
    """(exit code, stderr) of one command that must fail and print nothing on stdout."""
    code, out, err = await run(api.url, token, *argv)
    assert out == ""
    return code, err


async def test_positions_as_json_lists_the_users_own_positions(api: Api) -> None:
    alice, bob = await api.trader(), await api.trader()
    code, out = await hedge(api, alice.token, "positions", "--json")
    assert code == 0
    assert [row["id"] for row in json.loads(out)] == [alice.position_id]
    assert bob.position_id not in out


async def test_positions_table_filters_by_status_and_symbol(api: Api) -> None:
    alice = await api.trader()
    code, out = await hedge(api, alice.token, "positions", "--status", "pending", "--symbol", "usdjpy")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split()[:3] == ["id", "accountId", "symbol"]
    assert alice.position_id in lines[1] and "PENDING" in lines[1]
    code, out = await hedge(api, alice.token, "positions", "--status", "OPEN")
    assert (code, out.splitlines()[-1]) == (0, "(none)")
    code, out = await hedge(api, alice.token, "positions", "--symbol", "EURUSD")
    assert out.splitlines()[-1] == "(none)"


async def test_cancel_moves_a_pending_action_to_canceled(api: Api) -> None:
    alice = await api.trader()
    code, out = await hedge(api, alice.token, "cancel", alice.action_id, "--json")
    assert code == 0
    assert json.loads(out)[0]["status"] == "CANCELED"
    code, out = await hedge(api, alice.token, "actions", "--status", "CANCELED", "--json")
    assert [row["id"] for row in json.loads(out)] == [alice.action_id]


async def test_cancel_twice_is_refused_with_the_servers_code(api: Api) -> None:
    alice = await api.trader()
    assert (await hedge(api, alice.token, "cancel", alice.action_id))[0] == 0
    code, err = await refusal(api, alice.token, "cancel", alice.action_id)
    assert code == REFUSED
    assert err.startswith("hedge cancel: refused: INVALID_TRANSITION: ")


async def test_close_an_open_position_moves_it_to_closing(api: Api) -> None:
    alice = await api.trader()
    await api.move_position(alice.client, alice.position_id, "OPENING", "OPEN")
    code, out = await hedge(api, alice.token, "close", alice.position_id, "--json")
    assert code == 0
    assert json.loads(out)[0]["status"] == "CLOSING"


async def test_close_of_another_users_position_is_refused(api: Api) -> None:
    alice, bob = await api.trader(), await api.trader()
    await api.move_position(bob.client, bob.position_id, "OPENING", "OPEN")
    code, err = await refusal(api, alice.token, "close", bob.position_id)
    assert code == REFUSED
    assert err.startswith("hedge close: refused: FORBIDDEN: ")
    rows = (await bob.client.execute("query($id: ID!) { getPosition(id: $id) { status } }",
                                     {"id": bob.position_id}))  # fmt: skip
    assert rows["getPosition"]["status"] == "OPEN"


async def test_alerts_lists_open_alerts_of_the_user(api: Api) -> None:
    alice = await api.trader()
    await alice.client.execute(
        "mutation($m: String!) { raiseAlert(input: {kind: ORDER_FAILED, severity: WARNING, message: $m}) "
        "{ id } }",
        {"m": "OPEN failed"},
    )
    code, out = await hedge(api, alice.token, "alerts", "--json")
    assert code == 0
    assert [(a["kind"], a["message"]) for a in json.loads(out)] == [("ORDER_FAILED", "OPEN failed")]


async def test_no_token_is_a_usage_error(api: Api) -> None:
    code, err = await refusal(api, None, "positions")
    no_token = "hedge positions: no token: set HEDGE_TOKEN or HEDGE_TOKEN_FILE, or pass --token-file\n"
    assert (code, err) == (USAGE, no_token)


async def test_token_file_is_read_and_an_empty_one_refused(api: Api, tmp_path: Path) -> None:
    alice = await api.trader()
    good, empty = tmp_path / "token", tmp_path / "empty"
    good.write_text(alice.token + "\n")
    empty.write_text("")
    assert (await hedge(api, None, "positions", "--token-file", str(good)))[0] == 0
    code, err = await refusal(api, None, "positions", "--token-file", str(empty))
    assert (code, err) == (USAGE, f"hedge positions: the token file {empty} is empty\n")
    code, err = await refusal(api, None, "positions", "--token-file", str(tmp_path / "missing"))
    assert code == USAGE
    assert "cannot read the token file" in err and "No such file" in err


async def test_the_token_file_may_be_named_by_hedge_token_file_and_the_flag_wins(
    api: Api, tmp_path: Path
) -> None:
    alice, bob = await api.trader(), await api.trader()
    (tmp_path / "alice").write_text(alice.token + "\n")
    (tmp_path / "bob").write_text(bob.token)
    env = {
        "HEDGE_SERVER_URL": api.url,
        "HEDGE_TOKEN_FILE": str(tmp_path / "alice"),
        "HEDGE_TOKEN": "hs_not_this",
    }
    assert await ops(env, "positions", "--json") == (0, [alice.position_id])
    assert await ops(env, "positions", "--json", "--token-file", str(tmp_path / "bob")) == (
        0,
        [bob.position_id],
    )


async def test_an_https_server_is_verified_with_the_ca_file(
    tls_url: str, ca: trustme.CA, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    env = {"HEDGE_SERVER_URL": tls_url, "HEDGE_TOKEN": ADMIN_TOKEN}
    assert await ops({**env, "HEDGE_CA_FILE": str(ca_file)}, "positions", "--json") == (0, [])
    assert await ops(env, "positions", "--json", "--ca-file", str(ca_file)) == (0, [])
    code, _, err = await run_env(env, "positions")  # the system's CAs do not know the test's CA
    assert code == UNREACHABLE and "CERTIFICATE_VERIFY_FAILED" in err
    code, _, err = await run_env({**env, "HEDGE_CA_FILE": str(tmp_path / "missing.pem")}, "positions")
    assert code == USAGE and "missing.pem does not exist" in err


async def test_a_wrong_token_is_refused(api: Api) -> None:
    code, err = await refusal(api, "not-a-real-token-000000000000", "positions")
    assert code == REFUSED
    assert err.startswith("hedge positions: refused: UNAUTHENTICATED: ")


@pytest.mark.parametrize(
    "command", [("close", "no-such-position"), ("cancel", "no-such-action")], ids=["close", "cancel"]
)
async def test_close_or_cancel_of_an_unknown_id_is_refused_not_found(
    api: Api, command: tuple[str, str]
) -> None:
    alice = await api.trader()
    head = api.feed_head()
    code, err = await refusal(api, alice.token, *command)
    assert code == REFUSED
    assert err.startswith(f"hedge {command[0]}: refused: NOT_FOUND: ") and command[1] in err
    assert api.feed_head() == head


async def test_cancel_of_another_users_action_is_refused_and_it_stays_pending(api: Api) -> None:
    alice, bob = await api.trader(), await api.trader()
    code, err = await refusal(api, alice.token, "cancel", bob.action_id)
    assert code == REFUSED
    assert err.startswith("hedge cancel: refused: FORBIDDEN: ")
    _, out = await hedge(api, bob.token, "actions", "--json")
    assert [(a["id"], a["status"]) for a in json.loads(out)] == [(bob.action_id, "PENDING")]


async def test_close_of_a_pending_position_is_an_illegal_move(api: Api) -> None:
    alice = await api.trader()
    code, err = await refusal(api, alice.token, "close", alice.position_id)
    assert code == REFUSED
    assert err.startswith("hedge close: refused: INVALID_TRANSITION: ") and "PENDING to CLOSING" in err


@pytest.mark.parametrize("command", ["positions", "actions"])
async def test_a_status_filter_that_is_no_status_is_refused_as_validation(api: Api, command: str) -> None:
    alice = await api.trader()
    code, err = await refusal(api, alice.token, command, "--status", "bogus")
    assert code == REFUSED
    assert err.startswith(f"hedge {command}: refused: VALIDATION: ") and "'BOGUS'" in err


@pytest.mark.parametrize("command", ["positions", "actions", "alerts"])
async def test_a_client_asking_for_another_users_rows_is_forbidden(api: Api, command: str) -> None:
    alice, bob = await api.trader(), await api.trader()
    code, err = await refusal(api, alice.token, command, "--user", bob.id)
    assert code == REFUSED
    assert err.startswith(f"hedge {command}: refused: FORBIDDEN: ")


async def test_an_admin_lists_one_users_positions_and_actions_with_user(api: Api) -> None:
    alice, bob = await api.trader(), await api.trader()
    _, out = await hedge(api, ADMIN_TOKEN, "positions", "--user", bob.id, "--json")
    assert [p["id"] for p in json.loads(out)] == [bob.position_id]
    _, out = await hedge(api, ADMIN_TOKEN, "actions", "--json")
    assert {a["id"] for a in json.loads(out)} >= {alice.action_id, bob.action_id}


async def test_actions_filter_by_position(api: Api) -> None:
    alice = await api.trader()
    other_action, other_position = await api.entry(alice)
    _, out = await hedge(api, alice.token, "actions", "--position", other_position, "--json")
    assert [a["id"] for a in json.loads(out)] == [other_action]


async def test_alerts_all_shows_resolved_ones_the_default_does_not(api: Api) -> None:
    alice = await api.trader()
    raised = await alice.client.execute(
        'mutation { raiseAlert(input: {kind: MARGIN_LOW, severity: WARNING, message: "low"}) { id } }'
    )
    alert_id = raised["raiseAlert"]["id"]
    resolve = "mutation($id: ID!) { resolveAlert(input: {id: $id}) { id } }"
    await alice.client.execute(resolve, {"id": alert_id})
    _, out = await hedge(api, alice.token, "alerts")
    assert out.splitlines()[-1] == "(none)"
    _, out = await hedge(api, alice.token, "alerts", "--all", "--json")
    assert [(a["id"], a["resolvedAt"] is not None) for a in json.loads(out)] == [(alert_id, True)]


async def test_alerts_filter_by_severity_and_kind(api: Api) -> None:
    alice = await api.trader()
    raise_ = (
        "mutation($k: AlertKind!, $s: AlertSeverity!) "
        '{ raiseAlert(input: {kind: $k, severity: $s, message: "m"}) { id } }'
    )
    for kind, severity in (
        ("MARGIN_LOW", "WARNING"),
        ("GHOST_POSITION", "CRITICAL"),
        ("ORDER_FAILED", "CRITICAL"),
    ):
        await alice.client.execute(raise_, {"k": kind, "s": severity})
    _, out = await hedge(api, alice.token, "alerts", "--severity", "critical", "--json")
    assert sorted(a["kind"] for a in json.loads(out)) == ["GHOST_POSITION", "ORDER_FAILED"]
    _, out = await hedge(
        api, alice.token, "alerts", "--severity", "CRITICAL", "--kind", "ghost_position", "--json"
    )
    assert [a["kind"] for a in json.loads(out)] == ["GHOST_POSITION"]


def test_an_alert_filter_that_is_no_severity_or_kind_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for flag in ("--severity", "--kind"):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(["alerts", flag, "bogus"])
        assert exited.value.code == USAGE
        assert "invalid choice: 'BOGUS'" in capsys.readouterr().err


async def test_a_server_that_is_not_listening_exits_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = await run(url, "hs_token", "positions")
    assert (code, out) == (UNREACHABLE, "")
    assert err.startswith(f"hedge positions: cannot reach {url}: ")


async def test_an_answer_that_is_not_graphql_exits_unreachable() -> None:
    async def proxy_error_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        page = b"<html>502 Bad Gateway</html>"
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(page), page))  # fmt: skip
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(proxy_error_page, "127.0.0.1", 0)
    async with proxy:
        port = proxy.sockets[0].getsockname()[1]
        code, out, err = await run(f"http://127.0.0.1:{port}", "hs_token", "alerts")
    assert (code, out) == (UNREACHABLE, "")
    assert "HTTP 502" in err and "Bad Gateway" in err


def test_render_pads_columns_and_cuts_long_cells() -> None:
    table = ops_cli.render([{"a": "x" * 80, "b": None}], ("a", "b"), as_json=False).splitlines()
    assert table[0].startswith("a ")
    assert table[1].endswith("...  -")
    assert len(table[1].split()[0]) == 60
