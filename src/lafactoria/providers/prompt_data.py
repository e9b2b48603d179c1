"""The data block of a provider prompt: user text in tags, encoded so it stays data.

``generation.prompts`` writes these tags; the offline provider reads them back. Keeping the
format here, beside the provider Protocol, lets both use it without the providers depending on
the generation layer above them.

Tags: ``audience_level``, ``topic``, optional ``additional_requirements``, ``spec`` (the shape
asked for, as JSON: card count, podcast format and length), and for a rewrite
``current_content`` (the earlier body, as JSON) with optional ``revision_instructions``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lafactoria.content.bodies import BodySpec
from lafactoria.content.enums import AudienceLevel

DATA_TAGS = (
    "audience_level",
    "topic",
    "additional_requirements",
    "spec",
    "current_content",
    "revision_instructions",
)
_TAGGED = re.compile(
    rf"^<({'|'.join(DATA_TAGS)})>\n(.*?)\n</\1>$",
    re.MULTILINE | re.DOTALL,
)
_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}


@dataclass(frozen=True, slots=True)
class PromptData:
    """The data part of a prompt, as it was before encoding."""

    topic: str
    audience_level: AudienceLevel
    additional_requirements: str | None
    spec: BodySpec | None = None
    current_content: dict[str, Any] | None = None
    revision_instructions: str | None = None


def read_prompt_data(prompt: str) -> PromptData:
    """Recover the data a :func:`build_prompt` prompt carries; ``ValueError`` if it has none."""
    found = {match.group(1): _unescape(match.group(2)) for match in _TAGGED.finditer(prompt)}
    if "topic" not in found or "audience_level" not in found:
        raise ValueError("the prompt has no <topic> or <audience_level> data")
    spec = BodySpec.from_json(json.loads(found["spec"])) if "spec" in found else None
    current = json.loads(found["current_content"]) if "current_content" in found else None
    return PromptData(
        topic=found["topic"],
        audience_level=AudienceLevel(found["audience_level"]),
        additional_requirements=found.get("additional_requirements"),
        spec=spec,
        current_content=current if isinstance(current, dict) else None,
        revision_instructions=found.get("revision_instructions"),
    )


def tag_data(name: str, text: str) -> str:
    return f"<{name}>\n{_escape(text)}\n</{name}>"


def _escape(text: str) -> str:
    # ``&`` first, so the entities written for ``<`` and ``>`` are not themselves escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    # One pass, so "&amp;lt;" (a user's literal "&lt;") comes back as "&lt;", not "<".
    return _ENTITY.sub(lambda match: _UNESCAPED[match.group(1)], text)
