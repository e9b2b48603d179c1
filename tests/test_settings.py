"""Settings: environment variables, provider order and production hardening."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lafactoria.settings import Settings, unknown_variables

STRONG_SECRET = "b8c1f0e2a9d34c7f8e6a5b4c3d2e1f0a9b8c7d6e5f4"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_no_keys_means_the_offline_provider_alone() -> None:
    assert Settings(_env_file=None).provider_order == ["offline"]


def test_sdk_variables_are_read_and_ordered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")

    settings = Settings(_env_file=None)

    assert settings.provider_order == ["anthropic", "openai", "offline"]
    assert settings.openai_base_url == "http://127.0.0.1:11434/v1"
    assert settings.anthropic_api_key is not None
    assert "sk-ant-test" not in repr(settings)


def test_explicit_provider_order_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAFACTORIA_PROVIDERS", "openai, offline")

    assert Settings(_env_file=None).provider_order == ["openai", "offline"]


def test_unknown_provider_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAFACTORIA_PROVIDERS", "anthropic,skynet")

    with pytest.raises(ValidationError, match="unknown providers"):
        Settings(_env_file=None)


def test_nested_sections_use_double_underscores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAFACTORIA_JOBS__CONCURRENCY", "9")

    assert Settings(_env_file=None).jobs.concurrency == 9


@pytest.mark.parametrize("secret", [None, "short", "a" * 64])
def test_production_refuses_a_missing_or_weak_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="LAFACTORIA_SECRET_KEY"):
        Settings(_env_file=None, env="production", secret_key=secret)


def test_production_refuses_wildcard_cors() -> None:
    with pytest.raises(ValidationError, match="wildcard CORS"):
        Settings(_env_file=None, env="production", secret_key=STRONG_SECRET, cors_origins="*")


def test_production_hides_graphiql() -> None:
    settings = Settings(_env_file=None, env="production", secret_key=STRONG_SECRET)

    assert settings.graphiql_enabled is False


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(_env_file=None, data_dir=tmp_path).signing_secret()
    second = Settings(_env_file=None, data_dir=tmp_path).signing_secret()

    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_refused_value_is_not_repeated_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAFACTORIA_DATABASE_URL", "mysql://app:hunter2-secret@db/lafactoria")

    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)

    assert "database_url" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_misspelt_variables_are_named_and_real_ones_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAFACTORIA_JOBS__LEASE_SECOND", "5")
    monkeypatch.setenv("LAFACTORIA_REDIS_PREFX", "x")
    monkeypatch.setenv("LAFACTORIA_JOBS__LEASE_SECONDS", "5")
    monkeypatch.setenv("LAFACTORIA_REDIS_PREFIX", "x")
    monkeypatch.setenv("LAFACTORIA_GRAPHQL", "{}")
    monkeypatch.setenv("LAFACTORIA_API_KEY", "lf_for_the_cli")

    unknown = unknown_variables()

    assert "LAFACTORIA_JOBS__LEASE_SECOND" in unknown
    assert "LAFACTORIA_REDIS_PREFX" in unknown
    assert not {
        "LAFACTORIA_JOBS__LEASE_SECONDS",
        "LAFACTORIA_REDIS_PREFIX",
        "LAFACTORIA_GRAPHQL",
        "LAFACTORIA_API_KEY",
    } & set(unknown)
