"""The Strawberry schema, assembled with the limits and error handling settings ask for."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, QueryDepthLimiter, SchemaExtension

from lafactoria.graphql.errors import ErrorCodes
from lafactoria.graphql.mutations import Mutation
from lafactoria.graphql.queries import Query
from lafactoria.graphql.subscriptions import Subscription
from lafactoria.graphql.types.auth import ApiKey, User
from lafactoria.graphql.types.content import Content
from lafactoria.graphql.types.jobs import GenerationJob
from lafactoria.settings import Settings

SCHEMA_HEADER = (
    "# Generated from the code by `lafactoria export-schema` - do not edit.\n"
    "# A test fails when this file and the code disagree.\n\n"
)


def build_schema(settings: Settings) -> strawberry.Schema:
    # Factories, not instances: Strawberry builds fresh extensions for every operation.
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(ErrorCodes, hide_suggestions=settings.is_production),
        partial(QueryDepthLimiter, max_depth=settings.graphql.max_depth),
    ]
    if settings.is_production:
        extensions.append(partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Content, GenerationJob, ApiKey, User],
        extensions=extensions,
    )


def export_schema(settings: Settings) -> str:
    return SCHEMA_HEADER + build_schema(settings).as_str() + "\n"
