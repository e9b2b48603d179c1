"""Provider failures, classified once in the adapters so failover can decide on a type.

ProviderError (lafactoria.errors)
├── RetryableProviderError
│   ├── ProviderUnavailable     connection errors, 5xx, overloaded, cut streams
│   ├── ProviderTimeout         connect / first-token / idle / total deadline passed
│   ├── ProviderRateLimited     429; ``retry_after`` seconds when the server said so
│   ├── OutputTruncated         stopped by the token limit
│   └── OutputInvalid           the answer is not valid JSON for the schema
└── FatalProviderError
    ├── ProviderRejected        400 invalid request, content policy: fails everywhere
    └── ProviderMisconfigured   401/403: skip this provider, tell the operator
"""

from __future__ import annotations

from lafactoria.errors import FatalProviderError, RetryableProviderError


class ProviderUnavailable(RetryableProviderError):
    code = "PROVIDER_UNAVAILABLE"


class ProviderTimeout(RetryableProviderError):
    code = "PROVIDER_TIMEOUT"


class ProviderRateLimited(RetryableProviderError):
    code = "PROVIDER_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutputTruncated(RetryableProviderError):
    code = "OUTPUT_TRUNCATED"


class OutputInvalid(RetryableProviderError):
    code = "OUTPUT_INVALID"


class ProviderRejected(FatalProviderError):
    code = "PROVIDER_REJECTED"


class ProviderMisconfigured(FatalProviderError):
    """Bad key or no access. Fatal for this provider only: failover skips to the next."""

    code = "PROVIDER_UNAVAILABLE"
