"""Queries for users and API keys. Repositories never commit; services own transactions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from lafactoria.auth.models import ApiKey, User


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.exec(select(User).where(User.email == email))
    return result.first()


async def get_api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    result = await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))
    return result.first()


async def get_api_key(session: AsyncSession, *, user_id: str, key_id: str) -> ApiKey | None:
    result = await session.exec(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
    )
    return result.first()


async def list_api_keys(session: AsyncSession, *, user_id: str) -> list[ApiKey]:
    result = await session.exec(
        select(ApiKey)
        .where(ApiKey.user_id == user_id)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    )
    return list(result.all())


async def touch_api_key(session: AsyncSession, *, key_id: str, used_at: datetime) -> None:
    await session.exec(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=used_at))
