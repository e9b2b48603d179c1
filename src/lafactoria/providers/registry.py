"""Builds the configured provider chain from settings."""

from __future__ import annotations

from lafactoria.providers.base import Provider
from lafactoria.providers.offline import OfflineProvider
from lafactoria.settings import Settings

# Lets a person watching `make run` see the answer stream in instead of arriving at once.
_OFFLINE_CHUNK_DELAY_SECONDS = 0.01


def build_providers(settings: Settings) -> list[Provider]:
    """One adapter per name in ``settings.provider_order``; a name without a key is skipped."""
    providers: list[Provider] = []
    for name in settings.provider_order:
        # The SDKs are imported only when configured: together they add seconds to start-up.
        if name == "anthropic" and settings.anthropic_api_key:
            from lafactoria.providers.anthropic import AnthropicProvider

            providers.append(
                AnthropicProvider(
                    model=settings.anthropic_model,
                    api_key=settings.anthropic_api_key.get_secret_value(),
                    base_url=settings.anthropic_base_url,
                    timeouts=settings.timeouts,
                )
            )
        elif name == "openai" and settings.openai_api_key:
            from lafactoria.providers.openai import OpenAIProvider

            providers.append(
                OpenAIProvider(
                    model=settings.openai_model,
                    api_key=settings.openai_api_key.get_secret_value(),
                    base_url=settings.openai_base_url,
                    timeouts=settings.timeouts,
                )
            )
        elif name == "offline":
            delay = 0.0 if settings.env == "test" else _OFFLINE_CHUNK_DELAY_SECONDS
            providers.append(OfflineProvider(chunk_delay=delay))
    if not providers:
        providers.append(OfflineProvider())
    return providers
