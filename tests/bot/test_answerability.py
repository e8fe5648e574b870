"""The answerability decision on evidence built by hand (scores set, sentences analysed as at ingestion)."""

from __future__ import annotations

from bot.answer.answerability import decide, without_phrasing
from bot.answer.evidence import QuestionTerms
from bot.answer.service import read_question
from core.settings import Settings
from core.types import Chunk, Evidence, Outcome
from ingest.sentences import sentences_of
from tests.fixtures.factories import make_settings

SETTINGS: Settings = make_settings(
    answerability__min_evidence_score=0.25,
    answerability__strong_evidence_score=0.45,
    answerability__min_question_coverage=0.3,
)


def evidence(text: str, dense: float) -> Evidence:
    chunk = Chunk(chunk_id="d:0", doc_id="d", title="Etat civil", text=text)
    sentence = sentences_of([chunk], context_chars=len(text), max_chars=len(text) + 1)[0]
    return Evidence(1, sentence, chunk, score=dense, dense_score=dense)


def decision(question_text: str, text: str, dense: float) -> Outcome:
    question = read_question(question_text, [], 8)
    terms = QuestionTerms({lemma: 1.0 for lemma in question.query_analysis.lemmas}, question.kind)
    return decide(question, terms, [evidence(text, dense)], SETTINGS).outcome


def test_a_reworded_question_close_in_meaning_is_answered_despite_few_shared_words() -> None:
    text = "En cas de perte, une copie intégrale se demande à la mairie du lieu de naissance."
    assert decision("j'ai égaré mon papier, je fais quoi", text, dense=0.6) is Outcome.ANSWER
    assert decision("j'ai égaré mon papier, je fais quoi", text, dense=0.3) is Outcome.REFUSE


def test_a_number_question_whose_evidence_holds_no_new_number_is_refused() -> None:
    text = "Le Numericamp a réuni de nombreux visiteurs à Artois Expo."
    assert decision("Combien de visiteurs au Numericamp ?", text, dense=0.7) is Outcome.REFUSE
    assert decision("Combien de visiteurs au Numericamp ?", text + " Ils étaient 450.", 0.7) is Outcome.ANSWER


def test_weak_evidence_is_refused_rather_than_shown_alone() -> None:
    assert without_phrasing(False, "le modèle n'a pas répondu").outcome is Outcome.REFUSE
    assert without_phrasing(True, "le modèle n'a pas répondu").outcome is Outcome.EVIDENCE_ONLY


def test_a_number_the_question_states_in_digits_must_be_in_the_evidence() -> None:
    text = "Le Numericamp 2023 a réuni 450 visiteurs à Artois Expo."
    assert decision("Combien de visiteurs au Numericamp 2024 ?", text, dense=0.7) is Outcome.REFUSE
    assert decision("Combien de visiteurs au Numericamp 2023 ?", text, dense=0.7) is Outcome.ANSWER


def test_a_count_in_words_or_a_unit_digit_is_not_required_in_the_evidence() -> None:
    challenges = "Ethik-IA voit pour les élus des défis : la confiance, la transparence et la formation des agents."
    assert decision("Quels sont les trois défis pour les élus selon Ethik-IA ?", challenges, 0.6) is Outcome.ANSWER
    water = "Grâce à l'IA, Nevers Agglomération a économisé 200.000 m³ d'eau sur l'année."
    assert decision("Combien de m3 d'eau Nevers Agglomération a économisé ?", water, 0.6) is Outcome.ANSWER
