"""Builds the configured provider chain from settings."""

from __future__ import annotations

import structlog

from lafactoria.providers.base import Provider
from lafactoria.providers.offline import OfflineProvider
from lafactoria.settings import Settings

log = structlog.get_logger(__name__)

# Lets a person watching `make run` see the answer stream in instead of arriving at once.
_OFFLINE_CHUNK_DELAY_SECONDS = 0.01


def build_providers(settings: Settings) -> list[Provider]:
    """One adapter per name in ``settings.provider_order``; a name without a key is skipped.

    OpenAI-compatible servers (``settings.compatible_providers``) are providers of their own,
    under their own names, and need no key.
    """
    compatible = {provider.name: provider for provider in settings.compatible_providers}
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
        elif name in compatible:
            from lafactoria.providers.openai import OpenAIProvider

            server = compatible[name]
            providers.append(
                OpenAIProvider(
                    name=name,
                    model=server.model,
                    api_key=server.api_key.get_secret_value() if server.api_key else "",
                    base_url=server.base_url,
                    timeouts=settings.timeouts,
                )
            )
        elif name == "offline":
            delay = 0.0 if settings.env == "test" else _OFFLINE_CHUNK_DELAY_SECONDS
            providers.append(OfflineProvider(chunk_delay=delay))
        else:
            # Named in LAFACTORIA_PROVIDERS but without a key: say so rather than drop it quietly.
            log.warning("provider_not_configured", provider=name, reason="no API key is set")
    if not providers:
        providers.append(OfflineProvider())
    return providers
