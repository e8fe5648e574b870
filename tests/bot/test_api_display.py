"""The words people read (bot/api/display.py): the authority named in French, and phrased answers that do not
repeat their quote."""

from __future__ import annotations

import pytest

from bot.api import display
from core import authority as naming
from core.settings import Authority
from core.types import Answer, AnswerSentence, Chunk, Evidence, Outcome, Sentence
from tests.fixtures.authority import VAL as PHONE_ONLY

# The other authority, with an accueil to visit besides its phone
VAL = PHONE_ONLY.model_copy(
    update={"address": "1 place de la Mairie, 59000 Val", "hours": "du lundi au vendredi, de 9 h à 17 h"}
)
# The texts shipped before the authority became a setting: the CUA's defaults must still read exactly so
CUA_REFUSAL = (
    "Je n'ai pas trouvé la réponse à cette question dans les documents de la Communauté Urbaine "
    "d'Arras dont je dispose, et je préfère ne rien inventer. Pour être aidé, adressez-vous à "
    "l'accueil de votre mairie, à un espace France Services ou à un conseiller numérique : "
    "une personne pourra vous répondre."
)

QUOTE = "Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras les 12 et 13 mai."
OTHER = "Les ateliers du conseiller numérique sont gratuits et ouverts à tous."


def _evidence(number: int, context: str, title: str) -> Evidence:
    chunk = Chunk(chunk_id=f"c{number}", doc_id=f"d{number}", title=title, text=context, page=number + 2)
    sentence = Sentence(sentence_id=f"s{number}", chunk_id=chunk.chunk_id, position=0, text=context, context=context)
    return Evidence(number=number, sentence=sentence, chunk=chunk, score=0.8)


def _answer(*sentences: tuple[str, list[int]]) -> Answer:
    evidence = [_evidence(1, QUOTE, "Bilan du Numericamp"), _evidence(2, OTHER, "Guide des ateliers")]
    return Answer(Outcome.ANSWER, "vérifiée", evidence, sentences=[AnswerSentence(t, c) for t, c in sentences])


# --- The authority ----------------------------------------------------------------------------


def test_the_shipped_default_reads_as_before() -> None:
    assert display.REFUSAL_MESSAGE == display.refusal_message(Authority()) == CUA_REFUSAL
    assert display.INJECTION_MESSAGE.startswith(
        "Je réponds uniquement aux questions sur les documents de la Communauté Urbaine d'Arras, "
    )
    assert display.INJECTION_MESSAGE.endswith(
        "adressez-vous à l'accueil de votre mairie, à un espace France Services ou à un conseiller numérique."
    )
    assert display.contact_sentence(Authority()) == ""


def test_another_authority_is_named_with_its_channels_and_contact() -> None:
    refusal = display.refusal_message(VAL)
    assert "documents de la Communauté de communes du Val dont je dispose" in refusal
    assert "adressez-vous au guichet unique de votre commune ou à un espace France Services : " in refusal
    assert refusal.endswith(
        "Vous pouvez aussi appeler la Communauté de communes du Val au 03 21 55 00 00 ou vous rendre à son accueil, "
        "1 place de la Mairie, 59000 Val (horaires : du lundi au vendredi, de 9 h à 17 h)."
    )
    injection = display.injection_message(VAL)
    assert "documents de la Communauté de communes du Val," in injection and "03 21 55 00 00" in injection
    for text in (refusal, injection, display.widget_intro(VAL), display.api_title(VAL)):
        assert "Arras" not in text and "CUA" not in text and "mairie," not in text.split("Vous pouvez")[0]
    assert display.api_title(VAL) == "Assistant documentaire de la CCV"
    assert display.helpdesk_title(VAL) == "Assistant CCV — espace conseillers"
    assert display.stream_error_message(VAL).endswith("adressez-vous au guichet unique de votre commune.")


@pytest.mark.parametrize(
    ("name", "of", "the"),
    [
        ("Département du Pas-de-Calais", "du Département du Pas-de-Calais", "le Département du Pas-de-Calais"),
        ("Agglomération de Lens-Liévin", "de l'Agglomération de Lens-Liévin", "l'Agglomération de Lens-Liévin"),
        ("Ville de Lens", "de la Ville de Lens", "la Ville de Lens"),
        ("Arras", "d'Arras", "Arras"),
        ("le CCAS de Lens", "du CCAS de Lens", "le CCAS de Lens"),
    ],
)
def test_the_article_follows_the_name(name: str, of: str, the: str) -> None:
    authority = Authority(name=name, short_name="X")
    assert naming.of_authority(authority) == of and naming.the_authority(authority) == the
    assert naming.authority_name(authority) == name.removeprefix("le ")


def test_hours_alone_and_one_channel() -> None:
    authority = Authority(name="Ville de Lens", channels=["les services de la ville"], hours="9 h - 12 h.")
    refusal = display.refusal_message(authority)
    assert "adressez-vous aux services de la ville : " in refusal
    assert refusal.endswith("Horaires d'accueil de la Ville de Lens : 9 h - 12 h.")


# --- Phrased answers do not repeat their quote -----------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        QUOTE,  # word for word
        "Le Numericamp a réuni 450 visiteurs à la citadelle d’Arras, les 12 et 13 mai",  # case, apostrophe, comma
        "Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras, 12 et 13 mai",  # a word dropped
        "Le Numericamp a réuni 450 visiteurs",  # a part copied out
    ],
)
def test_a_sentence_copying_its_quote_is_shown_once(sentence: str) -> None:
    answer = _answer((sentence, [1]), ("Les ateliers sont gratuits", [2]))
    assert display.repeats_quote(sentence, QUOTE)
    text = display.answer_text(answer, VAL)
    assert text.count("450 visiteurs") == 1 and f"« {QUOTE} » [1]" in text
    assert text.startswith("Les ateliers sont gratuits [2].\n\nExtrait de la source :\n")
    with_sources = display.answer_with_sources(answer, VAL)
    assert with_sources.endswith("Sources :\n[1] Bilan du Numericamp, p. 3\n[2] Guide des ateliers, p. 4")


def test_an_answer_made_only_of_copies_is_its_quotes() -> None:
    text = display.answer_text(_answer((QUOTE, [1]), (OTHER, [2])), VAL)
    assert text == f"{display.EVIDENCE_PREFIX}\n« {QUOTE} » [1]\n« {OTHER} » [2]"


@pytest.mark.parametrize(
    "sentence",
    [
        "Le Numericamp a accueilli 450 visiteurs",  # phrased
        "450 visiteurs",  # a short answer drawn from the quote
        f"{QUOTE.rstrip('.')}, soit deux fois plus que l'année précédente selon les organisateurs",  # says more
    ],
)
def test_a_phrased_sentence_is_followed_by_its_quote(sentence: str) -> None:
    assert not display.repeats_quote(sentence, QUOTE)
    text = display.answer_text(_answer((sentence, [1])), VAL)
    assert text == f"{sentence} [1].\n\n{display.EVIDENCE_PREFIX}\n« {QUOTE} » [1]"


def test_a_copy_of_another_quote_than_the_cited_one_is_kept() -> None:
    text = display.answer_text(_answer((OTHER, [1])), VAL)
    assert text.startswith(f"{OTHER.rstrip('.')} [1].")


def test_an_answer_for_one_case_names_it_and_the_others() -> None:
    answer = _answer(("Il y avait 450 visiteurs", [1]))
    answer.cases = ("La carte est perdue", "La carte est valide", "La carte est volée")
    text = display.answer_text(answer)
    assert text.endswith(
        "Cette réponse vaut pour le cas « La carte est perdue ». La démarche change selon votre situation "
        "(« La carte est valide » ; « La carte est volée ») : précisez la vôtre si ce n'est pas celle-ci."
    )
    assert "Cette réponse vaut pour le cas" not in display.answer_text(_answer(("Il y avait 450 visiteurs", [1])))


def test_the_evidence_quoted_anyway_is_read_whatever_the_model_cites() -> None:
    """The best evidence is [1]; the model cited only [2]: both are read."""
    answer = _answer(("Les ateliers sont gratuits", [2]))
    answer.quoted = (1,)
    text = display.answer_text(answer, VAL)
    assert f"« {QUOTE} » [1]" in text and f"« {OTHER} » [2]" in text
