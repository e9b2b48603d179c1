"""The Anki package, read back from its SQLite collection."""

from __future__ import annotations

from datetime import UTC, datetime

from lafactoria.content.bodies import Flashcard, FlashcardDeck
from lafactoria.content.exports.anki import MODEL_ID, deck_id, note_guid, render_apkg
from tests.content.exports.readers import html_to_text, read_apkg
from tests.content.exports.samples import tricky_deck

CONTENT_ID = "0123456789abcdef0123456789abcdef"
CREATED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def render(deck: FlashcardDeck, content_id: str = CONTENT_ID) -> bytes:
    return render_apkg(deck, content_id=content_id, created_at=CREATED, tags=["lafactoria", "x"])


def test_every_card_comes_back_with_its_exact_text() -> None:
    deck = tricky_deck()

    package = read_apkg(render(deck))

    assert package.names == ["collection.anki2", "media"]
    assert [[html_to_text(f) for f in note.fields] for note in package.notes] == [
        [card.front, card.back] for card in deck.cards
    ]
    assert all(note.tags == ["lafactoria", "x"] for note in package.notes)


def test_markup_in_a_card_is_shown_as_text_not_run() -> None:
    package = read_apkg(render(tricky_deck()))

    fields = [field for note in package.notes for field in note.fields]
    assert not any("<script>" in field or "<b>" in field for field in fields)
    assert any("&lt;script&gt;" in field for field in fields)
    assert "Tab\there and a<br>second line" in fields


def test_notes_have_guids_from_content_id_and_position_so_reimports_update() -> None:
    deck = tricky_deck()

    first = read_apkg(render(deck))
    again = read_apkg(render(deck))
    other = read_apkg(render(deck, content_id="f" * 32))

    guids = [note.guid for note in first.notes]
    assert guids == [note_guid(CONTENT_ID, index) for index in range(len(deck.cards))]
    assert len(set(guids)) == len(guids)
    assert [note.guid for note in again.notes] == guids
    assert not set(guids) & {note.guid for note in other.notes}


def test_the_same_content_gives_the_same_file() -> None:
    assert render(tricky_deck()) == render(tricky_deck())


def test_deck_and_note_type_ids_are_stable_and_the_cards_sit_in_the_deck() -> None:
    package = read_apkg(render(tricky_deck()))

    assert deck_id(CONTENT_ID) in package.decks
    assert deck_id(CONTENT_ID) < 2**53
    assert all(note.model_id == MODEL_ID for note in package.notes)
    assert all(note.deck_ids == [deck_id(CONTENT_ID)] for note in package.notes)
    assert [field["name"] for field in package.models[MODEL_ID]["flds"]] == ["Front", "Back"]


def test_a_double_colon_in_the_title_does_not_nest_decks() -> None:
    package = read_apkg(
        render(FlashcardDeck(title="A :: B", cards=[Flashcard(front="f", back="b")]))
    )

    assert package.decks[deck_id(CONTENT_ID)] == "La Factoria::A : : B"
