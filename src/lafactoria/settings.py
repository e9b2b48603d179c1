"""Configuration: the one place that reads the environment.

Every field is documented in the README's settings table. Variables use the ``LAFACTORIA_``
prefix, nested sections use ``__`` (``LAFACTORIA_JOBS__CONCURRENCY=8``), and the SDKs' own
variables (``ANTHROPIC_API_KEY``, ``OPENAI_BASE_URL``...) work as their users expect.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lafactoria.db.engine import normalize_url

KNOWN_PROVIDERS = ("anthropic", "openai", "offline")
_SECRET_FILE_NAME = "secret_key"  # noqa: S105 -- a file name, not a secret
_MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class AuthSettings(BaseModel):
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """Lifetime of a login access token; short so a stolen token is soon useless."""
    jwt_issuer: str = "lafactoria"
    """``iss`` claim written and required on every access token."""
    jwt_audience: str = "lafactoria-api"
    """``aud`` claim written and required on every access token."""
    min_password_length: int = Field(default=10, ge=8, le=128)
    """Shortest password accepted at registration."""


class JobSettings(BaseModel):
    # A running job mostly waits on its provider's stream, so one process can hold a thousand
    # or more (the fan-out benchmark runs 1,000); the cap only catches a mistyped value. Each
    # job holds one provider connection, and the SDKs pool 1,000 per provider.
    concurrency: int = Field(default=4, ge=1, le=4096)
    """Generation jobs run at once by this process."""
    queue_size: int = Field(default=200, ge=1, le=100_000)
    """Jobs waiting beyond this are refused with ``LIMIT_EXCEEDED`` instead of piling up."""
    event_retention_seconds: float = Field(default=3600.0, ge=0)
    """How long a finished job's event log stays replayable (in memory, or in Redis)."""
    lease_seconds: float = Field(default=30.0, ge=0.5, le=3600)
    """How long a worker's claim on a running job holds without renewal (renewed every
    third of it): a worker that dies loses its jobs to the others after this long."""
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=3600)
    """On shutdown, how long running jobs may take to finish before they are handed back
    to the queue for another process (or the next start) to run."""


class ProviderTimeouts(BaseModel):
    connect_seconds: float = Field(default=10.0, gt=0)
    """TCP/TLS connect deadline for one attempt."""
    first_token_seconds: float = Field(default=60.0, gt=0)
    """Deadline for the first streamed token of one attempt."""
    idle_seconds: float = Field(default=30.0, gt=0)
    """Longest silence allowed between two streamed chunks."""
    attempt_seconds: float = Field(default=180.0, gt=0)
    """Total deadline of one provider attempt."""
    job_seconds: float = Field(default=600.0, gt=0)
    """Total deadline of a job across every attempt and provider."""


class FailoverSettings(BaseModel):
    """The one retry policy: the SDKs never retry on their own, this decides every call."""

    max_attempts: int = Field(default=8, ge=1, le=50)
    """Provider calls one job may make in all: retries, repairs and failovers included."""
    retries_per_provider: int = Field(default=1, ge=0, le=5)
    """Extra calls to the same provider after a quick transient failure (5xx, overloaded, 429,
    a cut or malformed stream) before moving on; timeouts move on at once."""
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    """Wait before retrying the same provider; doubles per retry, with jitter."""
    max_retry_after_seconds: float = Field(default=30.0, ge=0)
    """Longest ``Retry-After`` honoured by waiting; a longer one moves on to the next provider."""
    breaker_threshold: int = Field(default=5, ge=1, le=1000)
    """Consecutive failures that open a provider's circuit."""
    breaker_cooldown_seconds: float = Field(default=30.0, gt=0)
    """How long an open circuit skips its provider before one probe call is let through."""


class CompatibleProvider(BaseModel):
    """An OpenAI-compatible server (Ollama, vLLM, LM Studio) used as a provider of its own."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    """The name used in ``LAFACTORIA_PROVIDERS``, attempt traces and ``Content.provider``."""
    base_url: str = Field(min_length=1)
    """The server's OpenAI API root, e.g. ``http://localhost:11434/v1``."""
    model: str = Field(min_length=1)
    """The model the server should run."""
    api_key: SecretStr | None = None
    """Only for servers that check one; local servers usually do not."""


class GraphQLSettings(BaseModel):
    max_page_size: int = Field(default=100, ge=1, le=1000)
    """Largest ``first`` accepted by connections."""
    max_depth: int = Field(default=12, ge=2)
    """Deepest selection accepted."""
    graphiql: bool | None = None
    """GraphiQL at ``/graphql``; defaults to on outside production."""
    connection_init_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """A WebSocket that sends no ``connection_init`` within this is closed (4408)."""
    max_subscriptions_per_connection: int = Field(default=20, ge=1, le=1000)
    """Operations one WebSocket may run at once."""
    keep_alive_seconds: float = Field(default=15.0, gt=0)
    """Interval of the server's keep-alive pings on idle WebSockets."""
    credential_check_seconds: float = Field(default=30.0, gt=0)
    """How often a live subscription re-checks that its API key or account still holds; an
    access token's expiry is enforced to the second."""
    max_aliases: int = Field(default=30, ge=1, le=10_000)
    """Most aliases in one document (``QUERY_TOO_COMPLEX``, reason ``ALIASES``)."""
    max_root_fields: int = Field(default=10, ge=1, le=1000)
    """Most root fields one operation selects (reason ``ROOT_FIELDS``)."""
    max_tokens: int = Field(default=2000, ge=100, le=1_000_000)
    """Most lexical tokens in one document; parsing stops past it (reason ``TOKENS``)."""
    max_query_cost: int = Field(default=1000, ge=1)
    """Highest static cost of one operation (reason ``COST``); see docs/security.md."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body (or WebSocket message) at ``/graphql`` (reason ``BODY_SIZE``)."""
    max_batch_operations: int = Field(default=10, ge=1, le=100)
    """Most operations in one batched POST (a JSON array); 1 turns batching off."""
    compiled_queries: bool = True
    """Run queries through compiled plans (``lafactoria.graphql.plans``); off, graphql-core
    executes every operation. The results are the same either way."""


class LimitSettings(BaseModel):
    """Rate limits and quotas; over one, a request gets ``RATE_LIMITED`` with ``retryAfter``."""

    storage_uri: str = "memory://"
    """Where counters live, as a ``limits`` storage URI: ``memory://`` (this process) or
    ``redis://host:6379`` (shared by every process). Left unset while ``redis_url`` is set,
    the counters use that Redis."""
    login_attempts_per_account: int = Field(default=10, ge=1)
    """Failed logins allowed per email address within ``login_window_seconds``."""
    login_attempts_per_client: int = Field(default=50, ge=1)
    """Failed logins allowed per client address within ``login_window_seconds``."""
    login_window_seconds: int = Field(default=900, ge=1)
    """The window the two login limits count in."""
    generations_per_minute: int = Field(default=20, ge=1)
    """Generation jobs one user may start per minute (bulk requests count every topic)."""
    generations_per_day: int = Field(default=200, ge=1)
    """Generation jobs one user may start per day."""
    query_cost_budget: int = Field(default=2000, ge=1)
    """Cost points a user may spend; it refills over ``query_cost_window_seconds``."""
    query_cost_window_seconds: int = Field(default=60, ge=1)
    """Time for an empty cost budget to refill completely."""

    @classmethod
    def unthrottled(cls) -> LimitSettings:
        """Quotas too large to reach: the default of ``LAFACTORIA_ENV=test``."""
        return cls(
            generations_per_minute=1_000_000,
            generations_per_day=1_000_000,
            query_cost_budget=1_000_000_000,
        )


class Settings(BaseSettings):
    """The whole configuration; ``create_app(settings)`` takes one of these."""

    model_config = SettingsConfigDict(
        env_prefix="LAFACTORIA_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        # A rejected value may be a URL with a password or an API key: errors name the
        # setting and the reason, never the value.
        hide_input_in_errors=True,
    )

    env: Environment = Environment.DEVELOPMENT
    """``development`` (GraphiQL, detailed errors) or ``production`` (hardened)."""
    data_dir: Path = Path(".lafactoria")
    """Directory for the embedded SQLite database and the generated development secret."""
    database_url: str | None = None
    """``postgresql://user:password@host/name`` (used through asyncpg) or
    ``sqlite:///path``; unset means SQLite in ``data_dir``."""
    auto_migrate: bool = True
    """Apply pending schema migrations at start-up. Turn off when deployments run
    ``lafactoria db upgrade`` as their own step; start-up then refuses an outdated schema."""
    redis_url: SecretStr | None = None
    """``redis://…``: scale out. Jobs go through a Redis queue to ``lafactoria worker``
    processes, job events and rate-limit counters live in Redis. Unset: one process."""
    redis_prefix: str = Field(default="lafactoria", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    """Start of every Redis key and channel La Factoria uses, so deployments (or test runs)
    can share one Redis database."""
    secret_key: SecretStr | None = None
    """Signs access tokens. Required (32+ chars) in production; generated in development."""
    host: str = "127.0.0.1"
    """Interface ``lafactoria serve`` binds to."""
    port: int = Field(default=8000, ge=0, le=65535)
    """Port ``lafactoria serve`` listens on."""
    log_level: str = "info"
    """Minimum level of the JSON log lines."""
    api_docs: bool | None = None
    """The REST API's ``/openapi.json``, ``/docs`` and ``/redoc``; defaults to on outside
    production (they map the whole attack surface for anyone who asks)."""
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated browser origins allowed to call the API (none by default)."""
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated addresses or networks (``10.0.0.0/8``) of reverse proxies whose
    ``X-Forwarded-For`` names the client; from any other peer the header is ignored."""

    providers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Failover order, e.g. ``anthropic,openai,offline``. Default: every provider with a key,
    then the compatible providers, then ``offline``; ``offline`` alone when none is set."""
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("LAFACTORIA_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    anthropic_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LAFACTORIA_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL"),
    )
    anthropic_model: str = "claude-sonnet-4-5"
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("LAFACTORIA_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("LAFACTORIA_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_model: str = "gpt-4o-mini"
    max_output_tokens: int = Field(default=8192, ge=256, le=200_000)
    """Token budget asked of a provider for one answer."""
    compatible_providers: list[CompatibleProvider] = Field(default_factory=list)
    """OpenAI-compatible servers as named providers, as JSON: ``[{"name": "ollama",
    "base_url": "http://localhost:11434/v1", "model": "llama3.2"}]``."""

    auth: AuthSettings = Field(default_factory=AuthSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    timeouts: ProviderTimeouts = Field(default_factory=ProviderTimeouts)
    failover: FailoverSettings = Field(default_factory=FailoverSettings)
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)

    @field_validator("cors_origins", "providers", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_redis_url_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if not value:
            return None
        return normalize_url(value).render_as_string(hide_password=False)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted proxy {entry!r} is not an address or network") from exc
        return value

    @model_validator(mode="after")
    def _unthrottled_in_tests(self) -> Settings:
        if self.env is Environment.TEST and "limits" not in self.model_fields_set:
            # Test suites run hundreds of jobs a minute as one user; tests of the limits
            # themselves configure them explicitly.
            self.limits = LimitSettings.unthrottled()
        return self

    @model_validator(mode="after")
    def _one_query_fits_the_budget(self) -> Settings:
        if self.graphql.max_query_cost > self.limits.query_cost_budget:
            raise ValueError("graphql.max_query_cost must not exceed limits.query_cost_budget")
        return self

    @model_validator(mode="after")
    def _known_providers(self) -> Settings:
        compatible = [provider.name for provider in self.compatible_providers]
        clashes = sorted({n for n in compatible if n in KNOWN_PROVIDERS or compatible.count(n) > 1})
        if clashes:
            raise ValueError(f"compatible provider names must be new and unique: {clashes}")
        known = [*KNOWN_PROVIDERS, *compatible]
        unknown = [name for name in self.providers if name not in known]
        if unknown:
            raise ValueError(f"unknown providers {unknown}; choose from {known}")
        return self

    @model_validator(mode="after")
    def _production_is_hardened(self) -> Settings:
        if self.env is not Environment.PRODUCTION:
            return self
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(secret) < _MIN_SECRET_LENGTH or len(set(secret)) < 8:
            raise ValueError(
                "LAFACTORIA_SECRET_KEY must be set to a random value of at least "
                f"{_MIN_SECRET_LENGTH} characters in production"
            )
        if "*" in self.cors_origins:
            raise ValueError("wildcard CORS origins are refused in production")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def graphiql_enabled(self) -> bool:
        if self.graphql.graphiql is None:
            return not self.is_production
        return self.graphql.graphiql

    @property
    def api_docs_enabled(self) -> bool:
        if self.api_docs is None:
            return not self.is_production
        return self.api_docs

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'lafactoria.db'}"

    @property
    def rate_limit_storage_uri(self) -> str:
        """Where rate-limit counters live: as configured, else the shared Redis if there is
        one, so that limits hold across processes without a second setting."""
        if self.redis_url is not None and "storage_uri" not in self.limits.model_fields_set:
            return self.redis_url.get_secret_value()
        return self.limits.storage_uri

    @property
    def provider_order(self) -> list[str]:
        """The failover order: as configured, or every provider that has a key, then the
        compatible servers, then offline."""
        if self.providers:
            return list(self.providers)
        order = []
        if self.anthropic_api_key:
            order.append("anthropic")
        if self.openai_api_key:
            order.append("openai")
        order.extend(provider.name for provider in self.compatible_providers)
        order.append("offline")
        return order

    def signing_secret(self) -> str:
        """The JWT secret; in development one is generated once and kept in ``data_dir``."""
        if self.secret_key:
            return self.secret_key.get_secret_value()
        path = self.data_dir / _SECRET_FILE_NAME
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(secret)
        return secret


# ``LAFACTORIA_`` variables that are not server settings: the CLI client's and the tests'.
_OTHER_VARIABLES = ("LAFACTORIA_URL", "LAFACTORIA_API_KEY")
_OTHER_PREFIXES = ("LAFACTORIA_TEST_",)


def unknown_variables() -> list[str]:
    """``LAFACTORIA_*`` environment variables that name no setting.

    pydantic-settings ignores them, so a misspelt name (``LAFACTORIA_JOBS__LEASE_SECOND``)
    would silently leave its setting at the default; start-up reports them instead.
    """
    prefix = "LAFACTORIA_"
    known = set(_OTHER_VARIABLES)
    for name, field in Settings.model_fields.items():
        known.add(f"{prefix}{name.upper()}")
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            known.update(f"{prefix}{name.upper()}__{sub.upper()}" for sub in section.model_fields)
    return sorted(
        name
        for name in os.environ
        if name.upper().startswith(prefix)
        and name.upper() not in known
        and not name.upper().startswith(_OTHER_PREFIXES)
    )
