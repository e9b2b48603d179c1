"""``GET /metrics``: the app's collectors in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lafactoria.observability.metrics import CONTENT_TYPE, Metrics


def build_metrics_router(metrics: Metrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", response_class=Response)
    async def scrape() -> Response:
        """Prometheus metrics: requests, GraphQL operations, jobs, providers, subscriptions."""
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return router
