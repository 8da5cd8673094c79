"""TLS on the server (`hedge server --tls-cert/--tls-key`): HTTPS and WSS with a certificate the
client verifies; a client trusting another CA is refused; half a configuration does not start."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trustme
from tests.api.conftest import ADMIN_TOKEN
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from hedge.client.graphql import SUBPROTOCOL
from hedge.config import ServerSettings

ME = {"query": "{ me { id role } }"}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_https_with_the_servers_ca_answers_a_query(tls_url: str, ca: trustme.CA) -> None:
    assert tls_url.startswith("https://")
    async with httpx.AsyncClient(verify=_trusting(ca)) as http:
        response = await http.post(tls_url + "/graphql", json=ME, headers=AUTH)
    assert response.status_code == 200 and response.json()["data"]["me"]["role"] == "ADMIN"


async def test_https_trusting_another_ca_is_refused(tls_url: str) -> None:
    async with httpx.AsyncClient(verify=_trusting(trustme.CA())) as http:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.post(tls_url + "/graphql", json=ME, headers=AUTH)


async def test_https_with_default_trust_store_is_refused(tls_url: str) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(tls_url + "/healthz")


async def test_plain_http_to_tls_port_gets_no_answer(tls_url: str) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.HTTPError):
            await http.get(tls_url.replace("https://", "http://") + "/healthz")


async def test_wss_with_the_servers_ca_is_acknowledged(tls_url: str, ca: trustme.CA) -> None:
    url = tls_url.replace("https://", "wss://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol(SUBPROTOCOL)], ssl=_trusting(ca)) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {ADMIN_TOKEN}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"


async def test_wss_trusting_another_ca_is_refused(tls_url: str) -> None:
    url = tls_url.replace("https://", "wss://") + "/graphql"
    with pytest.raises(ssl.SSLCertVerificationError):
        async with connect(url, subprotocols=[Subprotocol(SUBPROTOCOL)], ssl=_trusting(trustme.CA())):
            pass


def test_settings_with_cert_but_no_key_are_refused() -> None:
    with pytest.raises(ValueError, match="both HEDGE_TLS_CERT and HEDGE_TLS_KEY"):
        ServerSettings.from_env({"HEDGE_TLS_CERT": "/tmp/cert.pem"})


def test_server_command_with_unreadable_certificate_exits_2_and_creates_no_database(tmp_path: Path) -> None:
    database = tmp_path / "hedge.db"
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", "0", "--database-url",
            f"sqlite:///{database}", "--tls-cert", str(tmp_path / "missing.pem"),
            "--tls-key", str(tmp_path / "missing.key")]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "cannot load the TLS certificate" in done.stderr
    assert not database.exists()
