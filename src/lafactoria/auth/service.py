"""Registration, login, credential checks and API-key management."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

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
from lafactoria.ratelimit import RateLimits
from lafactoria.text import check_text, clean_text

T = TypeVar("T")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# RFC 5321's limits: a longer address cannot receive mail anyway.
_MAX_EMAIL_LENGTH = 254
_MAX_EMAIL_LOCAL_PART_LENGTH = 64
_MAX_PASSWORD_LENGTH = 256
_MIN_DISTINCT_PASSWORD_CHARACTERS = 5
# The most used passwords long enough to pass the length rule (from public breach corpora).
_COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789a",
        "0987654321",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "qwerty1234",
        "qwerty123456",
        "asdfghjkl1",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "changeme123",
        "administrator",
        "football123",
        "baseball123",
        "superman123",
        "princess123",
        "sunshine123",
        "trustno1234",
        "correcthorsebatterystaple",
    }
)
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


class _Watch:
    """What ``while_valid``'s watchdog found, and the task it may interrupt."""

    __slots__ = ("_cancelled", "lapsed", "waiting")

    def __init__(self) -> None:
        self.lapsed: Exception | None = None
        self.waiting: asyncio.Task[object] | None = None
        """The task waiting for the stream's next item, if one is."""
        self._cancelled: asyncio.Task[object] | None = None

    def lapse(self, reason: Exception) -> None:
        self.lapsed = reason
        if self.waiting is not None:
            self._cancelled = self.waiting
            self.waiting.cancel()

    def uncancel(self) -> int:
        """Take back the watchdog's cancellation; what is left is someone else's."""
        if self._cancelled is None:
            return 0
        task, self._cancelled = self._cancelled, None
        return task.uncancel()

    def raise_if_lapsed(self) -> None:
        if self.lapsed is not None:
            raise self.lapsed


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
    # NFKC first, so look-alike forms of one address (composed or decomposed accents,
    # full-width letters) are one account.
    return unicodedata.normalize("NFKC", email).strip().lower()


class AuthService:
    def __init__(
        self,
        *,
        db: Database,
        tokens: TokenCodec,
        hasher: PasswordHash,
        min_password_length: int,
        limits: RateLimits | None = None,
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._hasher = hasher
        self._min_password_length = min_password_length
        self._limits = limits
        # Hashing a throwaway password for unknown emails makes login take as long as for a
        # wrong password, so response time does not reveal which emails have accounts.
        self._dummy_hash = hasher.hash("not-a-real-password")

    async def register(self, *, email: str, password: str) -> User:
        """Create an account; the email is normalised so one person cannot register twice."""
        email = check_text(normalize_email(email), field="email")
        if (
            len(email) > _MAX_EMAIL_LENGTH
            or len(email.partition("@")[0]) > _MAX_EMAIL_LOCAL_PART_LENGTH
            or not _EMAIL.match(email)
        ):
            raise InvalidInput("enter a valid email address", field="email")
        self._check_password_policy(check_text(password, field="password"), email=email)
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

    async def login(
        self, *, email: str, password: str, client_address: str | None = None
    ) -> LoginResult:
        """Check a password and issue an access token; one answer for every failure.

        Failed attempts count against the email (whether or not it has an account) and the
        client address; past either limit every attempt, right or wrong, gets
        ``RateLimited`` until the window moves on.
        """
        email = normalize_email(email)
        if self._limits is None:
            return await self._check_password(email, password)
        async with self._limits.login(account=email, client=client_address) as attempt:
            try:
                return await self._check_password(email, password)
            except InvalidCredentials:
                attempt.fail()
                raise

    async def _check_password(self, email: str, password: str) -> LoginResult:
        if not _encodable(email) or not _encodable(password):
            # No account has such an email or password (register refuses them) and the hasher
            # could not even encode them: a wrong password, in the usual time.
            await asyncio.to_thread(self._verify_password, "", self._dummy_hash)
            raise InvalidCredentials("the email or password is incorrect")
        async with self._db.read() as session:
            user = await repository.get_user_by_email(session, email)
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

    async def while_valid(
        self, principal: Principal, stream: AsyncIterator[T], *, check_every: float
    ) -> AsyncIterator[T]:
        """Pass ``stream`` through until the credential lapses, then raise ``Unauthenticated``.

        Revocation is noticed within ``check_every`` seconds; a token's expiry to the second.
        """
        # Items pass straight through; a watchdog task does the checking and interrupts the
        # wait for the next item only when the credential lapsed during it. (Racing every
        # item against a timer would cost a task per item per subscriber, which is most of
        # the work of a busy fan-out.)
        iterator = aiter(stream)
        watch = _Watch()
        watchdog = asyncio.create_task(self._watch(principal, check_every, watch))
        try:
            while True:
                watch.raise_if_lapsed()
                watch.waiting = asyncio.current_task()
                try:
                    item = await anext(iterator)
                except StopAsyncIteration:
                    return
                except asyncio.CancelledError:
                    # Cancelled by the watchdog alone: the stream ends with the reason.
                    if watch.lapsed is not None and watch.uncancel() == 0:
                        watch.raise_if_lapsed()
                    raise
                finally:
                    watch.waiting = None
                yield item
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            if hasattr(iterator, "aclose"):
                await iterator.aclose()

    async def _watch(self, principal: Principal, check_every: float, watch: _Watch) -> None:
        last_check = time.monotonic()
        try:
            while True:
                wait = check_every - (time.monotonic() - last_check)
                if principal.expires_at is not None:
                    wait = min(wait, (principal.expires_at - utcnow()).total_seconds())
                await asyncio.sleep(max(wait, 0.0))
                if time.monotonic() - last_check >= check_every or (
                    principal.expires_at is not None and principal.expires_at <= utcnow()
                ):
                    if not await self.is_still_valid(principal):
                        watch.lapse(Unauthenticated("the credentials expired or were revoked"))
                        return
                    last_check = time.monotonic()
        except Exception as error:  # handed to the stream's reader, who raises it
            watch.lapse(error)

    async def create_api_key(
        self, *, user_id: str, name: str, expires_in_days: int | None = None
    ) -> CreatedApiKey:
        name = clean_text(name, field="name", max_length=_MAX_KEY_NAME_LENGTH)
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

    def _check_password_policy(self, password: str, *, email: str) -> None:
        """Length (in characters) plus the cheap checks NIST SP 800-63B asks for: no
        repetitive or well-known passwords, nothing derived from the account name."""
        if len(password) < self._min_password_length:
            raise InvalidInput(
                f"password must be at least {self._min_password_length} characters",
                field="password",
            )
        if len(password) > _MAX_PASSWORD_LENGTH:
            raise InvalidInput(
                f"password must be at most {_MAX_PASSWORD_LENGTH} characters", field="password"
            )
        folded = password.casefold()
        local_part = email.partition("@")[0]
        if (
            len(set(folded)) < _MIN_DISTINCT_PASSWORD_CHARACTERS
            or folded in _COMMON_PASSWORDS
            or (len(local_part) >= 4 and local_part in folded)
        ):
            raise InvalidInput(
                "password is too easy to guess: avoid repeated characters, common passwords "
                "and your email address",
                field="password",
            )

    def _verify_password(self, password: str, stored_hash: str) -> bool:
        # Length-capped before hashing so a megabyte password cannot pin a CPU.
        if len(password) > _MAX_PASSWORD_LENGTH:
            self._hasher.verify("x", stored_hash)
            return False
        return self._hasher.verify(password, stored_hash)


def _encodable(value: str) -> bool:
    """False for text with lone surrogates, which no stored email or password has."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
