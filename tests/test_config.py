"""Settings come from defaults, then HEDGE_* variables, then flags; bad values are named."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from hedge.config import AgentSettings, ServerSettings, load_symbol_specs
from hedge.domain.errors import ValidationError


def test_server_settings_take_environment_then_flags() -> None:
    settings = ServerSettings.from_env(
        {"HEDGE_PORT": "9001", "HEDGE_REDIS_URL": "redis://r:6379/0"}, port=9002
    )
    assert settings.port == 9002
    assert settings.redis_url == "redis://r:6379/0"
    assert settings.database_url.startswith("sqlite:///")


def test_agent_settings_read_their_documented_variables() -> None:
    settings = AgentSettings.from_env(
        {"HEDGE_SERVER_URL": "http://s:8000", "HEDGE_EA_PORT": "8181", "HEDGE_AGENT_EA_WAIT_S": "2.5"}
    )
    assert (settings.server_url, settings.ea_port, settings.ea_wait_s) == ("http://s:8000", 8181, 2.5)


def test_agent_ea_port_binds_loopback_unless_told_otherwise() -> None:
    assert AgentSettings.from_env({}).ea_host == "127.0.0.1"
    assert AgentSettings.from_env({"HEDGE_EA_HOST": "0.0.0.0"}).ea_host == "0.0.0.0"


def test_agent_tokens_from_files_keep_a_leading_dash_and_follow_the_documented_order(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("-Ab3dashed-token-from-a-file-0123\n")
    (tmp_path / "env-token").write_text("hs_token-named-by-the-environment-0123\n")
    (tmp_path / "ea").write_text("ea-token-made-up-by-the-operator\n")
    env = {"HEDGE_TOKEN_FILE": str(tmp_path / "env-token"), "HEDGE_EA_TOKEN_FILE": str(tmp_path / "ea")}

    from_files = AgentSettings.from_env(env, token_file=str(tmp_path / "token"))
    from_env = AgentSettings.from_env(env)
    from_flag = AgentSettings.from_env(
        env, token_file=str(tmp_path / "token"), token="hs_flag-token-0123456789"
    )

    assert (from_files.token, from_files.ea_token) == (
        "-Ab3dashed-token-from-a-file-0123",
        "ea-token-made-up-by-the-operator",
    )
    assert from_env.token == "hs_token-named-by-the-environment-0123"
    assert from_flag.token == "hs_flag-token-0123456789"
    assert "token-from" not in str(from_files.describe())


def test_agent_token_file_empty_or_missing_is_refused_naming_the_flag(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValueError, match=r"--token-file: .*empty is empty"):
        AgentSettings.from_env({}, token_file=str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="HEDGE_EA_TOKEN_FILE: cannot read"):
        AgentSettings.from_env({"HEDGE_EA_TOKEN_FILE": str(tmp_path / "missing")})


def test_bad_number_in_environment_names_the_variable() -> None:
    with pytest.raises(ValueError, match="HEDGE_AGENT_EA_WAIT_S must be a number, was 'soon'"):
        AgentSettings.from_env({"HEDGE_AGENT_EA_WAIT_S": "soon"})


def test_describe_masks_tokens_and_database_passwords() -> None:
    shown = ServerSettings.from_env(
        {}, admin_token="secret-token", database_url="postgresql://hedge:pw123@db/hedge"
    ).describe()
    assert shown["admin_token"] == "***"
    assert "pw123" not in str(shown)
    assert "secret" not in str(AgentSettings(token="secret", ea_token="secret2").describe())


def test_symbol_specs_inline_json_override_pip_size() -> None:
    catalog = load_symbol_specs('{"XAUUSD": {"pipSize": "0.01", "volumeMax": 5}}')
    spec = catalog.spec("XAUUSD")
    assert spec.pip_size == Decimal("0.01") and spec.volume_max == Decimal("5")
    assert catalog.spec("USDJPY").pip_size == Decimal("0.01")  # untouched symbols keep defaults


def test_symbol_specs_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "symbols.json"
    path.write_text('{"GER40": {"pipSize": "1", "digits": 1}}')
    assert load_symbol_specs(str(path)).spec("GER40").pip_size == Decimal("1")


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ('{"XAUUSD": {"pipSize": "-1"}}', "XAUUSD.pipSize must be a positive number"),
        ('{"XAUUSD": {"pip": "0.1"}}', "XAUUSD.pip is not a spec field"),
        ('{"XAUUSD": {"digits": 2.5}}', "XAUUSD.digits must be an integer"),
        ('{"xau usd": {}}', "symbol specs must be 3-12 upper-case letters"),
        ('{"XAUUSD": 3}', "XAUUSD must be an object"),
    ],
)
def test_bad_symbol_specs_are_refused_with_the_field(specs: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_symbol_specs(specs)


def test_server_with_bad_symbol_specs_exits_2_saying_why(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hedge.cli",
            "server",
            "--port",
            "0",
            "--database-url",
            f"sqlite:///{tmp_path}/h.db",
        ],
        env={"HEDGE_SYMBOL_SPECS": '{"XAUUSD": {"pipSize": 0}}', "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot start the server: symbol specs.XAUUSD.pipSize must be a positive number" in done.stderr


async def test_server_checks_volumes_against_configured_symbol_specs(tmp_path: Path) -> None:
    from hedge.api.runner import serve
    from hedge.client.graphql import GraphQLClient, GraphQLClientError

    settings = ServerSettings.from_env(
        {},
        database_url=f"sqlite:///{tmp_path / 'h.db'}",
        port=0,
        admin_token="adm-token-long-enough-for-24",
        symbol_specs='{"USDJPY": {"volumeMax": "1"}}',
    )
    async with serve(settings) as url, GraphQLClient(url, "adm-token-long-enough-for-24") as admin:
        me = (await admin.execute("{ me { id } }"))["me"]["id"]
        account = await admin.execute(
            'mutation($u: ID!) { createAccount(input: {userId: $u, brokerType: MT5, accountNumber: "1", '
            'serverName: "S", displayName: "a"}) { id } }',
            {"u": me},
        )
        entry = (
            "mutation($a: ID!, $v: Float!) { createAction(input: {type: ENTRY, accountId: $a, "
            'symbol: "USDJPY", side: BUY, volume: $v}) { action { id } } }'
        )
        account_id = account["createAccount"]["id"]
        await admin.execute(entry, {"a": account_id, "v": 1.0})
        with pytest.raises(GraphQLClientError) as refused:
            await admin.execute(entry, {"a": account_id, "v": 2.0})
    assert refused.value.code == "VALIDATION"
    assert "volume must be <= 1 for USDJPY, was 2" in refused.value.message
