"""Provider failures, classified once in the adapters so failover can decide on a type.

ProviderError (lafactoria.errors)
├── RetryableProviderError
│   ├── ProviderUnavailable     connection errors, 408/409/5xx/529, overloaded, cut, stalled
│   │                           or malformed streams, no terminal event
│   ├── ProviderTimeout         connect / first-token / idle / attempt / job deadline passed
│   ├── ProviderRateLimited     429; ``retry_after`` seconds when the server said so
│   ├── OutputTruncated         stopped by the token limit (stop or finish reason)
│   └── OutputInvalid           the answer is not valid JSON for the schema
└── FatalProviderError
    ├── ProviderRejected        400 invalid request, content policy: fails everywhere
    │   └── ContextTooLong      the prompt does not fit this model's window: another may take it
    └── ProviderMisconfigured   401/403 and friends: skip this provider, tell the operator

Each class has a ``kind``: the short, stable name the attempt trace stores, finer than the job
error ``code`` (a 429 and a 503 both end a job as PROVIDER_UNAVAILABLE, but an operator wants
to tell them apart).
"""

from __future__ import annotations

from typing import ClassVar

from lafactoria.errors import FatalProviderError, ProviderError, RetryableProviderError


class ProviderUnavailable(RetryableProviderError):
    code = "PROVIDER_UNAVAILABLE"
    kind: ClassVar[str] = "unavailable"


class ProviderTimeout(RetryableProviderError):
    code = "PROVIDER_TIMEOUT"
    kind: ClassVar[str] = "timeout"


class ProviderRateLimited(RetryableProviderError):
    code = "PROVIDER_UNAVAILABLE"
    kind: ClassVar[str] = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutputTruncated(RetryableProviderError):
    code = "OUTPUT_TRUNCATED"
    kind: ClassVar[str] = "truncated"


class OutputInvalid(RetryableProviderError):
    code = "OUTPUT_INVALID"
    kind: ClassVar[str] = "invalid_output"


class ProviderRejected(FatalProviderError):
    code = "PROVIDER_REJECTED"
    kind: ClassVar[str] = "rejected"


class ContextTooLong(ProviderRejected):
    """The request is larger than this model's context window. Not worth retrying here, but a
    provider with a larger window may answer, so failover moves on instead of failing the job."""

    kind: ClassVar[str] = "context_too_long"


class ProviderMisconfigured(FatalProviderError):
    """Bad key or no access. Fatal for this provider only: failover skips to the next."""

    code = "PROVIDER_UNAVAILABLE"
    kind: ClassVar[str] = "misconfigured"


def error_kind(error: ProviderError) -> str:
    """The trace name of ``error``'s class (``provider_error`` for the bare base class)."""
    kind = getattr(error, "kind", None)
    return kind if isinstance(kind, str) else "provider_error"
