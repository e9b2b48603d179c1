"""Types shared across the schema: enums, the Node interface, paging and user errors."""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from lafactoria.content.enums import AudienceLevel as DomainAudienceLevel
from lafactoria.content.enums import ContentType as DomainContentType
from lafactoria.errors import LaFactoriaError
from lafactoria.events.models import EventKind
from lafactoria.generation.models import JobStatus as DomainJobStatus
from lafactoria.graphql.errors import domain_code

ContentType = strawberry.enum(DomainContentType, name="ContentType")
AudienceLevel = strawberry.enum(DomainAudienceLevel, name="AudienceLevel")
JobStatus = strawberry.enum(DomainJobStatus, name="JobStatus")
GenerationEventKind = strawberry.enum(EventKind, name="GenerationEventKind")


@strawberry.enum
class UserErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type(description="An expected failure of a mutation, with the input it concerns.")
class UserError:
    message: str
    code: UserErrorCode
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, when one is."
    )

    @classmethod
    def from_error(cls, error: LaFactoriaError) -> UserError:
        code = domain_code(error)
        return cls(
            message=error.message,
            code=UserErrorCode.INVALID_INPUT if code == "BAD_USER_INPUT" else UserErrorCode(code),
            field=error.field,
        )


# Errors a mutation reports in its payload; anything else (authentication, malformed IDs,
# bugs) is a top-level error.
PAYLOAD_ERRORS = {code.value for code in UserErrorCode} | {"BAD_USER_INPUT"}


def is_payload_error(error: LaFactoriaError) -> bool:
    return domain_code(error) in PAYLOAD_ERRORS


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    counted: strawberry.Private[int | None]

    @strawberry.field
    def total_count(self) -> int:
        if self.counted is None:
            # The resolver counts whenever the selection names totalCount (selects_field).
            raise RuntimeError("totalCount was selected but not counted")
        return self.counted


def selects_field(info: strawberry.Info[Any, Any], name: str) -> bool:
    """Whether the field being resolved selects ``name`` (directly or in a fragment), so
    that work only that field needs can be left out when it is not asked for."""

    def among(selections: list[Selection]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField) and selection.name == name:
                return True
            if isinstance(selection, FragmentSpread | InlineFragment) and among(
                selection.selections
            ):
                return True
        return False

    return any(among(field.selections) for field in info.selected_fields)
