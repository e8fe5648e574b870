"""The slice of a passage given to the model, and the rank fusion."""

from bot.retrieval import FUNCTION_STEMS, focus_window, rarity_weights, reciprocal_rank_fusion
from core.types import Chunk

# The common words ("Numericamp", "2024") sit together at the top; the rare one ("visiteurs")
# alone further down: word counts pick the top, rarity weights the right line.
PAGE = (
    "Numericamp Artois Expo\nAvril 2024\nMardi 16\nJournée complète + soirée\n"
    "Une journée d'échanges qui a permis de présenter la stratégie numérique communautaire de la CUA.\n"
    "FICHE D'IDENTITÉ\nEN CHIFFRES\n450 visiteurs\n36 partenaires exposants\n57 intervenants"
)
OTHERS = [f"Le Numericamp {n} a eu lieu en 2024 à Arras." for n in range(5)]


def _chunk(text: str, number: int = 0) -> Chunk:
    return Chunk(chunk_id=f"d:{number}", doc_id="d", title="Numericamp", text=text)


def test_window_keeps_the_line_with_the_rare_question_word() -> None:
    chunks = [_chunk(PAGE)] + [_chunk(t, n + 1) for n, t in enumerate(OTHERS)]
    weights = rarity_weights(chunks, FUNCTION_STEMS)
    window = focus_window(chunks[0], "combien de visiteurs au Numericamp 2024 ?", 60, weights)
    assert "450 visiteurs" in window and len(window) <= 60
    assert window in PAGE


def test_short_passage_is_given_whole() -> None:
    assert focus_window(_chunk("Court."), "question ?", 60, {}) == "Court."


def test_function_words_weigh_nothing() -> None:
    weights = rarity_weights([_chunk("Quel jour ? Combien de visiteurs ?")], FUNCTION_STEMS)
    assert weights["quel"] == 0.0 and weights["combien"] == 0.0 and weights["visiteur"] > 0


def test_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60)
    assert max(fused, key=fused.__getitem__) == "b"
