"""A short follow-up is read with the conversation's earlier question."""

from bot.answer.service import read_question
from core.text import AnswerKind
from core.types import Turn

EARLIER = [Turn("user", "Quels papiers pour refaire ma carte d'identité ?"), Turn("assistant", "Il faut…")]


def test_a_follow_up_naming_only_its_case_asks_what_the_earlier_question_asked() -> None:
    question = read_question("Et pour un mineur ?", EARLIER, 8)
    assert question.kind is AnswerKind.PROCEDURE
    assert question.query == "Quels papiers pour refaire ma carte d'identité ? Et pour un mineur ?"
    assert "mineur" in question.analysis.lemmas


def test_a_follow_up_asking_its_own_kind_keeps_it() -> None:
    assert read_question("Combien ça coûte ?", EARLIER, 8).kind is AnswerKind.COST


def test_a_long_new_question_is_read_alone() -> None:
    question = read_question("Comment s'inscrire sur les listes électorales quand on vient de déménager ?", EARLIER, 8)
    assert question.query == question.text


def test_the_spaced_question_mark_is_no_word_of_a_follow_up() -> None:
    """Eight words and the « ? » French typography spaces off: a follow-up, read with the earlier question."""
    question = read_question("et si le bébé est né à l'étranger ?", EARLIER, 8)
    assert question.query.startswith("Quels papiers")
