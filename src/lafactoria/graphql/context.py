"""The typed per-request (per-connection for WebSockets) GraphQL context."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from lafactoria.auth.service import Principal
from lafactoria.content.models import Content
from lafactoria.errors import Unauthenticated
from lafactoria.generation.models import GenerationJob
from lafactoria.services import Services

_BEARER = "bearer "


def bearer_credential(header: str | None) -> str | None:
    """The credential in ``Authorization: Bearer <token>``; anything else counts as absent."""
    if not header or header[: len(_BEARER)].lower() != _BEARER:
        return None
    credential = header[len(_BEARER) :].strip()
    return credential or None


class Context(BaseContext):
    def __init__(
        self, services: Services, credential: str | None, *, client_address: str | None = None
    ) -> None:
        super().__init__()
        self.services = services
        self.credential = credential
        self.client_address = client_address
        """The caller's address as rate limits see it (``lafactoria.http.client``)."""
        self._principal: Principal | None = None

    async def authenticate(self) -> Principal | None:
        """Resolve the credential once; ``None`` when there is none."""
        if self._principal is None and self.credential is not None:
            self._principal = await self.services.auth.authenticate(self.credential)
        return self._principal

    async def require_principal(self) -> Principal:
        principal = await self.authenticate()
        if principal is None:
            raise Unauthenticated("authentication required: send Authorization: Bearer <token>")
        return principal

    async def user_id(self) -> str:
        return (await self.require_principal()).user.id

    @cached_property
    def content_loader(self) -> DataLoader[str, Content | None]:
        async def load(ids: Sequence[str]) -> list[Content | None]:
            found = await self.services.content.get_many(
                user_id=await self.user_id(), content_ids=list(ids)
            )
            return [found.get(content_id) for content_id in ids]

        return DataLoader(load_fn=load)

    @cached_property
    def job_loader(self) -> DataLoader[str, GenerationJob | None]:
        async def load(ids: Sequence[str]) -> list[GenerationJob | None]:
            found = await self.services.generation.get_jobs(
                user_id=await self.user_id(), job_ids=list(ids)
            )
            return [found.get(job_id) for job_id in ids]

        return DataLoader(load_fn=load)
