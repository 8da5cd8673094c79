"""GraphQL over HTTP as its spec says: the graphql-http package's server audit against a real server
(no error, no warning), and the cases behind it checked one by one; bad bytes answer 400 coded.

The audit needs node and tests/http_audit/node_modules (`npm ci --prefix tests/http_audit`, which
.ci/run does): skipped without them, failed with CI=true.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import ADMIN_TOKEN, Api, error_code
from tests.conftest import IN_CI

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUDIT_DIR = Path(__file__).resolve().parents[1] / "http_audit"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GQL = "application/graphql-response+json"
CREATE = 'mutation { createUser(input: {email: "g@example.com", name: "G", role: CLIENT}) { user { id } } }'


async def _errors_counted(api: Api, code: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(api.url + "/metrics")).text
    found = re.search(rf'^hedge_errors_total{{code="{code}"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_graphql_http_server_audit_has_no_errors_and_no_warnings(shared_api: Api) -> None:
    node = shutil.which("node")
    if node is None or not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        if IN_CI:
            pytest.fail("node or tests/http_audit/node_modules missing (CI=true: .ci/run installs them)")
        pytest.skip("node or graphql-http not installed (npm ci --prefix tests/http_audit)")
    proc = await asyncio.create_subprocess_exec(
        node, str(AUDIT_DIR / "audit.mjs"), shared_api.url + "/graphql",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=AUDIT_DIR,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    print(f"graphql-http audit: {result['ok']} ok, {result['warn']} warnings, {result['error']} errors")
    assert result["failures"] == [] and result["warn"] == 0 and result["error"] == 0
    assert result["ok"] >= 50


async def test_get_runs_a_query(shared_api: Api) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            shared_api.url + "/graphql", params={"query": "{ me { role } }"}, headers=AUTH
        )
    assert response.status_code == 200 and response.json()["data"]["me"]["role"] == "ADMIN"


async def test_get_with_a_mutation_is_405_allow_post_and_changes_nothing(shared_api: Api) -> None:
    head = shared_api.feed_head()
    async with httpx.AsyncClient() as http:
        response = await http.get(shared_api.url + "/graphql", params={"query": CREATE}, headers=AUTH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert error_code(response.json()) == "VALIDATION"
    assert shared_api.feed_head() == head


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ("{ me { id", None),
        ("{ noSuchField }", None),
        ("query($id: ID!) { getUser(id: $id) { id } }", {"id": [1]}),
    ],
)
async def test_request_error_with_graphql_response_json_is_400_without_data(
    shared_api: Api, document: str, variables: dict[str, object] | None
) -> None:
    body = {"query": document, "variables": variables}
    async with httpx.AsyncClient() as http:
        response = await http.post(shared_api.url + "/graphql", json=body, headers={**AUTH, "Accept": GQL})
    assert response.status_code == 400 and response.headers["content-type"] == GQL
    assert "data" not in response.json() and error_code(response.json()) == "VALIDATION"


async def test_request_error_with_application_json_is_200_with_errors(shared_api: Api) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(shared_api.url + "/graphql", json={"query": "{ me { id"}, headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert error_code(response.json()) == "VALIDATION"


async def test_field_error_with_graphql_response_json_stays_200_with_data(shared_api: Api) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            shared_api.url + "/graphql", json={"query": "{ me { id } }"}, headers={"Accept": GQL}
        )
    assert response.status_code == 200 and "data" in response.json()
    assert error_code(response.json()) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": "{ me { id } }", "x": "\xff\xfe"}', "not UTF-8"),
        (b"\xc3\x28", "not UTF-8"),
        (b'{"query": ', "not JSON"),
        (b'"just a string"', "must be a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
async def test_undecodable_body_is_400_coded_and_counted_never_500(
    shared_api: Api, body: bytes, message: str
) -> None:
    before = await _errors_counted(shared_api, "VALIDATION")
    head = shared_api.feed_head()
    async with httpx.AsyncClient() as http:
        response = await http.post(
            shared_api.url + "/graphql", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert error_code(response.json()) == "VALIDATION" and message in response.json()["errors"][0]["message"]
    assert await _errors_counted(shared_api, "VALIDATION") == before + 1
    assert shared_api.feed_head() == head
