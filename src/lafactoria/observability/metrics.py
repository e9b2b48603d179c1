"""The Prometheus collectors of one app, scraped at ``/metrics``.

Every app gets its own ``CollectorRegistry``: the process-wide default registry refuses a
second collector with the same name, and tests (or a process embedding two apps) build many.
Label values that clients choose (operation names) are bounded so a client cannot grow the
registry without limit.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format every Prometheus version scrapes."""

# Distinct operation names kept as label values; later ones are counted as "other".
MAX_OPERATION_NAMES = 200
_MAX_NAME_LENGTH = 64
_TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


class Metrics:
    """Collectors for requests, GraphQL operations, jobs, providers and subscriptions."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "lafactoria_http_requests",
            "HTTP requests and WebSocket connections, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "lafactoria_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template (subscriptions excluded).",
            ["method", "route"],
            registry=self.registry,
        )
        self.operations = Counter(
            "lafactoria_graphql_operations",
            "GraphQL operations by name, type and outcome (ok or the first error's code).",
            ["operation", "type", "outcome"],
            registry=self.registry,
        )
        self.operation_duration = Histogram(
            "lafactoria_graphql_operation_duration_seconds",
            "Time to run a GraphQL query or mutation (subscriptions last as long as clients "
            "want, so they are not timed).",
            ["operation", "type"],
            registry=self.registry,
        )
        self.subscriptions_open = Gauge(
            "lafactoria_graphql_subscriptions_open",
            "GraphQL subscriptions streaming right now.",
            registry=self.registry,
        )
        self.jobs = Counter(
            "lafactoria_generation_jobs",
            "Generation jobs that reached a terminal state, by status.",
            ["status"],
            registry=self.registry,
        )
        self.provider_attempts = Counter(
            "lafactoria_provider_attempts",
            "Provider attempts by provider and outcome (succeeded or failed).",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.provider_failures = Counter(
            "lafactoria_provider_failures",
            "Failed provider attempts by provider and error code.",
            ["provider", "error_code"],
            registry=self.registry,
        )
        # Zero-valued series from the start, so rates and alerts work before the first job.
        for status in _TERMINAL_STATUSES:
            self.jobs.labels(status=status)
        self._names: set[str] = set()
        self._names_lock = threading.Lock()

    def job_finished(self, status: str) -> None:
        """A job reached ``status`` (succeeded, failed or cancelled)."""
        self.jobs.labels(status=status).inc()

    def provider_attempt(self, provider: str, *, error_code: str | None) -> None:
        """One provider attempt ended; ``error_code`` is ``None`` when it succeeded."""
        outcome = "succeeded" if error_code is None else "failed"
        self.provider_attempts.labels(provider=provider, outcome=outcome).inc()
        if error_code is not None:
            self.provider_failures.labels(provider=provider, error_code=error_code).inc()

    def operation_label(self, name: str | None) -> str:
        """The label value for an operation name: bounded in length and in number."""
        if not name:
            return "anonymous"
        name = name[:_MAX_NAME_LENGTH]
        with self._names_lock:
            if name in self._names:
                return name
            if len(self._names) >= MAX_OPERATION_NAMES:
                return "other"
            self._names.add(name)
        return name

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
