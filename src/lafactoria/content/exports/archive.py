"""Zip files for the formats that are packages (Anki, QTI)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime


def build_zip(entries: Iterable[tuple[str, bytes]], *, at: datetime) -> bytes:
    """A deflated zip of ``(name, data)`` entries, all dated ``at``.

    A fixed entry time instead of "now" makes the same content give byte-identical files.
    """
    when = at.astimezone(UTC)
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
