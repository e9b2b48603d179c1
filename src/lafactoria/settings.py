"""Configuration: the one place that reads the environment.

Every field is documented in the README's settings table. Variables use the ``LAFACTORIA_``
prefix, nested sections use ``__`` (``LAFACTORIA_JOBS__CONCURRENCY=8``), and the SDKs' own
variables (``ANTHROPIC_API_KEY``, ``OPENAI_BASE_URL``...) work as their users expect.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    concurrency: int = Field(default=4, ge=1, le=256)
    """Generation jobs run at once by this process."""
    queue_size: int = Field(default=200, ge=1, le=100_000)
    """Jobs waiting beyond this are refused with ``LIMIT_EXCEEDED`` instead of piling up."""
    event_retention_seconds: float = Field(default=3600.0, ge=0)
    """How long a finished job's event log stays in memory for replay."""


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


class GraphQLSettings(BaseModel):
    max_page_size: int = Field(default=100, ge=1, le=1000)
    """Largest ``first`` accepted by connections."""
    max_depth: int = Field(default=12, ge=2)
    """Deepest selection accepted."""
    graphiql: bool | None = None
    """GraphiQL at ``/graphql``; defaults to on outside production."""


class Settings(BaseSettings):
    """The whole configuration; ``create_app(settings)`` takes one of these."""

    model_config = SettingsConfigDict(
        env_prefix="LAFACTORIA_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    env: Environment = Environment.DEVELOPMENT
    """``development`` (GraphiQL, detailed errors) or ``production`` (hardened)."""
    data_dir: Path = Path(".lafactoria")
    """Directory for the embedded SQLite database and the generated development secret."""
    database_url: str | None = None
    """SQLAlchemy URL; unset means SQLite in ``data_dir``."""
    secret_key: SecretStr | None = None
    """Signs access tokens. Required (32+ chars) in production; generated in development."""
    host: str = "127.0.0.1"
    """Interface ``lafactoria serve`` binds to."""
    port: int = Field(default=8000, ge=0, le=65535)
    """Port ``lafactoria serve`` listens on."""
    log_level: str = "info"
    """Minimum level of the JSON log lines."""
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated browser origins allowed to call the API (none by default)."""

    providers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Failover order, e.g. ``anthropic,openai,offline``. Default: every provider with a key,
    then ``offline``; ``offline`` alone when no key is set."""
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

    auth: AuthSettings = Field(default_factory=AuthSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    timeouts: ProviderTimeouts = Field(default_factory=ProviderTimeouts)
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)

    @field_validator("cors_origins", "providers", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in KNOWN_PROVIDERS]
        if unknown:
            raise ValueError(f"unknown providers {unknown}; choose from {list(KNOWN_PROVIDERS)}")
        return value

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
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'lafactoria.db'}"

    @property
    def provider_order(self) -> list[str]:
        """The failover order: as configured, or every provider that has a key, then offline."""
        if self.providers:
            return list(self.providers)
        order = []
        if self.anthropic_api_key:
            order.append("anthropic")
        if self.openai_api_key:
            order.append("openai")
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
