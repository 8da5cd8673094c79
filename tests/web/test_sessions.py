"""The session cookie's signature, expiry and CSRF token (hedge.web.sessions), without a server."""

from __future__ import annotations

import pytest

from hedge.web import sessions
from hedge.web.vendor import check as vendor_check

HASH = "a" * 64
OTHER_HASH = "b" * 64


def test_issue_then_parse_gives_back_the_user_and_expiry() -> None:
    value = sessions.issue("u1", HASH, now_s=1000, max_age_s=60)

    claim = sessions.parse(value)

    assert claim is not None and claim.user_id == "u1" and claim.expires_at_s == 1060
    assert sessions.valid(claim, HASH, now_s=1059)


def test_cookie_does_not_contain_the_token_hash() -> None:
    assert HASH not in sessions.issue("u1", HASH, now_s=0, max_age_s=60)


def test_valid_after_expiry_is_false() -> None:
    claim = sessions.parse(sessions.issue("u1", HASH, now_s=1000, max_age_s=60))
    assert claim is not None

    assert not sessions.valid(claim, HASH, now_s=1060)


def test_valid_with_a_rotated_token_is_false() -> None:
    claim = sessions.parse(sessions.issue("u1", HASH, now_s=0, max_age_s=60))
    assert claim is not None

    assert not sessions.valid(claim, OTHER_HASH, now_s=1)


def test_valid_with_another_pepper_is_false() -> None:
    claim = sessions.parse(sessions.issue("u1", HASH, now_s=0, max_age_s=60, pepper="one"))
    assert claim is not None

    assert sessions.valid(claim, HASH, now_s=1, pepper="one")
    assert not sessions.valid(claim, HASH, now_s=1, pepper="two")


def test_valid_when_the_user_id_is_swapped_is_false() -> None:
    value = sessions.issue("u1", HASH, now_s=0, max_age_s=60)
    forged = sessions.parse("u2" + value[2:])
    assert forged is not None and forged.user_id == "u2"

    assert not sessions.valid(forged, HASH, now_s=1)


def test_valid_when_the_expiry_is_extended_is_false() -> None:
    user, _, signature = sessions.issue("u1", HASH, now_s=0, max_age_s=60).split(".")
    forged = sessions.parse(f"{user}.999999999.{signature}")
    assert forged is not None

    assert not sessions.valid(forged, HASH, now_s=1)


@pytest.mark.parametrize(
    "value", ["", "x", "a.b.c", "u1.60", "u1.60." + "0" * 63, "u1.-5." + "0" * 64, "u1.6.0.1"]
)
def test_parse_of_malformed_values_is_none(value: str) -> None:
    assert sessions.parse(value) is None


def test_issue_refuses_a_user_id_with_a_dot() -> None:
    with pytest.raises(ValueError, match="cannot contain"):
        sessions.issue("u.1", HASH, now_s=0, max_age_s=60)


def test_csrf_token_matches_only_its_own_cookie() -> None:
    one = sessions.issue("u1", HASH, now_s=0, max_age_s=60)
    two = sessions.issue("u1", HASH, now_s=1, max_age_s=60)
    token = sessions.csrf_token(one, HASH)

    assert sessions.csrf_valid(token, one, HASH)
    assert not sessions.csrf_valid(token, two, HASH)
    assert not sessions.csrf_valid(None, one, HASH)
    assert not sessions.csrf_valid("", one, HASH)


@pytest.mark.parametrize(
    ("origin", "host", "proto", "same"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", None, True),
        ("https://hedge.example", "hedge.example", None, True),
        ("https://hedge.example", "hedge.example", "https", True),
        ("http://hedge.example", "hedge.example", "https", False),
        ("http://evil.example", "127.0.0.1:8000", None, False),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", None, False),
        (None, "127.0.0.1:8000", None, False),
        ("null", "127.0.0.1:8000", None, False),
    ],
)
def test_same_origin(origin: str | None, host: str, proto: str | None, same: bool) -> None:
    assert sessions.same_origin(origin, host, proto) is same


def test_vendored_files_match_their_manifest() -> None:
    assert vendor_check() == []
