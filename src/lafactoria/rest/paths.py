"""Where the REST API lives, for transports that link to it (GraphQL's export links)."""

from __future__ import annotations

from lafactoria.content.exports.formats import ExportFormat

API_PREFIX = "/api/v1"


def export_path(content_id: str, export_format: ExportFormat) -> str:
    """The authenticated download of one export (``GET``, ``Authorization: Bearer …``)."""
    return f"{API_PREFIX}/content/{content_id}/export/{export_format.value}"
