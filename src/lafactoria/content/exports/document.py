"""Any content as one JSON document: its description and its typed body, as stored."""

from __future__ import annotations

import json
from typing import Any

from lafactoria.content.bodies import Body, PodcastScript
from lafactoria.content.models import Content


def render_json(content: Content, body: Body) -> str:
    data: dict[str, Any] = body.model_dump(mode="json")
    if isinstance(body, PodcastScript):
        data["estimated_minutes"] = body.estimated_minutes
    document = {
        "id": content.id,
        "title": content.title,
        "topic": content.topic,
        "content_type": content.content_type,
        "audience_level": content.audience_level,
        "provider": content.provider,
        "model": content.model,
        "created_at": content.created_at.isoformat(),
        "body": data,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
