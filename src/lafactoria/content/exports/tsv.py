"""Flashcard decks as tab-separated text: one card a line, front then back.

Anki's "Import File" and Quizlet's "Import" both read this shape. A field holding a tab, a line
break or a double quote is quoted the CSV way (``"a ""b"" c"``), which Anki's importer
understands; plain fields, the usual case, are written as they are, which is all Quizlet
needs. No header line: Quizlet would import it as a card.
"""

from __future__ import annotations

import csv
import io

from lafactoria.content.bodies import FlashcardDeck
from lafactoria.content.exports.text import printable


def render_tsv(deck: FlashcardDeck) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel-tab", lineterminator="\n")
    for card in deck.cards:
        writer.writerow([printable(card.front), printable(card.back)])
    return buffer.getvalue()
