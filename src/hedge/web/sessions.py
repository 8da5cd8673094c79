"""The console's session cookie and CSRF token: signed, stateless, and tied to the user's token.

A session is `<user id>.<expiry, unix s>.<signature>`. The signature is an HMAC keyed by the
user's stored token hash (peppered with HEDGE_SESSION_SECRET when it is set), so:
- every server process (and a restarted one) accepts it without shared session state;
- rotating the user's token ends every session of that user at once (the key changes);
- the cookie does not carry the token, and cannot be turned back into it.
The CSRF token is a second HMAC over the cookie value; the page keeps it in memory and sends it as
`X-CSRF-Token` with every request that the cookie authenticates.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

COOKIE_NAME = "hedge_session"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class SessionClaim:
    """What a cookie says before its signature is checked against the user's key."""

    user_id: str
    expires_at_s: int
    signature: str

    @property
    def payload(self) -> str:
        return f"{self.user_id}.{self.expires_at_s}"


def _key(token_hash: str, pepper: str) -> bytes:
    return hmac.new(pepper.encode(), token_hash.encode(), hashlib.sha256).digest()


def _sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def issue(user_id: str, token_hash: str, now_s: float, max_age_s: float, pepper: str = "") -> str:
    """A cookie value for `user_id`, valid for `max_age_s` from `now_s`."""
    if "." in user_id:
        raise ValueError(f"a user id cannot contain '.', was {user_id!r}")
    payload = f"{user_id}.{int(now_s + max_age_s)}"
    return f"{payload}.{_sign(_key(token_hash, pepper), 'session:' + payload)}"


def parse(value: str) -> SessionClaim | None:
    """The claim a cookie value makes, or None when it is not shaped like one of ours."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or len(parts[2]) != 64:
        return None
    return SessionClaim(parts[0], int(parts[1]), parts[2])


def valid(claim: SessionClaim, token_hash: str, now_s: float, pepper: str = "") -> bool:
    """Whether the claim is signed with this user's current key and has not expired."""
    expected = _sign(_key(token_hash, pepper), "session:" + claim.payload)
    return now_s < claim.expires_at_s and hmac.compare_digest(expected, claim.signature)


def csrf_token(cookie_value: str, token_hash: str, pepper: str = "") -> str:
    return _sign(_key(token_hash, pepper), "csrf:" + cookie_value)


def csrf_valid(presented: str | None, cookie_value: str, token_hash: str, pepper: str = "") -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented, csrf_token(cookie_value, token_hash, pepper))


def same_origin(origin: str | None, host: str | None, forwarded_proto: str | None = None) -> bool:
    """Whether a request's Origin header names the server it was sent to (http or https)."""
    if not origin or not host:
        return False
    schemes = (forwarded_proto,) if forwarded_proto else ("http", "https")
    return origin in {f"{scheme}://{host}" for scheme in schemes}
