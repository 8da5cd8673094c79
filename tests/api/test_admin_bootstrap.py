"""HEDGE_ADMIN_TOKEN is a bootstrap: it creates the first ADMIN and is ignored (said so in the log)
once one exists; a token under 24 characters stops the server before it opens the store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tests.api.conftest import ADMIN_TOKEN, settings_for

from hedge.api.app import build_app, ensure_admin
from hedge.domain.errors import ValidationError
from hedge.store.repository import Store


def test_admin_token_shorter_than_24_characters_stops_the_server_before_the_store(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="HEDGE_ADMIN_TOKEN must have at least 24"):
        build_app(settings_for(f"sqlite:///{tmp_path / 'hedge.db'}", admin_token="change-me"))
    assert not (tmp_path / "hedge.db").exists()


def test_admin_token_set_again_after_first_admin_is_ignored_and_logged(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(sqlite_url)
    try:
        ensure_admin(store, ADMIN_TOKEN)
        with caplog.at_level(logging.WARNING, logger="hedge.api.app"):
            ensure_admin(store, "a-different-admin-token-of-30c")
        assert "HEDGE_ADMIN_TOKEN is set but ignored" in caplog.text
        assert store.user_by_token("a-different-admin-token-of-30c") is None
        assert [u.email for u in store.list_users()] == ["admin@hedge.local"]
    finally:
        store.close()
