"""The Strawberry schema, assembled with the limits and error handling settings ask for."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graphql import GraphQLError
from lafactoria.graphql.errors import ErrorCodes
from lafactoria.graphql.limits import QueryLimits
from lafactoria.graphql.mutations import Mutation
from lafactoria.graphql.prepared import PreparedDocuments, PreparedOperations
from lafactoria.graphql.queries import Query
from lafactoria.graphql.subscriptions import Subscription
from lafactoria.graphql.types.auth import ApiKey, User
from lafactoria.graphql.types.content import Content
from lafactoria.graphql.types.jobs import GenerationJob
from lafactoria.observability.graphql import OperationObserver
from lafactoria.settings import Settings

SCHEMA_HEADER = (
    "# Generated from the code by `lafactoria export-schema` - do not edit.\n"
    "# A test fails when this file and the code disagree.\n\n"
)


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: expected errors are answers, not incidents, and unexpected ones
        are logged once, with their correlation id, where they are masked (graphql.errors)."""


def build_schema(settings: Settings) -> strawberry.Schema:
    # Factories, not instances: Strawberry builds fresh extensions for every operation.
    extensions: list[Callable[[], SchemaExtension]] = [
        # Outermost, so it times everything and sees errors after ErrorCodes coded them.
        OperationObserver,
        partial(ErrorCodes, hide_suggestions=settings.is_production),
        # Parses, validates and compiles each distinct document once; before the limits,
        # which admit only validated operations.
        partial(
            PreparedOperations,
            documents=PreparedDocuments(hide_suggestions=settings.is_production),
            compile_queries=settings.graphql.compiled_queries,
        ),
        # Depth, aliases, root fields, tokens and cost, before anything executes.
        partial(QueryLimits, settings=settings.graphql, hide_suggestions=settings.is_production),
    ]
    if settings.is_production:
        extensions.append(partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Content, GenerationJob, ApiKey, User],
        extensions=extensions,
        config=StrawberryConfig(
            # A POSTed JSON array runs as a batch; the HTTP guard refuses longer ones first.
            batching_config={"max_operations": settings.graphql.max_batch_operations}
            if settings.graphql.max_batch_operations > 1
            else None
        ),
    )


def export_schema(settings: Settings) -> str:
    return SCHEMA_HEADER + build_schema(settings).as_str() + "\n"
