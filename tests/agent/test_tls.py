"""The agent over TLS: https:// and wss:// verify the server's certificate, with the CAs of
`--ca-file` / HEDGE_CA_FILE; a certificate from another CA is refused. Certificates by trustme,
the server is the app under uvicorn with TLS (in this process for the link, `hedge server
--tls-cert/--tls-key` for the agent process); the agent a real `hedge agent` process."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trustme
import uvicorn
from tests.e2e.harness import wait_for_async

from hedge.agent.link import ServerLink
from hedge.api.app import build_app
from hedge.api.runner import _EmbeddedServer
from hedge.client.graphql import GraphQLClient
from hedge.config import ServerSettings
from hedge.localservices import free_port

ADMIN_TOKEN = "tls-admin-token-of-24-characters-or-more"
CREATE_USER = """mutation { createUser(input: {email: "tls@x.io", name: "T", role: CLIENT}) {
  user { id } token } }"""


@asynccontextmanager
async def serve_tls(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[str]:
    """The app on https://127.0.0.1:PORT with a certificate for 127.0.0.1 and localhost from `ca`."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    pem = tmp_path / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    settings = ServerSettings.from_env(
        {}, database_url=f"sqlite:///{tmp_path / 'h.db'}", port=free_port(), admin_token=ADMIN_TOKEN
    )
    config = uvicorn.Config(
        build_app(settings), host="127.0.0.1", port=settings.port, log_level="warning",
        ws="websockets-sansio", lifespan="on", ssl_certfile=str(pem), ssl_keyfile=str(pem),
    )  # fmt: skip
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def ca(tmp_path: Path) -> trustme.CA:
    return trustme.CA()


def _ca_file(tmp_path: Path, ca: trustme.CA, name: str = "ca.pem") -> str:
    path = tmp_path / name
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def _user_token(url: str, ca_file: str) -> str:
    async with GraphQLClient(url, ADMIN_TOKEN, ca_file=ca_file) as admin:
        token: str = (await admin.execute(CREATE_USER))["createUser"]["token"]
    return token


async def test_link_over_tls_with_the_ca_file_subscribes_over_wss(tmp_path: Path, ca: trustme.CA) -> None:
    async with serve_tls(tmp_path, ca) as url:
        ca_file = _ca_file(tmp_path, ca)
        token = await _user_token(url, ca_file)
        up = asyncio.Event()
        async with GraphQLClient(url, token, ca_file=ca_file) as client:
            assert client.ws_url().startswith("wss://")
            link = ServerLink(client, lambda rows: None, lambda state: up.set() if state else None)
            running = asyncio.create_task(link.run())
            try:
                await asyncio.wait_for(up.wait(), 10)
                assert link.connected and link.user_id is not None
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)


async def test_client_refuses_a_certificate_of_another_ca(tmp_path: Path, ca: trustme.CA) -> None:
    async with serve_tls(tmp_path, ca) as url:
        other = _ca_file(tmp_path, trustme.CA(), "other-ca.pem")
        async with GraphQLClient(url, ADMIN_TOKEN, ca_file=other) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.execute("query { me { id } }")
        async with GraphQLClient(url, ADMIN_TOKEN) as system_cas:  # the system's CAs do not know it
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await system_cas.execute("query { me { id } }")


def _agent(url: str, token: str, ca_file: str, log: Path, state: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "HEDGE_TOKEN": token, "HEDGE_EA_TOKEN": "ea", "HEDGE_CA_FILE": ca_file,
           "HEDGE_AGENT_RECONNECT_MAX_S": "0.3", "PYTHONUNBUFFERED": "1"}  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hedge.cli", "agent", "--server", url, "--ea-port", str(port),
             "--state-dir", str(state)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    return proc, port


@asynccontextmanager
async def hedge_server_tls(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[str]:
    """`hedge server --tls-cert --tls-key` as its own process, with a certificate from `ca`."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    port = free_port()
    env = {**os.environ, "HEDGE_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1"}
    with (tmp_path / "server.log").open("wb") as out:
        server = subprocess.Popen(  # noqa: ASYNC220 (started once; the wait is awaited in a thread)
            [sys.executable, "-m", "hedge.cli", "server", "--port", str(port),
             "--database-url", f"sqlite:///{tmp_path / 'proc.db'}", "--tls-cert", str(cert_file),
             "--tls-key", str(key_file), "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    verify = ssl.create_default_context(cafile=_ca_file(tmp_path, ca, "server-ca.pem"))
    try:
        await wait_for_async(
            lambda: httpx.get(f"{url}/healthz", verify=verify, timeout=1).json().get("ok"),
            30,
            "the TLS server's /healthz",
        )
        yield url
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 10)


async def test_agent_process_with_hedge_ca_file_links_up_and_with_another_ca_does_not(
    tmp_path: Path, ca: trustme.CA
) -> None:
    async with hedge_server_tls(tmp_path, ca) as url:
        token = await _user_token(url, _ca_file(tmp_path, ca))
        (good, good_port) = _agent(
            url, token, _ca_file(tmp_path, ca), tmp_path / "good.log", tmp_path / "good"
        )
        (bad, bad_port) = _agent(
            url, token, _ca_file(tmp_path, trustme.CA(), "x.pem"), tmp_path / "bad.log", tmp_path / "bad"
        )
        try:

            def linked(port: int) -> bool:
                return bool(
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["serverConnected"]
                )

            await wait_for_async(lambda: linked(good_port), 20, "the agent with the right CA linked over TLS")
            await wait_for_async(
                lambda: "CERTIFICATE_VERIFY_FAILED" in (tmp_path / "bad.log").read_text(),
                20,
                "the agent with the wrong CA saying the certificate failed verification",
            )
            assert not await asyncio.to_thread(linked, bad_port)
            assert "server link up" in (tmp_path / "good.log").read_text()
        finally:
            for proc in (good, bad):
                proc.terminate()
                assert await asyncio.to_thread(proc.wait, 10) == 0
