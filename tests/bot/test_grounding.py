"""The grounding check with the light e5 embedder (real similarities, no generator)."""

import numpy as np
import pytest

from bot.grounding import (
    GroundingChecker,
    SentenceVectors,
    cite,
    has_negation,
    names_in,
    numbers_in,
    parse_citations,
    split_answer,
    strip_citations,
)
from core.settings import Settings
from ingest.embeddings import E5Embedder

PASSAGES = {
    1: "NUMERICAMP 2024\nEN CHIFFRES 450 visiteurs. 36 partenaires exposants. 57 intervenants.",
    2: "Franckie Trichet, président des Interconnectés, vice-président de Nantes Métropole délégué au numérique.",
    3: "Le jeu ne doit jamais remplacer le débat entre élus et habitants.",
}


@pytest.fixture(scope="module")
def checker() -> GroundingChecker:
    return GroundingChecker(E5Embedder().embed_documents, Settings().support_threshold)


def test_citation_parsing() -> None:
    assert parse_citations("Il y avait 450 visiteurs [1] et 36 exposants [1, 3].") == [1, 1, 3]
    assert strip_citations("Il y avait 450 visiteurs [1].") == "Il y avait 450 visiteurs."
    assert split_answer("Première phrase [1]. Deuxième [2]\nTroisième.") == [
        "Première phrase [1].",
        "Deuxième [2]",
        "Troisième.",
    ]
    assert cite("Il y avait 450 visiteurs.", 2) == "Il y avait 450 visiteurs [2]."


def test_numbers_names_and_negation_helpers() -> None:
    assert numbers_in("108 000 habitants en 2024") == {"108000", "2024"}
    assert names_in("Le président est Franckie Trichet.") == {"franckie", "trichet"}
    assert has_negation("Il ne faut jamais le faire") and not has_negation("Il faut le faire")


def test_supported_sentence_is_kept(checker: GroundingChecker) -> None:
    checked = checker.check("Le Numericamp a accueilli 450 visiteurs [1].", "Combien de visiteurs ?", PASSAGES)
    assert checked.sentences == ["Le Numericamp a accueilli 450 visiteurs [1]."]
    assert checked.cited == [1] and not checked.dropped


def test_wrong_number_is_dropped(checker: GroundingChecker) -> None:
    checked = checker.check("Le Numericamp a accueilli 540 visiteurs [1].", "Combien de visiteurs ?", PASSAGES)
    assert checked.sentences == [] and checked.dropped


def test_citation_of_a_passage_that_does_not_say_it_is_dropped(checker: GroundingChecker) -> None:
    checked = checker.check("Franckie Trichet préside les Interconnectés [1].", "Qui préside ?", {1: PASSAGES[1]})
    assert checked.sentences == []


def test_uncited_sentence_gets_the_supporting_passage(checker: GroundingChecker) -> None:
    checked = checker.check(
        "Franckie Trichet est président des Interconnectés.", "Qui préside les Interconnectés ?", PASSAGES
    )
    assert checked.sentences == ["Franckie Trichet est président des Interconnectés [2]."]
    assert checked.cited == [2]


def test_reversed_meaning_is_dropped(checker: GroundingChecker) -> None:
    checked = checker.check(
        "Le jeu doit remplacer le débat entre élus et habitants [3].", "Le jeu remplace-t-il le débat ?", PASSAGES
    )
    assert checked.sentences == []


def test_question_words_absent_from_the_passage_are_not_accepted(checker: GroundingChecker) -> None:
    answer = "Les horaires de la mairie sont : 450 visiteurs [1]."
    assert checker.check(answer, "Quels sont les horaires de la mairie ?", PASSAGES).sentences == []


def test_bare_citation_markers_are_not_an_answer(checker: GroundingChecker) -> None:
    checked = checker.check("[1] [2]", "Quels sont les thèmes ?", PASSAGES)
    assert checked.sentences == []


def test_wrong_citation_is_moved_to_the_passage_that_supports_it(checker: GroundingChecker) -> None:
    checked = checker.check("Le Numericamp a accueilli 450 visiteurs [3].", "Combien de visiteurs ?", PASSAGES)
    assert checked.sentences == ["Le Numericamp a accueilli 450 visiteurs [1]."] and checked.cited == [1]


def test_one_resident_word_missing_from_the_passage_is_tolerated(checker: GroundingChecker) -> None:
    answer = "Franckie Trichet est président des Interconnectés [2]."
    assert checker.check(answer, "c'est qui le boss des Interconnectés ?", PASSAGES).sentences == [answer]


def test_passage_without_the_questions_own_number_does_not_answer_it(checker: GroundingChecker) -> None:
    answer = "Le Numericamp a accueilli 450 visiteurs [1]."
    assert checker.check(answer, "Combien de visiteurs au Numericamp 2024 ?", PASSAGES).sentences == [answer]
    assert checker.check(answer, "Combien de visiteurs au Numericamp 2026 ?", PASSAGES).sentences == []


def test_how_many_question_needs_a_quantity_in_the_answer(checker: GroundingChecker) -> None:
    checked = checker.check("Le Numericamp a accueilli des visiteurs [1].", "Combien de visiteurs ?", PASSAGES)
    assert checked.sentences == [] and checked.dropped == ["Le Numericamp a accueilli des visiteurs [1]."]


def test_sentence_vectors_embed_each_text_once() -> None:
    batches: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        batches.append(texts)
        return np.array([[float(len(t)), 1.0] for t in texts])

    vectors = SentenceVectors(embed, size=3)
    first = vectors(["un", "deux", "un"])
    again = vectors(["deux", "trois"])
    assert batches == [["un", "deux"], ["trois"]]
    assert first.tolist() == [[2.0, 1.0], [4.0, 1.0], [2.0, 1.0]] and again.tolist() == [[4.0, 1.0], [5.0, 1.0]]
    vectors(["quatre"])
    vectors(["un"])
    assert batches[-1] == ["un"]
