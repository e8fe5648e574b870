"""Passage rank fusion, and the evidence ranker's rarity weighting over the shipped corpus."""

from pathlib import Path

import pytest

from bot.answer.evidence import EvidenceRanker, QuestionTerms, rarity_weights
from bot.answer.retrieval import Retriever, reciprocal_rank_fusion
from bot.answer.service import read_question
from core.types import Sentence
from ingest.embeddings import E5Embedder
from ingest.store import IndexReader
from tests.fixtures.factories import make_settings


def _sentence(text: str, lemmas: tuple[str, ...]) -> Sentence:
    return Sentence(sentence_id=text, chunk_id="d:0", position=0, text=text, context=text, lemmas=lemmas)


def test_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60)
    assert max(fused, key=fused.__getitem__) == "b"


def test_rare_question_words_weigh_more_than_common_ones() -> None:
    sentences = [_sentence("a", ("numericamp", "2024"))] * 5 + [_sentence("b", ("visiteur", "numericamp", "2024"))]
    weights = rarity_weights(sentences)
    assert weights["visiteur"] > weights["numericamp"] == weights["2024"]
    terms = QuestionTerms({lemma: weights[lemma] for lemma in ("visiteur", "numericamp", "2024")})
    assert terms.coverage(("visiteur",)) > terms.coverage(("numericamp", "2024")) > 0


def test_a_country_is_covered_by_the_words_for_its_region_unless_denied() -> None:
    terms = QuestionTerms({"espagne": 1.0, "vacance": 1.0}, broader={"espagne": frozenset({"europe", "europeen"})})
    assert terms.coverage(("vacance", "pays", "europeen")) == terms.coverage(("vacance", "espagne")) == 1.0
    assert terms.coverage(("vacance", "pays", "non", "europeen")) == 0.5


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Combien de visiteurs au Numericamp 2024 ?", "450 visiteurs"),
        ("Combien d'intervenants ont pris la parole au Numericamp ?", "57 intervenants"),
        ("Qui animait l'atelier cyber-attaque ?", "Campus Cyber"),
    ],
)
def test_the_answering_sentence_is_among_the_first_three(e5_corpus_index: Path, question: str, fact: str) -> None:
    settings = make_settings(embedding__backend="e5", index_dir=e5_corpus_index)
    reader = IndexReader(settings)
    ranker = EvidenceRanker(reader, settings)
    vector = E5Embedder().embed_query(question)
    passages = Retriever(reader, settings).search(question, vector)
    evidence = ranker.rank(ranker.terms(read_question(question, [], 8)), vector, passages)
    assert any(fact in e.sentence.context for e in evidence[:3]), [e.sentence.context for e in evidence[:5]]
