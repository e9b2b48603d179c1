"""Opaque global IDs (``base64url("Type:raw")``) and pagination cursors."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from lafactoria.errors import InvalidInput
from lafactoria.pagination import PageKey


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str) -> str | None:
    if not token or len(token) > 200:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None


def encode_id(type_name: str, raw_id: str) -> str:
    return _encode(f"{type_name}:{raw_id}")


def decode_any_id(global_id: str, *, field: str = "id") -> tuple[str, str]:
    """``(type_name, raw_id)``; a malformed ID is bad input, never a lookup."""
    text = _decode(global_id)
    type_name, sep, raw_id = (text or "").partition(":")
    if not sep or not type_name or not raw_id or not raw_id.isalnum():
        raise InvalidInput(f"{field} is not a valid ID", field=field)
    return type_name, raw_id


def decode_id(global_id: str, type_name: str, *, field: str = "id") -> str:
    actual_type, raw_id = decode_any_id(global_id, field=field)
    if actual_type != type_name:
        raise InvalidInput(f"{field} is not a {type_name} ID", field=field)
    return raw_id


def encode_cursor(key: PageKey) -> str:
    return _encode(f"{key.created_at.isoformat()}|{key.id}")


def decode_cursor(cursor: str, *, field: str = "after") -> PageKey:
    text = _decode(cursor) or ""
    created_at, sep, raw_id = text.partition("|")
    try:
        # In UTC, as stored: a moment at the very edge of the calendar with an offset
        # (9999-12-31T23:59-05:00) cannot be converted, so it is no cursor we gave out.
        parsed = datetime.fromisoformat(created_at)
        moment = parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        moment = None
    if not sep or moment is None or not raw_id.isalnum():
        raise InvalidInput(f"{field} is not a valid cursor", field=field)
    return PageKey(created_at=moment, id=raw_id)
