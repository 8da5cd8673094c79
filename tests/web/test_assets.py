"""The console's files under /assets, served from memory: types, ETag and 304, HEAD, and nothing
outside the static folder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from hedge.web.console import STATIC, routes

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=Starlette(routes=routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def test_a_module_is_served_as_javascript_with_its_etag_and_no_cache(http: httpx.AsyncClient) -> None:
    response = await http.get("/assets/app/main.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == (STATIC / "app" / "main.js").read_bytes()
    assert response.headers["cache-control"] == "no-cache" and response.headers["etag"].startswith('"')
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_revalidation_with_the_same_etag_is_not_modified(http: httpx.AsyncClient) -> None:
    etag = (await http.get("/assets/app/style.css")).headers["etag"]
    again = await http.get("/assets/app/style.css", headers={"If-None-Match": etag})
    stale = await http.get("/assets/app/style.css", headers={"If-None-Match": '"other"'})
    assert again.status_code == 304 and again.content == b""
    assert stale.status_code == 200 and stale.headers["content-type"].startswith("text/css")


async def test_head_gives_the_length_without_the_body(http: httpx.AsyncClient) -> None:
    response = await http.head("/assets/vendor/preact/preact.module.js")
    size = len((STATIC / "vendor" / "preact" / "preact.module.js").read_bytes())
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(size)


@pytest.mark.parametrize(
    "path",
    [
        "/assets/app/nope.js",
        "/assets/app",
        "/assets/%2e%2e/console.py",
        "/assets/..%2fconsole.py",
        "/assets/",
    ],
)
async def test_missing_files_folders_and_paths_outside_the_static_folder_are_not_found(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)
    assert response.status_code == 404 and b"def " not in response.content
