"""Flashcard decks as Anki packages (``.apkg``).

An ``.apkg`` is a zip holding ``collection.anki2`` (a SQLite database in Anki's schema) and a
``media`` index. genanki writes the schema and the rows; the database is built in memory and
serialised, so an export touches no temporary file.

Re-importing must update cards, not duplicate them: Anki matches notes by GUID, so each note's
GUID is derived from the content id and the card's position, the deck id from the content id,
and the note type has a fixed id. Timestamps come from the content's creation time, which also
makes the same content always produce the same file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

import genanki  # type: ignore[import-untyped]  # genanki ships no type information

from lafactoria.content.bodies import FlashcardDeck
from lafactoria.content.exports.archive import build_zip
from lafactoria.content.exports.text import printable, to_html

# Chosen once at random and never changed: Anki recognises the note type by this id.
MODEL_ID = 1_734_215_803
DECK_PREFIX = "La Factoria"

_MODEL = genanki.Model(
    MODEL_ID,
    "La Factoria Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
        }
    ],
    css=".card { font-family: sans-serif; font-size: 22px; text-align: center; }",
)


def note_guid(content_id: str, index: int) -> str:
    """The GUID of the card at ``index`` (from 0) of the content ``content_id``."""
    return str(genanki.guid_for("lafactoria", content_id, index))


def deck_id(content_id: str) -> int:
    """A deck id derived from the content id, kept below 2**53 so JavaScript tools agree."""
    digest = hashlib.sha256(f"lafactoria-deck:{content_id}".encode()).digest()
    return (1 << 48) + int.from_bytes(digest[:6], "big")


def deck_name(title: str) -> str:
    """``La Factoria::<title>``; ``::`` inside the title would nest decks, so it is broken."""
    name = " ".join(printable(title).split()).replace("::", ": :")
    return f"{DECK_PREFIX}::{name}"


def render_apkg(
    deck: FlashcardDeck, *, content_id: str, created_at: datetime, tags: Sequence[str] = ()
) -> bytes:
    """The deck as ``.apkg`` bytes. ``tags`` must not contain spaces (Anki splits on them)."""
    anki_deck = genanki.Deck(deck_id(content_id), deck_name(deck.title))
    for index, card in enumerate(deck.cards):
        anki_deck.add_note(
            genanki.Note(
                model=_MODEL,
                fields=[to_html(card.front), to_html(card.back)],
                guid=note_guid(content_id, index),
                tags=list(tags),
            )
        )
    timestamp = created_at.timestamp()
    connection = sqlite3.connect(":memory:")
    try:
        cursor = connection.cursor()
        genanki.Package(anki_deck).write_to_db(
            cursor, timestamp, itertools.count(int(timestamp * 1000))
        )
        connection.commit()
        collection = connection.serialize()
    finally:
        connection.close()

    return build_zip(
        [("collection.anki2", collection), ("media", json.dumps({}).encode())], at=created_at
    )
