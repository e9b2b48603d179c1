"""Building providers from settings: OpenAI-compatible servers as named providers."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from lafactoria.providers.base import Completion, GenerationRequest
from lafactoria.providers.offline import OfflineProvider
from lafactoria.providers.openai import OpenAIProvider
from lafactoria.providers.registry import build_providers
from lafactoria.settings import Settings
from tests.support.emulator import DEFAULT_ANSWER, Emulator

REQUEST = GenerationRequest(
    system="You write study guides.",
    prompt="Photosynthesis.",
    schema_name="study_guide",
    json_schema={"type": "object"},
    max_tokens=256,
)


def settings_from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


async def test_a_compatible_server_is_a_named_provider_without_an_openai_key(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    servers = [{"name": "ollama", "base_url": emulator.openai_base_url, "model": "llama3.2"}]
    settings = settings_from_env(
        monkeypatch,
        LAFACTORIA_PROVIDERS="ollama,offline",
        LAFACTORIA_COMPATIBLE_PROVIDERS=json.dumps(servers),
    )

    providers = build_providers(settings)
    try:
        assert [p.name for p in providers] == ["ollama", "offline"]
        ollama = providers[0]
        assert isinstance(ollama, OpenAIProvider)
        assert isinstance(providers[1], OfflineProvider)
        chunks = [chunk async for chunk in ollama.stream(REQUEST)]
    finally:
        for provider in providers:
            await provider.aclose()

    completion = chunks[-1]
    assert isinstance(completion, Completion)
    assert completion.text == DEFAULT_ANSWER
    (call,) = emulator.calls
    assert (call.path, call.model) == ("/v1/chat/completions", "llama3.2")
    # A local server gets the classic parameter, and only a placeholder for a key.
    assert call.body["max_tokens"] == 256
    assert call.headers["authorization"] == "Bearer not-needed"


def test_compatible_servers_join_the_default_order(monkeypatch: pytest.MonkeyPatch) -> None:
    servers = [
        {"name": "vllm", "base_url": "http://gpu-box:8000/v1", "model": "qwen", "api_key": "k" * 12}
    ]
    settings = settings_from_env(
        monkeypatch,
        OPENAI_API_KEY="sk-test-0123456789",
        LAFACTORIA_COMPATIBLE_PROVIDERS=json.dumps(servers),
    )

    assert settings.provider_order == ["openai", "vllm", "offline"]
    assert "k" * 12 not in repr(settings)


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        ([{"name": "openai", "base_url": "http://x/v1", "model": "m"}], "new and unique"),
        (
            [
                {"name": "local", "base_url": "http://x/v1", "model": "m"},
                {"name": "local", "base_url": "http://y/v1", "model": "n"},
            ],
            "new and unique",
        ),
        ([{"name": "Bad Name", "base_url": "http://x/v1", "model": "m"}], "pattern"),
        ([{"name": "local", "model": "m"}], "base_url"),
    ],
)
def test_bad_compatible_servers_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, servers: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings_from_env(monkeypatch, LAFACTORIA_COMPATIBLE_PROVIDERS=json.dumps(servers))


def test_an_unknown_name_in_the_order_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="unknown providers"):
        settings_from_env(monkeypatch, LAFACTORIA_PROVIDERS="ollama,offline")


def test_a_named_provider_without_a_key_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from_env(monkeypatch, LAFACTORIA_PROVIDERS="anthropic,offline")

    with capture_logs() as logs:
        providers = build_providers(settings)

    assert [p.name for p in providers] == ["offline"]
    assert {"event": "provider_not_configured", "provider": "anthropic"}.items() <= logs[0].items()


def test_the_failover_policy_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_from_env(
        monkeypatch,
        LAFACTORIA_FAILOVER__MAX_ATTEMPTS="4",
        LAFACTORIA_FAILOVER__BREAKER_THRESHOLD="2",
        LAFACTORIA_FAILOVER__BREAKER_COOLDOWN_SECONDS="7.5",
    )

    assert settings.failover.max_attempts == 4
    assert settings.failover.breaker_threshold == 2
    assert settings.failover.breaker_cooldown_seconds == 7.5
    assert settings.failover.retries_per_provider == 1
