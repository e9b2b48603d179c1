"""The one check every user-supplied string goes through before a service uses it.

Lone surrogates cannot be encoded (hashing, storing or logging them fails deep inside a
library), control characters corrupt terminals and logs, and invisible or direction-changing
characters let a string look like something it is not. Services call :func:`check_text` (keep
the value as sent, e.g. passwords) or :func:`clean_text` (trimmed prose and names), so that such
input is refused as ``InvalidInput`` naming the field instead of failing later.
"""

from __future__ import annotations

import unicodedata

from lafactoria.errors import InvalidInput

PROSE_CONTROLS = frozenset("\n\t")
"""Controls allowed in free prose (requirements, instructions)."""

# Explicit bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder
# how the rest of a line is displayed ("Trojan Source"). Right-to-left text needs none of them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that render as nothing: a text made only of these (and spaces) is empty.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


def check_text(
    value: str,
    *,
    field: str,
    allow: frozenset[str] = frozenset(),
    refuse: frozenset[str] = frozenset(),
) -> str:
    """Refuse lone surrogates, control characters (but those in ``allow``) and the
    characters in ``refuse``; the value is returned unchanged."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidInput(f"{field} contains invalid Unicode", field=field)
        if category == "Cc" and char not in allow:
            raise InvalidInput(f"{field} must not contain control characters", field=field)
        if char in refuse:
            raise InvalidInput(
                f"{field} must not contain text-direction control characters", field=field
            )
    return value


def clean_text(
    value: str,
    *,
    field: str,
    max_length: int,
    allow: frozenset[str] = frozenset(),
    refuse: frozenset[str] = BIDI_CONTROLS,
) -> str:
    """Trim and check free text: :func:`check_text`, not empty (nor only invisible
    characters), length in characters, so emoji and non-Latin scripts count as what a reader
    sees them as."""
    text = value.strip()
    if all(char.isspace() or char in _INVISIBLE for char in text):
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return check_text(text, field=field, allow=allow, refuse=refuse)
