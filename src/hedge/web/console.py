"""Serving the console: `/` (the single page), `/assets/*` (its modules and the vendored
libraries, all inside this package) and GraphiQL's page with local assets.

The page's Content-Security-Policy allows scripts and connections to this origin only, so even a
mistaken reference to a CDN fails in the browser instead of leaking a request.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from hedge.web.assets import Assets

STATIC = Path(__file__).parent / "static"
_INLINE_SCRIPT = re.compile(r"<script type=\"importmap\">(.*?)</script>", re.S)


@cache
def _index() -> tuple[str, str]:
    """The page and its CSP (the inline import map is allowed by its hash, nothing else inline)."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    csp = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    )
    return html, csp


@cache
def graphiql_html() -> str:
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


async def index(_: Request) -> Response:
    html, csp = _index()
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": csp,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def routes() -> list[BaseRoute]:
    return [Route("/", index), Route("/assets/{path:path}", Assets(STATIC).serve, methods=["GET", "HEAD"])]
