from __future__ import annotations

import pytest

from rtc_interact.errors import ConfigurationError, TokenError
from rtc_interact.tokens import Role, mint, new_secret, verify

SECRET = new_secret()


def test_valid_token_gives_claims() -> None:
    claims = verify(SECRET, mint(SECRET, "alice", region="BR"), require=Role.VIEWER)
    assert (claims.identity, claims.role, claims.region) == ("alice", Role.VIEWER, "BR")


@pytest.mark.parametrize(("token", "says"), [
    (mint(SECRET, "bob", now=1000, ttl_s=10), "expired"),
    (mint(new_secret(), "eve"), "signature"),
    ("not-a-token", "invalid token"),
])
def test_bad_tokens_say_what_is_wrong(token: str, says: str) -> None:
    with pytest.raises(TokenError, match=says):
        verify(SECRET, token)


def test_host_token_may_view_but_viewer_token_may_not_host() -> None:
    assert verify(SECRET, mint(SECRET, "op", Role.HOST), require=Role.VIEWER).role is Role.HOST
    with pytest.raises(TokenError, match="role"):
        verify(SECRET, mint(SECRET, "v"), require=Role.HOST)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        mint("short", "alice")
