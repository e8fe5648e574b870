"""The answerability decision on evidence built by hand (scores set, sentences analysed as at ingestion)."""

from __future__ import annotations

import pytest

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


def evidence(text: str, dense: float, title: str = "Numericamp et état civil", section: str | None = None) -> Evidence:
    chunk = Chunk(chunk_id="d:0", doc_id="d", title=title, text=text, section=section)
    sentence = sentences_of([chunk], context_chars=len(text), max_chars=len(text) + 1)[0]
    return Evidence(1, sentence, chunk, score=dense, dense_score=dense)


def decision(question_text: str, text: str, dense: float) -> Outcome:
    question = read_question(question_text, [], 8)
    terms = QuestionTerms({lemma: 1.0 for lemma in question.query_analysis.lemmas}, question.kind)
    return decide(question, terms, [evidence(text, dense)], SETTINGS).outcome


LOST_COPY = "En cas de perte, une copie intégrale se demande à la mairie du lieu de naissance."
VISITORS = "Le Numericamp a réuni de nombreux visiteurs à Artois Expo."
VISITORS_2023 = "Le Numericamp 2023 a réuni 450 visiteurs à Artois Expo."
CHALLENGES = "Ethik-IA voit pour les élus des défis : la confiance, la transparence et la formation des agents."
WATER = "Grâce à l'IA, Nevers Agglomération a économisé 200.000 m³ d'eau sur l'année."
PASSPORT_ONLINE = "Service des passeports : pré-demande en ligne sur https://passeport.ants.gouv.fr."
PASSPORT_PHONE = "Service des passeports : téléphone 03 21 50 50 50."
TOWN_HALL = "La mairie ouvre ses guichets à 8 h 30 du lundi au vendredi."
MEDIA_LIBRARY = "À Beaurains, la médiathèque a pris place dans l'ancienne école, au cœur de la commune."
STOLEN_LICENCE = "En cas de vol du permis, faites une déclaration de vol puis une demande de nouveau permis en ligne."
DUPLICATE = "Le duplicata de la carte de résident coûte 225 €."
REGIONAL_TAX = "Ancienne région : Nord-Pas-de-Calais ; Montant de la taxe régionale pour 1 cheval fiscal : 35,40 €"
# A PDF's figure sheet: the date typeset one pair of digits a line (16/04/2024)
FIGURES = "FICHE D'IDENTITÉ\n16\n04\n20\n24\nEN CHIFFRES\n450 visiteurs"


@pytest.mark.parametrize(
    ("question", "text", "dense", "expected"),
    [
        # A reworded question close in meaning is answered despite few shared words; far in meaning, refused
        ("j'ai égaré mon papier, je fais quoi", LOST_COPY, 0.6, Outcome.ANSWER),
        ("j'ai égaré mon papier, je fais quoi", LOST_COPY, 0.3, Outcome.REFUSE),
        # A number question whose evidence holds no new number is refused
        ("Combien de visiteurs au Numericamp ?", VISITORS, 0.7, Outcome.REFUSE),
        ("Combien de visiteurs au Numericamp ?", VISITORS + " Ils étaient 450.", 0.7, Outcome.ANSWER),
        # A year question whose evidence holds numbers but no year is refused
        ("Le Numericamp a réuni 450 visiteurs en quelle année ?", VISITORS + " Ils étaient 450.", 0.7, Outcome.REFUSE),
        ("Le Numericamp a réuni 450 visiteurs en quelle année ?", VISITORS_2023, 0.7, Outcome.ANSWER),
        # A number the question states in digits must be in the evidence
        ("Combien de visiteurs au Numericamp 2024 ?", VISITORS_2023, 0.7, Outcome.REFUSE),
        ("Combien de visiteurs au Numericamp 2023 ?", VISITORS_2023, 0.7, Outcome.ANSWER),
        ("combien de visiteurs au Numericamp 2024", FIGURES, 0.7, Outcome.ANSWER),
        # A count in words or a unit's digit is not required in the evidence
        ("Quels sont les trois défis pour les élus selon Ethik-IA ?", CHALLENGES, 0.6, Outcome.ANSWER),
        ("Combien de m3 d'eau Nevers Agglomération a économisé ?", WATER, 0.6, Outcome.ANSWER),
        # A phone number asked for must be in the evidence: a service's web address does not give it
        ("Quel est le numéro de téléphone du service des passeports ?", PASSPORT_ONLINE, 0.7, Outcome.REFUSE),
        ("Quel est le numéro de téléphone du service des passeports ?", PASSPORT_PHONE, 0.7, Outcome.ANSWER),
        # Opening hours asked for must be in the evidence: a sentence naming the place gives none
        ("Quels sont les horaires de la médiathèque de Beaurains ?", MEDIA_LIBRARY, 0.7, Outcome.REFUSE),
        (
            "Quels sont les horaires de la médiathèque de Beaurains ?",
            MEDIA_LIBRARY + " Elle ouvre de 10 h à 18 h.",
            0.7,
            Outcome.ANSWER,
        ),
        # A place the question names must be named by the evidence: a national page does not give Arras's hours
        ("La mairie d'Arras ouvre à quelle heure ?", TOWN_HALL, 0.7, Outcome.REFUSE),
        ("La mairie d'Arras ouvre à quelle heure ?", "À Arras, la mairie ouvre à 8 h 30.", 0.7, Outcome.ANSWER),
        # ... but a procedure's steps are the same everywhere
        ("On m'a volé mon permis à Arras, c'est quoi les étapes ?", STOLEN_LICENCE, 0.7, Outcome.ANSWER),
        # ... and so is a fee where the resident only says where they live
        (
            "j'ai perdu ma carte de résident ici à Marseille, combien ça coûte le duplicata ?",
            DUPLICATE,
            0.7,
            Outcome.ANSWER,
        ),
        ("combien coûte le duplicata de la carte de résident à Marseille ?", DUPLICATE, 0.7, Outcome.REFUSE),
        # A place named as a part of a compound name is named (« Nord-Pas-de-Calais »), not one sharing a part of it
        ("dans le Pas-de-Calais le cheval fiscal c'est combien ?", REGIONAL_TAX, 0.7, Outcome.ANSWER),
        (
            "dans le Pas-de-Calais le cheval fiscal c'est combien ?",
            REGIONAL_TAX.replace("Nord-", ""),
            0.7,
            Outcome.ANSWER,
        ),
        ("dans le Calvados le cheval fiscal c'est combien ?", REGIONAL_TAX, 0.7, Outcome.REFUSE),
        ("dans le Nord le cheval fiscal c'est combien ?", REGIONAL_TAX.replace("Nord-", "Sud-"), 0.7, Outcome.REFUSE),
    ],
)
def test_the_decision_on_one_sentence_of_evidence(question: str, text: str, dense: float, expected: Outcome) -> None:
    assert decision(question, text, dense) is expected


def test_weak_evidence_is_refused_rather_than_shown_alone() -> None:
    assert without_phrasing(False, "le modèle n'a pas répondu").outcome is Outcome.REFUSE
    assert without_phrasing(True, "le modèle n'a pas répondu").outcome is Outcome.EVIDENCE_ONLY


def test_the_question_is_covered_by_the_evidence_read_with_its_headings() -> None:
    """A page's « Coût » sentence says neither « stage » nor « points »: its title and section do."""
    question = read_question("le stage de récupération de points, quel est le prix ?", [], 8)
    terms = QuestionTerms({lemma: 1.0 for lemma in question.query_analysis.lemmas}, question.kind)
    cost = "Il varie de 100 € à 280 € selon les centres."
    shown = [evidence(cost, 0.3, title="Stage de récupération de points", section="Coût")]
    assert decide(question, terms, shown, SETTINGS).outcome is Outcome.ANSWER
    assert (
        decide(question, terms, [evidence(cost, 0.3, title="Permis", section="Coût")], SETTINGS).outcome
        is Outcome.REFUSE
    )
