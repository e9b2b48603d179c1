"""Text clean-up shared by the export formats.

Bodies come from an LLM, so they may hold characters a target format cannot carry: control
characters are invalid in XML 1.0 (and meaningless in HTML). They are dropped rather than
failing the whole download.
"""

from __future__ import annotations

import html
import re

# Everything XML 1.0 forbids: C0 controls other than tab, newline and carriage return,
# surrogates, and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """``text`` without the characters XML forbids; line ends normalised to ``\\n``."""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def to_html(text: str) -> str:
    """Plain text as an HTML fragment that shows exactly that text, line breaks included."""
    return html.escape(printable(text), quote=False).replace("\n", "<br>")
