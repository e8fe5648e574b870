"""A sentence holds the asked kind of fact: an online service's web address, a phone number, a price."""

from bot.answer.evidence import QuestionTerms
from bot.answer.service import answer_unit, read_question
from core.text import AnswerKind
from core.types import Chunk, Evidence
from ingest.sentences import sentences_of

ONLINE = "Service en ligne : Demande de RSA (Caf) : https://wwwd.caf.fr/wps/portal/caffr"
COUNTER = "Vous pouvez aussi faire la demande au guichet de la Caf."
PHONE = "Vous pouvez appeler la Caf au 03 21 00 00 00."


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


def test_an_online_question_reads_the_best_service_line_whatever_the_model_cites() -> None:
    """The answer unit: the best evidence when it is a service line with its web address (the model may cite the
    counter's sentence only); a link ranked lower is no answer unit."""
    sentences = [sentences_of([Chunk("c:0", "c", "RSA", text)], 0, len(text) + 1)[0] for text in (ONLINE, COUNTER)]
    shown = [Evidence(n, s, Chunk("c:0", "c", "RSA", s.text), 1) for n, s in enumerate(sentences, start=1)]
    online = read_question("je peux faire ma demande de rsa en ligne ?", [], 8)
    assert answer_unit(online, shown) == 1
    assert answer_unit(read_question("je peux faire ma demande de rsa au guichet ?", [], 8), shown) is None
    assert answer_unit(online, shown[::-1]) is None


def test_a_how_to_question_reads_the_shown_service_line_whatever_the_model_cites() -> None:
    sentences = [sentences_of([Chunk("c:0", "c", "RSA", text)], 0, len(text) + 1)[0] for text in (COUNTER, ONLINE)]
    shown = [Evidence(n, s, Chunk("c:0", "c", "RSA", s.text), 1) for n, s in enumerate(sentences, start=1)]
    assert answer_unit(read_question("je fais comment pour demander le rsa ?", [], 8), shown) == 2
    assert answer_unit(read_question("quels papiers pour demander le rsa ?", [], 8), shown) is None
