"""A small schema with every shape a compiled plan must get right, failures included: errors
in nullable and non-null positions (of fields and of list items), nulls where the schema
promises none, values a scalar cannot represent, async fields that data loaders batch,
lists of awaitables, ``is_type_of`` checks and abstract types (which plans leave to
graphql-core)."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named):
    rank: int | None


def _item(number: int) -> Item:
    return Item(id=strawberry.ID(f"item-{number}"), name=f"Item {number}", number=number)


@strawberry.type
class Item(Named):
    id: strawberry.ID
    number: int

    @strawberry.field
    def colour(self) -> Colour:
        return Colour.RED if self.number % 2 else Colour.GREEN

    @strawberry.field
    def created_at(self) -> datetime:
        return datetime(2026, 1, self.number % 28 + 1, tzinfo=UTC)

    @strawberry.field
    def tags(self) -> list[str]:
        return [f"t{index}" for index in range(self.number % 3)]

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError(f"broken {self.number}")

    @strawberry.field
    def required_broken(self) -> str:
        raise ValueError(f"required broken {self.number}")

    @strawberry.field
    def null_in_non_null(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def bad_int(self) -> int:
        return "not a number"  # type: ignore[return-value]

    @strawberry.field
    def maybe_bad_int(self) -> int | None:
        return 2**40  # beyond GraphQL's 32-bit Int

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]

    @strawberry.field
    def items_with_nulls(self) -> list[str | None]:
        return ["a", None, "c"]

    @strawberry.field
    def non_null_items_with_null(self) -> list[str] | None:
        return ["a", None]  # type: ignore[list-item]

    @strawberry.field
    async def later(self, info: strawberry.Info[Any, None]) -> Leaf:
        return await info.context["leaves"].load(self.number)

    @strawberry.field
    async def later_broken(self) -> Leaf | None:
        await asyncio.sleep(0)
        raise ValueError(f"later broken {self.number}")

    @strawberry.field
    async def later_required_broken(self) -> Leaf:
        await asyncio.sleep(0)
        raise ValueError(f"later required broken {self.number}")

    @strawberry.field
    def awaitable_items(self) -> list[str]:
        # Futures rather than coroutines: an executor may drop the items of a list that
        # another error nulled, and a dropped coroutine warns where a future does not.
        loop = asyncio.get_running_loop()
        items = []
        for text in ("x", "y"):
            future = loop.create_future()
            future.set_result(text)
            items.append(future)
        return items  # type: ignore[return-value]

    @strawberry.field
    def children(self, first: int = 2) -> list[Item]:
        return [_item(self.number * 10 + index) for index in range(first)]

    @strawberry.field
    def wrong_child(self) -> Item | None:
        return "not an item"  # type: ignore[return-value]

    @strawberry.field
    def best_leaf(self) -> Named:
        return Leaf(name=f"leaf {self.number}", rank=self.number)


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int = 3) -> list[Item]:
        return [_item(number) for number in range(1, first + 1)]

    @strawberry.field
    def item(self, number: int) -> Item | None:
        return _item(number) if number > 0 else None

    @strawberry.field
    def failing(self) -> Item:
        raise ValueError("the root failed")

    @strawberry.field
    async def slow_items(self, colour: Colour | None = None) -> list[Item | None]:
        await asyncio.sleep(0)
        return [_item(1), None, _item(3)]

    @strawberry.field
    def greeting(self, name: str = "world", shout: bool = False) -> str:
        text = f"hello {name}"
        return text.upper() if shout else text

    @strawberry.field
    def anything(self) -> Named | None:
        return _item(7)


async def _load_leaves(numbers: Sequence[int]) -> list[Leaf]:
    await asyncio.sleep(0)
    return [Leaf(name=f"leaf {number}", rank=None if number % 2 else number) for number in numbers]


def context() -> dict[str, Any]:
    return {"leaves": DataLoader(load_fn=_load_leaves)}


SCHEMA_TYPES = [Item, Leaf]
