"""API tokens: what the server generates, and what it accepts from an operator.

Generated tokens begin with "hs_" so that they never begin with "-" (they are pasted on command
lines, where a leading "-" reads as an option) and can be recognised in a leaked file. A token an
operator chooses (HEDGE_ADMIN_TOKEN) is accepted as it is when it has MIN_TOKEN_LENGTH characters.
"""

from __future__ import annotations

import secrets

from hedge.domain.errors import ValidationError

TOKEN_PREFIX = "hs_"
MIN_TOKEN_LENGTH = 24


def new_token() -> str:
    """A fresh token: "hs_" and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_token(token: str, field: str = "token") -> str:
    """An operator-chosen token, taken as it is when it is long enough to be a secret.

    Surrounding white space is refused: a bearer header is stripped, so such a token could
    never sign in."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValidationError(field, f"must have at least {MIN_TOKEN_LENGTH} characters, had {len(token)}")
    if token != token.strip():
        raise ValidationError(field, "must not begin or end with white space")
    return token


def plausible(token: str) -> bool:
    """Whether a presented token could be one this server issued or accepted (cheap, no lookup)."""
    return len(token) >= MIN_TOKEN_LENGTH
