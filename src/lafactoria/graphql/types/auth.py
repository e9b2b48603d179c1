"""The viewer, API keys and authentication payload pieces."""

from __future__ import annotations

from datetime import datetime

import strawberry

from lafactoria.auth import models
from lafactoria.auth.tokens import API_KEY_PREFIX
from lafactoria.graphql.ids import encode_id
from lafactoria.graphql.types.common import Node


@strawberry.type(description="A La Factoria account.")
class User(Node):
    id: strawberry.ID
    email: str
    created_at: datetime

    @classmethod
    def from_model(cls, user: models.User) -> User:
        return cls(
            id=strawberry.ID(encode_id("User", user.id)),
            email=user.email,
            created_at=user.created_at,
        )


@strawberry.type(description="A long-lived credential for scripts and servers.")
class ApiKey(Node):
    id: strawberry.ID
    name: str
    display_prefix: str = strawberry.field(
        description="The start of the key, to recognise it; the secret is never shown again."
    )
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, key: models.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(encode_id("ApiKey", key.id)),
            name=key.name,
            display_prefix=f"{API_KEY_PREFIX}{key.prefix}_",
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
        )
