"""The data block of a provider prompt: user text in tags, encoded so it stays data.

``generation.prompts`` writes these tags; the offline provider reads them back. Keeping the
format here, beside the provider Protocol, lets both use it without the providers depending on
the generation layer above them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lafactoria.content.enums import AudienceLevel

DATA_TAGS = ("audience_level", "topic", "additional_requirements")
_TAGGED = re.compile(
    r"^<(audience_level|topic|additional_requirements)>\n(.*?)\n</\1>$", re.MULTILINE | re.DOTALL
)
_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}


@dataclass(frozen=True, slots=True)
class PromptData:
    """The user-supplied part of a prompt, as it was before encoding."""

    topic: str
    audience_level: AudienceLevel
    additional_requirements: str | None


def read_prompt_data(prompt: str) -> PromptData:
    """Recover the data a :func:`build_prompt` prompt carries; ``ValueError`` if it has none."""
    found = {match.group(1): _unescape(match.group(2)) for match in _TAGGED.finditer(prompt)}
    if "topic" not in found or "audience_level" not in found:
        raise ValueError("the prompt has no <topic> or <audience_level> data")
    return PromptData(
        topic=found["topic"],
        audience_level=AudienceLevel(found["audience_level"]),
        additional_requirements=found.get("additional_requirements"),
    )


def tag_data(name: str, text: str) -> str:
    return f"<{name}>\n{_escape(text)}\n</{name}>"


def _escape(text: str) -> str:
    # ``&`` first, so the entities written for ``<`` and ``>`` are not themselves escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    # One pass, so "&amp;lt;" (a user's literal "&lt;") comes back as "&lt;", not "<".
    return _ENTITY.sub(lambda match: _UNESCAPED[match.group(1)], text)
