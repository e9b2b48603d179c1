"""The GraphQL transport: Strawberry types, resolvers and the FastAPI router."""
