"""The domain's exception tree. Transports map these to coded errors.

    LaFactoriaError                  base; ``code`` is the stable, client-facing code
    ├── InvalidInput                 INVALID_INPUT (``field`` names the offending input)
    ├── NotFound                     NOT_FOUND (also: someone else's object)
    ├── Conflict                     CONFLICT
    ├── InvalidCredentials           INVALID_CREDENTIALS (login)
    ├── Unauthenticated              UNAUTHENTICATED (no, bad, expired or revoked credentials)
    ├── PermissionDenied             FORBIDDEN
    ├── LimitExceeded                LIMIT_EXCEEDED (queue full, quotas)
    ├── Unavailable                  SERVICE_UNAVAILABLE (the database or Redis is unreachable)
    └── ProviderError                a generation attempt failed (see providers.errors)
        ├── RetryableProviderError   try again or fail over
        └── FatalProviderError       fail the job at once

Foreign exceptions (SQLAlchemy, SDKs, pyjwt) are translated at the edge where they occur so that
nothing above the adapters needs to know them.
"""

from __future__ import annotations


class LaFactoriaError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(LaFactoriaError):
    code = "INVALID_INPUT"


class NotFound(LaFactoriaError):
    code = "NOT_FOUND"


class Conflict(LaFactoriaError):
    code = "CONFLICT"


class InvalidCredentials(LaFactoriaError):
    code = "INVALID_CREDENTIALS"


class Unauthenticated(LaFactoriaError):
    code = "UNAUTHENTICATED"


class PermissionDenied(LaFactoriaError):
    code = "FORBIDDEN"


class LimitExceeded(LaFactoriaError):
    code = "LIMIT_EXCEEDED"


class Unavailable(LaFactoriaError):
    """A backing service (database, Redis) did not answer; retrying later may succeed."""

    code = "SERVICE_UNAVAILABLE"


class ProviderError(LaFactoriaError):
    """A provider attempt failed; ``code`` is the job error code it leads to."""

    code = "PROVIDER_UNAVAILABLE"
    retryable = True


class RetryableProviderError(ProviderError):
    retryable = True


class FatalProviderError(ProviderError):
    code = "PROVIDER_REJECTED"
    retryable = False
