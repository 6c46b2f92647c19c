"""Signed access tokens: identity, role and expiry, HMAC-SHA256 (JWT HS256) with a shared secret."""

from __future__ import annotations

import enum
import secrets
import time
from dataclasses import dataclass

import jwt

from .errors import ConfigurationError, TokenError

ISSUER = "rtc-interact"
MIN_SECRET_BYTES = 32


class Role(enum.Enum):
    """What a token allows."""

    VIEWER = "viewer"
    HOST = "host"


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token says."""

    identity: str
    """Who the bearer is (the JWT ``sub``)."""
    role: Role
    """What the bearer may do."""
    expires_at: int
    """Unix seconds after which the token is refused."""
    region: str = ""
    """Optional ISO 3166 region code the issuer vouches for (used by giveaway eligibility)."""


def new_secret() -> str:
    """A fresh random shared secret."""
    return secrets.token_urlsafe(32)


def _check_secret(secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")


def mint(secret: str, identity: str, role: Role = Role.VIEWER, ttl_s: float = 3600.0,
         region: str = "", now: float | None = None) -> str:
    """Issue a token for ``identity`` valid for ``ttl_s`` seconds."""
    _check_secret(secret)
    if not identity or len(identity) > 128:
        raise ConfigurationError("identity must be 1 to 128 characters")
    if ttl_s <= 0:
        raise ConfigurationError("ttl_s must be positive")
    issued = int(time.time() if now is None else now)
    payload: dict[str, object] = {
        "iss": ISSUER, "sub": identity, "role": role.value, "iat": issued,
        "exp": issued + int(ttl_s),
    }
    if region:
        payload["region"] = region
    return jwt.encode(payload, secret, algorithm="HS256")


def verify(secret: str, token: str, require: Role | None = None) -> Claims:
    """Check signature, issuer, expiry and (optionally) role; TokenError says what failed."""
    try:
        payload = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER,
                             options={"require": ["exp", "sub", "iss"]})
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidSignatureError:
        raise TokenError("token signature does not match (forged or wrong secret)") from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    try:
        role = Role(payload.get("role"))
    except ValueError:
        raise TokenError(f"invalid token: unknown role {payload.get('role')!r}") from None
    if require is not None and role is not require and role is not Role.HOST:
        raise TokenError(f"this endpoint needs role {require.value!r}, token has {role.value!r}")
    identity, region = payload["sub"], payload.get("region", "")
    if not isinstance(identity, str) or not identity or not isinstance(region, str):
        raise TokenError("invalid token: bad 'sub' or 'region' claim")
    return Claims(identity=identity, role=role, expires_at=int(payload["exp"]), region=region)
