"""The console (管理画面): the operator's single page at `/` of every server, its assets (served
from memory, vendored libraries included) and its signed session cookie. Part of the server."""
