"""Tab-separated flashcards, read back with a CSV reader."""

from __future__ import annotations

from lafactoria.content.bodies import Flashcard, FlashcardDeck
from lafactoria.content.exports.tsv import render_tsv
from tests.content.exports.readers import read_tsv
from tests.content.exports.samples import tricky_deck


def test_every_card_is_one_row_of_front_and_back_even_with_tabs_newlines_and_quotes() -> None:
    deck = tricky_deck()

    rows = read_tsv(render_tsv(deck))

    assert rows == [[card.front, card.back] for card in deck.cards]


def test_plain_cards_are_written_unquoted_one_line_each() -> None:
    deck = FlashcardDeck(
        title="t", cards=[Flashcard(front="Mitochondria", back="The cell's powerhouse ⚡")]
    )

    assert render_tsv(deck) == "Mitochondria\tThe cell's powerhouse ⚡\n"
