"""A sentence holds the asked kind of fact: an online service's web address, a phone number, a price, a length of
time."""

from bot.answer.evidence import QuestionTerms, page_figure
from bot.answer.service import quoted_anyway, read_question
from core.text import AnswerKind
from core.types import Chunk, Evidence
from ingest.sentences import sentences_of

ONLINE = "Service en ligne : Demande de RSA (Caf) : https://wwwd.caf.fr/wps/portal/caffr"
COUNTER = "Vous pouvez aussi faire la demande au guichet de la Caf."
PHONE = "Vous pouvez appeler la Caf au 03 21 00 00 00."
FORM = (
    "Formulaire cerfa n° 15789*02 : Déclaration conjointe de dissolution d'un Pacs : https://www.formulaires.fr/cerfa"
)


def _holds(kind: AnswerKind, text: str) -> bool:
    sentence = sentences_of([Chunk("c:0", "c", "RSA", text)], context_chars=0, max_chars=len(text) + 1)[0]
    return QuestionTerms({}, kind).answered_kind(sentence)


def test_an_online_question_is_answered_by_a_line_with_a_web_address() -> None:
    assert _holds(AnswerKind.LINK, ONLINE) and not _holds(AnswerKind.LINK, COUNTER)


def test_a_phone_question_is_answered_by_a_sentence_with_a_phone_number() -> None:
    assert _holds(AnswerKind.PHONE, PHONE) and not _holds(AnswerKind.PHONE, ONLINE)


def test_a_price_question_is_answered_by_an_amount_or_by_free_of_charge() -> None:
    assert _holds(AnswerKind.COST, "Le nouveau permis coûte 25 €.") and _holds(AnswerKind.COST, "Elle est gratuite.")
    assert not _holds(AnswerKind.COST, COUNTER) and not _holds(AnswerKind.NUMBER, "Elle est gratuite.")


def test_a_how_long_question_is_answered_by_a_length_of_time_not_by_any_figure() -> None:
    assert _holds(AnswerKind.DURATION, "Vous devez payer l'amende dans les 45 jours suivant l'envoi de l'avis.")
    assert not _holds(AnswerKind.DURATION, "Vous devez payer une amende forfaitaire de 35 € ou de 135 €.")
    assert _holds(AnswerKind.NUMBER, "Vous devez payer une amende forfaitaire de 35 € ou de 135 €.")


def _shown(*texts: str) -> list[Evidence]:
    sentences = [sentences_of([Chunk("c:0", "c", "RSA", text)], 0, len(text) + 1)[0] for text in texts]
    return [Evidence(n, s, Chunk("c:0", "c", "RSA", s.text), 1) for n, s in enumerate(sentences, start=1)]


def test_the_first_shown_evidence_is_read_whatever_the_model_cites() -> None:
    """The best sentence (here the service line for « en ligne ? ») is quoted even when the model cites only its
    neighbour; a service line ranked lower is too for « en ligne ? », not for a question that asks no service."""
    online = read_question("je peux faire ma demande de rsa en ligne ?", [], 8)
    assert quoted_anyway(online, _shown(ONLINE, COUNTER)) == (1,)
    assert quoted_anyway(online, _shown(COUNTER, ONLINE)) == (1, 2)
    assert quoted_anyway(online, []) == ()
    assert quoted_anyway(read_question("la caf est ouverte quand ?", [], 8), _shown(COUNTER, ONLINE)) == (1,)


def test_the_service_line_quoted_is_one_of_the_first_evidences_page() -> None:
    """Another page's service line is another démarche's: it is not read for this one."""
    shown = _shown(COUNTER, ONLINE)
    shown[1].chunk = Chunk("d:0", "d", "Passeport", ONLINE)
    assert quoted_anyway(read_question("je fais comment pour demander le rsa ?", [], 8), shown) == (1,)


def test_a_how_to_question_reads_the_shown_service_line_whatever_the_model_cites() -> None:
    shown = _shown(COUNTER, ONLINE)
    assert quoted_anyway(read_question("je fais comment pour demander le rsa ?", [], 8), shown) == (1, 2)
    assert quoted_anyway(read_question("quels papiers pour demander le rsa ?", [], 8), shown) == (1,)
    assert quoted_anyway(read_question("je fais comment pour demander le rsa ?", [], 8), _shown(ONLINE)) == (1,)


def test_a_form_line_is_quoted_with_the_steps_unless_they_hold_a_service_line() -> None:
    """A page's form (« Formulaire cerfa n° … : … : https://… ») is where a resident does it by post, as an online
    service is online; steps that hold their own service line are read without another one further down."""
    how = read_question("je fais comment pour demander le rsa ?", [], 8)
    assert quoted_anyway(how, _shown(COUNTER, FORM)) == (1, 2)
    assert quoted_anyway(how, _shown("Faites la demande en ligne : https://wwwd.caf.fr/aide", COUNTER, FORM)) == (1,)
    assert quoted_anyway(how, _shown(COUNTER, "Le formulaire cerfa n° 15789 : https://www.formulaires.fr/x")) == (1,)


def test_the_service_line_quoted_with_the_steps_is_the_last_shown_that_offers_one() -> None:
    """Steps read on into a chapter may name a « téléservice » with an address; the page's own service line,
    shown last, is the one read."""
    steps = "La démarche se fait via un téléservice de la Caf : https://wwwd.caf.fr/aide"
    shown = _shown(COUNTER, steps, ONLINE)
    assert quoted_anyway(read_question("je fais comment pour demander le rsa ?", [], 8), shown) == (1, 3)


TAX = "Taxe d'enlèvement des ordures ménagères"
TAX_INTRO = [
    "Vous pouvez avoir à payer une taxe d'enlèvement des ordures ménagères.",
    "La taxe d'enlèvement des ordures ménagères finance la collecte des déchets.",
    "La taxe d'enlèvement des ordures ménagères est votée par la commune.",
]


def _ranked(*sections_and_texts: tuple[str, str]) -> list[Evidence]:
    """Evidence of one page (its title names no tax) in the order given, each sentence under its section."""
    chunks = [
        Chunk(f"p:{n}", "p", "Déchets", text, section=section) for n, (section, text) in enumerate(sections_and_texts)
    ]
    sentences = sentences_of(chunks, 0, 1000)
    return [Evidence(n, s, c, 1.0) for n, (s, c) in enumerate(zip(sentences, chunks, strict=True), start=1)]


def test_a_figure_no_shown_sentence_gives_is_taken_from_the_page_when_it_covers_the_question() -> None:
    """« avant quelle date ? »: the date under « … › Paiement » is taken; a date under a heading about something else
    (the school canteen) does not cover the question and is not."""
    question = read_question("la taxe d'enlèvement des ordures ménagères faut la payer avant quelle date ?", [], 8)
    terms = QuestionTerms({lemma: 1.0 for lemma in question.query_analysis.lemmas}, question.kind)
    intro = [("Introduction", text) for text in TAX_INTRO]
    paid = _ranked(*intro, (f"{TAX} › Paiement", "Ce paiement doit se faire en général avant le 15 octobre."))
    found = page_figure(paid, terms, shown=3, min_coverage=0.3)
    assert found is not None and "15 octobre" in found.sentence.text
    canteen = _ranked(*intro, ("Cantine scolaire", "Elle ferme le 15 octobre."))
    assert page_figure(canteen, terms, shown=3, min_coverage=0.3) is None
    assert page_figure(paid, terms, shown=4, min_coverage=0.3) is None  # shown already


def test_each_part_of_a_question_asking_several_things_is_read_from_the_best_ones_page() -> None:
    """Each part's best sentence follows the best one (`QuestionService._each_part`): the resident reads it whatever
    the model cites, unless it stands in another page (an extract of another document would mislead)."""
    parts = read_question("le stage ça redonne combien de points et on peut en faire combien par an ?", [], 8)
    shown = _shown("Le stage permet de récupérer 4 points.", "Vous pouvez faire un stage par an.", COUNTER)
    assert len(parts.parts) == 2 and quoted_anyway(parts, shown) == (1, 2, 3)
    shown[1].chunk = Chunk("d:0", "d", "Autre page", shown[1].sentence.text)
    assert quoted_anyway(parts, shown) == (1, 3)
    one = read_question("le stage ça redonne combien de points ?", [], 8)
    assert quoted_anyway(one, shown) == (1,)
