"""The services a transport may call, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from lafactoria.auth.service import AuthService
from lafactoria.content.service import ContentService
from lafactoria.generation.service import GenerationService
from lafactoria.ratelimit import RateLimits
from lafactoria.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    auth: AuthService
    content: ContentService
    generation: GenerationService
    limits: RateLimits
