"""Logs and metrics: one JSON line and one set of Prometheus samples per request and per job.

``metrics`` holds an app's collectors, ``middleware`` the per-request log line and request id,
``graphql`` the extension that counts GraphQL operations, ``routes`` the ``/metrics`` endpoint.
"""
