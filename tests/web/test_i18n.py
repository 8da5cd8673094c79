"""The console's texts (static/app/i18n/<language>.json, read by static/app/i18n.js): every
language has the same keys, every key the modules ask for by name exists, and the files are
served as JSON."""

from __future__ import annotations

import json
import re

import httpx
from starlette.applications import Starlette

from hedge.web.console import STATIC, routes

I18N = STATIC / "app" / "i18n"
ASKED = re.compile(r"""\bt\("([^"]+)\"""")


def texts(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((I18N / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def test_english_and_japanese_have_the_same_keys_and_only_strings() -> None:
    english, japanese = texts("en"), texts("ja")
    assert sorted(english) == sorted(japanese)
    assert all(isinstance(v, str) and v for v in [*english.values(), *japanese.values()])


def test_every_key_a_module_asks_for_by_name_has_an_english_text() -> None:
    asked = {key for path in (STATIC / "app").glob("*.js") for key in ASKED.findall(path.read_text())}
    assert len(asked) > 100  # the pattern still finds the calls
    assert sorted(asked - set(texts("en"))) == []


async def test_the_texts_are_served_as_json_under_assets() -> None:
    transport = httpx.ASGITransport(app=Starlette(routes=routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.get("/assets/app/i18n/ja.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == texts("ja")
