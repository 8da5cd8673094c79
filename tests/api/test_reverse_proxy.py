"""The reverse-proxy example of deploy/nginx/hedge.conf, run as it is written (ports, certificate
paths and upstream replaced): HTTPS and WSS through nginx reach the server, and the audit log
records the client's address, not one the client made up.

Needs nginx (Debian's `nginx`; .ci/run installs it): skipped without it, failed with CI=true.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import trustme
from tests.api.conftest import ADMIN_TOKEN, Api
from tests.conftest import IN_CI
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from hedge.client.graphql import SUBPROTOCOL
from hedge.localservices import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "hedge.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _proxy_for(api_port: int, ca: trustme.CA, folder: Path) -> tuple[Path, int]:
    issued = ca.issue_cert("127.0.0.1", "localhost")
    issued.private_key_pem.write_to_path(str(folder / "privkey.pem"))
    (folder / "fullchain.pem").write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    port = free_port()
    site = (
        EXAMPLE.read_text()
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("/etc/ssl/hedge/", f"{folder}/")
        .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{api_port};")
    )
    (folder / "site.conf").write_text(site)
    main = (
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {folder}/body;\n"
        f" proxy_temp_path {folder}/proxy;\n"
        f" include {folder}/site.conf;\n}}\n"
    )
    (folder / "nginx.conf").write_text(main)
    return folder / "nginx.conf", port


@pytest_asyncio.fixture
async def proxied(api: Api, ca: trustme.CA, tmp_path: Path) -> AsyncIterator[str]:
    if NGINX is None:
        if IN_CI:
            pytest.fail("nginx is not installed (CI=true: .ci/run installs it)")
        pytest.skip("nginx is not installed")
    conf, port = _proxy_for(int(api.url.rsplit(":", 1)[1]), ca, tmp_path)
    proc = _start_nginx(NGINX, tmp_path, conf)
    try:
        deadline = time.monotonic() + 10
        async with httpx.AsyncClient(verify=_trusting(ca), timeout=1) as http:
            while True:  # nginx offers no readiness event: its port accepts once it listens
                try:
                    await http.get(f"https://127.0.0.1:{port}/healthz")
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        stderr = proc.stderr.read() if proc.stderr else b""
                        raise AssertionError(f"nginx did not start: {stderr!r}") from None
                    await asyncio.sleep(0.05)
        yield f"https://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _start_nginx(nginx: str, prefix: Path, conf: Path) -> subprocess.Popen[bytes]:
    argv = [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
    return subprocess.Popen(argv, stderr=subprocess.PIPE)


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_query_through_nginx_over_https_reaches_the_server(proxied: str, ca: trustme.CA) -> None:
    async with httpx.AsyncClient(verify=_trusting(ca)) as http:
        response = await http.post(proxied + "/graphql", json={"query": "{ me { role } }"}, headers=AUTH)
    assert response.status_code == 200 and response.json()["data"]["me"]["role"] == "ADMIN"


async def test_subscription_through_nginx_over_wss_is_acknowledged(proxied: str, ca: trustme.CA) -> None:
    url = proxied.replace("https://", "wss://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol(SUBPROTOCOL)], ssl=_trusting(ca)) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": AUTH["Authorization"]}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"


async def test_audit_address_through_nginx_is_the_clients_not_a_forged_header(
    proxied: str, ca: trustme.CA, api: Api
) -> None:
    mutation = (
        'mutation { createUser(input: {email: "p@example.com", name: "P", role: CLIENT}) { user { id } } }'
    )
    forged = {**AUTH, "X-Forwarded-For": "203.0.113.7"}
    async with httpx.AsyncClient(verify=_trusting(ca)) as http:
        made = (await http.post(proxied + "/graphql", json={"query": mutation}, headers=forged)).json()
    user_id = made["data"]["createUser"]["user"]["id"]
    entries = await api.admin.execute(
        "query($id: ID) { auditLog(entityId: $id) { address } }", {"id": user_id}
    )
    assert entries["auditLog"] == [{"address": "127.0.0.1"}]
