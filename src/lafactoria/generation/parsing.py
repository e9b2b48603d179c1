"""Finding the JSON object in a model's answer.

Structured-output modes return bare JSON, but models without one (and some with) wrap it in a
Markdown fence or a sentence of preamble. Validation against the body schema happens later, in
``content.bodies.parse_body``; this module only finds the object.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lafactoria.providers.errors import OutputInvalid

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n(.*?)```", re.DOTALL)
# strict=False lets literal newlines and tabs inside strings through, a common slip of models.
_DECODER = json.JSONDecoder(strict=False)


def extract_json(text: str) -> dict[str, Any]:
    """Return the JSON object in ``text``, tolerating a code fence or chat around it.

    Raises ``OutputInvalid`` when the text holds no JSON object.
    """
    # An answer that starts as JSON (bare or fenced) is judged as JSON: when it is broken, say
    # why, instead of scanning on and returning some inner object of a truncated answer.
    for candidate in (text, *(m.group(1) for m in _FENCE.finditer(text))):
        stripped = candidate.strip()
        if stripped.startswith("{"):
            return _decode_object(stripped, 0)
    # Chatty text around the object: try each "{" in turn; the first that decodes is the
    # outermost object, since an inner one starts later.
    start = text.find("{")
    while start != -1:
        try:
            return _decode_object(text, start)
        except OutputInvalid:
            start = text.find("{", start + 1)
    raise OutputInvalid("the answer contains no JSON object")


def _decode_object(text: str, start: int) -> dict[str, Any]:
    try:
        value, _end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise OutputInvalid(f"the answer is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise OutputInvalid("the answer is not a JSON object")
    return value
