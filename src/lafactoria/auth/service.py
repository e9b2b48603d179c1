"""Registration, login, credential checks and API-key management."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy.exc import IntegrityError

from lafactoria.auth import repository
from lafactoria.auth.models import ApiKey, User
from lafactoria.auth.tokens import (
    AccessToken,
    TokenCodec,
    api_secret_matches,
    generate_api_key,
    hash_api_secret,
    split_api_key,
)
from lafactoria.db.engine import Database
from lafactoria.db.types import utcnow
from lafactoria.errors import Conflict, InvalidCredentials, InvalidInput, NotFound, Unauthenticated

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_PASSWORD_LENGTH = 256
_MAX_KEY_NAME_LENGTH = 100
_MAX_KEY_LIFETIME_DAYS = 3650
# Writing lastUsedAt on every request would turn each read into a write; a minute is precise
# enough to tell which keys are alive.
_LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and until when the credential holds (``None``: until revoked)."""

    user: User
    api_key_id: str | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    access_token: AccessToken


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str
    """The full key; shown once and never stored."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


class AuthService:
    def __init__(
        self, *, db: Database, tokens: TokenCodec, hasher: PasswordHash, min_password_length: int
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._hasher = hasher
        self._min_password_length = min_password_length
        # Hashing a throwaway password for unknown emails makes login take as long as for a
        # wrong password, so response time does not reveal which emails have accounts.
        self._dummy_hash = hasher.hash("not-a-real-password")

    async def register(self, *, email: str, password: str) -> User:
        """Create an account; the email is normalised so one person cannot register twice."""
        email = normalize_email(email)
        if len(email) > 320 or not _EMAIL.match(email):
            raise InvalidInput("enter a valid email address", field="email")
        self._check_password_policy(password)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user = User(email=email, password_hash=password_hash)
        try:
            async with self._db.write() as session:
                if await repository.get_user_by_email(session, email):
                    raise Conflict("an account with this email already exists", field="email")
                session.add(user)
        except IntegrityError as exc:  # a concurrent registration won the race
            raise Conflict("an account with this email already exists", field="email") from exc
        return user

    async def login(self, *, email: str, password: str) -> LoginResult:
        """Check a password and issue an access token; one answer for every failure."""
        async with self._db.read() as session:
            user = await repository.get_user_by_email(session, normalize_email(email))
        stored_hash = user.password_hash if user else self._dummy_hash
        matches = await asyncio.to_thread(self._verify_password, password, stored_hash)
        if user is None or not matches or user.disabled_at is not None:
            raise InvalidCredentials("the email or password is incorrect")
        return LoginResult(user=user, access_token=self._tokens.issue(user.id))

    async def authenticate(self, credential: str) -> Principal:
        """Resolve a bearer credential (access token or API key) to a live user."""
        parts = split_api_key(credential)
        if parts is None:
            claims = self._tokens.verify(credential)
            async with self._db.read() as session:
                user = await repository.get_user(session, claims.user_id)
            if user is None or user.disabled_at is not None:
                raise Unauthenticated("the account no longer exists or is disabled")
            return Principal(user=user, api_key_id=None, expires_at=claims.expires_at)

        async with self._db.read() as session:
            key = await repository.get_api_key_by_prefix(session, parts.prefix)
            user = await repository.get_user(session, key.user_id) if key else None
        now = utcnow()
        if (
            key is None
            or user is None
            or not api_secret_matches(parts.secret, key.secret_hash)
            or key.revoked_at is not None
            or (key.expires_at is not None and key.expires_at <= now)
            or user.disabled_at is not None
        ):
            raise Unauthenticated("the API key is not valid")
        if key.last_used_at is None or now - key.last_used_at > _LAST_USED_PRECISION:
            async with self._db.write() as session:
                await repository.touch_api_key(session, key_id=key.id, used_at=now)
        return Principal(user=user, api_key_id=key.id, expires_at=key.expires_at)

    async def is_still_valid(self, principal: Principal) -> bool:
        """Whether a credential accepted earlier still holds (for long-lived subscriptions)."""
        now = utcnow()
        if principal.expires_at is not None and principal.expires_at <= now:
            return False
        async with self._db.read() as session:
            user = await repository.get_user(session, principal.user.id)
            key = (
                await repository.get_api_key(
                    session, user_id=principal.user.id, key_id=principal.api_key_id
                )
                if principal.api_key_id
                else None
            )
        if user is None or user.disabled_at is not None:
            return False
        return principal.api_key_id is None or (key is not None and key.revoked_at is None)

    async def create_api_key(
        self, *, user_id: str, name: str, expires_in_days: int | None = None
    ) -> CreatedApiKey:
        name = name.strip()
        if not name or len(name) > _MAX_KEY_NAME_LENGTH:
            raise InvalidInput(f"name must be 1 to {_MAX_KEY_NAME_LENGTH} characters", field="name")
        if expires_in_days is not None and not 1 <= expires_in_days <= _MAX_KEY_LIFETIME_DAYS:
            raise InvalidInput(
                f"expiresInDays must be between 1 and {_MAX_KEY_LIFETIME_DAYS}",
                field="expiresInDays",
            )
        secret, parts = generate_api_key()
        key = ApiKey(
            user_id=user_id,
            name=name,
            prefix=parts.prefix,
            secret_hash=hash_api_secret(parts.secret),
            expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        async with self._db.write() as session:
            session.add(key)
        return CreatedApiKey(api_key=key, secret=secret)

    async def list_api_keys(self, *, user_id: str) -> list[ApiKey]:
        async with self._db.read() as session:
            return await repository.list_api_keys(session, user_id=user_id)

    async def revoke_api_key(self, *, user_id: str, key_id: str) -> ApiKey:
        async with self._db.write() as session:
            key = await repository.get_api_key(session, user_id=user_id, key_id=key_id)
            if key is None:
                raise NotFound("no such API key", field="id")
            if key.revoked_at is None:
                key.revoked_at = utcnow()
                session.add(key)
            return key

    def _check_password_policy(self, password: str) -> None:
        if len(password) < self._min_password_length:
            raise InvalidInput(
                f"password must be at least {self._min_password_length} characters",
                field="password",
            )
        if len(password) > _MAX_PASSWORD_LENGTH:
            raise InvalidInput(
                f"password must be at most {_MAX_PASSWORD_LENGTH} characters", field="password"
            )

    def _verify_password(self, password: str, stored_hash: str) -> bool:
        # Length-capped before hashing so a megabyte password cannot pin a CPU.
        if len(password) > _MAX_PASSWORD_LENGTH:
            self._hasher.verify("x", stored_hash)
            return False
        return self._hasher.verify(password, stored_hash)
