"""Scenario 1's stock baseline: the same app, plus a stock Strawberry ``GraphQLRouter`` at
``/stock/graphql`` over the very same resolvers and context, with nothing tuned — no
extensions (so no prepared documents, compiled plans, limits or error coding), Strawberry's
defaults everywhere.

    python -m bench.stock --port 8124      # settings from LAFACTORIA_* as for `serve`
"""

from __future__ import annotations

import argparse

import strawberry
import uvicorn
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter

from lafactoria.app import create_app
from lafactoria.cli.common import load_settings
from lafactoria.cli.database import prepare_schema
from lafactoria.graphql.mutations import Mutation
from lafactoria.graphql.queries import Query
from lafactoria.graphql.router import graphql_context
from lafactoria.graphql.subscriptions import Subscription
from lafactoria.graphql.types.auth import ApiKey, User
from lafactoria.graphql.types.content import Content
from lafactoria.graphql.types.jobs import GenerationJob
from lafactoria.logging import configure_logging

PATH = "/stock/graphql"


def mount_stock_router(app: FastAPI) -> None:
    """Add the stock router at :data:`PATH` to an app ``create_app`` built."""
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Content, GenerationJob, ApiKey, User],
    )
    app.include_router(GraphQLRouter(schema, context_getter=graphql_context), prefix=PATH)


def build_app() -> FastAPI:
    settings = prepare_schema(load_settings())
    configure_logging(settings.log_level)
    app = create_app(settings)
    mount_stock_router(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    # The options `lafactoria serve` runs uvicorn with, so only the GraphQL setup differs.
    uvicorn.run(
        build_app(),
        host="127.0.0.1",
        port=arguments.port,
        log_config=None,
        proxy_headers=False,
        access_log=False,
        ws="websockets-sansio",
    )


if __name__ == "__main__":
    main()
