"""Signed access tokens (JWT, HS256) and the API-key format.

Decoding pins the algorithm and requires every registered claim, so a token signed with
``none`` or another algorithm, or minted for another issuer or audience, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from lafactoria.db.types import utcnow
from lafactoria.errors import Unauthenticated

_ALGORITHM = "HS256"
API_KEY_PREFIX = "lf_"


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    expires_at: datetime


class TokenCodec:
    """Issues and verifies access tokens for one secret, issuer and audience."""

    def __init__(self, *, secret: str, issuer: str, audience: str, lifetime: timedelta) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime

    def issue(self, user_id: str) -> AccessToken:
        now = utcnow()
        expires_at = now + self._lifetime
        claims = {
            "sub": user_id,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "nbf": now,
            "exp": expires_at,
        }
        return AccessToken(jwt.encode(claims, self._secret, algorithm=_ALGORITHM), expires_at)

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the access token is not valid") from exc
        try:
            expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=utcnow().tzinfo)
        except (OverflowError, OSError, ValueError) as exc:
            # Signed by us yet past what a datetime holds (year 33658): never one we issued.
            raise Unauthenticated("the access token is not valid") from exc
        return TokenClaims(user_id=str(claims["sub"]), expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class ApiKeyParts:
    prefix: str
    secret: str


def generate_api_key() -> tuple[str, ApiKeyParts]:
    """A new ``lf_<prefix>_<secret>`` key; the recognisable start lets secret scanners find it."""
    parts = ApiKeyParts(prefix=secrets.token_hex(6), secret=secrets.token_urlsafe(32))
    return f"{API_KEY_PREFIX}{parts.prefix}_{parts.secret}", parts


def split_api_key(key: str) -> ApiKeyParts | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = key[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not prefix or not secret:
        return None
    return ApiKeyParts(prefix=prefix, secret=secret)


def hash_api_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_secret(secret), stored_hash)
