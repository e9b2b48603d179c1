"""The operation observer reports; it never changes what the client gets."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lafactoria.graphql.context import Context
from lafactoria.observability.graphql import _user_id


async def test_an_unexpected_failure_looking_up_the_user_is_not_the_result() -> None:
    async def authenticate(credential: str) -> Any:
        raise OverflowError("year 33658 is out of range")

    services: Any = SimpleNamespace(auth=SimpleNamespace(authenticate=authenticate))

    assert await _user_id(Context(services, "a.b.c")) is None
