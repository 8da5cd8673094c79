"""The console's files under /assets, served from memory: each is read once per process (they
ship in the package and change only with it), so the page's two dozen module requests cost no
worker-thread hop and no file system call each; a browser revalidates them by ETag (`no-cache`).
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

MAX_REMEMBERED = 4096  # paths remembered, found or not (a scan of random paths stays bounded)
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
}


@dataclass(frozen=True, slots=True)
class _File:
    body: bytes
    media_type: str
    etag: str


class Assets:
    """GET and HEAD of the files below `root` (nothing outside it), with ETag and 304."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._files: dict[str, _File | None] = {}

    def _find(self, path: str) -> _File | None:
        if path in self._files:
            return self._files[path]
        target = (self._root / path).resolve()
        found = None
        if target.is_relative_to(self._root) and target.is_file():
            body = target.read_bytes()
            media = (
                _TYPES.get(target.suffix)
                or mimetypes.guess_type(target.name)[0]
                or "application/octet-stream"
            )
            found = _File(body, media, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        if len(self._files) < MAX_REMEMBERED:
            self._files[path] = found
        return found

    async def serve(self, request: Request) -> Response:
        found = self._find(str(request.path_params["path"]))
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        headers = {"ETag": found.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == found.etag:
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else found.body
        response = Response(body, media_type=found.media_type, headers=headers)
        if request.method == "HEAD":
            response.headers["content-length"] = str(len(found.body))
        return response
