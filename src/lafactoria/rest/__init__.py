"""The seed-compatible REST transport under ``/api/v1``: a thin layer over the same services.

Routes translate HTTP to service calls and results to JSON, nothing more: no SQL and no rules
of their own. IDs are the raw hex ids (not GraphQL's opaque global IDs), and every error is
``{"error": {"code", "message", "field", "details"}}`` with its HTTP status (``errors``).
"""
