"""The operator's commands: `hedge positions|actions|alerts|close|cancel` against a real server."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from tests.api.conftest import Api

from hedge.cli import build_parser
from hedge.client import ops_cli


async def hedge(api: Api, token: str | None, *argv: str) -> tuple[int, str]:
    """One command as an operator types it, with HEDGE_SERVER_URL (and HEDGE_TOKEN) set."""
    args = build_parser().parse_args(list(argv))
    out = io.StringIO()
    env = {"HEDGE_SERVER_URL": api.url, **({"HEDGE_TOKEN": token} if token else {})}
    code = await asyncio.to_thread(ops_cli.main, args, env, out)  # the command runs its own loop
    return code, out.getvalue()


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
    code, out = await hedge(api, alice.token, "cancel", alice.action_id)
    assert (code, out) == (1, "")


async def test_close_an_open_position_moves_it_to_closing(api: Api) -> None:
    alice = await api.trader()
    await api.move_position(alice.client, alice.position_id, "OPENING", "OPEN")
    code, out = await hedge(api, alice.token, "close", alice.position_id, "--json")
    assert code == 0
    assert json.loads(out)[0]["status"] == "CLOSING"


async def test_close_of_another_users_position_is_refused(api: Api) -> None:
    alice, bob = await api.trader(), await api.trader()
    await api.move_position(bob.client, bob.position_id, "OPENING", "OPEN")
    code, _ = await hedge(api, alice.token, "close", bob.position_id)
    assert code == 1
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
    assert (await hedge(api, None, "positions"))[0] == 2


async def test_token_file_is_read_and_an_empty_one_refused(api: Api, tmp_path: Path) -> None:
    alice = await api.trader()
    good, empty = tmp_path / "token", tmp_path / "empty"
    good.write_text(alice.token + "\n")
    empty.write_text("")
    assert (await hedge(api, None, "positions", "--token-file", str(good)))[0] == 0
    assert (await hedge(api, None, "positions", "--token-file", str(empty)))[0] == 2
    assert (await hedge(api, None, "positions", "--token-file", str(tmp_path / "missing")))[0] == 2


async def test_a_wrong_token_is_refused(api: Api) -> None:
    assert (await hedge(api, "not-a-real-token-000000000000", "positions"))[0] == 1


def test_render_pads_columns_and_cuts_long_cells() -> None:
    table = ops_cli.render([{"a": "x" * 80, "b": None}], ("a", "b"), as_json=False).splitlines()
    assert table[0].startswith("a ")
    assert table[1].endswith("...  -")
    assert len(table[1].split()[0]) == 60
